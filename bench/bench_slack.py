"""Latency of the real Slack server under a burst: 20 slash commands in flight at once, each with a chart.

Starts the Slack stand-in and `collab serve` (gunicorn, as in production), sends signed `/collab`
commands from 20 threads at the same moment, and measures from sending each command to
  (a) its ack, which carries the answer itself (table, notes, buttons);
  (b) its chart shown to the asker (the ephemeral image message at the response_url), drawn in
      the chart processes and uploaded meanwhile.
Every burst asks questions the server has not answered before (other year ranges), so nothing
comes from the answers and charts it keeps; `--repeat` asks the same 20 each time instead.
Budget on a 2-core machine: ack p95 < 300 ms, answer-with-chart p95 < 3 s.

    python bench/bench_slack.py [--commands 20] [--rounds 3] [--workers 2] [--repeat]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest_slack import BOT_TOKEN, Burst, SlackServer, burst, fresh_text, percentile  # noqa: E402
from slack_standin import SlackStandIn  # noqa: E402

# Every command draws a chart, so each measures the full path: query, answer, render, upload.
COMMANDS = [
    "partners Malaysia",
    "partners Saudi Arabia",
    "pair China USA",
    "top 10 non-western",
    "partners India",
    "compare China India Japan",
    "rising China",
    "fields Malaysia China",
    "partners Brazil",
    "pair China Singapore",
    "top 20",
    "partners Pakistan",
    "pair China Saudi Arabia",
    "partners Japan in computer vision",
    "rising India",
    "compare USA China",
    "partners Germany from 2018",
    "top 10 asean",
    "partners Indonesia",
    "fields Saudi Arabia",
]
ACK_BUDGET, CHART_BUDGET = 0.300, 3.0


def figures(bursts: list[Burst]) -> dict[str, list[float]]:
    return {
        "ack": [s for b in bursts for s in b.ack_seconds],
        "chart": [s for b in bursts for s in b.chart_seconds if s is not None],
    }


def report(title: str, bursts: list[Burst]) -> dict[str, list[float]]:
    found = figures(bursts)
    not_once = sum(len(b.not_once()) for b in bursts)
    print(f"{title}: n={len(found['ack'])}, not answered exactly once: {not_once}")
    for name, label in (("ack", "(a) ack = the answer"), ("chart", "(b) the chart, shown to the asker")):
        values = found[name]
        p50, p95 = statistics.median(values) * 1000, percentile(values, 95) * 1000
        print(f"  {label:<34} p50 {p50:7.0f} ms   p95 {p95:7.0f} ms   max {max(values) * 1000:7.0f} ms")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=20, help="commands in flight at once")
    parser.add_argument("--rounds", type=int, default=3, help="bursts after the first (cold) one")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--repeat", action="store_true", help="ask the same questions every burst")
    parser.add_argument("--server-log", type=Path, help="copy the server's log here (timings per chart)")
    args = parser.parse_args()

    def texts(round_: int) -> list[str]:
        return [fresh_text(COMMANDS[i % len(COMMANDS)], 0 if args.repeat else round_) for i in range(args.commands)]

    from bot.data.build import build

    with tempfile.TemporaryDirectory(prefix="collab-bench-") as folder:
        db_path = build(Path(folder) / "collab.duckdb", log=lambda message: None)
        standin = SlackStandIn(token=BOT_TOKEN).start()
        server = SlackServer(standin, db_path, workers=args.workers)
        try:
            server.wait_until_up()
            report("cold burst (first requests after start)", [burst(server, standin, texts(1))])
            warm = []
            for round_ in range(2, args.rounds + 2):
                time.sleep(0.5)
                warm.append(burst(server, standin, texts(round_)))
            found = report(f"warm bursts ({args.rounds} x {args.commands})", warm)
            alone = [burst(server, standin, [text]) for text in texts(args.rounds + 2)[:10]]
            report("one at a time (10 commands)", alone)
        except BaseException:
            problems = [line for line in server.log().splitlines() if " INFO " not in line and "[INFO]" not in line]
            print("the server's log, warnings and errors:\n" + "\n".join(problems[-60:]), file=sys.stderr)
            raise
        finally:
            server.stop()
            standin.stop()
            if args.server_log:
                args.server_log.write_text(server.log_path.read_text(errors="replace"))
    ack_p95, chart_p95 = percentile(found["ack"], 95), percentile(found["chart"], 95)
    once = all(not b.not_once() for b in warm)
    verdict = ack_p95 < ACK_BUDGET and chart_p95 < CHART_BUDGET and once
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} CPUs, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min)")
    print(
        f"budget (warm bursts): ack p95 < {ACK_BUDGET * 1000:.0f} ms: {ack_p95 * 1000:.0f} ms; "
        f"answer with chart p95 < {CHART_BUDGET:.0f} s: {chart_p95:.2f} s; {'met' if verdict else 'MISSED'}"
    )
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
