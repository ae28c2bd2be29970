"""Soak: minutes of mixed traffic against the real server, watching memory, open files and the error log.

Starts the Slack stand-in and `collab serve` (gunicorn, as in production) on a freshly built
database, then for --minutes keeps sending, from a few threads, a mix of every verb with good and
bad input, button presses (share, CSV, SQL) and App Home opens; every --digest-every seconds it runs
`collab digest run-due --now …` for the next week of two subscriptions created through the Store.
Every 10 s it samples the server's RSS and open file descriptors (master + workers, from /proc).

At the end it reports start (after the --warm-up), end and max of both; requests sent, answers
missing and answers that came twice; errors in the server log (stderr); digest runs that failed;
and a verdict: memory and open files flat (end within --tolerance of the level after warm-up) and
zero errors.

    python bench/soak.py [--minutes 10] [--rate 4] [--warm-up 60] [--tolerance 0.10]

Not part of CI: run it by hand before a release.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest_slack import BOT_TOKEN, LOAD_COMMANDS, SlackServer, answers_to, new_id  # noqa: E402
from slack_standin import SlackStandIn  # noqa: E402

BAD_INPUT = [
    "",
    "partners",
    "partners Atlantis",
    "pair China",
    "top 1000",
    "from 2025 to 2015 partners Malaysia",
    "sql DROP TABLE pairs",
    "sql SELECT * FROM read_csv('/etc/passwd')",
    "partners <#C0123|general>",
    "compare 🇲🇾 🇨🇳",
    "partners Malaysia'; DROP TABLE pairs;--",
    "x" * 3000,
    "rising Kosovo in chips",
]
BUTTONS = [
    ("collab_share", "partners Malaysia"),
    ("collab_csv", "pair China USA"),
    ("collab_sql", "top 10 asean"),
    ("collab_share", "rising China"),
    ("collab_sql", "partners Brazil"),
]
ERROR_MARKERS = (" ERROR ", " CRITICAL ", "Traceback", "[ERROR]", "[CRITICAL]")


def next_monday_9(now: datetime) -> datetime:
    days = (7 - now.weekday()) % 7 or 7
    return (now + timedelta(days=days)).replace(hour=9, minute=0, second=0, microsecond=0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=float, default=4, help="requests per second, spread over the senders")
    parser.add_argument("--warm-up", type=float, default=60, help="seconds before the baseline sample")
    parser.add_argument("--digest-every", type=float, default=60)
    parser.add_argument("--tolerance", type=float, default=0.10)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    from bot.data.build import build
    from bot.state.store import Store

    tmp = Path(tempfile.mkdtemp(prefix="collab-soak-"))
    db_path = build(tmp / "collab.duckdb", log=lambda line: None)
    standin = SlackStandIn(token=BOT_TOKEN).start()
    server = SlackServer(standin, db_path, workers=args.workers).wait_until_up()
    print(
        f"soak: {args.minutes:g} min, ~{args.rate:g} requests/s, server pid {server.process.pid}, log {server.log_path}"
    )

    base = next_monday_9(datetime.now(UTC))
    store = Store(server.state_url)
    digest_channels = [new_id("C"), new_id("C")]
    for channel, countries in zip(digest_channels, (["MYS"], []), strict=True):
        owner = new_id("U")
        standin.members[channel] = [owner]
        store.add_subscription(
            channel_id=channel,
            created_by=owner,
            weekday=0,
            time="09:00",
            tz="UTC",
            countries=countries,
            now=base - timedelta(days=1),
        )
    store.dispose()

    stop = threading.Event()
    sent: list[tuple[str, str, str, Any]] = []  # (kind, text, response key, the ack)
    send_errors: list[str] = []
    lock = threading.Lock()
    rng = random.Random(7)
    counter = itertools.count()

    def one_request() -> None:
        n = next(counter)
        roll = rng.random()
        try:
            if roll < 0.55:
                text = LOAD_COMMANDS[n % len(LOAD_COMMANDS)]
                reply, ids = server.slash_command(text)
                kind = "refused" if b":thinking_face:" in reply.body else "command"
            elif roll < 0.75:
                text = BAD_INPUT[n % len(BAD_INPUT)]
                reply, ids = server.slash_command(text)
                kind = "refused" if b":thinking_face:" in reply.body else "command"
            elif roll < 0.95:
                action, text = BUTTONS[n % len(BUTTONS)]
                reply, ids = server.click(action, text)
                kind = "button"
            else:
                text = "app_home_opened"
                reply, ids = (
                    server.event(
                        {
                            "type": "app_home_opened",
                            "user": new_id("U"),
                            "channel": new_id("D"),
                            "tab": "home",
                            "event_ts": f"{time.time():.6f}",
                        }
                    ),
                    {"key": ""},
                )
                kind = "event"
            if reply.status != 200 or reply.seconds >= 3:
                send_errors.append(f"{text[:40]!r}: HTTP {reply.status} in {reply.seconds:.2f} s")
            with lock:
                sent.append((kind, text, ids["key"], reply))
        except Exception as error:  # noqa: BLE001 - counted, the soak goes on
            send_errors.append(f"{type(error).__name__}: {error}")

    def sender(interval: float) -> None:
        while not stop.is_set():
            started = time.monotonic()
            one_request()
            stop.wait(max(0.0, interval - (time.monotonic() - started)))

    digest_runs: list[tuple[int, str]] = []

    def digests() -> None:
        week = 0
        while not stop.wait(args.digest_every):
            now = base + timedelta(weeks=week, minutes=2)
            done = subprocess.run(
                [sys.executable, "-m", "bot.cli", "digest", "run-due", "--now", now.isoformat()],
                cwd=ROOT,
                env=server.env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            digest_runs.append((done.returncode, (done.stdout + done.stderr).strip()[-300:]))
            week += 1

    samples: list[tuple[float, int, int]] = []  # (seconds since start, rss bytes, open fds)
    t0 = time.monotonic()

    def sampler() -> None:
        while True:
            samples.append((time.monotonic() - t0, server.rss_bytes(), server.open_files()))
            if stop.wait(10):
                return

    senders = 3
    threads = [threading.Thread(target=sender, args=(senders / args.rate,), daemon=True) for _ in range(senders)]
    threads += [threading.Thread(target=digests, daemon=True), threading.Thread(target=sampler, daemon=True)]
    for thread in threads:
        thread.start()
    try:
        deadline = t0 + args.minutes * 60
        while time.monotonic() < deadline:
            time.sleep(min(30, max(0.1, deadline - time.monotonic())))
            if samples:
                at, rss, fds = samples[-1]
                print(
                    f"  {at:6.0f} s: {len(sent):5d} requests, RSS {rss / 2**20:6.0f} MiB, {fds} open files", flush=True
                )
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=130)
    time.sleep(3)  # the last answers
    samples.append((time.monotonic() - t0, server.rss_bytes(), server.open_files()))

    missing, twice = [], []
    for kind, text, key, reply in sent:
        if kind in ("command", "button"):
            if kind == "command":  # answered in the ack, or at the response_url after an empty one
                n = answers_to(standin, reply, key)
            else:
                n = len(standin.calls_to("response", where={"key": key}, test=lambda c: c.status == 200))
            if n == 0:
                missing.append(text[:40])
            elif kind == "command" and n > 1:
                twice.append(text[:40])
    log = server.log(tail=0)
    server.stop()
    standin.stop()
    errors = [line for line in log.splitlines() if any(m in line for m in ERROR_MARKERS)]
    failed_digests = [out for code, out in digest_runs if code != 0]
    digest_posts = sum(len(standin.history.get(c, [])) for c in digest_channels)

    after_warm_up = [s for s in samples if s[0] >= args.warm_up] or samples
    baseline, end = after_warm_up[0], samples[-1]
    rss_max, fds_max = max(s[1] for s in samples), max(s[2] for s in samples)
    rss_flat = end[1] <= baseline[1] * (1 + args.tolerance)
    fds_flat = end[2] <= baseline[2] * (1 + args.tolerance) + 2
    kinds = {k: sum(1 for s in sent if s[0] == k) for k in ("command", "refused", "button", "event")}
    print(f"\nrequests: {len(sent)} ({json.dumps(kinds)}); send errors or acks >= 3 s: {len(send_errors)}")
    print(f"answers missing: {len(missing)}; commands answered twice: {len(twice)}")
    print(
        f"digest runs: {len(digest_runs)} ({len(failed_digests)} failed), messages in the digest channels: {digest_posts}"
    )
    print(
        f"RSS  MiB: start {samples[0][1] / 2**20:.0f}, after warm-up {baseline[1] / 2**20:.0f}, "
        f"end {end[1] / 2**20:.0f}, max {rss_max / 2**20:.0f}  -> {'flat' if rss_flat else 'GROWING'}"
    )
    print(
        f"open files: start {samples[0][2]}, after warm-up {baseline[2]}, end {end[2]}, max {fds_max}"
        f"  -> {'flat' if fds_flat else 'GROWING'}"
    )
    print(f"errors in the server log: {len(errors)}")
    for line in (errors + send_errors + missing + failed_digests)[:10]:
        print(f"  {line[:300]}")
    ok = rss_flat and fds_flat and not errors and not send_errors and not missing and not twice and not failed_digests
    print(f"verdict: {'PASS' if ok else 'FAIL'} (server log kept at {server.log_path})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
