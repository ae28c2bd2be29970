"""Every setting collab reads from the environment, read once at startup into one frozen object.

Each field names its environment variable, default and meaning; the README's settings table is
checked against this list, so a new setting is added here (and only here) with its documentation.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

SPARK_MIN_DRIVER_MEMORY_MB = 512  # Spark refuses a driver heap under ~450 MiB (471859200 bytes)
MIN_SQL_ADDRESS_SPACE_MB = 512
# A size DuckDB's memory_limit reads: a number and a unit (a bare or misspelt one fails every query).
_DUCKDB_SIZE = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGT]i?B|B)\s*", re.IGNORECASE)
_BYTES = {"B": 1, "KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40}
MIN_DUCKDB_MEMORY_MB = 64
_MB_PER_UNIT = {"k": 1 / 1024, "m": 1, "g": 1024, "t": 1024 * 1024}


def jvm_memory_mb(value: str) -> float | None:
    """A JVM memory size (4g, 8192m) in MiB; None if it is not one. A unit is needed: the JVM's
    -Xmx, which Spark's launcher passes it to, reads a bare number as bytes."""
    found = re.fullmatch(r"([0-9]+)([kmgt])", value.strip(), re.IGNORECASE)
    return int(found.group(1)) * _MB_PER_UNIT[found.group(2).lower()] if found else None


def setting(env: str, default: Any, meaning: str, *, empty_is_value: bool = False) -> Any:
    """A settings field read from the environment variable `env`.

    An empty variable means the default, unless `empty_is_value` (then empty is a value of its own).
    """
    return field(default=default, metadata={"env": env, "meaning": meaning, "empty_is_value": empty_is_value})


@dataclass(frozen=True)
class Settings:
    # Slack
    slack_bot_token: str = setting("SLACK_BOT_TOKEN", "", "Bot token (xoxb-…) for the Web API.")
    slack_signing_secret: str = setting("SLACK_SIGNING_SECRET", "", "Verifies that HTTP requests come from Slack.")
    slack_app_token: str = setting("SLACK_APP_TOKEN", "", "App-level token (xapp-…) for Socket Mode.")
    slack_api_url: str = setting(
        "SLACK_API_URL", "", "Web API base URL; empty means Slack's own (tests point it at a stand-in)."
    )
    # Data
    collab_db: str = setting(
        "COLLAB_DB",
        "",
        "The analytics DuckDB file; empty means `data/collab.duckdb` in a checkout, the user's cache folder when installed.",
    )
    query_seconds: float = setting("COLLAB_QUERY_SECONDS", 5.0, "Time limit of one query, in seconds.")
    memory_limit: str = setting("COLLAB_MEMORY_LIMIT", "1GB", "DuckDB's memory cap while answering.")
    sql_workers: int = setting(
        "COLLAB_SQL_WORKERS", 2, "Warm worker processes per server process that run typed `sql`."
    )
    sql_kill_seconds: float = setting(
        "COLLAB_SQL_KILL_SECONDS", 8.0, "A typed `sql` worker still busy after this many seconds is killed."
    )
    sql_address_space_mb: int = setting(
        "COLLAB_SQL_ADDRESS_SPACE_MB", 1280, "Address-space limit (RLIMIT_AS) of one typed `sql` worker, in MB."
    )
    sql_memory_limit: str = setting(
        "COLLAB_SQL_MEMORY_LIMIT", "128MB", "DuckDB's memory cap inside a typed `sql` worker."
    )
    sql_result_mb: int = setting(
        "COLLAB_SQL_RESULT_MB", 16, "Largest result a typed `sql` statement may return, in MB."
    )
    ingest_memory: str = setting(
        "COLLAB_INGEST_MEMORY", "1GB", "DuckDB's memory cap while ingesting works (it spills to disk beyond it)."
    )
    spark_driver_memory: str = setting(
        "COLLAB_SPARK_DRIVER_MEMORY",
        "4g",
        "Heap of the JVM that `--engine spark` starts for a local master, whose executors run inside it; "
        "at least 512m (spark-submit's and a running session's own settings are kept).",
    )
    # State
    database_url: str = setting(
        "DATABASE_URL", "", "Digest and request state (a SQLAlchemy URL); empty means `sqlite:///collab-state.sqlite`."
    )
    thread_hours: float = setting(
        "COLLAB_THREAD_HOURS", 24.0, "How long a Slack thread or DM remembers its last question for follow-ups."
    )
    # Server
    port: int = setting("PORT", 3000, "HTTP port of `collab serve` (`--port` overrides it).")
    web_concurrency: int = setting("WEB_CONCURRENCY", 2, "gunicorn worker processes.")
    max_body_bytes: int = setting(
        "COLLAB_MAX_BODY_BYTES", 1_048_576, "Largest request body `collab serve` reads; larger ones get 413 unread."
    )
    web_threads: int = setting("COLLAB_WEB_THREADS", 8, "Threads per gunicorn worker.")
    access_log: str = setting(
        "COLLAB_ACCESS_LOG",
        "-",
        "gunicorn access log: '-' for stdout, a file path, or set but empty for none.",
        empty_is_value=True,
    )
    log_level: str = setting("COLLAB_LOG_LEVEL", "info", "gunicorn's log level.")
    ack_seconds: float = setting(
        "COLLAB_ACK_SECONDS",
        2.0,
        "An answer ready this many seconds after its request arrived goes in the slash command's ack "
        "(Slack waits 3 s); a slower one follows at the response_url.",
    )
    chart_processes: int = setting(
        "COLLAB_CHART_PROCESSES", 2, "Chart-drawing processes per web worker (two: one busy worker can use two cores)."
    )
    # Digests
    admins: str = setting("COLLAB_ADMINS", "", "Comma-separated Slack user IDs who may manage every channel's digest.")
    digest_lease_seconds: float = setting(
        "COLLAB_DIGEST_LEASE_SECONDS", 600.0, "A digest claim older than this is taken over."
    )
    digest_max_attempts: int = setting("COLLAB_DIGEST_MAX_ATTEMPTS", 3, "Tries of one digest before it is given up.")
    digest_grace_hours: float = setting(
        "COLLAB_DIGEST_GRACE_HOURS", 24.0, "A missed digest later than this is skipped, not posted."
    )
    digest_pace_seconds: float = setting(
        "COLLAB_DIGEST_PACE_SECONDS", 1.0, "Pause between posts to one channel, in seconds."
    )

    def __post_init__(self) -> None:
        for name in ("memory_limit", "sql_memory_limit", "ingest_memory"):
            value = getattr(self, name)
            found = _DUCKDB_SIZE.fullmatch(value)
            if not found:
                raise ValueError(f"{_env(name)}={value!r} is not a memory size; write it like 1GB or 512MB")
            if float(found.group(1)) * _BYTES[found.group(2).upper().replace("I", "")] < MIN_DUCKDB_MEMORY_MB << 20:
                raise ValueError(f"{_env(name)}={value!r} is too little for DuckDB to open the database; at least 64MB")
        for name in ("query_seconds", "sql_kill_seconds", "sql_workers", "sql_result_mb", "web_concurrency"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):  # inf or nan would leave no limit at all
                raise ValueError(f"{_env(name)}={value!r} must be a number more than 0")
        if self.sql_address_space_mb < MIN_SQL_ADDRESS_SPACE_MB:
            raise ValueError(
                f"COLLAB_SQL_ADDRESS_SPACE_MB={self.sql_address_space_mb} is too small for a worker to start "
                f"(Python and DuckDB need more before any query runs); at least {MIN_SQL_ADDRESS_SPACE_MB}"
            )
        size = jvm_memory_mb(self.spark_driver_memory)
        if size is None or size < SPARK_MIN_DRIVER_MEMORY_MB:
            what = "is not a JVM memory size" if size is None else "is too small for Spark's driver"
            raise ValueError(
                f"COLLAB_SPARK_DRIVER_MEMORY={self.spark_driver_memory!r} {what}; write it like 4g or 8192m "
                f"(at least {SPARK_MIN_DRIVER_MEMORY_MB}m)"
            )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from `environ` (default: the process environment); unset or empty means the default."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for spec in fields(cls):
            raw = environ.get(spec.metadata["env"])
            if raw is None or (raw == "" and not spec.metadata["empty_is_value"]):
                continue
            kind: type = type(spec.default)
            try:
                values[spec.name] = kind(raw)
            except ValueError:
                raise ValueError(f"{spec.metadata['env']}={raw!r} is not a valid {kind.__name__}") from None
        return cls(**values)

    @property
    def admin_ids(self) -> frozenset[str]:
        """COLLAB_ADMINS as a set of Slack user IDs."""
        return frozenset(part.strip() for part in self.admins.split(",") if part.strip())


def _env(name: str) -> str:
    return next(spec.metadata["env"] for spec in fields(Settings) if spec.name == name)


def documented() -> list[tuple[str, Any, str]]:
    """(variable, default, meaning) for every setting: what the README's table lists."""
    return [(spec.metadata["env"], spec.default, spec.metadata["meaning"]) for spec in fields(Settings)]
