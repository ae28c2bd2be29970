"""The sandboxed, read-only connection every query runs on.

Even a statement that slipped past the validator could not read files, load extensions, change
settings or write: DuckDB opens the file read-only with external access off and its configuration
locked, under a memory cap, and a watchdog interrupts any query that runs past the time limit.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from bot.errors import DataUnavailable, QueryFailed
from bot.paths import database_path

if TYPE_CHECKING:
    import pandas as pd

QUERY_SECONDS = float(os.environ.get("COLLAB_QUERY_SECONDS", "5"))
MEMORY_LIMIT = os.environ.get("COLLAB_MEMORY_LIMIT", "1GB")


def sandbox_config() -> dict[str, Any]:
    return {
        "access_mode": "READ_ONLY",
        "enable_external_access": False,
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "memory_limit": MEMORY_LIMIT,
        "threads": 2,
        "lock_configuration": True,
    }


class Database:
    """One read-only DuckDB database, reopened when a rebuild or ingest replaces the file."""

    def __init__(self, path: Path | None = None, query_seconds: float = QUERY_SECONDS):
        self.path = Path(path or database_path())
        self.query_seconds = query_seconds
        self._lock = threading.Lock()
        self._connection: duckdb.DuckDBPyConnection | None = None
        self._identity: tuple[int, int, int] | None = None
        self._info: dict[str, str] = {}

    def _file_identity(self) -> tuple[int, int, int]:
        stat = self.path.stat()
        return (stat.st_ino, stat.st_mtime_ns, stat.st_size)

    def _current(self) -> duckdb.DuckDBPyConnection:
        """The open connection, reopened if the file on disk was replaced since."""
        try:
            identity = self._file_identity()
        except FileNotFoundError:
            raise DataUnavailable(
                f"The collaboration database is missing ({self.path.name}). Run `collab build` to create it."
            ) from None
        with self._lock:
            if self._connection is None or identity != self._identity:
                try:
                    connection = duckdb.connect(str(self.path), read_only=True, config=sandbox_config())
                    info = dict(connection.execute("SELECT key, value FROM build_info").fetchall())
                except duckdb.Error as error:
                    raise DataUnavailable(
                        f"The collaboration database can't be read ({type(error).__name__}). "
                        "Run `collab build` to rebuild it."
                    ) from None
                if self._connection is not None:
                    self._connection.close()
                self._connection, self._identity, self._info = connection, identity, info
            return self._connection

    @property
    def data_version(self) -> str:
        self._current()
        return self._info.get("data_version", "")

    def query(self, sql: str, params: dict[str, Any] | None = None) -> "pd.DataFrame":
        """Run one validated statement on its own cursor, interrupted after the time limit."""
        cursor = self._current().cursor()
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

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
