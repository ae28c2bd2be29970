"""Load: N slash commands in flight at once against the real server (gunicorn) and the Slack stand-in.

Starts the stand-in and `collab serve` (as in production: gunicorn, WEB_CONCURRENCY workers), warms
it up with one small burst, then sends --in-flight signed `/collab` commands from as many threads at
the same moment, --rounds times, and reports, over all rounds:
  - ack: seconds from sending a command to its HTTP response, which carries the answer (Slack's
    limit: 3 s; budget p95 < 300 ms, max < 1 s);
  - chart: seconds from sending to the chart shown at its response_url (budget p95 < 3 s);
  - peak memory: the largest sum of RSS of the gunicorn master and workers, sampled from /proc
    every 100 ms while the bursts run;
  - correctness: acks over 3 s, and commands whose answer or chart did not arrive exactly once.
Each round repeats the same questions (LOAD_COMMANDS, each twice); --fresh asks other year ranges
every round, so no answer or chart comes from what the server keeps.

    python bench/bench_load.py [--in-flight 50] [--rounds 3] [--workers 2] [--fresh]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest_slack import BOT_TOKEN, LOAD_COMMANDS, SlackServer, burst, fresh_text, percentile  # noqa: E402
from slack_standin import SlackStandIn  # noqa: E402


def quiet(standin: SlackStandIn, seconds: float = 1.0, timeout: float = 60) -> None:
    """Wait until the stand-in has received nothing for `seconds`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        last = standin.calls[-1].at if standin.calls else 0.0
        if time.monotonic() - last >= seconds:
            return
        time.sleep(0.2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--in-flight", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--fresh", action="store_true", help="new questions every round (nothing kept helps)")
    args = parser.parse_args()

    from bot.data.build import build

    with tempfile.TemporaryDirectory() as tmp:
        db_path = build(Path(tmp) / "collab.duckdb", log=lambda line: None)
        standin = SlackStandIn(token=BOT_TOKEN).start()
        server = SlackServer(standin, db_path, workers=args.workers)
        try:
            server.wait_until_up()
            idle = server.rss_bytes()
            burst(server, standin, LOAD_COMMANDS[:10])  # warm-up: first charts, first queries
            quiet(standin)
            acks, charts, peak, slow, not_once = [], [], 0, 0, 0
            for round_ in range(1, args.rounds + 1):
                texts = [
                    fresh_text(
                        LOAD_COMMANDS[i % len(LOAD_COMMANDS)], 2 * round_ + i // len(LOAD_COMMANDS) if args.fresh else 0
                    )
                    for i in range(args.in_flight)
                ]
                result = burst(server, standin, texts)
                acks += result.ack_seconds
                charts += [s for s in result.chart_seconds if s is not None]
                peak = max(peak, result.peak_rss)
                slow += sum(s >= 3 for s in result.ack_seconds)
                not_once += len(result.not_once())
                print(f"round {round_}: {len(texts)} in flight, all answered in {result.wall:.1f} s")
                quiet(standin)  # let this round's charts finish uploading: each round starts from idle
            errors = [line for line in server.log(tail=0).splitlines() if " ERROR " in line or "Traceback" in line]
        finally:
            server.stop()
            standin.stop()
    print(
        f"\n{args.in_flight} commands in flight x {args.rounds} rounds, {args.workers} gunicorn workers, "
        f"{os.cpu_count()} cores"
    )
    for name, values in (("ack", acks), ("chart", charts)):
        print(
            f"  {name:<7} p50 {percentile(values, 50) * 1000:6.0f} ms   p95 {percentile(values, 95) * 1000:6.0f} ms   "
            f"p99 {percentile(values, 99) * 1000:6.0f} ms   max {max(values) * 1000:6.0f} ms   (n={len(values)})"
        )
    print(f"  memory  idle {idle / 2**20:.0f} MiB, peak {peak / 2**20:.0f} MiB (RSS of master + workers)")
    print(
        f"  acks over 3 s: {slow}; commands not answered exactly once: {not_once}; server errors logged: {len(errors)}"
    )
    ack_p95, ack_max, chart_p95 = percentile(acks, 95), max(acks), percentile(charts, 95)
    met = ack_p95 < 0.300 and ack_max < 1.0 and chart_p95 < 3.0
    load = os.getloadavg()
    print(
        f"  budget: ack p95 < 300 ms and max < 1 s, answer with chart p95 < 3 s: {'met' if met else 'MISSED'} "
        f"(load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} cores)"
    )
    return 0 if slow == 0 and not_once == 0 and not errors and met else 1


if __name__ == "__main__":
    sys.exit(main())
