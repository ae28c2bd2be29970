"""Every setting collab reads from the environment, read once at startup into one frozen object.

Each field names its environment variable, default and meaning; the README's settings table is
checked against this list, so a new setting is added here (and only here) with its documentation.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any


def setting(env: str, default: Any, meaning: str) -> Any:
    """A settings field read from the environment variable `env`."""
    return field(default=default, metadata={"env": env, "meaning": meaning})


@dataclass(frozen=True)
class Settings:
    # Slack
    slack_bot_token: str = setting("SLACK_BOT_TOKEN", "", "Bot token (xoxb-…) for the Web API.")
    slack_signing_secret: str = setting("SLACK_SIGNING_SECRET", "", "Verifies that HTTP requests come from Slack.")
    slack_app_token: str = setting("SLACK_APP_TOKEN", "", "App-level token (xapp-…) for Socket Mode.")
    slack_api_url: str = setting("SLACK_API_URL", "", "Web API base URL; empty means Slack's own.")
    # Data
    collab_db: str = setting("COLLAB_DB", "", "The analytics DuckDB file; empty means the default location.")
    query_seconds: float = setting("COLLAB_QUERY_SECONDS", 5.0, "Time limit of one query, in seconds.")
    memory_limit: str = setting("COLLAB_MEMORY_LIMIT", "1GB", "DuckDB's memory cap for answering queries.")
    ingest_memory: str = setting("COLLAB_INGEST_MEMORY", "1GB", "DuckDB's memory cap while ingesting works.")
    # State
    database_url: str = setting("DATABASE_URL", "", "State database (SQLAlchemy URL); empty means SQLite.")
    # Server
    port: int = setting("PORT", 3000, "HTTP port of `collab serve`.")
    web_concurrency: int = setting("WEB_CONCURRENCY", 2, "gunicorn worker processes.")
    web_threads: int = setting("COLLAB_WEB_THREADS", 8, "Threads per gunicorn worker.")
    access_log: str = setting("COLLAB_ACCESS_LOG", "-", "gunicorn access log: '-' for stdout, empty for none.")
    log_level: str = setting("COLLAB_LOG_LEVEL", "info", "Log level.")
    # Digests
    admins: str = setting("COLLAB_ADMINS", "", "Comma-separated Slack user IDs who may manage every channel's digest.")
    digest_lease_seconds: float = setting(
        "COLLAB_DIGEST_LEASE_SECONDS", 600.0, "A digest claim older than this is taken over."
    )
    digest_max_attempts: int = setting("COLLAB_DIGEST_MAX_ATTEMPTS", 3, "Tries of one digest before it is failed.")
    digest_grace_hours: float = setting(
        "COLLAB_DIGEST_GRACE_HOURS", 24.0, "A missed digest later than this is skipped, not posted."
    )
    digest_pace_seconds: float = setting("COLLAB_DIGEST_PACE_SECONDS", 1.0, "Pause between posts to one channel.")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from `environ` (default: the process environment); unset or empty means the default."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for spec in fields(cls):
            raw = environ.get(spec.metadata["env"], "")
            if raw == "":
                continue
            kind = type(spec.default)
            try:
                values[spec.name] = kind(raw)
            except ValueError:
                raise ValueError(f"{spec.metadata['env']}={raw!r} is not a valid {kind.__name__}") from None
        return cls(**values)


def documented() -> list[tuple[str, Any, str]]:
    """(variable, default, meaning) for every setting: what the README's table lists."""
    return [(spec.metadata["env"], spec.default, spec.metadata["meaning"]) for spec in fields(Settings)]
