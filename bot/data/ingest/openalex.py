"""`collab ingest openalex PATH...`: OpenAlex works (snapshot format) -> papers -> aggregates.

How it runs, and why:
1. Paths are expanded to works files (plain or gzipped JSON Lines; folders recursively, sorted, so
   the snapshot's `works/updated_date=*/part_*.gz` come oldest first).
2. The current database is copied to a temporary file beside it; everything below writes there.
   A serving bot keeps reading the old file meanwhile. Only when all is done is the copy
   CHECKPOINTed and renamed over the database (os.replace: atomic). `--strict` with any bad line,
   or any failure, removes the copy and leaves the database untouched.
3. Each file is read by DuckDB's JSON reader in one scan (fast path: C++ parsing of only the
   columns collab needs, .gz decompressed by DuckDB, memory bounded by its memory limit; Python
   never builds a dict per work); the progress bar polls DuckDB's query progress. When a file has
   a malformed line or work, that scan fails (or finds a work without id or year) and the file is
   read again in chunks of whole lines (32 MB): a reader thread decompresses the next chunk into
   a small temporary file while DuckDB parses the current one. A chunk that parses whole, with as
   many rows as lines, maps row i to line first+i; any other chunk is parsed line by line with
   DuckDB's lenient json_transform and every line is classified with its number:
   - not JSON (or not UTF-8) -> a malformed line; valid JSON but not an object, no OpenAlex work
     id, no publication_year (1500-2100), or authorships/concepts/topics/keywords not lists -> a
     malformed work. Each is counted and reported as file:line, and skipped. Deeper type errors
     (a country code that is a number) are read leniently. Blank lines are not works.
   A corrupt or truncated .gz stream is reported as a read error at the line where it stops.
4. Parsed works go to a staging table in a scratch DuckDB file through queries/ingest/works.sql
   (works without id or year: bad_works.sql): work id, year, title, updated_date, the distinct
   ISO alpha-2 codes of `authorships[].countries` and `authorships[].institutions[].country_code`,
   and the fields (bot/data/ingest/mapping.py). seq = (file index << 40) + line orders them.
5. Merge: the newest copy of each work wins (latest.sql: later updated_date; on a tie the one read
   last, so a re-ingest replaces). It replaces the stored copy when that one is not newer. A work is kept
   when it is in an AI field, or in `all`: `--all-works` puts every work read into `all`, and a
   work once in `all` stays there when a newer copy replaces it. A newer copy that is in no field
   removes the stored one. Alpha-2 codes map to alpha-3 through the countries reference table;
   unknown codes are counted and reported, and the work keeps its known countries. The rows of the
   paper tables come from papers.sql, paper_countries.sql and paper_fields.sql.
6. The aggregates (pairs, country_articles, datasets; source='openalex') are derived again from
   all papers held (bot/data/papers.py: pairs.sql, country_articles.sql).

Every step from a parsed work to the aggregates is a file of queries/ingest/, which the Spark
engine (spark.py) runs too; only the merge with the papers held is this engine's own.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from bot.config import Settings
from bot.data import derivation, papers
from bot.data.ingest import mapping
from bot.data.ingest.reader import CHUNK_BYTES, Chunk, ChunkReader, InputError, discover, read_chunk

MIN_YEAR, MAX_YEAR = 1500, 2100
MAX_REPORTED = 1000  # malformed lines kept with their message; all are counted
MAX_OBJECT_BYTES = 16 << 20  # DuckDB's default; a longer line takes the line-by-line path

# The columns of a work collab reads; everything else in the (large) work object is skipped.
COLUMNS = {
    "id": "VARCHAR",
    "publication_year": "INTEGER",
    "title": "VARCHAR",
    "updated_date": "VARCHAR",
    "authorships": "STRUCT(countries VARCHAR[], institutions STRUCT(country_code VARCHAR)[])[]",
    "concepts": "STRUCT(id VARCHAR, score DOUBLE)[]",
    "topics": "STRUCT(id VARCHAR, display_name VARCHAR, subfield STRUCT(id VARCHAR))[]",
    "keywords": "STRUCT(display_name VARCHAR)[]",
}
_STRUCTURE = json.dumps(
    {
        "id": "VARCHAR",
        "publication_year": "INTEGER",
        "title": "VARCHAR",
        "updated_date": "VARCHAR",
        "authorships": [{"countries": ["VARCHAR"], "institutions": [{"country_code": "VARCHAR"}]}],
        "concepts": [{"id": "VARCHAR", "score": "DOUBLE"}],
        "topics": [{"id": "VARCHAR", "display_name": "VARCHAR", "subfield": {"id": "VARCHAR"}}],
        "keywords": [{"display_name": "VARCHAR"}],
    }
)
_LISTS = ("authorships", "concepts", "topics", "keywords")
_COLUMNS_SQL = (
    "{" + ", ".join(f"{derivation.sql_string(k)}: {derivation.sql_string(v)}" for k, v in COLUMNS.items()) + "}"
)
SEQ_FILE_SHIFT = 40  # seq = (file index << 40) + line number: input order, and where a problem is


def query_params(all_works: bool) -> dict[str, object]:
    """The values of every parameter queries/ingest/*.sql name, but the derived ones (both engines)."""
    return {
        "min_year": MIN_YEAR,
        "max_year": MAX_YEAR,
        "concept_min_score": mapping.CONCEPT_MIN_SCORE,
        "keep_titles": all_works,
        "all_field": mapping.ALL_WORKS,
        "source": papers.SOURCE,
    }


class IngestError(Exception):
    """The ingest failed and nothing was swapped in (with --strict: a malformed line or work)."""

    def __init__(self, message: str, report: IngestReport | None = None):
        super().__init__(message)
        self.message = message
        self.report = report


@dataclass
class Problem:
    path: str
    line: int
    kind: str  # "line" (not JSON, unreadable) or "work" (JSON, but not a usable work)
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: malformed {self.kind}: {self.message}"


@dataclass
class IngestReport:
    files: int = 0
    bytes: int = 0
    works_read: int = 0
    malformed_lines: int = 0
    malformed_works: int = 0
    problems: list[Problem] = field(default_factory=list)
    read_errors: list[str] = field(default_factory=list)
    not_in_a_field: int = 0  # works read that are in no AI field (kept only with --all-works)
    without_country: int = 0
    unknown_codes: Counter = field(default_factory=Counter)  # code -> works carrying it
    duplicates_in_input: int = 0
    added: int = 0
    replaced: int = 0
    older_than_stored: int = 0
    removed: int = 0
    papers: int = 0
    pairs: int = 0
    country_articles: int = 0
    seconds: float = 0.0
    database: str = ""
    all_works: bool = False
    held_before: int | None = None  # loading Parquet: the OpenAlex papers it replaced
    written_to: str = ""  # deriving on Spark with --out: where the Parquet went (no database)
    loaded_from: str = ""  # `collab ingest parquet DIR`: the directory loaded (no works read here)

    @property
    def malformed(self) -> int:
        return self.malformed_lines + self.malformed_works

    def add_problem(self, problem: Problem) -> None:
        if problem.kind == "line":
            self.malformed_lines += 1
        else:
            self.malformed_works += 1
        if len(self.problems) < MAX_REPORTED:
            self.problems.append(problem)

    def summary(self) -> list[str]:
        rate = self.works_read / self.seconds if self.seconds else 0
        duplicates = f"{self.duplicates_in_input:,} duplicate copies in the input"
        if self.loaded_from:  # only Parquet was read here; the works were read when it was derived
            lines = [
                f"loaded {self.papers:,} papers, {self.pairs:,} pair rows and {self.country_articles:,} country rows "
                f"from the Parquet in {self.loaded_from} in {self.seconds:,.1f} s",
                f"derived from {self.works_read:,} works in {self.files:,} file(s); {duplicates}",
            ]
        else:
            lines = [
                f"read {self.works_read:,} works from {self.files:,} file(s), "
                + (f"{self.bytes / 1e6:,.1f} MB, " if self.bytes else "")  # Spark doesn't count bytes
                + f"in {self.seconds:,.1f} s ({rate:,.0f} works/s)",
                f"papers: {self.added:,} derived and written; {duplicates}"
                if self.written_to
                else f"papers: {self.added:,} added, {self.replaced:,} replaced by a newer copy, "
                f"{self.older_than_stored:,} older than the copy held (kept the held one), {self.removed:,} removed "
                f"(newer copy in no field); {duplicates}",
            ]
        lines += [
            f"{self.not_in_a_field:,} works in no AI field"
            + (
                " (kept under `all`)"
                if self.not_in_a_field and self.all_works
                else " (skipped; --all-works keeps them)"
            ),
            f"{self.without_country:,} works with no country",
            f"{'Parquet in ' + self.written_to if self.written_to else 'database ' + self.database}: "
            f"{self.papers:,} papers, {self.pairs:,} pair rows and {self.country_articles:,} country rows "
            "with source 'openalex'",
        ]
        if self.unknown_codes:
            codes = ", ".join(f"{c} ({n:,})" for c, n in self.unknown_codes.most_common(20))
            lines.append(
                f"{sum(self.unknown_codes.values()):,} country code use(s) not in data/countries.csv, "
                f"left out of those works' countries: {codes}"
            )
        if self.malformed:
            lines.append(
                f"skipped {self.malformed_lines:,} malformed line(s) and {self.malformed_works:,} malformed work(s):"
            )
            lines += [f"  {p}" for p in self.problems[:20]]
            if self.malformed > 20:
                lines.append(f"  ... and {self.malformed - 20:,} more")
        lines += [f"read error: {e}" for e in self.read_errors]
        if self.held_before is not None:
            lines.append(f"replaced the {self.held_before:,} OpenAlex papers the database held before")
        if self.written_to and "://" in self.written_to and not self.written_to.startswith("file:"):
            lines.append(
                "nothing was loaded; copy the directory where the bot runs (e.g. aws s3 sync), then load it with: "
                "collab ingest parquet DIR"
            )
        elif self.written_to:
            local = shlex.quote(self.written_to.removeprefix("file://"))
            lines.append(f"nothing was loaded; load them with: collab ingest parquet {local}")
        return lines


def ingest_openalex(
    paths: list[Path],
    db_path: Path,
    *,
    memory_limit: str = Settings().ingest_memory,
    all_works: bool = False,
    strict: bool = False,
    progress: bool = True,
    chunk_bytes: int = CHUNK_BYTES,
    log: Callable[[str], None] = print,
) -> IngestReport:
    """Ingest OpenAlex works files or folders into the analytics database (atomically).

    The database must exist (`collab build`, or bot.data.build.ensure_built, makes it): the ingest adds
    to the ETO data, it never builds it. `memory_limit` caps DuckDB while ingesting
    (COLLAB_INGEST_MEMORY); beyond it, DuckDB spills to disk.
    """
    db_path = Path(db_path)
    try:
        files = discover([Path(p) for p in paths])
    except InputError as error:
        raise IngestError(str(error)) from None
    if not files:
        raise IngestError("no works files given.")
    started = time.perf_counter()
    report = IngestReport(files=len(files), all_works=all_works, database=str(db_path))
    with swapped_database(db_path, memory_limit) as (con, workdir):
        if progress:
            con.execute("SET enable_progress_bar = true")  # for query_progress(), polled by the bar
            con.execute("SET enable_progress_bar_print = false")
        create_field_rules(con)
        con.execute("ATTACH ? AS scratch", [str(workdir / "scratch.duckdb")])
        _create_stage(con)
        _read_all(con, files, workdir, report, all_works, strict, progress, chunk_bytes)
        if strict and (report.malformed or report.read_errors):
            raise IngestError(strict_message(report), report)
        if progress:
            log(f"merging {report.works_read:,} works into the papers held and deriving the aggregates...")
        _merge(con, report, all_works)
        con.execute("DETACH scratch")
        counts = papers.derive(con)
        report.papers, report.pairs, report.country_articles = (
            counts["papers"],
            counts["pairs"],
            counts["country_articles"],
        )
    report.seconds = time.perf_counter() - started
    return report


@contextmanager
def swapped_database(
    db_path: Path, memory_limit: str = Settings().ingest_memory
) -> Iterator[tuple[duckdb.DuckDBPyConnection, Path]]:
    """A connection to a copy of the database, with the paper tables, and a scratch folder beside
    it. When the block ends normally, the copy's data version is refreshed and it is CHECKPOINTed
    and renamed over the database (atomic); on any error it is removed and the database is
    untouched. One writer at a time (papers.writer_lock). The database must exist."""
    with papers.writer_lock(db_path), ExitStack() as stack:
        if not db_path.is_file():
            raise IngestError(f"there is no database at {db_path} to add papers to; run `collab build` first.")
        # Named like build's temporary file (.NAME.PID.building), which .gitignore already covers.
        workdir = Path(tempfile.mkdtemp(prefix=f".{db_path.name}.building.ingest-", dir=db_path.parent))
        stack.callback(shutil.rmtree, workdir, True)
        temporary = db_path.with_name(f".{db_path.name}.{os.getpid()}.building.ingest")
        stack.callback(_remove, temporary)
        shutil.copyfile(db_path, temporary)
        con = duckdb.connect(
            str(temporary),
            config={
                "memory_limit": memory_limit,
                "temp_directory": str(workdir / "spill"),
                "preserve_insertion_order": True,
            },
        )
        try:
            papers.create_paper_tables(con)
            yield con, workdir
            papers.refresh_data_version(con)
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(temporary, db_path)


def _remove(path: Path) -> None:
    for p in (path, Path(f"{path}.wal")):
        p.unlink(missing_ok=True)


def strict_message(report: IngestReport) -> str:
    shown = [str(p) for p in report.problems[:10]] + report.read_errors[:5]
    return (
        f"--strict: {report.malformed:,} malformed line(s) or work(s)"
        + (f" and {len(report.read_errors)} read error(s)" if report.read_errors else "")
        + "; nothing was ingested and the database is unchanged.\n  "
        + "\n  ".join(shown)
    )


def create_field_rules(con: duckdb.DuckDBPyConnection) -> None:
    """The relation `field_rules` of queries/ingest/works.sql: one row, the mapping's rules."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE field_rules AS SELECT CAST($rules AS {mapping.RULES_TYPE}) AS rules",
        {"rules": mapping.rules_value()},
    )


def _create_stage(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""CREATE TABLE scratch.stage (
        work_id VARCHAR, year INTEGER, title VARCHAR, updated_date TIMESTAMP, codes VARCHAR[],
        fields VARCHAR[], seq BIGINT)""")


# ---------------------------------------------------------------- reading


def _progress(enabled: bool) -> Any:
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn("[bold]ingest[/] {task.description}"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[works]:>12,} works  {task.fields[rate]:>9,.0f} works/s"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not enabled,
        transient=False,
    )


def _read_all(
    con: duckdb.DuckDBPyConnection,
    files: list[Path],
    workdir: Path,
    report: IngestReport,
    all_works: bool,
    strict: bool,
    progress: bool,
    chunk_bytes: int,
) -> None:
    """Each file in one scan by DuckDB (fast path); a file with any malformed line or work is read
    again in chunks of whole lines, so that each problem is found with its line number."""
    total = sum(f.stat().st_size for f in files)
    started = time.perf_counter()
    with _progress(progress) as bar:
        task = bar.add_task(files[0].name, total=total, works=0, rate=0.0)

        def show(done_bytes: int, works: int, name: str) -> None:
            elapsed = time.perf_counter() - started
            bar.update(
                task, completed=done_bytes, description=name, works=works, rate=works / elapsed if elapsed else 0.0
            )

        done = 0
        for index, path in enumerate(files):
            size = path.stat().st_size
            per_byte = _works_per_byte(path) if progress else 0.0

            # Progress callbacks for this file (defaults bind this iteration's values).
            def scanned(
                share: float, done: int = done, size: int = size, rate: float = per_byte, name: str = path.name
            ) -> None:
                show(done + int(share * size), report.works_read + int(share * size * rate), name)

            def read_to(position: int, done: int = done, name: str = path.name) -> None:
                show(done + position, report.works_read, name)

            if not _ingest_file(con, index, path, report, all_works, progress, scanned):
                _ingest_file_in_chunks(
                    con,
                    index,
                    path,
                    workdir,
                    report,
                    all_works,
                    strict,
                    chunk_bytes,
                    read_to,
                )
            done += size
            report.bytes += size
            show(done, report.works_read, path.name)
            if strict and (report.malformed or report.read_errors):
                return  # fail fast: nothing will be swapped in


def _works_per_byte(path: Path) -> float:
    """Lines per byte of the file as stored (compressed for .gz), from its first megabyte: the
    progress bar's works estimate while a file is scanned in one go (exact between files)."""
    import zlib

    with open(path, "rb") as f:
        head = f.read(1 << 20)
    if not head:
        return 0.0
    try:
        text = zlib.decompressobj(wbits=31).decompress(head) if head[:2] == b"\x1f\x8b" else head
    except zlib.error:
        return 0.0
    return text.count(b"\n") / len(head)


def _ingest_file(
    con: duckdb.DuckDBPyConnection,
    index: int,
    path: Path,
    report: IngestReport,
    all_works: bool,
    progress: bool,
    show: Callable[[float], None],
) -> bool:
    """The fast path for one file: DuckDB reads it whole (decompressing .gz itself). False when
    it can't (a malformed line, a wrong type) or a work lacks its id or year: the caller then
    reads the file in chunks to find each problem's line. Nothing is staged when False."""
    stop = threading.Event()

    def poll() -> None:  # DuckDB's own progress (share of the file scanned) for the bar
        while not stop.wait(0.2):
            try:
                share = con.query_progress()
            except duckdb.Error:
                return
            if share >= 0:
                show(min(share, 100.0) / 100)

    watcher = threading.Thread(target=poll, daemon=True) if progress else None
    if watcher:
        watcher.start()
    base = index << SEQ_FILE_SHIFT
    try:
        _read_json_view(con, path, base)
        _create(con, "TABLE scratch.file_works", "works", all_works)
    except duckdb.Error:
        con.execute("DROP TABLE IF EXISTS scratch.file_works")
        return False
    finally:
        stop.set()
        if watcher:
            watcher.join()
    try:
        if con.execute(
            "SELECT count(*) FROM scratch.file_works WHERE work_id = '' OR work_id IS NULL OR year IS NULL"
        ).fetchone()[0]:
            return False
        report.works_read += con.execute(f"""INSERT INTO scratch.stage
            SELECT {_STAGE_COLUMNS} FROM scratch.file_works""").fetchone()[0]
        return True
    finally:
        con.execute("DROP TABLE scratch.file_works")


def _ingest_file_in_chunks(
    con: duckdb.DuckDBPyConnection,
    index: int,
    path: Path,
    workdir: Path,
    report: IngestReport,
    all_works: bool,
    strict: bool,
    chunk_bytes: int,
    show: Callable[[int], None],
) -> None:
    reader = ChunkReader([path], workdir, chunk_bytes, first_index=index)
    for chunk in reader:
        try:
            if chunk.lines:
                _ingest_chunk(con, chunk, report, all_works)
        finally:
            reader.release(chunk)
        if chunk.error:
            report.read_errors.append(f"{chunk.path}:{chunk.first_line + chunk.lines}: {chunk.error}")
        show(chunk.position)
        if strict and (report.malformed or report.read_errors):
            return


_STAGE_COLUMNS = "work_id, year, title, updated_date, codes, fields, seq"


def _read_json_view(con: duckdb.DuckDBPyConnection, path: Path, base: int) -> None:
    """The relation `work_source` of queries/ingest/works.sql: DuckDB's JSON reader over one file
    (or chunk), only the COLUMNS collab reads; seq = base + the line's number (blank lines aside).
    A view's definition can't hold bound parameters, so the path goes in as a quoted literal. Hive
    partitioning is off: the snapshot's folders are named updated_date=..., which DuckDB would
    otherwise read as a column standing in for each work's own (more precise) updated_date."""
    con.execute(f"""CREATE OR REPLACE TEMP VIEW work_source AS
        SELECT *, {int(base)} + ordinality AS seq
        FROM read_json({derivation.sql_string(str(path))}, format = 'newline_delimited', columns = {_COLUMNS_SQL},
                       maximum_object_size = {MAX_OBJECT_BYTES}, hive_partitioning = false) WITH ORDINALITY""")


def _create(con: duckdb.DuckDBPyConnection, target: str, name: str, all_works: bool, order: str = "") -> None:
    """CREATE `target` ("TABLE x", "TEMP TABLE x") from queries/ingest/`name`.sql, run as written."""
    query = derivation.load(name)
    order_by = f"\nORDER BY {order}" if order else ""
    con.execute(
        f"CREATE OR REPLACE {target} AS SELECT * FROM (\n{query.text}\n){order_by}",
        query.values(query_params(all_works)),
    )


def _insert(con: duckdb.DuckDBPyConnection, table: str, name: str, all_works: bool, order: str = "") -> int:
    """INSERT the rows of queries/ingest/`name`.sql into `table` (columns matched by name)."""
    query = derivation.load(name)
    order_by = f"\nORDER BY {order}" if order else ""
    return con.execute(
        f"INSERT INTO {table} BY NAME SELECT * FROM (\n{query.text}\n){order_by}",
        query.values(query_params(all_works)),
    ).fetchone()[0]


def _ingest_chunk(con: duckdb.DuckDBPyConnection, chunk: Chunk, report: IngestReport, all_works: bool) -> None:
    file_base = chunk.file_index << SEQ_FILE_SHIFT
    fast = False
    assert chunk.data_path is not None  # a chunk with lines has its file
    try:  # Fast path: the whole chunk in one scan; its row i (from 1) is line first_line - 1 + i.
        _read_json_view(con, chunk.data_path, file_base + chunk.first_line - 1)
        _create(con, "TEMP TABLE works", "works", all_works)
        fast = con.execute("SELECT count(*) FROM works").fetchone()[0] == chunk.lines  # else: blank lines
    except duckdb.Error:
        pass
    if not fast:
        _parse_line_by_line(con, chunk, report, all_works)
    query = derivation.load("bad_works")
    bad = con.execute(f"SELECT * FROM (\n{query.text}\n) ORDER BY seq", query.values(query_params(all_works)))
    for seq, message in bad.fetchall():
        report.add_problem(Problem(str(chunk.path), int(seq) - file_base, "work", message))
    inserted = con.execute(f"""
        INSERT INTO scratch.stage
        SELECT {_STAGE_COLUMNS} FROM works
        WHERE work_id <> '' AND year IS NOT NULL""").fetchone()[0]
    report.works_read += inserted
    con.execute("DROP TABLE works")


def _parse_line_by_line(con: duckdb.DuckDBPyConnection, chunk: Chunk, report: IngestReport, all_works: bool) -> None:
    """The slow path: every line on its own, with its number; malformed ones reported."""
    data = read_chunk(chunk)
    base = (chunk.file_index << SEQ_FILE_SHIFT) + chunk.first_line  # line i (from 0) of the chunk: seq base + i
    rows: list[tuple[int, str]] | None = None  # None: the whole chunk is valid UTF-8
    text: str | None = None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        rows = []
        for i, raw in enumerate(data.split(b"\n")[: chunk.lines]):
            try:
                rows.append((i, raw.decode("utf-8")))
            except UnicodeDecodeError as error:
                report.add_problem(
                    Problem(
                        str(chunk.path),
                        chunk.first_line + i,
                        "line",
                        f"not UTF-8 ({error.reason} at byte {error.start})",
                    )
                )
    if rows is None:
        con.execute(
            """CREATE OR REPLACE TEMP TABLE lines AS
            SELECT unnest(range(len(l))) AS i, unnest(l) AS line FROM (SELECT string_split(?, chr(10)) AS l)""",
            [text],
        )
    else:
        con.execute("CREATE OR REPLACE TEMP TABLE lines (i BIGINT, line VARCHAR)")
        con.executemany("INSERT INTO lines VALUES (?, ?)", rows)
    con.execute(f"DELETE FROM lines WHERE i >= {chunk.lines} OR trim(line, ' \t\r') = ''")  # blank lines are not works
    con.execute(f"""CREATE OR REPLACE TEMP TABLE classified AS
        SELECT i, line, json_valid(line) AS valid,
               CASE WHEN json_valid(line) THEN json_type(line) END AS type,
               CASE WHEN json_valid(line) AND json_type(line) = 'OBJECT' THEN TRY(json_transform(line, '{_STRUCTURE}')) END AS w
        FROM lines""")
    con.execute("DROP TABLE lines")
    for i, line, valid, kind, _transformed in con.execute(
        "SELECT i, line, valid, type, w IS NOT NULL FROM classified WHERE NOT valid OR type <> 'OBJECT' OR w IS NULL ORDER BY i"
    ).fetchall():
        if not valid:
            report.add_problem(Problem(str(chunk.path), chunk.first_line + i, "line", _json_error(line)))
        elif kind != "OBJECT":
            report.add_problem(
                Problem(str(chunk.path), chunk.first_line + i, "work", f"a JSON {kind.lower()}, not a work object")
            )
        else:
            report.add_problem(Problem(str(chunk.path), chunk.first_line + i, "work", _transform_error(con, line)))
    wrong_type = " OR ".join(
        f"(w.{name} IS NULL AND coalesce(json_type(line, '$.{name}'), 'NULL') NOT IN ('NULL', 'ARRAY'))"
        for name in _LISTS
    )
    for i, line in con.execute(
        f"SELECT i, line FROM classified WHERE w IS NOT NULL AND ({wrong_type}) ORDER BY i"
    ).fetchall():
        names = [
            n for n in _LISTS if json.loads(line).get(n) is not None and not isinstance(json.loads(line).get(n), list)
        ]
        report.add_problem(Problem(str(chunk.path), chunk.first_line + i, "work", f"{', '.join(names)} not a list"))
    con.execute(f"""CREATE OR REPLACE TEMP VIEW work_source AS
        SELECT w.id AS id, w.publication_year AS publication_year, w.title AS title,
               w.updated_date AS updated_date, w.authorships AS authorships, w.concepts AS concepts,
               w.topics AS topics, w.keywords AS keywords, {base} + i AS seq
        FROM classified WHERE w IS NOT NULL AND NOT ({wrong_type})""")
    _create(con, "TEMP TABLE works", "works", all_works, order="seq")
    con.execute("DROP VIEW work_source")
    con.execute("DROP TABLE classified")


def _json_error(line: str) -> str:
    try:
        json.loads(line)
    except ValueError as error:
        return f"not JSON ({error})"
    return "not JSON (DuckDB can't read it)"


def _transform_error(con: duckdb.DuckDBPyConnection, line: str) -> str:
    try:
        con.execute(f"SELECT json_transform(?, '{_STRUCTURE}')", [line]).fetchall()
    except duckdb.Error as error:
        return f"can't be read as a work ({str(error).splitlines()[0][:200]})"
    return "can't be read as a work"


# ---------------------------------------------------------------- merging


def _merge(con: duckdb.DuckDBPyConnection, report: IngestReport, all_works: bool) -> None:
    """Newest copy per work wins (queries/ingest/latest.sql), also against the copy held; keep
    works in a field (or in `all`); map codes to alpha-3. The paper rows come from the same files
    the Spark engine runs."""
    con.execute("CREATE TEMP TABLE iso2 AS SELECT iso2, code FROM countries WHERE iso2 IS NOT NULL AND iso2 <> ''")
    con.execute("CREATE TEMP VIEW stage AS SELECT * FROM scratch.stage")
    staged = con.execute("SELECT count(*) FROM stage").fetchone()[0]
    report.not_in_a_field = con.execute("SELECT count(*) FROM stage WHERE len(fields) = 0").fetchone()[0]
    query = derivation.load("unknown_codes")
    report.unknown_codes = Counter(dict(con.execute(query.text).fetchall()))
    _create(con, "TEMP TABLE incoming", "latest", all_works)
    incoming = con.execute("SELECT count(*) FROM incoming").fetchone()[0]
    report.duplicates_in_input = staged - incoming
    _create(con, "TEMP TABLE work_countries", "work_countries", all_works)
    con.execute(f"""CREATE TEMP TABLE decided AS
        SELECT i.work_id, i.year, coalesce(i.title, p.title) AS title, i.updated_date, i.fields,
               coalesce(k.countries, 0) AS countries,
               p.work_id IS NOT NULL AS existed,
               CASE WHEN p.work_id IS NULL OR p.updated_date IS NULL THEN true
                    WHEN i.updated_date IS NULL THEN false
                    ELSE i.updated_date >= p.updated_date END AS newer,
               {"true" if all_works else "false"} OR coalesce(p.all_works, false) AS in_all,
               coalesce(p.all_works, false) AS was_in_all
        FROM incoming i
        LEFT JOIN papers p USING (work_id)
        LEFT JOIN (SELECT work_id, count(*) AS countries FROM work_countries GROUP BY work_id) AS k USING (work_id)""")
    con.execute("DROP VIEW stage")
    (report.added, report.replaced, report.older_than_stored, report.removed, no_country) = con.execute("""
        SELECT count(*) FILTER (WHERE NOT existed AND (len(fields) > 0 OR in_all)),
               count(*) FILTER (WHERE existed AND newer AND (len(fields) > 0 OR in_all)),
               count(*) FILTER (WHERE existed AND NOT newer),
               count(*) FILTER (WHERE existed AND newer AND len(fields) = 0 AND NOT in_all),
               count(*) FILTER (WHERE newer AND countries = 0 AND (len(fields) > 0 OR in_all))
        FROM decided""").fetchone()
    report.without_country = no_country
    # Older than the stored copy: keep the stored one, but --all-works still puts it in `all`.
    con.execute("""CREATE TEMP TABLE into_all AS
        SELECT work_id FROM decided WHERE existed AND NOT newer AND in_all AND NOT was_in_all""")
    con.execute("UPDATE papers SET all_works = true WHERE work_id IN (SELECT work_id FROM into_all)")
    con.execute("INSERT INTO paper_fields SELECT work_id, ? FROM into_all", [mapping.ALL_WORKS])
    # Newer copies replace (or remove) the stored ones.
    con.execute("CREATE TEMP TABLE gone AS SELECT work_id FROM decided WHERE existed AND newer")
    for table in papers.PAPER_TABLES:
        con.execute(f"DELETE FROM {table} WHERE work_id IN (SELECT work_id FROM gone)")
    con.execute("""CREATE TEMP TABLE kept AS
        SELECT work_id, year, title, updated_date, fields, in_all FROM decided
        WHERE newer AND (len(fields) > 0 OR in_all)""")
    _insert(con, "papers", "papers", all_works, order="work_id")
    _insert(con, "paper_countries", "paper_countries", all_works, order="work_id, country")
    _insert(con, "paper_fields", "paper_fields", all_works)
    for name in ("incoming", "work_countries", "decided", "into_all", "gone", "kept", "iso2"):
        con.execute(f"DROP TABLE {name}")
