"""The Spark engine against the local one: the same SQL (queries/ingest/) must give the same tables.

One SparkSession (local[2]) serves the whole module. Each test ingests the same input with both
engines into two private copies of the session's built database and compares every OpenAlex table
row by row: exact for counts and text, within 1e-9 for fractional counts (the engines add floating
point numbers in different orders). Without pyspark these tests skip, except in CI (CI=true), where
they must run.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from bot.data.ingest import IngestError, ingest_openalex

OPENALEX = Path(__file__).resolve().parent / "data" / "openalex"
SAMPLE = OPENALEX / "works-sample.jsonl"
SNAPSHOT = OPENALEX / "snapshot"
CORRUPT = OPENALEX / "works-corrupt.jsonl"
ROOT = Path(__file__).resolve().parents[1]

if os.environ.get("CI") == "true":
    import pyspark  # noqa: F401  (CI installs the spark extra: a missing pyspark fails here)
else:
    pytest.importorskip("pyspark")

from bot.data.ingest import spark as spark_engine  # noqa: E402
from bot.data.ingest.parquet import load_parquet  # noqa: E402

pytestmark = [pytest.mark.timeout(900), pytest.mark.slow]  # a JVM starts for the module


@pytest.fixture(scope="module")
def spark():
    session = spark_engine.spark_session("local[2]")
    yield session
    session.stop()


def _copy(db_path: Path, folder: Path) -> Path:
    folder.mkdir(parents=True)
    path = folder / "collab.duckdb"
    shutil.copyfile(db_path, path)
    return path


@pytest.fixture
def two_dbs(db_path: Path, tmp_path: Path) -> tuple[Path, Path]:
    """Two private copies of the built database: one per engine."""
    return _copy(db_path, tmp_path / "duckdb"), _copy(db_path, tmp_path / "spark")


def _quiet(line: str) -> None:
    pass


def _local(db: Path, *paths: Path, **options):
    return ingest_openalex(list(paths), db, progress=False, log=_quiet, **options)


def _on_spark(db: Path, *paths: Path, **options):
    return spark_engine.ingest_with_spark([str(p) for p in paths], db, log=_quiet, **options)


TABLES = {
    "papers": "SELECT * FROM papers ORDER BY work_id",
    "paper_countries": "SELECT * FROM paper_countries ORDER BY ALL",
    "paper_fields": "SELECT * FROM paper_fields ORDER BY ALL",
    "pairs": "SELECT * EXCLUDE (fractional_articles), fractional_articles FROM pairs WHERE source = 'openalex' "
    "ORDER BY country_a, country_b, field, year",
    "country_articles": "SELECT * FROM country_articles WHERE source = 'openalex' ORDER BY ALL",
    "datasets": "SELECT * EXCLUDE (loaded_at) FROM datasets ORDER BY name",
    "data_version": "SELECT value FROM build_info WHERE key = 'data_version'",
}


def _tables(path: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {name: con.execute(query).fetchall() for name, query in TABLES.items()}


def assert_same_tables(local: Path, spark_db: Path) -> dict[str, list[tuple]]:
    """Every OpenAlex table equal; fractional_articles (the last column of pairs) within 1e-9."""
    a, b = _tables(local), _tables(spark_db)
    for name in TABLES:
        if name == "pairs":
            assert [r[:-1] for r in a[name]] == [r[:-1] for r in b[name]], name
            worst = max((abs(x[-1] - y[-1]) for x, y in zip(a[name], b[name], strict=True)), default=0.0)
            assert worst <= 1e-9, f"fractional counts differ by {worst}"
        else:
            assert a[name] == b[name], name
    return a


def _where(report) -> list[tuple[str, int, str]]:
    """Where each problem is, in file and line order (the local engine reports a chunk's
    unreadable lines before its works without id or year)."""
    return sorted((Path(p.path).name, p.line, p.kind) for p in report.problems)


# ---------------------------------------------------------------- equality


def test_sample_gives_identical_tables(spark, two_dbs):
    local_db, spark_db = two_dbs
    local = _local(local_db, SAMPLE, all_works=True)
    on_spark = _on_spark(spark_db, SAMPLE, all_works=True)
    tables = assert_same_tables(local_db, spark_db)
    assert len(tables["papers"]) == 177 and tables["pairs"] and tables["country_articles"]
    for name in ("works_read", "papers", "pairs", "country_articles", "without_country", "not_in_a_field"):
        assert getattr(on_spark, name) == getattr(local, name), name


def test_snapshot_folder_and_about_are_the_same(spark, two_dbs):
    from bot.engine.answer import answer
    from bot.engine.db import Database

    local_db, spark_db = two_dbs
    _local(local_db, SNAPSHOT, all_works=True)
    report = _on_spark(spark_db, SNAPSHOT, all_works=True)
    assert report.files == 2
    assert_same_tables(local_db, spark_db)
    texts = []
    for path in (local_db, spark_db):
        database = Database(path)
        try:
            texts.append(
                [
                    answer(q, db=database).to_dict()["rows"]
                    for q in ("about", "partners Malaysia in all source openalex")
                ]
            )
        finally:
            database.close()
    assert texts[0] == texts[1]


@pytest.mark.slow
def test_100k_generated_works_give_identical_tables(spark, two_dbs, tmp_path, db_path):
    sys.path.insert(0, str(ROOT / "bench"))
    from gen_openalex import generate

    works = generate(tmp_path / "works-100k.jsonl.gz", 100_000, seed=7, db_path=db_path)
    local_db, spark_db = two_dbs
    local = _local(local_db, works)
    out = tmp_path / "parquet"
    derived = _on_spark(spark_db, works, out=str(out))
    assert derived.works_read == local.works_read == 100_000
    load_parquet(out, spark_db, log=_quiet)
    tables = assert_same_tables(local_db, spark_db)
    assert len(tables["papers"]) == local.papers and len(tables["pairs"]) == local.pairs > 1000


# ---------------------------------------------------------------- malformed lines, duplicated works


def test_malformed_lines_and_duplicated_works_behave_the_same(spark, two_dbs, tmp_path):
    works = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()[:6]]
    older = {**works[0], "updated_date": "2020-01-01T00:00:00", "publication_year": 1999}
    newer = {**works[0], "updated_date": "2030-01-01T00:00:00", "publication_year": 2001}
    tie = {**works[1], "title": "the copy read last wins a tie"}
    lines = [
        json.dumps(older),  # 1: an older copy of work 0
        "{not json",  # 2: a malformed line
        json.dumps(works[1]),  # 3
        "",  # 4: blank, not a work
        "[1, 2]",  # 5: JSON, not a work object
        json.dumps({**works[2], "publication_year": None}),  # 6: no year
        json.dumps({**works[3], "authorships": "many"}),  # 7: not a list
        json.dumps({**works[4], "id": 17}),  # 8: no OpenAlex work id
        json.dumps(newer),  # 9: the newest copy of work 0
        "null",  # 10
        json.dumps(tie),  # 11: same updated_date as line 3: read last, so it wins
        json.dumps(works[5]),  # 12
    ]
    first = tmp_path / "in" / "a.jsonl"
    first.parent.mkdir()
    first.write_text("\n".join(lines) + "\n", encoding="utf-8")
    second = tmp_path / "in" / "b.jsonl.gz"  # a later file: its copy of work 0 is older, so it loses
    second.write_bytes(gzip.compress((json.dumps(older) + "\n").encode()))
    local_db, spark_db = two_dbs
    local = _local(local_db, first.parent, all_works=True)
    on_spark = _on_spark(spark_db, first.parent, all_works=True)
    expected = [("a.jsonl", n, kind) for n, kind in ((2, "line"), (5, "work"), (6, "work"), (7, "work"), (8, "work"))]
    expected.append(("a.jsonl", 10, "work"))
    assert _where(local) == _where(on_spark) == expected
    assert (
        (local.malformed_lines, local.malformed_works) == (on_spark.malformed_lines, on_spark.malformed_works) == (1, 5)
    )
    assert local.duplicates_in_input == on_spark.duplicates_in_input == 3
    tables = assert_same_tables(local_db, spark_db)
    by_id = {row[0]: row for row in tables["papers"]}
    assert by_id[works[0]["id"].rsplit("/", 1)[-1]][1] == 2001  # the newest copy's year
    assert by_id[works[1]["id"].rsplit("/", 1)[-1]][2] == "the copy read last wins a tie"


def test_strict_fails_on_both_and_leaves_the_database_untouched(spark, two_dbs):
    for db, ingest in zip(two_dbs, (_local, _on_spark), strict=True):
        before = db.read_bytes()
        with pytest.raises(IngestError, match=r"works-corrupt\.jsonl:5"):
            ingest(db, CORRUPT, strict=True)
        assert db.read_bytes() == before


# ---------------------------------------------------------------- the Parquet directory and its load


def test_out_writes_parquet_with_a_manifest_and_load_swaps_it_in(spark, two_dbs, tmp_path):
    local_db, spark_db = two_dbs
    _local(local_db, SAMPLE, all_works=True)
    out = tmp_path / "out"
    report = _on_spark(spark_db, SAMPLE, all_works=True, out=str(out))
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["schema_version"] == 1 and manifest["source"] == "openalex"
    assert manifest["counts"]["papers"] == report.papers == 177
    assert manifest["snapshot_date"] and manifest["first_incomplete_year"] == int(manifest["snapshot_date"][:4]) - 1
    assert sorted(p.name for p in (out / "pairs").iterdir() if p.is_dir()) == sorted(
        f"field={f}" for f in {r[2] for r in _tables(local_db)["pairs"]}
    )
    # Nothing was loaded by --out; the CLI's load then makes the two databases equal.
    assert _tables(spark_db)["papers"] == []
    derived = "\n".join(report.summary())
    assert "papers: 177 derived and written;" in derived and " added" not in derived
    assert derived.endswith(f"nothing was loaded; load them with: collab ingest parquet {out}")
    run = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ingest", "parquet", str(out), "--db", str(spark_db)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr
    assert f"loaded 177 papers, {len(_tables(local_db)['pairs']):,} pair rows" in run.stderr
    assert f"from the Parquet in {out} in " in run.stderr
    assert "works/s" not in run.stderr and "read " not in run.stderr  # it read Parquet, not works
    assert_same_tables(local_db, spark_db)
    # Neither Spark nor the Parquet load counts the bytes read: their summaries say no size, not "0.0 MB".
    assert " MB" not in "\n".join(report.summary()) and " MB" not in run.stderr


def test_an_incomplete_directory_is_refused(spark, db_path, tmp_path):
    out = tmp_path / "out"
    _on_spark(tmp_path / "unused.duckdb", SAMPLE, all_works=True, out=str(out))
    target = _copy(db_path, tmp_path / "db")
    before = target.read_bytes()
    for part in (out / "paper_countries").glob("*.parquet"):
        part.unlink()
        break
    with pytest.raises(IngestError, match="incomplete|no Parquet"):
        load_parquet(out, target, log=_quiet)
    assert target.read_bytes() == before
    (out / "manifest.json").unlink()
    with pytest.raises(IngestError, match="manifest.json"):
        load_parquet(out, target, log=_quiet)


def test_without_pyspark_the_cli_says_how_to_install_it(tmp_path):
    hide = "import sys; sys.modules['pyspark'] = None; from bot.cli import main; sys.exit(main(sys.argv[1:]))"
    run = subprocess.run(
        [sys.executable, "-c", hide, "ingest", "openalex", str(SAMPLE), "--engine", "spark"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert run.returncode == 2
    assert 'pip install -e ".[spark]"' in run.stderr and "Traceback" not in run.stderr


# ---------------------------------------------------------------- Spark's own failures, said plainly


def test_a_failed_spark_job_is_an_ingest_error_and_the_database_stays(spark, two_dbs, tmp_path):
    broken = tmp_path / "in" / "part_000.gz"
    broken.parent.mkdir()
    broken.write_bytes(gzip.compress(SAMPLE.read_bytes())[:-400])  # cut short: the task's read fails
    _, spark_db = two_dbs
    before = spark_db.read_bytes()
    with pytest.raises(IngestError, match=r"^Spark failed while deriving: .*(EOF|ZLIB|truncated)") as failed:
        _on_spark(spark_db, broken.parent)
    assert "Traceback" not in failed.value.message and len(failed.value.message) < 600
    assert spark_db.read_bytes() == before


def test_a_jvm_out_of_memory_says_which_setting_gives_it_more(db_path, tmp_path):
    """A real local[1] JVM with the smallest heap Spark starts on, and one work line larger than that
    heap: the task's OutOfMemoryError stops the JVM (its executor runs inside it), and the CLI says so."""
    huge = tmp_path / "huge.jsonl"
    work = json.loads(SAMPLE.read_text(encoding="utf-8").splitlines()[0])
    huge.write_text(json.dumps({**work, "title": "x" * 150_000_000}) + "\n", encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ingest", "openalex", str(huge), "--engine", "spark"]
        + ["--master", "local[1]", "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "COLLAB_SPARK_DRIVER_MEMORY": "600m"},
        timeout=300,
    )
    said = run.stderr.strip().splitlines()[-1]
    assert run.returncode == 1, run.stderr[-2000:]
    assert "java.lang.OutOfMemoryError" in run.stderr  # Spark's log: the task's error
    assert said.startswith("collab ingest failed: Spark") and "COLLAB_SPARK_DRIVER_MEMORY (now 600m" in said, said
    assert "Traceback" not in run.stderr and "something went wrong" not in run.stderr
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_a_derivation_of_no_valid_work_never_replaces_the_papers_held(spark, two_dbs, tmp_path):
    """Spark's derivation replaces what the database holds: one that read nothing valid is refused,
    in one go and by `ingest parquet`, instead of emptying the database (the local engine merges)."""
    _, spark_db = two_dbs
    _local(spark_db, SAMPLE, all_works=True)
    before = spark_db.read_bytes()
    not_json = tmp_path / "notes.jsonl"
    not_json.write_text("these are my notes\nnot works at all\n", encoding="utf-8")
    with pytest.raises(IngestError, match=r"read no valid work .*2 malformed line\(s\).*notes\.jsonl:1") as one_go:
        _on_spark(spark_db, not_json)
    assert "would remove the 177 OpenAlex paper" in one_go.value.message
    assert spark_db.read_bytes() == before
    out = tmp_path / "empty"
    _on_spark(spark_db, not_json, out=str(out))
    with pytest.raises(IngestError, match="would remove the 177 OpenAlex paper"):
        load_parquet(out, spark_db, log=_quiet)
    assert spark_db.read_bytes() == before


def test_an_out_that_cannot_be_written_is_refused_before_deriving(tmp_path):
    a_file = tmp_path / "taken"
    a_file.write_text("not a directory", encoding="utf-8")
    for out, said in ((a_file, "--out is a file"), (a_file / "sub", f"--out's parent {a_file} is a file")):
        with pytest.raises(IngestError, match=said):
            _on_spark(tmp_path / "unused.duckdb", SAMPLE, out=str(out))
    assert not list(tmp_path.glob("taken*/manifest.json"))
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    if not os.access(locked, os.W_OK):  # root writes anywhere
        with pytest.raises(IngestError, match="is not writable"):
            _on_spark(tmp_path / "unused.duckdb", SAMPLE, out=str(locked / "out"))


@pytest.mark.parametrize(
    ("master", "said"),
    [
        ("bogus[2]", r"--master 'bogus\[2\]' is not a Spark master URL; the forms that work: local\[N\]"),
        ("spark://", "is not a Spark master URL"),
        ("spark://nohost.invalid:7077", r"the Spark master spark://nohost.invalid:7077 does not answer \(nohost"),
        ("spark://127.0.0.1:9", r"spark://127.0.0.1:9 does not answer .*forms that work: .*yarn, k8s://"),
    ],
)
def test_a_master_spark_cannot_use_is_named_with_the_forms_that_work(spark, master, said):
    with pytest.raises(IngestError, match=said) as refused:
        spark_engine.spark_session(master)
    assert "Java" not in refused.value.message


def test_a_driver_memory_under_spark_minimum_names_the_setting_not_java(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ingest", "openalex", str(SAMPLE), "--engine", "spark"]
        + ["--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "COLLAB_SPARK_DRIVER_MEMORY": "64m"},
    )
    assert run.returncode == 2
    assert "COLLAB_SPARK_DRIVER_MEMORY='64m' is too small" in run.stderr and "at least 512m" in run.stderr
    assert "Java" not in run.stderr and "Traceback" not in run.stderr
