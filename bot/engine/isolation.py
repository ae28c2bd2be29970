"""Typed SQL runs here: in a small pool of warm worker processes, never in the serving process.

DuckDB caps the memory of its own operators, but scalar functions and Python-side work allocate
outside that cap, and some of them cannot be interrupted. So each statement typed after `sql`
runs in a worker process that has an OS address-space limit (RLIMIT_AS) and is killed when it
runs past a wall-clock limit. A killed or exhausted worker costs the person a friendly refusal and
the pool a replacement; the serving process and everyone else's answers carry on.

A worker opens an in-memory DuckDB, attaches the database file read-only under a hidden name, and
creates one view per published table holding only its published columns. Unqualified names then
resolve to those views and nothing else of the file (the validator refuses qualified names), and
then external access is switched off and the configuration locked.

The worker is `python -m bot.engine.isolation`; requests and answers are length-prefixed frames
on its stdin and stdout. Rows come back as a pickle of plain values that the parent reads with an
unpickler allowing only value types (dates, decimals, UUIDs), so even a subverted worker could not
make the parent run code.
"""

from __future__ import annotations

import io
import json
import logging
import os
import pickle
import secrets
import select
import struct
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.errors import DataUnavailable, QueryFailed

if TYPE_CHECKING:
    import pandas as pd

    from bot.config import Settings

log = logging.getLogger("collab.sql")
_FRAME = struct.Struct(">Q")
_NARROW = "Narrow it (fewer years, a field, a LIMIT) and try again."
NEEDED_MORE_MEMORY = f"That query needed more memory than allowed and was stopped. {_NARROW}"
NEEDED_MORE_TIME = f"That query needed more time than allowed and was stopped. {_NARROW}"


@dataclass(frozen=True)
class SqlLimits:
    """What one typed statement may use."""

    workers: int = 2  # warm worker processes
    seconds: float = 5.0  # DuckDB interrupts the statement
    kill_seconds: float = 8.0  # the worker is killed (an uninterruptible function, a stuck worker)
    address_space_mb: int = 1280  # RLIMIT_AS of a worker: all it can ever map, DuckDB and Python included
    # DuckDB's own cap inside a worker, below the address-space limit; at 256MB, four bombs at once on a
    # two-worker server (two SQL workers each) took the process tree past 1.5 GB
    memory_limit: str = "128MB"
    result_mb: int = 16  # the largest result a worker hands back

    @classmethod
    def from_settings(cls, settings: Settings) -> SqlLimits:
        return cls(
            workers=settings.sql_workers,
            seconds=settings.query_seconds,
            kill_seconds=settings.sql_kill_seconds,
            address_space_mb=settings.sql_address_space_mb,
            memory_limit=settings.sql_memory_limit,
            result_mb=settings.sql_result_mb,
        )


class _WorkerLost(Exception):
    """The worker died, was killed or broke the protocol; it is not reused."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # "time" or "memory"


class _Worker:
    def __init__(self, path: Path, limits: SqlLimits, columns: dict[str, tuple[str, ...]]):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.engine.isolation"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            close_fds=True,
        )
        try:
            self._send({"path": str(path), "limits": asdict(limits), "columns": columns})
        except _WorkerLost:
            self.kill()
            raise

    def _send(self, message: dict[str, Any]) -> None:
        payload = json.dumps(message).encode()
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(_FRAME.pack(len(payload)) + payload)
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            raise _WorkerLost("memory") from None

    def _read(self, size: int, deadline: float) -> bytes:
        assert self.process.stdout is not None
        fd, chunks, left = self.process.stdout.fileno(), [], size
        while left:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise _WorkerLost("time")
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:  # the worker exited: the address-space limit, or DuckDB aborting
                raise _WorkerLost("memory")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def _frame(self, deadline: float, largest: int) -> bytes:
        (size,) = _FRAME.unpack(self._read(_FRAME.size, deadline))
        if size > largest:
            raise _WorkerLost("memory")
        return self._read(size, deadline)

    def ask(self, sql: str, row_cap: int, limits: SqlLimits) -> tuple[dict[str, Any], bytes]:
        deadline = time.monotonic() + limits.kill_seconds
        self._send({"sql": sql, "row_cap": row_cap})
        try:
            header = json.loads(self._frame(deadline, 1 << 20))
            if not isinstance(header, dict) or "status" not in header:
                raise ValueError("no status")
        except ValueError:  # not a frame this module writes: the worker is not trusted again
            raise _WorkerLost("memory") from None
        rows = self._frame(deadline, limits.result_mb << 20) if header["status"] == "ok" else b""
        return header, rows

    def wait_ready(self, deadline: float) -> None:
        try:
            ready = json.loads(self._frame(deadline, 1 << 20)) == {"status": "ready"}
        except ValueError:
            ready = False
        if not ready:
            raise _WorkerLost("memory")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass


class SqlPool:
    """A few warm workers for typed SQL; a worker that dies or is killed is replaced in the background."""

    def __init__(self, path: Path, limits: SqlLimits, columns: dict[str, tuple[str, ...]]):
        self.path = Path(path)
        self.limits = limits
        self.columns = columns
        self._lock = threading.Condition()
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self._starting = 0  # workers being spawned
        self._closed = False
        self.replaced = 0  # workers replaced since start: visible to tests and logs

    def start(self) -> None:
        """Spawn the warm workers in the background (a server does this at start-up)."""
        with self._lock:
            missing = self.limits.workers - len(self._all) - self._starting
        for _ in range(max(missing, 0)):
            self._spawn_in_background()

    def _spawn_in_background(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._starting += 1
        threading.Thread(target=self._spawn, name="collab-sql-spawn", daemon=True).start()

    def _spawn(self) -> None:
        worker = None
        try:
            worker = _Worker(self.path, self.limits, self.columns)
            worker.wait_ready(time.monotonic() + 30)
        except (OSError, _WorkerLost):
            if worker is not None:
                worker.kill()
            log.warning("a SQL worker did not start; trying again in a second")
            time.sleep(1)  # a worker that can't start now (out of memory, say) is tried again
            with self._lock:
                self._starting -= 1
            self._spawn_in_background()
            return
        with self._lock:
            self._starting -= 1
            if self._closed:
                worker.kill()
                return
            self._all.add(worker)
            self._idle.append(worker)
            self._lock.notify()

    def _acquire(self) -> _Worker:
        with self._lock:
            # Grow on demand up to the pool's size: a one-off `collab ask` starts one worker, not all.
            grow = not self._idle and len(self._all) + self._starting < self.limits.workers
        if grow:
            self._spawn_in_background()
        with self._lock:
            if not self._lock.wait_for(lambda: self._idle or self._closed, timeout=self.limits.kill_seconds * 2 + 5):
                raise QueryFailed("Every SQL worker is busy right now. Try again in a few seconds.")
            if self._closed:
                raise QueryFailed("The SQL workers are shutting down. Try again in a moment.")
            return self._idle.pop()

    def _retire(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            self._all.discard(worker)
            self.replaced += 1
            closed = self._closed
        if not closed:
            self._spawn_in_background()

    def run(self, sql: str, row_cap: int) -> pd.DataFrame:
        """Run one validated statement in a worker; rows as a DataFrame, or a friendly QueryFailed."""
        worker = self._acquire()
        try:
            header, payload = worker.ask(sql, row_cap, self.limits)
        except _WorkerLost as lost:
            self._retire(worker)
            raise QueryFailed(NEEDED_MORE_TIME if lost.reason == "time" else NEEDED_MORE_MEMORY) from None
        if header["status"] == "memory":  # DuckDB refused an allocation: start the next query afresh
            self._retire(worker)
        else:
            with self._lock:
                self._idle.append(worker)
                self._lock.notify()
        if header["status"] == "ok":
            return _to_frame(header["columns"], _loads(payload))
        if header["status"] == "unavailable":
            raise DataUnavailable(header["message"])
        if header["status"] == "time":
            raise QueryFailed(NEEDED_MORE_TIME)
        if header["status"] == "memory":
            raise QueryFailed(NEEDED_MORE_MEMORY)
        raise QueryFailed(str(header.get("message") or "The query failed."))

    def pids(self) -> list[int]:
        with self._lock:
            return [worker.process.pid for worker in self._all]

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers, self._all, self._idle = list(self._all), set(), []
            self._lock.notify_all()
        for worker in workers:
            worker.kill()


def _to_frame(columns: list[str], rows: list[tuple[Any, ...]]) -> pd.DataFrame:
    import pandas as pd

    columns = _unique_names(columns)
    return pd.DataFrame.from_records(rows, columns=columns) if rows else pd.DataFrame(columns=columns)


def _unique_names(columns: list[str]) -> list[str]:
    """Column names made unique as DuckDB's own frames make them (`1`, `1_1`, `1_2`): a frame with a
    name twice answers `frame[name]` with every column of that name, which a table of N such columns
    turns into N² (and a short typed query into minutes and gigabytes)."""
    taken: set[str] = set()
    named = []
    for column in columns:
        name, n = column, 0
        while name in taken:
            n += 1
            name = f"{column}_{n}"
        taken.add(name)
        named.append(name)
    return named


class _ValuesOnly(pickle.Unpickler):
    """Unpickles rows of plain values; any other class is refused, so a pickle can't run code."""

    ALLOWED = {
        ("datetime", "date"),
        ("datetime", "datetime"),
        ("datetime", "time"),
        ("datetime", "timedelta"),
        ("datetime", "timezone"),
        ("decimal", "Decimal"),
        ("uuid", "UUID"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"{module}.{name} is not a value type")
        return super().find_class(module, name)


def _fixed_offset(value: Any) -> Any:
    """A time-zone-aware value with its zone as a fixed offset: a ZoneInfo pickles through getattr,
    which _ValuesOnly rightly refuses; the instant and its offset are the same."""
    import datetime

    if isinstance(value, (datetime.datetime, datetime.time)) and value.tzinfo is not None:
        offset = value.utcoffset()
        return value.replace(tzinfo=datetime.timezone(offset)) if offset is not None else value
    return value


def _loads(payload: bytes) -> list[tuple[Any, ...]]:
    try:
        return _ValuesOnly(io.BytesIO(payload)).load()
    except (pickle.UnpicklingError, EOFError, ValueError) as error:
        raise QueryFailed(f"The query's result can't be shown here ({error}).") from None


# ---------------------------------------------------------------- the worker process


def _worker_main() -> None:
    try:
        _serve_requests()
    except KeyboardInterrupt:  # the server's Ctrl-C reaches its whole process group
        raise SystemExit(0) from None
    except Exception as error:  # one line on stderr (the server's log), never a traceback
        record = {"level": "ERROR", "logger": "collab.sql_worker", "message": f"{type(error).__name__}: {error}"}
        sys.stderr.write(json.dumps(record)[:2000] + "\n")
        raise SystemExit(1) from None


def _serve_requests() -> None:
    import resource

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but frames may reach the parent

    def read_message() -> dict[str, Any] | None:
        head = stdin.read(_FRAME.size)
        if len(head) < _FRAME.size:
            return None
        (size,) = _FRAME.unpack(head)
        return json.loads(stdin.read(size))

    def write(header: dict[str, Any], payload: bytes | None = None) -> None:
        data = json.dumps(header).encode()
        stdout.write(_FRAME.pack(len(data)) + data)
        if payload is not None:
            stdout.write(_FRAME.pack(len(payload)) + payload)
        stdout.flush()

    setup = read_message()
    if setup is None:
        return
    limits = SqlLimits(**setup["limits"])
    space = limits.address_space_mb << 20
    resource.setrlimit(resource.RLIMIT_AS, (space, space))
    import duckdb

    source = _Source(Path(setup["path"]), limits, setup["columns"], duckdb)
    source.open_quietly()  # so the first query does not wait for the file to be attached
    write({"status": "ready"})
    while (request := read_message()) is not None:
        try:
            header, payload = source.run(request["sql"], int(request["row_cap"]))
        except MemoryError:
            header, payload = {"status": "memory"}, None
        write(header, payload)


class _Source:
    """The worker's in-memory DuckDB over the attached file, reopened when the file is replaced."""

    def __init__(self, path: Path, limits: SqlLimits, columns: dict[str, list[str]], duckdb: Any):
        self.path, self.limits, self.columns, self.duckdb = path, limits, columns, duckdb
        self.connection: Any = None
        self.identity: tuple[int, int, int] | None = None

    def _open(self) -> Any:
        stat = self.path.stat()  # FileNotFoundError: the caller says so
        identity = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if self.connection is not None and identity == self.identity:
            return self.connection
        if self.connection is not None:
            self.connection.close()
            self.connection = None
        config = {
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "allow_community_extensions": False,
            "allow_persistent_secrets": False,
            "memory_limit": self.limits.memory_limit,
            "threads": 1,
        }
        connection = self.duckdb.connect(":memory:", config=config)
        # Validated SQL can't qualify a name at all; a random name keeps the file out of reach of
        # guesses even for a statement that got past the validator.
        source = f"file_{secrets.token_hex(8)}"
        connection.execute(f"ATTACH $path AS {source} (READ_ONLY)", {"path": str(self.path)})
        present = {
            name
            for (name,) in connection.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = $db "
                "UNION SELECT view_name FROM duckdb_views() WHERE database_name = $db",
                {"db": source},
            ).fetchall()
        }
        for table, names in self.columns.items():
            if table in present:
                selected = ", ".join(f'"{name}"' for name in names)
                connection.execute(f'CREATE VIEW "{table}" AS SELECT {selected} FROM {source}.main."{table}"')
        connection.execute("SET enable_external_access = false")
        connection.execute("SET lock_configuration = true")
        self.connection, self.identity = connection, identity
        return connection

    def open_quietly(self) -> None:
        try:
            self._open()
        except (OSError, self.duckdb.Error):  # missing or unreadable: the first query says so
            self.connection = None

    def run(self, sql: str, row_cap: int) -> tuple[dict[str, Any], bytes | None]:
        duckdb = self.duckdb
        try:
            connection = self._open()
        except (FileNotFoundError, duckdb.Error) as error:
            self.connection = None
            return {
                "status": "unavailable",
                "message": f"The collaboration database can't be read ({type(error).__name__}). Run `collab build`.",
            }, None
        timer = threading.Timer(self.limits.seconds, connection.interrupt)
        timer.start()
        try:
            cursor = connection.execute(sql)
            rows = cursor.fetchmany(row_cap + 1)
            columns = [column[0] for column in cursor.description]
        except duckdb.InterruptException:
            return {"status": "time"}, None
        except duckdb.OutOfMemoryException:
            return {"status": "memory"}, None
        except duckdb.Error as error:
            return {"status": "failed", "message": "The query failed: " + str(error).splitlines()[0][:300]}, None
        finally:
            timer.cancel()
        if any("TIME ZONE" in str(column[1]) for column in cursor.description):
            rows = [tuple(_fixed_offset(value) for value in row) for row in rows]
        payload = pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL)
        if len(payload) > self.limits.result_mb << 20:
            return {
                "status": "failed",
                "message": f"The result is larger than {self.limits.result_mb} MB. Select fewer columns or rows.",
            }, None
        return {"status": "ok", "columns": columns}, payload


if __name__ == "__main__":
    _worker_main()
