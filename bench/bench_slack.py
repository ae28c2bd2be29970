"""Latency of the real Slack server under a burst: 20 slash commands in flight at once.

Starts the Slack stand-in and `collab serve` (gunicorn, as in production), sends signed
`/collab` commands from 20 threads at the same moment, and measures from sending each command to
  (a) its ack (the HTTP response),
  (b) the answer arriving at its response_url,
  (c) its chart upload completed (files.completeUploadExternal received by the stand-in).
Budget on a 2-core machine: ack p95 < 300 ms, answer-with-chart p95 < 2 s.

    python bench/bench_slack.py [--commands 20] [--rounds 3] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest_slack import BOT_TOKEN, SlackServer, new_id  # noqa: E402
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
ACK_BUDGET, ANSWER_BUDGET = 0.300, 2.0


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def burst(server: SlackServer, standin: SlackStandIn, texts: list[str]) -> dict[str, list[float]]:
    """Send every command at once; return seconds to ack, answer and chart for each."""
    start = threading.Barrier(len(texts))
    sent: list[dict] = [{} for _ in texts]

    def send(i: int, text: str) -> None:
        user = new_id("U")
        start.wait()
        began = time.monotonic()
        reply, ids = server.slash_command(text, user=user)
        assert reply.status == 200, (reply.status, reply.body)
        sent[i] = {"began": began, "ack": reply.seconds, "ids": ids}

    threads = [threading.Thread(target=send, args=(i, t)) for i, t in enumerate(texts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    figures: dict[str, list[float]] = {"ack": [], "answer": [], "chart": []}
    for item in sent:
        ids = item["ids"]
        answered = standin.wait_for("response", where={"key": ids["key"]}, timeout=60)[0]
        charted = standin.wait_for(
            "files.completeUploadExternal",
            where={"channel_id": ids["channel"]},
            timeout=60,
            test=lambda c: c.reply.get("ok"),
        )[0]
        figures["ack"].append(item["ack"])
        figures["answer"].append(answered.at - item["began"])
        figures["chart"].append(charted.at - item["began"])
    return figures


def report(title: str, figures: dict[str, list[float]]) -> None:
    print(f"{title}: n={len(figures['ack'])}")
    for name, label in (("ack", "(a) ack"), ("answer", "(b) answer at response_url"), ("chart", "(c) chart uploaded")):
        values = figures[name]
        print(
            f"  {label:<30} p50 {statistics.median(values) * 1000:7.0f} ms   p95 {percentile(values, 95) * 1000:7.0f} ms"
            f"   max {max(values) * 1000:7.0f} ms"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=20, help="commands in flight at once")
    parser.add_argument("--rounds", type=int, default=3, help="bursts after the first (cold) one")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--server-log", type=Path, help="copy the server's log here (timings per chart)")
    args = parser.parse_args()
    texts = [COMMANDS[i % len(COMMANDS)] for i in range(args.commands)]

    from bot.data.build import build

    with tempfile.TemporaryDirectory(prefix="collab-bench-") as folder:
        db_path = build(Path(folder) / "collab.duckdb", log=lambda message: None)
        standin = SlackStandIn(token=BOT_TOKEN).start()
        server = SlackServer(standin, db_path, workers=args.workers)
        try:
            server.wait_until_up()
            report("cold burst (first requests after start)", burst(server, standin, texts))
            warm: dict[str, list[float]] = {"ack": [], "answer": [], "chart": []}
            for _ in range(args.rounds):
                time.sleep(0.5)
                for name, values in burst(server, standin, texts).items():
                    warm[name] += values
            report(f"warm bursts ({args.rounds} x {args.commands})", warm)
            alone: dict[str, list[float]] = {"ack": [], "answer": [], "chart": []}
            for text in texts[:10]:  # for comparison: one command at a time, no contention
                for name, values in burst(server, standin, [text]).items():
                    alone[name] += values
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
    ack_p95, answer_p95, chart_p95 = (percentile(warm[name], 95) for name in ("ack", "answer", "chart"))
    verdict = ack_p95 < ACK_BUDGET and chart_p95 < ANSWER_BUDGET
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} CPUs, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min)")
    print(
        f"budget (warm bursts): ack p95 < {ACK_BUDGET * 1000:.0f} ms: {ack_p95 * 1000:.0f} ms; "
        f"answer with chart p95 < {ANSWER_BUDGET:.0f} s: answer {answer_p95:.2f} s, chart {chart_p95:.2f} s; "
        f"{'met' if verdict else 'MISSED'}"
    )
    return 0 if verdict else 1


if __name__ == "__main__":
    sys.exit(main())
