"""`collab digest run-due` (once, for cron) and `collab worker` (every minute, until stopped)."""

from __future__ import annotations

import logging
import signal
from datetime import UTC, datetime
from typing import Any

from bot.config import Settings
from bot.digest.deliver import AfterStep, DeliveryRules, Pacer, no_step, run_due, web_client
from bot.errors import ParseError
from bot.state.store import Store, utcnow

log = logging.getLogger("collab.digest")


def parse_now(text: str) -> datetime:
    """An ISO-8601 moment; without a zone it is UTC."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ParseError(
            f"--now must be an ISO-8601 time such as 2026-11-30T09:00:00+00:00, not '{text[:40]}'."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def run_due_command(now_iso: str | None, settings: Settings, after_step: AfterStep = no_step) -> int:
    """`collab digest run-due [--now ISO]`: deliver what is due once, print it, exit 1 if any failed."""
    from bot.engine.db import Database

    now = parse_now(now_iso) if now_iso else utcnow()
    client = web_client(settings.slack_bot_token, settings.slack_api_url)
    store = Store.from_settings(settings)
    db = Database.from_settings(settings)
    try:
        report = run_due(
            now,
            store=store,
            client=client,
            db=db,
            pacer=Pacer(settings.digest_pace_seconds),
            rules=DeliveryRules.from_settings(settings),
            after_step=after_step,
        )
    finally:
        store.dispose()
        db.close()
    for outcome in report.outcomes:
        print(outcome.line(), flush=True)
    if not report.outcomes:
        print(f"nothing due at {now.isoformat(timespec='seconds')}", flush=True)
    return 1 if report.failed else 0


def run_worker(settings: Settings) -> None:
    """`collab worker`: run_due every minute (coalesced, one at a time) until SIGTERM or Ctrl-C."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    from bot.engine.db import Database

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    client = web_client(settings.slack_bot_token, settings.slack_api_url)
    store = Store.from_settings(settings)
    db = Database.from_settings(settings)  # reopens by itself when a rebuild replaces the file
    pacer = Pacer(settings.digest_pace_seconds)
    rules = DeliveryRules.from_settings(settings)

    def tick() -> None:
        try:
            report = run_due(store=store, client=client, db=db, pacer=pacer, rules=rules)
        except Exception:  # noqa: BLE001 - keep the scheduler alive; the next minute retries
            log.exception("run_due failed")
            return
        for outcome in report.outcomes:
            log.info("%s", outcome.line())

    scheduler = BlockingScheduler(timezone=UTC)
    scheduler.add_job(
        tick,
        "cron",
        second=0,
        id="digest-run-due",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=50,
        next_run_time=datetime.now(UTC),
    )

    def stop(signum: int, _frame: Any) -> None:
        log.info("signal %s: finishing the current run, then stopping", signum)
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("collab worker started: digests every minute")
    try:
        scheduler.start()
    finally:
        store.dispose()
        db.close()
    log.info("collab worker stopped")
