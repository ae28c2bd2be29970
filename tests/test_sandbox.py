"""The sandbox holds even if the validator were bypassed: Database.query() runs text as given.

Each test works on its own copy of the built database, so a sandbox failure cannot damage the
session database, and hashes the file before and after.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path

import pytest

from bot.engine.db import Database
from bot.errors import QueryFailed, UserError

REAL_CSV = Path(__file__).resolve().parents[1] / "data" / "eto" / "cross-border" / "Artificial intelligence.csv"


def _hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def sandbox(db_path, tmp_path):
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(db_path, copy)
    database = Database(copy, query_seconds=5)
    database.query("SELECT 1")  # open it
    before = _hash(copy)

    def unchanged() -> None:
        assert _hash(copy) == before, "the database file changed"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.duckdb"], "something was written beside it"

    yield database, tmp_path, unchanged
    database.close()
    unchanged()


def _statements(tmp: Path) -> list[str]:
    return [
        f"SELECT * FROM read_csv('{REAL_CSV}')",
        f"SELECT * FROM read_csv_auto('{REAL_CSV}')",
        f"SELECT * FROM '{REAL_CSV}'",
        f"SELECT * FROM read_text('{REAL_CSV}')",
        f"SELECT * FROM read_blob('{REAL_CSV}')",
        f"SELECT * FROM glob('{REAL_CSV.parent}/*')",
        f"SELECT * FROM sniff_csv('{REAL_CSV}')",
        f"COPY pairs TO '{tmp / 'out.csv'}'",
        f"COPY (SELECT 1) TO '{tmp / 'out.parquet'}' (FORMAT parquet)",
        f"EXPORT DATABASE '{tmp / 'export'}'",
        f"ATTACH '{tmp / 'other.duckdb'}' AS other",
        "ATTACH ':memory:' AS m",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET memory_limit = '64GB'",
        "SET enable_external_access = true",
        "SET lock_configuration = false",
        "SET threads = 64",
        "RESET memory_limit",
        "PRAGMA enable_profiling",
        "CREATE TABLE t AS SELECT 1 AS x",
        "CREATE VIEW v AS SELECT 1 AS x",
        "CREATE MACRO m() AS 1",
        "INSERT INTO pairs SELECT * FROM pairs LIMIT 1",
        "UPDATE pairs SET joint_articles = 0",
        "DELETE FROM pairs",
        "DROP TABLE pairs",
        "ALTER TABLE pairs RENAME TO p",
        "SELECT * FROM read_csv('https://example.com/x.csv')",
        "SELECT * FROM 'https://example.com/x.parquet'",
    ]


STATEMENT_IDS = [s.replace(str(REAL_CSV.parent), "DATA").replace("/tmp", "TMP")[:50] for s in _statements(Path("/tmp"))]


@pytest.mark.parametrize("index", range(len(STATEMENT_IDS)), ids=STATEMENT_IDS)
def test_forbidden_statement_fails_inside_the_sandbox(sandbox, index):
    database, tmp, unchanged = sandbox
    sql = _statements(tmp)[index]
    with pytest.raises(QueryFailed) as raised:
        database.query(sql)
    assert raised.value.message.startswith("The query failed")
    assert isinstance(raised.value, UserError)
    # nothing the statement named exists afterwards
    for name in ("out.csv", "out.parquet", "export", "other.duckdb"):
        assert not (tmp / name).exists()
    # and the connection still answers, from an unchanged file
    assert int(database.query("SELECT count(*) AS n FROM pairs")["n"].iloc[0]) == 10_829
    unchanged()


def test_configuration_is_unchanged_after_attempts(sandbox):
    database, _, _ = sandbox
    for sql in ("SET memory_limit = '64GB'", "SET enable_external_access = true"):
        with pytest.raises(QueryFailed):
            database.query(sql)
    settings = dict(
        database.query(
            "SELECT name, value FROM duckdb_settings() WHERE name IN ('enable_external_access', 'lock_configuration', "
            "'access_mode')"
        ).itertuples(index=False, name=None)
    )
    assert settings == {"enable_external_access": "false", "lock_configuration": "true", "access_mode": "read_only"}


def test_temporary_objects_do_not_outlive_their_query(sandbox):
    # A TEMP table lives in memory, not in the file; each query runs on its own cursor, so it is gone after.
    database, _, unchanged = sandbox
    try:
        database.query("CREATE TEMP TABLE leak AS SELECT 1 AS x")
    except QueryFailed:
        pass
    with pytest.raises(QueryFailed):
        database.query("SELECT * FROM leak")
    unchanged()


@pytest.mark.slow
def test_runaway_query_is_interrupted_and_the_database_still_works(db_path):
    database = Database(db_path, query_seconds=0.5)
    started = time.monotonic()
    with pytest.raises(QueryFailed) as raised:
        database.query("SELECT count(*) FROM range(1000000000) a, range(1000000000) b WHERE a.range + b.range = -1")
    elapsed = time.monotonic() - started
    assert elapsed < 5, elapsed
    assert "0.5 s" in raised.value.message and "stopped" in raised.value.message
    assert int(database.query("SELECT count(*) AS n FROM pairs")["n"].iloc[0]) > 10_000
    database.close()


@pytest.mark.slow
def test_reviewed_queries_still_answer_after_one_was_interrupted(db_path):
    # Validated SELECTs keep their cursor for the next one; an interrupted one is closed, not kept.
    from bot.engine.validate import ValidatedSQL

    database = Database(db_path, query_seconds=0.5)
    quick = ValidatedSQL(sql="SELECT count(*) AS n FROM pairs", params=(), row_cap=1)
    runaway = ValidatedSQL(
        sql="SELECT count(*) AS n FROM range(1000000000) a, range(1000000000) b WHERE a.range + b.range = -1",
        params=(),
        row_cap=1,
    )
    assert int(database.query(quick)["n"].iloc[0]) > 10_000
    with pytest.raises(QueryFailed, match="0.5 s"):
        database.query(runaway)
    for _ in range(3):
        assert int(database.query(quick)["n"].iloc[0]) > 10_000
    database.close()


@pytest.mark.slow
def test_runaway_recursive_cte_is_interrupted(db_path):
    database = Database(db_path, query_seconds=0.5)
    started = time.monotonic()
    with pytest.raises(QueryFailed):
        database.query("WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) SELECT max(n) FROM t")
    assert time.monotonic() - started < 5
    assert len(database.query("SELECT * FROM countries LIMIT 3")) == 3
    database.close()


@pytest.mark.slow
def test_memory_cap_stops_a_huge_aggregate(db_path):
    database = Database(db_path, query_seconds=5)
    started = time.monotonic()
    with pytest.raises(QueryFailed):
        database.query("SELECT list(range) FROM range(2000000000)")
    assert time.monotonic() - started < 10
    database.close()


def test_missing_database_is_a_friendly_error(tmp_path):
    from bot.errors import DataUnavailable

    with pytest.raises(DataUnavailable) as raised:
        Database(tmp_path / "nothing.duckdb").query("SELECT 1")
    assert "collab build" in raised.value.message


def test_database_reopens_after_the_file_is_replaced(db_path, tmp_path):
    copy = tmp_path / "c.duckdb"
    shutil.copyfile(db_path, copy)
    database = Database(copy)
    first = database.query("SELECT count(*) AS n FROM pairs")["n"].iloc[0]
    replacement = tmp_path / "r.duckdb"
    shutil.copyfile(db_path, replacement)
    replacement.replace(copy)
    assert database.query("SELECT count(*) AS n FROM pairs")["n"].iloc[0] == first
    database.close()
