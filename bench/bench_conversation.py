"""Latency of conversations with the real Slack server: a mention in plain English, then follow-ups in its thread.

Starts the Slack stand-in and `collab serve` (gunicorn, as in production). Each conversation is a
mention (`@collab who does <country> work with?`) and three replies in its thread without a
mention ("and in computer vision?", "since 2020 only", "rank by affinity"), each sent once the
previous answer is posted, as a person would. Several conversations run at once. For every turn
it measures, from sending the signed event, (a) the ack (Slack wants it within 3 s), (b) the
answer posted in the thread (read, answered, the thread's memory read and written in the state
database), (c) the chart posted under it.

    python bench/bench_conversation.py [--conversations 8] [--at-once 4] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest_slack import BOT_TOKEN, SlackServer, new_id, percentile  # noqa: E402
from slack_standin import BOT_USER, Call, SlackStandIn  # noqa: E402

COUNTRIES = ["Malaysia", "Indonesia", "Vietnam", "Saudi Arabia", "Pakistan", "Brazil", "India", "Japan"]
FOLLOW_UPS = ["and in computer vision?", "since 2020 only", "rank by affinity"]


def is_chart(call: Call) -> bool:
    return any(b["type"] == "image" for b in call.json_field("blocks") or [])


def in_thread(channel: str, thread: str, chart: bool):
    return lambda c: c.body.get("channel") == channel and c.body.get("thread_ts") == thread and is_chart(c) == chart


def converse(server: SlackServer, standin: SlackStandIn, country: str, turns: list[dict[str, float]]) -> None:
    channel = standin.conversation(new_id("C"), "public", member=True)
    user, thread = new_id("U"), f"{time.time():.6f}"
    texts = [f"<@{BOT_USER}> who does {country} work with?", *FOLLOW_UPS]
    for n, text in enumerate(texts, start=1):
        ts = thread if n == 1 else f"{time.time():.6f}"
        event = {"type": "app_mention" if n == 1 else "message", "channel": channel, "user": user, "text": text}
        event.update(ts=ts, event_ts=ts, **({} if n == 1 else {"channel_type": "channel", "thread_ts": thread}))
        sent = time.monotonic()
        reply = server.event(event, event_id=f"Ev{uuid.uuid4().hex[:10]}")
        acked = time.monotonic()
        answer = standin.wait_for("chat.postMessage", n, test=in_thread(channel, thread, False), timeout=60)[-1]
        chart = standin.wait_for("chat.postMessage", n, test=in_thread(channel, thread, True), timeout=60)[-1]
        assert reply.status == 200 and "Read as" in json.dumps(answer.body), answer.body
        turns.append({"turn": n, "ack": acked - sent, "answer": answer.at - sent, "chart": chart.at - sent})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conversations", type=int, default=8)
    parser.add_argument("--at-once", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args()

    from bot.data.build import build

    with tempfile.TemporaryDirectory() as scratch:
        database = build(Path(scratch) / "collab.duckdb", log=lambda message: None)
        standin = SlackStandIn(token=BOT_TOKEN).start()
        server = SlackServer(standin, database, workers=options.workers).wait_until_up()
        try:
            turns: list[dict[str, float]] = []
            countries = [COUNTRIES[i % len(COUNTRIES)] for i in range(options.conversations)]
            started = time.monotonic()
            for first in range(0, len(countries), options.at_once):
                threads = [
                    threading.Thread(target=converse, args=(server, standin, country, turns))
                    for country in countries[first : first + options.at_once]
                ]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
            wall = time.monotonic() - started
        finally:
            server.stop()
            standin.stop()
    print(
        f"{options.conversations} conversations × {1 + len(FOLLOW_UPS)} turns, {options.at_once} at once, "
        f"{options.workers} workers, {wall:.1f} s"
    )
    for label, chosen in (
        ("mention", [t for t in turns if t["turn"] == 1]),
        ("follow-up", [t for t in turns if t["turn"] > 1]),
    ):
        line = ", ".join(
            f"{what} p50 {1000 * percentile([t[what] for t in chosen], 50):.0f} ms / "
            f"p95 {1000 * percentile([t[what] for t in chosen], 95):.0f} ms"
            for what in ("ack", "answer", "chart")
        )
        print(f"{label:>9} ({len(chosen)}): {line}")


if __name__ == "__main__":
    main()
