"""`collab ingest openalex PATH... --engine spark`: the same derivation on Apache Spark, to Parquet.

Spark runs the files of queries/ingest/ (transpiled by bot/data/derivation.py) over temporary views, so the two
engines share every step from a parsed work to the aggregates. What is Spark's own is here: listing
the works files (local, s3a://, hdfs://, abfss://: anything Hadoop's FileSystem reads), reading
them as lines, and sorting out malformed lines, which DuckDB's JSON reader does on the local path:

- Each file is read whole by one task (Spark can't split a .gz file anyway), so a line's number is
  its row number in the task: seq = (file index << 40) + line, the local path's formula, which
  gives the same newest-copy winner on ties and the same file:line in reports.
- A blank line is not a work. A line that is not UTF-8, or not JSON, is a malformed line; valid
  JSON that is not an object, or whose authorships/concepts/topics/keywords are not lists, is a
  malformed work; works.sql and bad_works.sql then find works without an id or a year, as on the
  local path. Each is counted and reported, and skipped; --strict fails before anything is written.
- A corrupt or truncated .gz file fails the run, naming Spark's error (Spark can't say at which
  line the stream broke, nor read on past it).

No Python runs on the executors (no UDFs): executors need Spark only, not this project.

The output directory holds one Parquet folder per table (pairs and country_articles partitioned
by field, which every answer filters on) and manifest.json (source, snapshot date, counts, schema
version); `collab ingest parquet DIR` (parquet.py) loads it into the serving DuckDB.
"""

from __future__ import annotations

import csv
import json
import os
import re
import socket
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from bot.config import SPARK_MIN_DRIVER_MEMORY_MB, Settings
from bot.data import derivation, papers
from bot.data.ingest import mapping
from bot.data.ingest.openalex import (
    COLUMNS,
    MAX_REPORTED,
    SEQ_FILE_SHIFT,
    IngestError,
    IngestReport,
    Problem,
    query_params,
    strict_message,
)
from bot.data.ingest.parquet import MANIFEST, SCHEMA_VERSION, load_parquet
from bot.data.ingest.reader import is_works_file
from bot.paths import DATA_DIR

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

MANIFEST_PROBLEMS = 100  # malformed lines named in the manifest (all are counted)
TABLES = (*papers.PAPER_TABLES, "pairs", "country_articles")
PARTITION_BY = {"pairs": ["field"], "country_articles": ["field"]}
DEFAULT_MASTER = "local[*]"
INSTALL = (
    'the Spark engine needs pyspark: pip install -e ".[spark]" (pyspark 4), and Java 17 or 21 '
    "(check with `java -version`)."
)
_WHOLE_FILES = str(1 << 40)  # split and packing limits above any file's size: one task reads one file
_ROW_BITS = 33  # monotonically_increasing_id(): the partition id above bit 33, the row number below
_LISTS = ("authorships", "concepts", "topics", "keywords")


def _spark_type(duckdb_type: str) -> str:
    return exp.DataType.build(duckdb_type, dialect="duckdb").sql("spark")


# The works columns collab reads (openalex.COLUMNS), in Spark's spelling.
WORK_SCHEMA = ", ".join(f"{name} {_spark_type(kind)}" for name, kind in COLUMNS.items())


class SparkUnavailable(IngestError):
    """pyspark is not installed: the message says how to install it."""


def require_pyspark() -> None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise SparkUnavailable(INSTALL) from None


def spark_session(master: str | None = None, driver_memory: str = Settings().spark_driver_memory) -> SparkSession:
    """The active session (spark-submit, Databricks), else one on `master`: by default the master
    spark-submit or spark-defaults.conf set, else local[*].

    Only a JVM that collab starts itself for a local master is sized here: its heap, which holds the
    executors in local mode, is `driver_memory` (Spark's 1 GB default runs out on works files of a
    gigabyte). spark-submit's JVM and an active session keep their own settings.
    """
    require_pyspark()
    from pyspark import SparkConf, SparkContext
    from pyspark.sql import SparkSession

    wanted = master or DEFAULT_MASTER
    if master is not None:  # before a JVM starts; one spark-defaults.conf names is checked below
        check_master(master)
    if wanted.startswith("local"):
        try:
            Settings(spark_driver_memory=driver_memory)  # the check COLLAB_SPARK_DRIVER_MEMORY gets
        except ValueError as error:
            raise IngestError(f"{error}.") from None
    try:
        active = SparkSession.getActiveSession()
        if active is not None and (master is None or active.sparkContext.master == master):
            return active
        # Start the JVM first, so that the master spark-submit or spark-defaults.conf chose is known
        # before the session is made. Under spark-submit this joins its running JVM and the launch
        # settings are ignored.
        launch = SparkConf()
        if wanted.startswith("local"):
            launch.set("spark.driver.memory", driver_memory)
        SparkContext._ensure_initialized(conf=launch)
        chosen = master or SparkConf().get("spark.master", None) or DEFAULT_MASTER
    except Exception as error:
        raise _start_failure(error, wanted) from None
    if master is None:
        check_master(chosen)
    try:
        spark = (
            SparkSession.builder.master(chosen)
            .appName("collab ingest openalex")
            .config("spark.ui.showConsoleProgress", "false")
            .getOrCreate()
        )
    except Exception as error:
        raise _start_failure(error, chosen) from None
    if chosen.startswith("local"):  # a few shuffle partitions per core, not the 200 meant for clusters
        spark.conf.set("spark.sql.shuffle.partitions", "8")
    spark.sparkContext.setLogLevel("ERROR")
    _quiet_when_the_jvm_hangs_up(spark)
    return spark


MASTER_FORMS = "local[N] (or local[*]), spark://host:port, yarn, k8s://https://host:port"
MASTER_ANSWER_SECONDS = 5.0  # Spark's standalone client waits 3 x 20 s (not configurable) for a dead master


def check_master(master: str) -> None:
    """Refuse a master URL Spark can't use, before Spark tries: one of an unknown form, or a
    standalone master (spark://) no address of which accepts a connection."""
    local = r"local(\[(\*|[1-9][0-9]*)(,[0-9]+)?\])?|local-cluster\[[0-9]+, *[0-9]+, *[0-9]+\]"
    if re.fullmatch(rf"{local}|yarn|k8s://\S+", master):
        return
    standalone = re.fullmatch(r"spark://([^\s,:/]+:[0-9]+(,[^\s,:/]+:[0-9]+)*)", master)
    if standalone is None:
        raise _not_a_master(master)
    failures = []
    for address in standalone.group(1).split(","):
        host, port = address.rsplit(":", 1)
        try:
            socket.create_connection((host, int(port)), timeout=MASTER_ANSWER_SECONDS).close()
            return
        except OSError as error:
            failures.append(f"{address}: {error.strerror or error}")
    raise IngestError(
        f"the Spark master {master} does not answer ({'; '.join(failures)}). Check the host and port "
        f"(a standalone master listens on 7077) and that it runs; the forms that work: {MASTER_FORMS}."
    )


def _not_a_master(master: str) -> IngestError:
    return IngestError(f"--master {master!r} is not a Spark master URL; the forms that work: {MASTER_FORMS}.")


def _start_failure(error: BaseException, master: str) -> IngestError:
    """Why Spark did not start, from its error: a master URL it can't parse, a driver heap under
    its minimum, else (no JVM at all) Java."""
    text = _java_text(error) or ""
    if "Could not parse Master URL" in text:
        return _not_a_master(master)
    if "INVALID_DRIVER_MEMORY" in text or "Insufficient driver memory" in text:
        return IngestError(
            f"Spark's driver has too little memory ({_first_line(error)}): set COLLAB_SPARK_DRIVER_MEMORY "
            f"(at least {SPARK_MIN_DRIVER_MEMORY_MB}m, e.g. 4g), or --driver-memory on spark-submit."
        )
    return IngestError(
        f"Spark could not start on {master} ({_first_line(error)}). Spark needs Java 17 or 21: check with "
        "`java -version`."
    )


def _quiet_when_the_jvm_hangs_up(spark: SparkSession) -> None:
    """pyspark's accumulator server prints a Python traceback when the JVM's connection drops (the
    JVM has stopped). The ingest error says so already, and collab uses no accumulators."""
    server = getattr(spark.sparkContext, "_accumulatorServer", None)
    if server is None:
        return
    report = server.handle_error

    def handle_error(request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], EOFError | ConnectionError):
            report(request, client_address)

    server.handle_error = handle_error


def _first_line(error: BaseException) -> str:
    """An exception's first line, for a message; Py4J's text asks the JVM, which may be gone."""
    try:
        text = str(error).strip()
    except Exception:  # noqa: BLE001 - the JVM that held the Java exception has stopped
        text = ""
    return text.splitlines()[0][:300] if text else type(error).__name__


def _java_text(error: BaseException) -> str | None:
    """An exception's text; None when it can't be had because the JVM holding it has stopped."""
    try:
        return str(error)
    except Exception:  # noqa: BLE001 - Py4J asks the JVM for a Java exception's text
        return None


def _java_reason(text: str) -> str | None:
    """What a Py4JJavaError's text says failed: a failed task's error (else the exception's own
    message), with the root cause when it is another exception."""
    task = re.search(r"most recent failure: Lost task .*?\): (.+)", text)
    first = re.search(r"^: (.+)", text, re.MULTILINE)
    found = task or first
    if found is None:
        return None
    reason = re.sub(r"^org\.apache\.spark\.SparkException: |\s*SQLSTATE: \w+", "", found.group(1)).strip()
    causes = re.findall(r"^Caused by: (.+)", text, re.MULTILINE)
    if causes and causes[-1].strip() not in reason:
        reason += f" ({causes[-1].strip()})"
    return reason


def spark_failure(error: BaseException, master: str, driver_memory: str) -> IngestError:
    """A failed Spark job or a stopped JVM as an IngestError that says what failed and what to try."""
    from py4j.protocol import Py4JNetworkError

    text = _java_text(error)
    reason = ((text and _java_reason(text)) or _first_line(error))[:400].rstrip(". ")
    if master.startswith("local"):
        more_memory = (
            f"COLLAB_SPARK_DRIVER_MEMORY (now {driver_memory}; its JVM holds the executors), e.g. "
            "COLLAB_SPARK_DRIVER_MEMORY=8g"
        )
        if master != "local[1]":
            more_memory += ", or fewer tasks at once with --master local[1]"
    else:
        more_memory = "--executor-memory (and spark.executor.memoryOverhead) on spark-submit or the cluster"
    if text is not None and "OutOfMemoryError" in text:
        return IngestError(f"Spark ran out of memory while deriving ({reason}). Give it more: {more_memory}.")
    if text is None or isinstance(error, ConnectionError | Py4JNetworkError) or "stopped SparkContext" in text:
        return IngestError(
            "Spark's JVM stopped while deriving; Spark's log above says why. "
            f"It stops when a task runs out of memory: give it more with {more_memory}."
        )
    return IngestError(f"Spark failed while deriving: {reason}. Spark's log above has the details.")


@contextmanager
def _whole_files(spark: SparkSession) -> Iterator[None]:
    """While deriving: one file per task, never split, so a task's row number is the line number."""
    keys = ("spark.sql.files.maxPartitionBytes", "spark.sql.files.openCostInBytes")
    before = {key: spark.conf.get(key, None) for key in keys}
    for key in keys:
        spark.conf.set(key, _WHOLE_FILES)
    try:
        yield
    finally:
        with _jvm_may_be_gone():
            for key, value in before.items():
                if value is None:
                    spark.conf.unset(key)
                else:
                    spark.conf.set(key, value)


@contextmanager
def _jvm_may_be_gone() -> Iterator[None]:
    """Cleanup after a failure that may have stopped the JVM: then there is nothing left to free, and
    the failure itself is what to report."""
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException

    try:
        yield
    except (Py4JError, PySparkException, ConnectionError):
        pass


@contextmanager
def _failures_said(spark: SparkSession) -> Iterator[None]:
    """Spark's exceptions while deriving, as IngestErrors that say what failed and what to try."""
    from py4j.protocol import Py4JError
    from pyspark.errors import AnalysisException, PySparkException

    master = spark.sparkContext.master or ""
    driver_memory = spark.sparkContext.getConf().get("spark.driver.memory", "1g")
    try:
        yield
    except AnalysisException as error:
        raise IngestError(f"Spark could not run the derivation: {_first_line(error)}") from None
    except (Py4JError, PySparkException, ConnectionError) as error:
        raise spark_failure(error, master, driver_memory) from None


# ---------------------------------------------------------------- files, through Hadoop's FileSystem


def _fs(spark: SparkSession, location: str) -> tuple[Any, Any]:
    jvm, context = spark.sparkContext._jvm, spark.sparkContext._jsc
    if jvm is None or context is None:
        raise IngestError("the Spark engine needs a classic Spark session (a JVM gateway), not Spark Connect.")
    path = jvm.org.apache.hadoop.fs.Path(location)
    return path.getFileSystem(context.hadoopConfiguration()), path


def _uri_key(uri: str) -> str:
    """A file's URI as Spark's _metadata.file_path spells it: `file:/x`, not `file:///x`."""
    return re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*):///", r"\1:/", uri)


def list_works_files(spark: SparkSession, locations: list[str]) -> list[tuple[str, str]]:
    """(path to read, key of _metadata.file_path) of every works file under `locations`, in the
    local path's order: files as given, folders recursively and sorted, by reader.is_works_file."""
    found: dict[str, str] = {}
    for location in locations:
        fs, path = _fs(spark, location)
        if not fs.exists(path):
            raise IngestError(f"{location} does not exist.")
        qualified = fs.makeQualified(path)
        if fs.getFileStatus(path).isFile():
            found.setdefault(_uri_key(qualified.toUri().toString()), qualified.toString())
            continue
        root = qualified.toUri().getPath().rstrip("/")
        files = []
        listing = fs.listFiles(path, True)
        while listing.hasNext():
            file = listing.next().getPath()
            parts = tuple(file.toUri().getPath()[len(root) :].strip("/").split("/"))
            if is_works_file(parts):
                files.append((parts, _uri_key(file.toUri().toString()), file.toString()))
        if not files:
            raise IngestError(f"{location} holds no works files (.gz, .jsonl, .ndjson or .json).")
        for _, key, read_path in sorted(files):
            found.setdefault(key, read_path)
    return [(read_path, key) for key, read_path in found.items()]


def write_text(spark: SparkSession, location: str, text: str) -> None:
    fs, path = _fs(spark, location)
    stream = fs.create(path, True)
    try:
        stream.write(bytearray(text.encode("utf-8")))
    finally:
        stream.close()


# ---------------------------------------------------------------- lines -> works, or problems


def _classify_sql() -> str:
    """Spark's own reading of lines (DuckDB's JSON reader does it on the local path): every line
    that is not blank, with its parsed work `w`, and `kind`/`message` when it is malformed. The
    careful checks (variant parsing) run only for lines the plain parse leaves in doubt."""
    in_doubt = " OR ".join(f"(w.{n} IS NULL AND contains(value, '\"{n}\"'))" for n in _LISTS)
    not_lists = ", ".join(
        f"CASE WHEN w.{n} IS NULL AND NOT is_variant_null(variant_get(v, '$.{n}')) "
        f"AND NOT startswith(schema_of_variant(variant_get(v, '$.{n}')), 'ARRAY') THEN '{n}' END"
        for n in _LISTS
    )
    json_type = """CASE WHEN startswith(t, 'ARRAY') THEN 'array' WHEN t = 'VOID' THEN 'null'
                        WHEN t = 'STRING' THEN 'varchar' WHEN startswith(t, 'DECIMAL') THEN 'double'
                        ELSE lower(t) END"""
    return f"""
WITH parsed AS (
    SELECT seq, value, w, is_valid_utf8(value) AS utf8, ({in_doubt}) AS in_doubt
    FROM (SELECT seq, value, from_json(value, '{WORK_SCHEMA}') AS w FROM lines)
    WHERE trim(BOTH ' \\t\\r' FROM value) <> ''
),
checked AS (
    SELECT seq, w, utf8, plain, v, schema_of_variant(v) AS t,
           CASE WHEN startswith(schema_of_variant(v), 'OBJECT') THEN concat_ws(', ', {not_lists}) END AS not_lists
    FROM (SELECT seq, w, utf8,
                 CASE WHEN utf8 AND (w.id IS NULL OR in_doubt) THEN try_parse_json(value) END AS v,
                 utf8 AND w.id IS NOT NULL AND NOT in_doubt AS plain
          FROM parsed)
)
SELECT seq, w,
       CASE WHEN plain THEN NULL WHEN NOT utf8 OR v IS NULL THEN 'line'
            WHEN NOT startswith(t, 'OBJECT') OR not_lists <> '' THEN 'work' END AS kind,
       CASE WHEN plain THEN NULL WHEN NOT utf8 THEN 'not UTF-8'
            WHEN v IS NULL THEN 'not JSON'
            WHEN NOT startswith(t, 'OBJECT') THEN 'a JSON ' || {json_type} || ', not a work object'
            WHEN not_lists <> '' THEN not_lists || ' not a list' END AS message
FROM checked
"""


def _lines(spark: SparkSession, files: list[tuple[str, str]]) -> DataFrame:
    """Every line of every file: seq = (file index << 40) + line number, and its text."""
    from pyspark.sql import functions as F

    index = spark.createDataFrame([(key, i) for i, (_, key) in enumerate(files)], "file_key STRING, file_index BIGINT")
    text = spark.read.text([read_path for read_path, _ in files]).select(
        F.col("_metadata.file_path").alias("file_key"),
        (F.monotonically_increasing_id().bitwiseAND((1 << _ROW_BITS) - 1) + 1).alias("line"),
        "value",
    )
    return text.join(F.broadcast(index), "file_key").select(
        (F.shiftleft(F.col("file_index"), SEQ_FILE_SHIFT) + F.col("line")).alias("seq"), "value"
    )


# ---------------------------------------------------------------- the derivation


def _iso2_rows() -> list[tuple[str, str]]:
    """data/countries.csv: iso2 -> alpha-3, as `collab build` loads it into `countries`."""
    with open(DATA_DIR / "countries.csv", newline="", encoding="utf-8") as f:
        return [(row["iso2"], row["code"]) for row in csv.DictReader(f) if row["iso2"]]


def derive(
    spark: SparkSession,
    locations: list[str],
    out: str,
    *,
    all_works: bool = False,
    strict: bool = False,
    log: Callable[[str], None] = print,
) -> IngestReport:
    """Read OpenAlex works under `locations`, derive collab's tables with queries/ingest/*.sql,
    and write them to `out` as Parquet with manifest.json. Returns the report (database unset)."""
    with _failures_said(spark):
        return _derive(spark, locations, out, all_works=all_works, strict=strict, log=log)


def _derive(
    spark: SparkSession,
    locations: list[str],
    out: str,
    *,
    all_works: bool,
    strict: bool,
    log: Callable[[str], None],
) -> IngestReport:
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    started = time.perf_counter()
    files = list_works_files(spark, locations)
    report = IngestReport(files=len(files), all_works=all_works, written_to=out)
    params = query_params(all_works)

    def materialised(frame: DataFrame) -> DataFrame:
        """The frame computed now and read from executors' storage (memory, spilling to disk) by
        every later step. persist() did not hold: later steps recomputed persisted frames from the
        JSON, parsing each file six times or more (seen in Spark's stage metrics)."""
        return frame.localCheckpoint(eager=True, storageLevel=StorageLevel.MEMORY_AND_DISK)

    def run(name: str, view: str | None = None, keep: bool = False) -> DataFrame:
        query = derivation.load(name)
        frame = spark.sql(query.spark, args=query.values(params))
        if keep:
            frame = materialised(frame)
        if view:
            frame.createOrReplaceTempView(view)
        return frame

    with _whole_files(spark):
        _lines(spark, files).createOrReplaceTempView("lines")
        # The two small relations are broadcast: without the hint Spark can't size a Python-made
        # DataFrame and plans works.sql's CROSS JOIN as a Cartesian product that reads the input twice.
        rules_type = _spark_type(mapping.RULES_TYPE)
        rules = spark.createDataFrame([(mapping.rules_value(),)], f"rules {rules_type}")
        F.broadcast(rules).createOrReplaceTempView("field_rules")
        F.broadcast(spark.createDataFrame(_iso2_rows(), "iso2 STRING, code STRING")).createOrReplaceTempView("iso2")
        # One read of the input: the lines, parsed and sorted out, are kept for works.sql and the problems.
        classified = materialised(spark.sql(_classify_sql()))
        classified.createOrReplaceTempView("classified")
        spark.sql("SELECT w.*, seq FROM classified WHERE kind IS NULL").createOrReplaceTempView("work_source")
        works = run("works", "works", keep=True)
        run("bad_works", "bad_works")
        problems = spark.sql("""SELECT seq, kind, message FROM classified WHERE kind IS NOT NULL
                                UNION ALL SELECT seq, 'work' AS kind, message FROM bad_works""")
        for row in problems.groupBy("kind").count().collect():
            setattr(report, "malformed_lines" if row["kind"] == "line" else "malformed_works", row["count"])
        shown = problems.orderBy("seq").limit(MAX_REPORTED).collect() if report.malformed else []
        names = dict(enumerate(read_path for read_path, _ in files))
        line_mask = (1 << SEQ_FILE_SHIFT) - 1
        report.problems = [
            Problem(_display(names[r["seq"] >> SEQ_FILE_SHIFT]), r["seq"] & line_mask, r["kind"], r["message"])
            for r in shown
        ]
        log(f"parsed {len(files):,} file(s): {report.malformed:,} malformed line(s) or work(s)")
        if strict and report.malformed:
            raise IngestError(strict_message(report), report)
        stage = works.where("work_id <> '' AND year IS NOT NULL")
        stage.createOrReplaceTempView("stage")
        staged, report.not_in_a_field = stage.selectExpr("count(*)", "count_if(size(fields) = 0)").first()
        report.works_read = staged
        report.unknown_codes = Counter({r["code"]: r["works"] for r in run("unknown_codes").collect()})
        incoming = run("latest", "incoming", keep=True)
        report.duplicates_in_input = staged - incoming.count()
        run("work_countries", "work_countries", keep=True)
        spark.sql(
            "SELECT work_id, year, title, updated_date, fields, :all_works AS in_all FROM incoming "
            "WHERE size(fields) > 0 OR :all_works",
            args={"all_works": all_works},
        ).createOrReplaceTempView("kept")
        for table in papers.PAPER_TABLES:
            run(table, table, keep=True)
        papers_count, latest, without_country = spark.sql(
            "SELECT count(*), max(updated_date), count_if(countries = 0) FROM papers"
        ).first()
        report.added, report.without_country = papers_count, without_country
        first_incomplete = papers.first_incomplete_year(latest)
        params.update(first_incomplete=first_incomplete)
        for table in ("pairs", "country_articles"):
            run(table, table, keep=True)
        counts = {table: spark.table(table).count() for table in TABLES}
        log(f"writing {counts['papers']:,} papers, {counts['pairs']:,} pair rows and the other tables to {out}")
        for table in TABLES:
            frame = spark.table(table)
            if table in PARTITION_BY:  # one file per partition: the aggregates are small
                frame = frame.repartition(*PARTITION_BY[table])
            writer = frame.write.mode("overwrite")
            if table in PARTITION_BY:
                writer = writer.partitionBy(*PARTITION_BY[table])
            writer.parquet(f"{out.rstrip('/')}/{table}")
    report.papers, report.pairs, report.country_articles = counts["papers"], counts["pairs"], counts["country_articles"]
    report.seconds = time.perf_counter() - started
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "source": papers.SOURCE,
        "engine": f"spark {spark.version}",
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "snapshot_date": latest.date().isoformat() if latest else None,
        "first_incomplete_year": first_incomplete,
        "inputs": locations,
        "all_works": all_works,
        "counts": {
            "files": report.files,
            "works_read": report.works_read,
            "malformed_lines": report.malformed_lines,
            "malformed_works": report.malformed_works,
            "duplicates_in_input": report.duplicates_in_input,
            "not_in_a_field": report.not_in_a_field,
            "without_country": report.without_country,
            **counts,
        },
        "unknown_codes": dict(report.unknown_codes.most_common()),
        "problems": [asdict(p) for p in report.problems[:MANIFEST_PROBLEMS]],
        "partitioned_by": PARTITION_BY,
    }
    write_text(spark, f"{out.rstrip('/')}/{MANIFEST}", json.dumps(manifest, indent=2) + "\n")
    return report


def _display(read_path: str) -> str:
    """A local file as the local path names it (no file: scheme); other URIs as they are."""
    return read_path[len("file:") :] if read_path.startswith("file:/") else read_path


def check_local_out(out: str) -> None:
    """Refuse a local --out that can't be written before deriving, not after (URLs: Spark's own checks)."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", out) and not out.startswith("file://"):
        return
    target = Path(out.removeprefix("file://"))
    existing = next(p for p in (target, *target.parents) if p.exists())
    if not existing.is_dir():
        what = "--out" if existing == target else f"--out's parent {existing}"
        raise IngestError(
            f"{what} is a file; --out needs a directory (new or existing) to write the Parquet tables to."
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise IngestError(f"{existing} is not writable; give --out a directory you can write to.")


def ingest_with_spark(
    locations: list[str],
    db_path: Path | None,
    *,
    memory_limit: str = Settings().ingest_memory,
    driver_memory: str = Settings().spark_driver_memory,
    master: str | None = None,
    out: str | None = None,
    all_works: bool = False,
    strict: bool = False,
    log: Callable[[str], None] = print,
) -> IngestReport:
    """`collab ingest openalex ... --engine spark`: derive to `out`; without `out`, derive to a
    temporary folder beside the database and load it (one go, like the local engine)."""
    require_pyspark()
    if out is not None:
        check_local_out(out)
    if out is None:
        if db_path is None:
            raise IngestError("give the database to load into, or --out to write Parquet only.")
        db_path = Path(db_path)
        if not db_path.is_file():  # before Spark's work, not after it
            raise IngestError(f"there is no database at {db_path} to add papers to; run `collab build` first.")
    spark = spark_session(master, driver_memory)
    if out is not None:
        log(f"deriving on Spark ({spark.sparkContext.master}) into {out} ...")
        return derive(spark, locations, out, all_works=all_works, strict=strict, log=log)
    running_on = spark.sparkContext.master or ""
    if not running_on.startswith("local"):
        raise IngestError(
            f"on a cluster ({running_on}), give --out: a location the cluster writes to (s3a://, "
            "hdfs://, abfss://...); then load it with `collab ingest parquet DIR` where the bot runs."
        )
    assert db_path is not None
    with tempfile.TemporaryDirectory(prefix=f".{db_path.name}.building.spark-", dir=db_path.parent) as folder:
        log(f"deriving on Spark ({spark.sparkContext.master}) ...")
        derived = derive(spark, locations, folder, all_works=all_works, strict=strict, log=log)
        loaded = load_parquet(Path(folder), db_path, memory_limit=memory_limit, log=log)
    loaded.loaded_from = ""  # the works were read in this run: its summary is the local engine's
    loaded.problems = derived.problems  # all that were kept, not only those the manifest names
    loaded.seconds = derived.seconds + loaded.seconds
    return loaded
