"""The bot's own state in SQL: digest subscriptions and their delivery log (SQLAlchemy 2 Core).

`DATABASE_URL` picks the database: a SQLite file by default (`sqlite:///collab-state.sqlite` in the
working directory), PostgreSQL in production. Several web processes and digest workers may share
it, so every guarantee lives in the database itself:

- a delivery is *claimed* by inserting (subscription_id, period_key); the UNIQUE constraint lets
  exactly one claimer win, whichever process or machine it runs on;
- a claim whose worker died is taken over with one conditional UPDATE (`status = 'claimed' AND
  claimed_at < cutoff`), so two rescuers cannot both win either; `attempts` doubles as a fencing
  token, so a worker that lost its claim can never mark the delivery as its own;
- claims, leases and `sent_at` are judged by the store's real clock (`Store.clock`, utcnow), never by
  the moment a digest run is *for* (`collab digest run-due --now`): a claim made late in a long run,
  or by a run scheduled in the past, is as fresh as the moment it was written;
- a Slack request is recorded as handled by inserting its stable key into `slack_requests`; when
  Slack delivers it again (a retry), the insert fails on the primary key and the copy is dropped;
- a conversation (a thread the bot answered in, or a DM) remembers its last question in
  `conversation_threads`, written with one upsert, so a follow-up reaching any process reads it.

Times are stored as naive UTC (`DateTime` without a zone) on every backend, so comparisons behave
the same in SQLite (text) and PostgreSQL (timestamp).
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    create_engine,
    event,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from bot.config import Settings

DEFAULT_URL = "sqlite:///collab-state.sqlite"
SCHEMA_VERSION = 1
STATUSES = ("claimed", "sent", "failed", "skipped")

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("applied_at", DateTime, nullable=False),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("team_id", String(32), nullable=False, default=""),
    Column("channel_id", String(32), nullable=False, index=True),
    Column("created_by", String(32), nullable=False),
    Column("weekday", SmallInteger, nullable=False),  # 0 = Monday … 6 = Sunday
    Column("time", String(5), nullable=False),  # "HH:MM", local to tz
    Column("tz", String(64), nullable=False),  # IANA name
    Column("countries", JSON, nullable=False),  # list of ISO alpha-3 codes; empty: rotating spotlight
    Column("field", String(32), nullable=False),
    Column("quiet", Boolean, nullable=False, default=False),
    Column("created_at", DateTime, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subscription_id", Integer, ForeignKey("subscriptions.id"), nullable=False),
    Column("period_key", String(16), nullable=False),  # the scheduled local time, "2026-11-30T09:00"
    Column("status", String(16), nullable=False),  # claimed | sent | failed | skipped
    Column("claimed_at", DateTime, nullable=False),
    Column("sent_at", DateTime),
    Column("attempts", Integer, nullable=False, default=1),
    Column("error", Text),
    Column("retryable", Boolean, nullable=False, default=False),  # a failure the next run may retry
    Column("note", Text),  # why it was skipped, or what went wrong besides the post (the chart)
    Column("data_version", String(64)),
    Column("snapshot", JSON),  # the key figures the digest showed, diffed by the next digest
    Column("message_ts", String(32)),
    UniqueConstraint("subscription_id", "period_key", name="uq_deliveries_subscription_period"),
)


# Slack requests already handled, so a delivery Slack repeats (X-Slack-Retry-Num) is acknowledged and
# dropped by whichever web process or machine receives it: the primary key lets one insert win.
slack_requests = Table(
    "slack_requests",
    metadata,
    Column("request_key", String(80), primary_key=True),  # "event:<event_id>", "command:<sha256>", …
    Column("kind", String(16), nullable=False),  # event | command | action
    Column("received_at", DateTime, nullable=False, index=True),
)


# The last question answered in each Slack conversation, so a follow-up ("and in computer vision?") is
# read against it by whichever process receives it. thread_ts is "" for a DM's own message stream.
conversation_threads = Table(
    "conversation_threads",
    metadata,
    Column("channel_id", String(32), primary_key=True),
    Column("thread_ts", String(32), primary_key=True),
    Column("team_id", String(32), nullable=False, default=""),
    Column("command", Text),  # the canonical command of the last answer; None before the first
    Column("assistant", Boolean, nullable=False, default=False),  # a thread of Slack's assistant pane
    Column("assistant_context", JSON),  # the channel the person was viewing (Slack's assistant context)
    Column("updated_at", DateTime, nullable=False, index=True),
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _aware(moment: datetime) -> datetime:
    """A timestamp read back from the database (stored naive, in UTC) as an aware datetime."""
    return moment.replace(tzinfo=UTC)


def _inserted_id(result: Any) -> int:
    """The primary key of the row an INSERT just wrote."""
    key = result.inserted_primary_key
    if key is None:
        raise StateError("the state database returned no id for the new row")
    return int(key[0])


def _aware_or_none(moment: datetime | None) -> datetime | None:
    return None if moment is None else _aware(moment)


@dataclass(frozen=True)
class ConversationThread:
    """What the bot remembers of one conversation: its last command, and whether it is an assistant thread."""

    channel_id: str
    thread_ts: str
    team_id: str
    command: str | None
    assistant: bool
    assistant_context: dict[str, Any] | None
    updated_at: datetime  # aware, UTC


@dataclass(frozen=True)
class Subscription:
    id: int
    team_id: str
    channel_id: str
    created_by: str
    weekday: int
    time: str
    tz: str
    countries: tuple[str, ...]
    field: str
    quiet: bool
    created_at: datetime  # aware, UTC
    active: bool = True


@dataclass(frozen=True)
class Delivery:
    id: int
    subscription_id: int
    period_key: str
    status: str
    claimed_at: datetime
    sent_at: datetime | None
    attempts: int
    error: str | None
    retryable: bool
    note: str | None
    data_version: str | None
    snapshot: dict[str, Any] | None
    message_ts: str | None


@dataclass(frozen=True)
class Claim:
    """The right to deliver one period of one subscription; `attempts` is the fencing token."""

    delivery_id: int
    subscription_id: int
    period_key: str
    attempts: int

    @property
    def is_retry(self) -> bool:
        return self.attempts > 1


def _subscription(row: Any) -> Subscription:
    m = row._mapping
    return Subscription(
        id=m["id"],
        team_id=m["team_id"] or "",
        channel_id=m["channel_id"],
        created_by=m["created_by"],
        weekday=int(m["weekday"]),
        time=m["time"],
        tz=m["tz"],
        countries=tuple(m["countries"] or ()),
        field=m["field"],
        quiet=bool(m["quiet"]),
        created_at=_aware(m["created_at"]),
        active=bool(m["active"]),
    )


def _delivery(row: Any) -> Delivery:
    m = row._mapping
    return Delivery(
        id=m["id"],
        subscription_id=m["subscription_id"],
        period_key=m["period_key"],
        status=m["status"],
        claimed_at=_aware(m["claimed_at"]),
        sent_at=_aware_or_none(m["sent_at"]),
        attempts=int(m["attempts"]),
        error=m["error"],
        retryable=bool(m["retryable"]),
        note=m["note"],
        data_version=m["data_version"],
        snapshot=m["snapshot"],
        message_ts=m["message_ts"],
    )


def make_engine(url: str) -> Engine:
    if url.startswith("postgres://"):  # Heroku-style URLs
        url = "postgresql+psycopg://" + url[len("postgres://") :]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:  # pragma: no cover - driver plumbing
            # Let SQLAlchemy issue BEGIN itself (pysqlite's implicit transactions start too late),
            # and make it BEGIN IMMEDIATE: the write lock is taken up front, so concurrent writers
            # queue on busy_timeout instead of failing with "database is locked" mid-transaction.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA busy_timeout = 30000")
            cursor.execute("PRAGMA journal_mode = WAL")
            # In WAL mode NORMAL still never corrupts the file; it skips an fsync per commit, which
            # every Slack request pays for (the retry check records each one).
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection: Any) -> None:  # pragma: no cover - driver plumbing
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


class StateError(RuntimeError):
    """The state database cannot be used (a newer schema, unreachable)."""


class Store:
    """Subscriptions and the delivery log, on the database at `url` (default: a SQLite file here).

    `clock` is the real time: claims are stamped with it and leases judged by it (tests may replace it).
    """

    def __init__(self, url: str | None = None, *, engine: Engine | None = None, clock: Callable[[], datetime] = utcnow):
        self.url = url or DEFAULT_URL
        self.engine = engine or make_engine(self.url)
        self.clock = clock
        self._create_schema()

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        """The store at DATABASE_URL."""
        return cls(settings.database_url or None)

    # ------------------------------------------------------------ schema

    def _create_schema(self) -> None:
        """Create the tables if missing; serialised so two processes starting at once don't collide."""
        for attempt in range(5):
            try:
                with self.engine.begin() as conn:
                    if conn.dialect.name == "postgresql":
                        conn.execute(text("SELECT pg_advisory_xact_lock(727100)"))
                    metadata.create_all(conn)
                    current = conn.execute(
                        select(schema_version.c.version).order_by(schema_version.c.version.desc()).limit(1)
                    ).scalar()
                    if current is None:
                        conn.execute(
                            insert(schema_version).values(version=SCHEMA_VERSION, applied_at=_naive_utc(utcnow()))
                        )
                        current = SCHEMA_VERSION
                    if current > SCHEMA_VERSION:
                        raise StateError(
                            f"The state database has schema version {current}; this collab knows "
                            f"up to {SCHEMA_VERSION}. Upgrade collab."
                        )
                    # Future migrations: `if current < 2: ...; record version 2` here, in this transaction.
                    # A new table (conversation_threads) needs none: create_all adds it, and an older
                    # collab still running beside this one during a deploy simply doesn't use it.
                return
            except (IntegrityError, ProgrammingError, OperationalError):
                if attempt == 4:
                    raise
                _time.sleep(0.2 * (attempt + 1))

    def dispose(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------ subscriptions

    def add_subscription(
        self,
        *,
        channel_id: str,
        created_by: str,
        weekday: int,
        time: str,
        tz: str,
        countries: Iterable[str] = (),
        field: str = "ai",
        quiet: bool = False,
        team_id: str = "",
        now: datetime | None = None,
    ) -> Subscription:
        if not 0 <= weekday <= 6:
            raise ValueError(f"weekday must be 0..6, not {weekday}")
        values = dict(
            team_id=team_id or "",
            channel_id=channel_id,
            created_by=created_by,
            weekday=weekday,
            time=time,
            tz=tz,
            countries=list(countries),
            field=field,
            quiet=quiet,
            created_at=_naive_utc(now or utcnow()),
            active=True,
        )
        with self.engine.begin() as conn:
            new_id = _inserted_id(conn.execute(insert(subscriptions).values(**values)))
            row = conn.execute(select(subscriptions).where(subscriptions.c.id == new_id)).one()
        return _subscription(row)

    def subscription(self, subscription_id: int) -> Subscription | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(subscriptions).where(subscriptions.c.id == subscription_id)).first()
        return _subscription(row) if row else None

    def subscriptions(self, channel_id: str | None = None, *, active: bool | None = True) -> list[Subscription]:
        query = select(subscriptions).order_by(subscriptions.c.id)
        if channel_id is not None:
            query = query.where(subscriptions.c.channel_id == channel_id)
        if active is not None:
            query = query.where(subscriptions.c.active == active)
        with self.engine.connect() as conn:
            return [_subscription(row) for row in conn.execute(query)]

    def deactivate(self, subscription_id: int) -> bool:
        """Stop a subscription (its delivery log is kept); False if there was no active one."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(subscriptions)
                .where(
                    subscriptions.c.id == subscription_id,
                    subscriptions.c.active == True,  # noqa: E712
                )
                .values(active=False)
            )
        return result.rowcount == 1

    # ------------------------------------------------------------ claims

    def claim(self, subscription_id: int, period_key: str, *, lease: timedelta, max_attempts: int) -> Claim | None:
        """Claim a period for delivery, or None when another worker has it (or it is done).

        First try to insert the claim (the unique constraint lets one claimer win). If the row
        exists, take it over only if its claim has outlived the lease (its worker died) or it
        failed with an error worth retrying, and only while attempts remain. The claim is stamped
        with the clock as it is written, and the lease measured against the same clock.
        """
        now = self.clock()
        stamp = _naive_utc(now)
        try:
            with self.engine.begin() as conn:
                new_id = _inserted_id(
                    conn.execute(
                        insert(deliveries).values(
                            subscription_id=subscription_id,
                            period_key=period_key,
                            status="claimed",
                            claimed_at=stamp,
                            attempts=1,
                            retryable=False,
                        )
                    )
                )
            return Claim(new_id, subscription_id, period_key, 1)
        except IntegrityError:
            pass
        cutoff = _naive_utc(now - lease)
        d = deliveries.c
        with self.engine.begin() as conn:
            taken = conn.execute(
                update(deliveries)
                .where(
                    d.subscription_id == subscription_id,
                    d.period_key == period_key,
                    d.attempts < max_attempts,
                    or_(
                        and_(d.status == "claimed", d.claimed_at < cutoff),
                        and_(d.status == "failed", d.retryable.is_(True)),
                    ),
                )
                .values(status="claimed", claimed_at=stamp, attempts=d.attempts + 1, retryable=False)
            )
            if taken.rowcount != 1:
                return None
            row = conn.execute(
                select(d.id, d.attempts).where(d.subscription_id == subscription_id, d.period_key == period_key)
            ).one()
        return Claim(row.id, subscription_id, period_key, int(row.attempts))

    def abandon_stale(self, *, lease: timedelta, max_attempts: int) -> list[Delivery]:
        """Mark claims that outlived their lease (by the clock) with no attempts left as failed; return them."""
        d = deliveries.c
        cutoff = _naive_utc(self.clock() - lease)
        condition = and_(d.status == "claimed", d.claimed_at < cutoff, d.attempts >= max_attempts)
        with self.engine.begin() as conn:
            rows = conn.execute(select(deliveries).where(condition)).all()
            if rows:
                conn.execute(
                    update(deliveries)
                    .where(condition, d.id.in_([r.id for r in rows]))
                    .values(
                        status="failed",
                        retryable=False,
                        error=f"gave up after {max_attempts} attempts: a worker stopped during each delivery",
                    )
                )
        return [_delivery(r) for r in rows]

    def _finish(self, claim: Claim, **values: Any) -> bool:
        d = deliveries.c
        with self.engine.begin() as conn:
            result = conn.execute(
                update(deliveries)
                .where(d.id == claim.delivery_id, d.status == "claimed", d.attempts == claim.attempts)
                .values(**values)
            )
        return result.rowcount == 1

    def mark_sent(
        self,
        claim: Claim,
        *,
        message_ts: str | None,
        data_version: str,
        snapshot: dict[str, Any] | None,
        note: str | None = None,
    ) -> bool:
        """Record the post, sent now (by the clock); False if the claim was lost to another worker meanwhile."""
        return self._finish(
            claim,
            status="sent",
            sent_at=_naive_utc(self.clock()),
            message_ts=message_ts,
            data_version=data_version,
            snapshot=snapshot,
            note=note,
            error=None,
            retryable=False,
        )

    def mark_failed(self, claim: Claim, error: str, *, retryable: bool = False) -> bool:
        return self._finish(claim, status="failed", error=error[:2000], retryable=retryable)

    def mark_skipped(
        self, claim: Claim, note: str, *, data_version: str | None = None, snapshot: dict[str, Any] | None = None
    ) -> bool:
        return self._finish(claim, status="skipped", note=note, data_version=data_version, snapshot=snapshot)

    def record_skipped(self, subscription_id: int, period_key: str, note: str) -> bool:
        """Log a period that will never be posted (missed beyond the grace period); False if already logged."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(deliveries).values(
                        subscription_id=subscription_id,
                        period_key=period_key,
                        status="skipped",
                        claimed_at=_naive_utc(self.clock()),
                        attempts=0,
                        retryable=False,
                        note=note,
                    )
                )
            return True
        except IntegrityError:
            return False

    # ------------------------------------------------------------ Slack requests handled

    def claim_request(self, request_key: str, kind: str, *, now: datetime | None = None) -> bool:
        """Record a Slack request as handled; False when it already was (a repeated delivery)."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(slack_requests).values(
                        request_key=request_key[:80], kind=kind[:16], received_at=_naive_utc(now or utcnow())
                    )
                )
            return True
        except IntegrityError:
            return False

    def forget_requests(self, *, before: datetime) -> int:
        """Drop handled-request records older than `before` (Slack stops retrying after minutes)."""
        with self.engine.begin() as conn:
            result = conn.execute(slack_requests.delete().where(slack_requests.c.received_at < _naive_utc(before)))
        return result.rowcount or 0

    # ------------------------------------------------------------ conversations

    def remember_thread(
        self,
        channel_id: str,
        thread_ts: str,
        *,
        team_id: str = "",
        command: str | None = None,
        assistant: bool | None = None,
        assistant_context: dict[str, Any] | None = None,
    ) -> None:
        """Create or refresh a conversation's record; only the values given (not None) change."""
        changes: dict[str, Any] = {"updated_at": _naive_utc(self.clock())}
        for name, value in (
            ("command", command),
            ("assistant", assistant),
            ("assistant_context", assistant_context),
            ("team_id", team_id or None),
        ):
            if value is not None:
                changes[name] = value
        values = {"channel_id": channel_id, "thread_ts": thread_ts, "team_id": "", "assistant": False, **changes}
        dialect = self.engine.dialect.name
        upsert: Any
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as upsert
        elif dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as upsert
        else:
            raise StateError(f"conversation threads need SQLite or PostgreSQL, not {dialect}")
        statement = upsert(conversation_threads).values(**values)
        statement = statement.on_conflict_do_update(index_elements=["channel_id", "thread_ts"], set_=changes)
        with self.engine.begin() as conn:
            conn.execute(statement)

    def thread(self, channel_id: str, thread_ts: str, *, max_age: timedelta) -> ConversationThread | None:
        """The conversation's record if it was written within max_age (by the clock), else None."""
        t = conversation_threads.c
        cutoff = _naive_utc(self.clock() - max_age)
        with self.engine.connect() as conn:
            row = conn.execute(
                select(conversation_threads).where(
                    t.channel_id == channel_id, t.thread_ts == thread_ts, t.updated_at >= cutoff
                )
            ).first()
        if row is None:
            return None
        m = row._mapping
        return ConversationThread(
            channel_id=m["channel_id"],
            thread_ts=m["thread_ts"],
            team_id=m["team_id"] or "",
            command=m["command"],
            assistant=bool(m["assistant"]),
            assistant_context=m["assistant_context"],
            updated_at=_aware(m["updated_at"]),
        )

    def forget_threads(self, *, before: datetime) -> int:
        """Drop conversations not written since `before`; their follow-ups would start afresh anyway."""
        t = conversation_threads.c
        with self.engine.begin() as conn:
            result = conn.execute(conversation_threads.delete().where(t.updated_at < _naive_utc(before)))
        return result.rowcount or 0

    # ------------------------------------------------------------ the log

    def deliveries(self, subscription_id: int | None = None) -> list[Delivery]:
        query = select(deliveries).order_by(deliveries.c.subscription_id, deliveries.c.period_key)
        if subscription_id is not None:
            query = query.where(deliveries.c.subscription_id == subscription_id)
        with self.engine.connect() as conn:
            return [_delivery(r) for r in conn.execute(query)]

    def period_keys(self, subscription_id: int, since_key: str = "") -> set[str]:
        d = deliveries.c
        with self.engine.connect() as conn:
            return set(
                conn.execute(
                    select(d.period_key).where(d.subscription_id == subscription_id, d.period_key >= since_key)
                ).scalars()
            )

    def last_delivery(self, subscription_id: int) -> Delivery | None:
        """The most recent period's log entry (sent, failed, skipped or in progress)."""
        d = deliveries.c
        with self.engine.connect() as conn:
            row = conn.execute(
                select(deliveries).where(d.subscription_id == subscription_id).order_by(d.period_key.desc()).limit(1)
            ).first()
        return _delivery(row) if row else None

    def last_sent(self, subscription_id: int) -> Delivery | None:
        """The last digest actually posted (its data version and snapshot are what the next one diffs)."""
        d = deliveries.c
        with self.engine.connect() as conn:
            row = conn.execute(
                select(deliveries)
                .where(d.subscription_id == subscription_id, d.status == "sent")
                .order_by(d.period_key.desc())
                .limit(1)
            ).first()
        return _delivery(row) if row else None
