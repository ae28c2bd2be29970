"""`collab build`: the built tables against the CSVs, failures that name the problem, atomic replacement."""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
import time
from pathlib import Path

import duckdb
import pytest
from conftest import ACTIVITY_DIR, DATA, ETO_DIR

import bot.data.build
import bot.paths
from bot.data.build import BuildError, build, ensure_built, is_stale


def _rows(db, sql: str) -> list[tuple]:
    return list(db.query(sql).itertuples(index=False, name=None))


def _one(db, sql: str):
    return db.query(sql).iloc[0, 0]


# ---------------------------------------------------------------- what the build holds


def test_one_row_per_unordered_pair_year(db, eto):
    assert _one(db, "SELECT count(*) FROM pairs") == len(eto.pairs) == 10_829
    assert _one(db, "SELECT count(*) FROM pairs WHERE country_a >= country_b") == 0
    assert (
        _one(
            db,
            """SELECT count(*) FROM (SELECT least(country_a, country_b), greatest(country_a, country_b), field, year
                       FROM pairs GROUP BY ALL HAVING count(*) > 1)""",
        )
        == 0
    )
    assert eto.raw_rows == 21_118  # so the build really did fold two orientations into one


def test_pair_values_equal_the_files(db, eto):
    built = {
        (f, a, b, y): (n, c)
        for a, b, f, y, n, c in _rows(
            db, "SELECT country_a, country_b, field, year, joint_articles, complete FROM pairs"
        )
    }
    expected = {}
    for (f, a, b, y), value in eto.pairs.items():
        ca, cb = sorted((eto.cb_code[a], eto.cb_code[b]))
        expected[(f, ca, cb, y)] = value
    assert built == expected


def test_per_field_totals(db, eto):
    built = dict(_rows(db, "SELECT field, sum(joint_articles) FROM pairs GROUP BY field"))
    expected: dict[str, int] = {}
    for (f, _, _, _), (n, _) in eto.pairs.items():
        expected[f] = expected.get(f, 0) + n
    assert built == expected
    assert set(built) == {"ai", "cv", "nlp", "robotics", "llm", "ai_safety", "chips", "cyber"}


def test_partner_links_lists_both_orientations(db):
    assert _one(db, "SELECT count(*) FROM partner_links") == 2 * _one(db, "SELECT count(*) FROM pairs")


def test_datasets_table(db):
    rows = db.query("SELECT * FROM datasets ORDER BY name").to_dict("records")
    assert [r["name"] for r in rows] == ["eto_country_activity", "eto_cross_border"]
    for row in rows:
        assert row["source"] == "eto"
        assert row["release"] and row["citation"] and row["url"]
        assert "CC BY-NC 4.0" in row["licence"]
        assert list(row["incomplete_years"]) == [2024, 2025]
        assert (row["first_year"], row["last_year"]) == (2015, 2025)
        assert row["row_count"] > 0
    by_name = {r["name"]: r for r in rows}
    assert by_name["eto_cross_border"]["row_count"] == 10_829
    assert "2026-04-13" in by_name["eto_cross_border"]["release"]
    assert "April 2026" in by_name["eto_country_activity"]["release"]
    tables = ("country_articles", "country_citations", "country_patents", "country_investment", "group_metrics")
    total = sum(_one(db, f"SELECT count(*) FROM {t}") for t in tables)
    assert by_name["eto_country_activity"]["row_count"] == total


def test_build_info(db):
    info = dict(_rows(db, "SELECT key, value FROM build_info"))
    assert info["schema_version"] == bot.data.build.SCHEMA_VERSION
    assert len(info["data_version"]) == 12
    assert db.data_version == info["data_version"]


def test_groups_are_kept_apart_from_countries(db, eto):
    groups = {r[0] for r in _rows(db, "SELECT DISTINCT group_code FROM group_metrics")}
    assert {"eu", "nato", "africa", "asean", "oecd", "quad", "five_eyes", "gpai", "congo_ambiguous"} <= groups
    in_articles = {r[0] for r in _rows(db, "SELECT DISTINCT country FROM country_articles")}
    assert in_articles <= {r[0] for r in _rows(db, "SELECT code FROM countries")}
    assert not in_articles & groups
    for table in ("country_articles", "country_citations", "country_patents", "country_investment"):
        assert _one(db, f"SELECT count(*) FROM {table} WHERE country NOT IN (SELECT code FROM countries)") == 0
    # every country row of the articles file is there, and every group row (ETO's "Congo" is two
    # countries under one name, so it has two rows for some field-years: both are kept) is apart
    with open(ACTIVITY_DIR / "publications_yearly_articles.csv", newline="", encoding="utf-8") as f:
        names = [row["country"] for row in csv.DictReader(f)]
    assert _one(db, "SELECT count(*) FROM country_articles") == sum(n in eto.activity_code for n in names)
    assert _one(db, "SELECT count(*) FROM group_metrics WHERE metric = 'articles'") == sum(
        n not in eto.activity_code for n in names
    )
    assert _one(
        db, "SELECT count(*) FROM group_metrics WHERE group_code = 'congo_ambiguous' AND metric = 'articles'"
    ) == names.count("Congo")
    eu = sum(n for (name, f, _), (n, _) in eto.articles.items() if name == "EU" and f == "ai")
    assert (
        _one(
            db,
            "SELECT sum(value) FROM group_metrics WHERE group_code = 'eu' AND metric = 'articles' AND category = 'ai'",
        )
        == eu
    )


def test_country_names_differ_between_files_but_join(db, eto):
    # "China (mainland)" and "Brunei Darussalam" in the activity files are the same countries as the pair files'
    for code in ("CHN", "BRN"):
        assert _one(db, f"SELECT count(*) FROM country_articles WHERE country = '{code}'") > 0
        assert _one(db, f"SELECT count(*) FROM pairs WHERE '{code}' IN (country_a, country_b)") > 0


# ---------------------------------------------------------------- failures


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    """A copy of data/eto that the build (and is_stale) read instead of the real one."""
    eto_copy = tmp_path / "data" / "eto"
    shutil.copytree(ETO_DIR, eto_copy)
    for name in ("countries.csv", "groups.csv", "fields.csv"):
        shutil.copy2(DATA / name, tmp_path / "data" / name)
    monkeypatch.setattr(bot.data.build, "ETO_DIR", eto_copy)
    monkeypatch.setattr(bot.paths, "ETO_DIR", eto_copy)
    monkeypatch.setattr(bot.paths, "DATA_DIR", tmp_path / "data")
    return eto_copy


def _newline(path: Path) -> str:
    """The ETO files end their lines with CRLF; edits keep each file's own line ending."""
    return "\r\n" if b"\r\n" in path.read_bytes()[:4096] else "\n"


def _append(path: Path, row: list[str]) -> None:
    newline = _newline(path)
    with open(path, "a", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator=newline).writerow(row)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def existing_db(db_path, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    target = out / "collab.duckdb"
    shutil.copyfile(db_path, target)
    return target


def _leftovers(directory: Path) -> list[str]:
    """Files a build may not leave behind: its temporary database and WAL (a `.lock` file may stay)."""
    return sorted(
        p.name
        for p in directory.iterdir()
        if ".building" in p.name or p.name.endswith(".wal") or p.name.endswith(".tmp")
    )


def _assert_untouched(target: Path, digest: str) -> None:
    assert _sha(target) == digest
    assert _leftovers(target.parent) == [], "temp files left behind"
    assert "collab.duckdb" in [p.name for p in target.parent.iterdir()]


@pytest.mark.slow
def test_unknown_country_in_pair_file_fails_and_names_it(data_copy, existing_db):
    _append(
        data_copy / "cross-border" / "Artificial intelligence.csv",
        ["Atlantis", "Malaysia", "Artificial intelligence", "2020", "30", "True"],
    )
    digest = _sha(existing_db)
    with pytest.raises(BuildError) as raised:
        build(existing_db, log=lambda line: None)
    assert "Atlantis" in str(raised.value)
    _assert_untouched(existing_db, digest)


def test_unknown_country_in_activity_file_fails_late_and_cleans_up(data_copy, existing_db):
    # Fails after the pair tables were written to the temporary file: it must still vanish.
    _append(
        data_copy / "country-activity" / "publications_yearly_articles.csv", ["Atlantis", "All", "2020", "12", "True"]
    )
    digest = _sha(existing_db)
    with pytest.raises(BuildError) as raised:
        build(existing_db, log=lambda line: None)
    assert "Atlantis" in str(raised.value)
    _assert_untouched(existing_db, digest)


def test_unknown_field_fails(data_copy, existing_db):
    _append(data_copy / "cross-border" / "Robotics.csv", ["Malaysia", "China", "Astrology", "2020", "30", "True"])
    with pytest.raises(BuildError) as raised:
        build(existing_db, log=lambda line: None)
    assert "Astrology" in str(raised.value)


@pytest.mark.slow
def test_orientations_that_disagree_fail(data_copy, existing_db):
    # (China, United States) 2019 is listed both ways in the AI file; make one orientation disagree.
    path = data_copy / "cross-border" / "Artificial intelligence.csv"
    newline = _newline(path)
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    hits = [r for r in rows if r[:4] == ["China", "United States", "Artificial intelligence", "2019"]]
    assert len(hits) == 1
    hits[0][4] = str(int(hits[0][4]) + 1)
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator=newline).writerows(rows)
    with pytest.raises(BuildError) as raised:
        build(existing_db, log=lambda line: None)
    assert "disagree" in str(raised.value)


@pytest.mark.slow
def test_one_orientation_only_is_kept(data_copy, tmp_path):
    # Drop every (B, A) row of the AI file: the build must give the same pairs (nothing lost).
    path = data_copy / "cross-border" / "Artificial intelligence.csv"
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    kept = [rows[0]] + [r for r in rows[1:] if r[0] < r[1]]
    newline = _newline(path)
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator=newline).writerows(kept)
    target = build(tmp_path / "one-way.duckdb", log=lambda line: None)
    with duckdb.connect(str(target), read_only=True) as con:
        ai = con.execute("SELECT count(*), sum(joint_articles) FROM pairs WHERE field = 'ai'").fetchone()
    assert ai == (5284, sum(int(r[4]) for r in kept[1:]))


@pytest.mark.slow
def test_a_file_with_other_line_endings_is_not_silently_dropped(data_copy, tmp_path):
    # Bug: the pair files are read by ONE read_csv over all eight files, whose dialect (CRLF) is sniffed
    # from the first file. A file saved with LF endings then reads as a header and no rows, and the
    # build succeeds without Robotics at all. Every row of every file must arrive (or the build fail).
    path = data_copy / "cross-border" / "Robotics.csv"
    path.write_bytes(path.read_bytes().replace(b"\r\n", b"\n"))
    with open(path, newline="", encoding="utf-8") as f:
        raw = len(list(csv.reader(f))) - 1
    try:
        target = build(tmp_path / "lf.duckdb", log=lambda line: None)
    except BuildError:
        return  # failing loudly is acceptable too
    with duckdb.connect(str(target), read_only=True) as con:
        robotics = con.execute("SELECT count(*) FROM pairs WHERE field = 'robotics'").fetchone()[0]
    assert raw == 1560 and robotics == 815


# ---------------------------------------------------------------- staleness


def test_is_stale_for_a_missing_file(tmp_path):
    assert is_stale(tmp_path / "missing.duckdb") is True


def test_is_stale_after_touching_a_data_file(data_copy, db_path, tmp_path):
    target = tmp_path / "fresh.duckdb"
    shutil.copyfile(db_path, target)
    future = time.time() + 60
    os.utime(target, (future, future))
    assert is_stale(target) is False
    touched = data_copy / "cross-border" / "Robotics.csv"
    os.utime(touched, (future + 60, future + 60))
    assert is_stale(target) is True


def test_not_stale_while_the_database_is_open(db_path, tmp_path):
    # Bug: is_stale() opens the file with duckdb's default configuration; when this process already
    # has it open through Database (read-only, sandbox config) duckdb refuses ("different configuration"),
    # the error is taken for staleness, and ensure_built() rebuilds a fresh database under a live reader.
    from bot.engine.db import Database

    target = tmp_path / "open.duckdb"
    shutil.copyfile(db_path, target)
    future = time.time() + 60
    os.utime(target, (future, future))
    assert is_stale(target) is False
    database = Database(target)
    database.query("SELECT 1")
    try:
        assert is_stale(target) is False
    finally:
        database.close()


def test_is_stale_for_a_file_that_is_not_a_database(tmp_path):
    target = tmp_path / "junk.duckdb"
    target.write_bytes(b"not a database")
    future = time.time() + 60
    os.utime(target, (future, future))
    assert is_stale(target) is True


@pytest.mark.slow
def test_ensure_built_builds_a_missing_file_once(tmp_path):
    target = tmp_path / "sub" / "collab.duckdb"
    lines: list[str] = []
    ensure_built(target, log=lines.append)
    assert target.exists() and lines
    assert not is_stale(target)
    stamp = target.stat().st_mtime_ns
    ensure_built(target, log=lines.append)
    assert target.stat().st_mtime_ns == stamp
    assert _leftovers(target.parent) == []


def test_a_build_never_replaces_a_file_collab_did_not_build(tmp_path):
    from bot.errors import DataUnavailable

    text = tmp_path / "notes.txt"
    text.write_text("someone's file\n")
    other = tmp_path / "other.duckdb"
    with duckdb.connect(str(other)) as con:
        con.execute("CREATE TABLE t AS SELECT 1 AS x")
    for path, why in ((text, "is not a DuckDB database"), (other, "collab did not build"), (tmp_path, "not a file")):
        with pytest.raises(DataUnavailable, match=why):
            build(path, log=lambda line: None)
    assert text.read_text() == "someone's file\n"
    with duckdb.connect(str(other), read_only=True) as con:
        assert con.execute("SELECT x FROM t").fetchall() == [(1,)]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no lock or temporary file left
    damaged = tmp_path / "collab.duckdb"
    damaged.write_bytes(b"half a copy " * 100)  # a database file by name: a rebuild repairs it
    build(damaged, log=lambda line: None)
    assert not is_stale(damaged)
