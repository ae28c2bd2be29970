"""The state store (bot/state/store.py) on SQLite and PostgreSQL: schema, subscriptions, claims and leases."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from bot.state.store import SCHEMA_VERSION, StateError, Store, schema_version

LEASE = timedelta(minutes=10)
T0 = datetime(2026, 11, 30, 9, 0, 5, tzinfo=UTC)


class Clock:
    """A stand-in for the real clock that claims and leases follow (Store.clock)."""

    def __init__(self, at: datetime = T0):
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def set(self, at: datetime) -> Clock:
        self.at = at
        return self


def _sub(store: Store, channel: str = "C1", **kw):
    values = dict(
        channel_id=channel,
        created_by="U1",
        weekday=0,
        time="09:00",
        tz="Europe/London",
        countries=["MYS", "SGP"],
        field="cv",
        quiet=True,
        team_id="T1",
        now=T0 - timedelta(days=3),
    )
    values.update(kw)
    return store.add_subscription(**values)


def test_tables_schema_version_and_restart(store, state_url):
    sub = _sub(store)
    assert set(sa.inspect(store.engine).get_table_names()) >= {"subscriptions", "deliveries", "schema_version"}
    again = Store(state_url)  # a restart: create_all again is harmless, the data stays
    assert again.subscriptions() == [sub]
    assert (sub.countries, sub.field, sub.quiet, sub.team_id, sub.active) == (("MYS", "SGP"), "cv", True, "T1", True)
    assert sub.created_at == T0 - timedelta(days=3)
    with again.engine.connect() as conn:
        assert conn.execute(sa.select(schema_version.c.version)).scalars().all() == [SCHEMA_VERSION]
    with again.engine.begin() as conn:  # a database from a newer collab is refused, not misread
        conn.execute(sa.insert(schema_version).values(version=SCHEMA_VERSION + 1, applied_at=datetime(2030, 1, 1)))
    again.dispose()
    with pytest.raises(StateError, match="newer|Upgrade"):
        Store(state_url)


def test_subscriptions_by_channel_and_deactivate(store):
    a, b, c = _sub(store, "C1"), _sub(store, "C2"), _sub(store, "C1", weekday=4, time="16:30")
    assert [s.id for s in store.subscriptions("C1")] == [a.id, c.id]
    assert store.deactivate(a.id) and not store.deactivate(a.id)
    assert [s.id for s in store.subscriptions()] == [b.id, c.id]
    assert store.subscription(a.id).active is False
    assert [s.id for s in store.subscriptions(active=None)] == [a.id, b.id, c.id]


def test_claim_is_exclusive_and_taken_over_only_after_the_lease(store):
    sub = _sub(store)
    store.clock = clock = Clock(T0)
    first = store.claim(sub.id, "2026-11-30T09:00", lease=LEASE, max_attempts=3)
    assert first is not None and first.attempts == 1
    clock.set(T0 + timedelta(minutes=9))
    assert store.claim(sub.id, "2026-11-30T09:00", lease=LEASE, max_attempts=3) is None
    clock.set(T0 + timedelta(minutes=11))
    rescue = store.claim(sub.id, "2026-11-30T09:00", lease=LEASE, max_attempts=3)
    assert rescue is not None and rescue.attempts == 2 and rescue.delivery_id == first.delivery_id
    assert store.deliveries(sub.id)[0].claimed_at == T0 + timedelta(minutes=11)  # the rescuer's own claim time
    # The first worker woke up: its fencing token is stale, so it can't record the delivery as its own.
    assert not store.mark_sent(first, message_ts="1.1", data_version="v", snapshot={})
    clock.set(T0 + timedelta(minutes=12))
    assert store.mark_sent(rescue, message_ts="2.2", data_version="v", snapshot={"top": {"USA": 1}})
    clock.set(T0 + timedelta(days=1))
    assert store.claim(sub.id, "2026-11-30T09:00", lease=LEASE, max_attempts=3) is None
    [row] = store.deliveries(sub.id)
    assert (row.status, row.attempts, row.message_ts, row.snapshot) == ("sent", 2, "2.2", {"top": {"USA": 1}})
    assert row.sent_at == T0 + timedelta(minutes=12)
    assert store.last_sent(sub.id) == row and store.last_delivery(sub.id) == row


def test_attempts_run_out_and_stale_claims_are_abandoned(store):
    sub = _sub(store)
    key = "2026-11-30T09:00"
    store.clock = clock = Clock(T0)
    for minutes in (0, 11, 22):
        assert store.claim(sub.id, key, lease=LEASE, max_attempts=3)
        clock.set(T0 + timedelta(minutes=minutes + 11))
    assert store.claim(sub.id, key, lease=LEASE, max_attempts=3) is None
    [gone] = store.abandon_stale(lease=LEASE, max_attempts=3)
    assert gone.period_key == key
    [row] = store.deliveries(sub.id)
    assert row.status == "failed" and "gave up after 3 attempts" in row.error


def test_failures_retryable_or_not_and_skips(store):
    sub = _sub(store)
    store.clock = clock = Clock(T0)
    claim = store.claim(sub.id, "A", lease=LEASE, max_attempts=3)
    assert store.mark_failed(claim, "ratelimited", retryable=True)
    clock.set(T0 + timedelta(minutes=1))
    retry = store.claim(sub.id, "A", lease=LEASE, max_attempts=3)
    assert retry is not None and retry.attempts == 2  # a transient failure is retried by the next run
    assert store.mark_failed(retry, "channel_not_found", retryable=False)
    clock.set(T0 + timedelta(hours=1))
    assert store.claim(sub.id, "A", lease=LEASE, max_attempts=3) is None
    assert store.last_delivery(sub.id).error == "channel_not_found"
    assert store.record_skipped(sub.id, "B", "missed")
    assert not store.record_skipped(sub.id, "B", "missed")  # logged once
    assert store.claim(sub.id, "B", lease=LEASE, max_attempts=3) is None  # and never posted
    assert store.period_keys(sub.id) == {"A", "B"} and store.last_sent(sub.id) is None


def test_concurrent_claimers_one_winner(state_url):
    """Eight threads, each with its own Store (engine, connections), race for the same period."""
    setup = Store(state_url)
    sub = _sub(setup)
    barrier = threading.Barrier(8)
    wins: list[object] = []

    def race() -> None:
        mine = Store(state_url)
        barrier.wait()
        claim = mine.claim(sub.id, "2026-11-30T09:00", lease=LEASE, max_attempts=3)
        if claim is not None:
            wins.append(claim)
        mine.dispose()

    threads = [threading.Thread(target=race) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(wins) == 1
    assert len(setup.deliveries(sub.id)) == 1
    setup.dispose()


def test_stores_created_at_once_on_an_empty_database(state_url):
    """Web processes and workers start together: creating the tables must not race."""
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def start() -> None:
        barrier.wait()
        try:
            Store(state_url).dispose()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    store = Store(state_url)
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema_version)).scalar() == 1
    store.dispose()


def test_claims_are_stamped_and_leased_by_the_real_clock(store):
    """Without a clock given, a claim is stamped with the time it is written and a fresh one is never stale."""
    sub = _sub(store)
    before = datetime.now(UTC)
    claim = store.claim(sub.id, "2026-11-30T09:00", lease=LEASE, max_attempts=3)
    [row] = store.deliveries(sub.id)
    assert claim is not None and before - timedelta(seconds=1) <= row.claimed_at <= datetime.now(UTC)
    assert store.claim(sub.id, "2026-11-30T09:00", lease=LEASE, max_attempts=3) is None  # within the lease
    assert store.abandon_stale(lease=timedelta(0), max_attempts=1) != []  # judged by the same clock
