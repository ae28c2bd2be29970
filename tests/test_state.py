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


def test_conversation_threads_remember_the_last_command_for_a_day(store):
    clock = Clock()
    store.clock = clock
    day = timedelta(days=1)
    store.remember_thread(
        "D1", "1700000000.000100", team_id="T1", assistant=True, assistant_context={"channel_id": "C9"}
    )
    first = store.thread("D1", "1700000000.000100", max_age=day)
    assert (first.command, first.assistant, first.assistant_context, first.team_id) == (
        None,
        True,
        {"channel_id": "C9"},
        "T1",
    )

    clock.set(T0 + timedelta(hours=2))  # a question: only the command changes, the pane's marks stay
    store.remember_thread("D1", "1700000000.000100", command="partners Malaysia")
    again = store.thread("D1", "1700000000.000100", max_age=day)
    assert (again.command, again.assistant, again.assistant_context) == (
        "partners Malaysia",
        True,
        {"channel_id": "C9"},
    )
    assert again.updated_at == T0 + timedelta(hours=2)
    store.remember_thread("D1", "", command="pair China USA")  # the DM's own stream is a conversation of its own
    assert store.thread("D1", "", max_age=day).command == "pair China USA"
    assert store.thread("D1", "1700000000.000100", max_age=day).command == "partners Malaysia"
    assert store.thread("C1", "1700000000.000100", max_age=day) is None

    clock.set(T0 + timedelta(hours=2) + day + timedelta(seconds=1))  # a day after the last answer: forgotten
    assert store.thread("D1", "1700000000.000100", max_age=day) is None
    assert store.forget_threads(before=clock() - day) == 2
    store.remember_thread("D1", "1700000000.000100", command="top 10")  # a new question starts afresh
    fresh = store.thread("D1", "1700000000.000100", max_age=day)
    assert (fresh.command, fresh.assistant, fresh.assistant_context) == ("top 10", False, None)


def test_conversation_threads_concurrent_writers_leave_one_row(state_url):
    """Several web processes answering in one thread at once: the upsert never fails on the key."""
    stores = [Store(state_url) for _ in range(4)]
    errors: list[BaseException] = []

    def answer(i: int) -> None:
        try:
            for n in range(10):
                stores[i].remember_thread("C1", "1700000000.000100", command=f"top {i * 10 + n + 1}")
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=answer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with stores[0].engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM conversation_threads")).scalar() == 1
    assert stores[0].thread("C1", "1700000000.000100", max_age=timedelta(days=1)).command.startswith("top ")
    for s in stores:
        s.dispose()


def test_a_database_from_before_conversation_threads_gets_the_table_on_open(state_url):
    """An older collab's database (no conversation_threads) gains the table without a new schema version."""
    older = Store(state_url)
    with older.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE conversation_threads"))
    older.dispose()
    upgraded = Store(state_url)
    assert "conversation_threads" in sa.inspect(upgraded.engine).get_table_names()
    upgraded.remember_thread("C1", "1.0", command="partners Malaysia")
    assert upgraded.thread("C1", "1.0", max_age=timedelta(days=1)).command == "partners Malaysia"
    with upgraded.engine.connect() as conn:
        assert conn.execute(sa.select(schema_version.c.version)).scalars().all() == [SCHEMA_VERSION]
    upgraded.dispose()
