"""The sandboxed, read-only database every query runs on.

Shipped, reviewed queries run in this process: DuckDB opens the file read-only with external
access off and its configuration locked, under a memory cap, and a watchdog interrupts any query
that runs past the time limit. SQL a person typed runs in an isolated worker process instead
(`query_typed`, see bot/engine/isolation.py), which sees only the published views.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from bot.config import Settings
from bot.engine.catalog import published_columns
from bot.engine.isolation import SqlLimits, SqlPool
from bot.errors import DataUnavailable, QueryFailed
from bot.paths import database_path

if TYPE_CHECKING:
    import pandas as pd

DEFAULTS = Settings()


def sandbox_config(memory_limit: str = DEFAULTS.memory_limit) -> dict[str, Any]:
    """DuckDB's configuration for reading: every connection to one file in a process must use the same."""
    return {
        "access_mode": "READ_ONLY",
        "enable_external_access": False,
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "memory_limit": memory_limit,
        "threads": 2,
        "lock_configuration": True,
    }


class Database:
    """One read-only DuckDB database, reopened when a rebuild or ingest replaces the file.

    DuckDB hands back its cached instance for a path while any connection to it is open, so a
    replaced file is only seen once the old connection is closed; and closing it under a running
    query fails. So queries are counted: a reopen waits for the running ones (each is bounded by the
    time limit), closes the old connection, then opens the new file; queries arriving meanwhile wait.
    """

    def __init__(
        self,
        path: Path,
        query_seconds: float = DEFAULTS.query_seconds,
        memory_limit: str = DEFAULTS.memory_limit,
        sql_limits: SqlLimits | None = None,
    ):
        self.path = Path(path)
        self.query_seconds = query_seconds
        self.memory_limit = memory_limit
        self.sql_limits = sql_limits or SqlLimits(seconds=query_seconds)
        self._pool: SqlPool | None = None
        self._lock = threading.Condition(threading.Lock())
        self._connection: duckdb.DuckDBPyConnection | None = None
        self._identity: tuple[int, int, int] | None = None
        self._info: dict[str, str] = {}
        self._running = 0  # cursors open on self._connection

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        """The database COLLAB_DB names, with the configured time and memory limits."""
        return cls(
            database_path(settings), settings.query_seconds, settings.memory_limit, SqlLimits.from_settings(settings)
        )

    def _file_identity(self) -> tuple[int, int, int]:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            raise DataUnavailable(
                f"The collaboration database is missing ({self.path.name}). Run `collab build` to create it."
            ) from None
        return (stat.st_ino, stat.st_mtime_ns, stat.st_size)

    def _current(self) -> duckdb.DuckDBPyConnection:
        """The open connection (hold self._lock), reopened if the file on disk was replaced since."""
        identity = self._file_identity()
        if self._connection is not None and identity == self._identity:
            return self._connection
        if self._connection is not None:
            self._lock.wait_for(lambda: self._running == 0, timeout=self.query_seconds + 2)
            self._close()
        try:
            connection = duckdb.connect(str(self.path), read_only=True, config=sandbox_config(self.memory_limit))
            info = dict(connection.execute("SELECT key, value FROM build_info").fetchall())
        except duckdb.Error as error:
            raise DataUnavailable(
                f"The collaboration database can't be read ({type(error).__name__}). Run `collab build` to rebuild it."
            ) from None
        self._connection, self._identity, self._info = connection, identity, info
        return connection

    def _close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except duckdb.Error:  # still busy after the wait: let it go with its last query
                pass
            self._connection, self._identity, self._info = None, None, {}

    @property
    def data_version(self) -> str:
        with self._lock:
            self._current()
            return self._info.get("data_version", "")

    def query(self, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
        """Run one validated statement on its own cursor, interrupted after the time limit."""
        with self._lock:
            cursor = self._current().cursor()
            self._running += 1
        timer = threading.Timer(self.query_seconds, cursor.interrupt)
        timer.start()
        try:
            return cursor.execute(sql, params or {}).df()
        except duckdb.InterruptException:
            raise QueryFailed(
                f"That query ran longer than {self.query_seconds:g} s and was stopped. "
                "Narrow it (fewer years, a field, a LIMIT) and try again."
            ) from None
        except duckdb.OutOfMemoryException:
            raise QueryFailed("That query needed more memory than allowed. Narrow it and try again.") from None
        except duckdb.Error as error:
            message = str(error).splitlines()[0][:300]
            raise QueryFailed(f"The query failed: {message}") from None
        finally:
            timer.cancel()
            cursor.close()
            with self._lock:
                self._running -= 1
                self._lock.notify_all()

    @property
    def sql_pool(self) -> SqlPool:
        """The isolated workers for typed SQL, started on first use (or by the server's warm-up)."""
        with self._lock:
            if self._pool is None:
                self._pool = SqlPool(self.path, self.sql_limits, published_columns())
            return self._pool

    def query_typed(self, sql: str, row_cap: int) -> pd.DataFrame:
        """Run one validated statement a person typed, in an isolated worker, keeping row_cap + 1 rows."""
        return self.sql_pool.run(sql, row_cap)

    def close(self) -> None:
        with self._lock:
            self._close()
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()
