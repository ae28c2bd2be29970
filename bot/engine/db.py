"""The sandboxed, read-only database every query runs on.

Shipped, reviewed queries run in this process: DuckDB opens the file read-only with external
access off and its configuration locked, under a memory cap, and a watchdog interrupts any query
that runs past the time limit. SQL a person typed runs in an isolated worker process instead
(`query_typed`, see bot/engine/isolation.py), which sees only the published views.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from bot.config import Settings
from bot.engine.catalog import published_columns
from bot.engine.isolation import SqlLimits, SqlPool
from bot.engine.validate import ValidatedSQL
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
        # Only reviewed statements run on this configuration (typed SQL runs in isolation.py's workers):
        # planning is most of their cost, and these passes are a tenth of it with nothing to gain on
        # tables of a few thousand rows (bench/bench_engine.py; the same rows with and without them).
        "disabled_optimizers": "statistics_propagation,common_subplan,projection_pullup,expression_rewriter",
        "threads": 1,  # shipped answers read a few thousand rows: a second thread costs more than it does
        "lock_configuration": True,
    }


class Watchdog:
    """Interrupts each watched cursor still running at its deadline: one thread for every query of a
    process (a timer thread per query cost more to start than a shipped answer costs to run)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._deadlines: dict[int, tuple[float, duckdb.DuckDBPyConnection]] = {}
        self._next = 0
        self._thread: threading.Thread | None = None
        self._wake_at = 0.0  # when the watchdog thread wakes next, unless notified

    def watch(self, cursor: duckdb.DuckDBPyConnection, seconds: float) -> int:
        with self._changed:
            self._next += 1
            deadline = time.monotonic() + seconds
            self._deadlines[self._next] = (deadline, cursor)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="query-watchdog", daemon=True)
                self._thread.start()
            elif deadline < self._wake_at:  # else it wakes in time anyway: no thread switch per query
                self._changed.notify()
            return self._next

    def release(self, ticket: int) -> bool:
        """Stop watching; False if the deadline had already passed (the cursor was interrupted)."""
        with self._changed:
            return self._deadlines.pop(ticket, None) is not None

    def _run(self) -> None:
        with self._changed:
            while True:
                now = time.monotonic()
                for ticket, (deadline, cursor) in list(self._deadlines.items()):
                    if deadline <= now:
                        del self._deadlines[ticket]
                        cursor.interrupt()
                self._wake_at = min((deadline for deadline, _ in self._deadlines.values()), default=now + 60)
                self._changed.wait(timeout=max(self._wake_at - now, 0.001))


WATCHDOG = Watchdog()


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
        self._idle: list[duckdb.DuckDBPyConnection] = []  # its cursors between queries: one costs ~0.4 ms to open

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
            idle, self._idle = self._idle, []
            try:
                for cursor in idle:
                    cursor.close()
                self._connection.close()
            except duckdb.Error:  # still busy after the wait: let it go with its last query
                pass
            self._connection, self._identity, self._info = None, None, {}

    @property
    def data_version(self) -> str:
        with self._lock:
            self._current()
            return self._info.get("data_version", "")

    def query(self, sql: str | ValidatedSQL, params: dict[str, Any] | None = None) -> pd.DataFrame:
        """Run one statement on a cursor of its own, interrupted after the time limit.

        A validated SELECT leaves nothing behind on its cursor (no TEMP object, variable or setting),
        so after it succeeds its cursor is kept for the next one; any other statement, and one that
        failed, gets a fresh cursor that is closed after it."""
        validated = isinstance(sql, ValidatedSQL)
        text = sql.sql if isinstance(sql, ValidatedSQL) else sql
        with self._lock:
            connection = self._current()
            cursor = self._idle.pop() if validated and self._idle else connection.cursor()
            self._running += 1
        ticket = WATCHDOG.watch(cursor, self.query_seconds)
        succeeded = False
        try:
            columns = cursor.execute(text, params or {}).fetchnumpy()
            succeeded = True
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
            # A cursor interrupted just as its statement ended is not kept: the interrupt must not reach the next.
            in_time = WATCHDOG.release(ticket)
            with self._lock:
                if validated and succeeded and in_time and connection is self._connection:
                    self._idle.append(cursor)
                else:
                    cursor.close()
                self._running -= 1
                self._lock.notify_all()
        return _frame(columns)

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


def _frame(columns: dict[str, Any]) -> pd.DataFrame:
    """DuckDB's numpy columns as the frame its .df() gives (NULL integers and booleans as pandas'
    nullable types, NULL floats as NaN), 0.3 ms sooner on an answer's few rows."""
    import numpy as np
    import pandas as pd

    def column(values: Any) -> Any:
        mask = np.ma.getmaskarray(values)
        data = np.ma.getdata(values)
        if not mask.any():
            return data
        kind = data.dtype.kind
        if kind in "iu":
            return pd.arrays.IntegerArray(data, mask)
        if kind == "b":
            return pd.arrays.BooleanArray(data, mask)
        filled = data.copy()
        filled[mask] = {"f": np.nan, "M": np.datetime64("NaT"), "m": np.timedelta64("NaT")}.get(kind, None)
        return filled

    return pd.DataFrame({name: column(values) for name, values in columns.items()}, copy=False)
