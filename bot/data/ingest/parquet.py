"""`collab ingest parquet DIR`: load what `ingest openalex --engine spark --out DIR` wrote.

DIR holds one Parquet folder per table (papers, paper_countries, paper_fields, pairs and
country_articles, the last two partitioned by field) and manifest.json. The load goes through the
same atomic swap as the local ingest (openalex.swapped_database): the database's OpenAlex papers
and aggregates are replaced by DIR's, the datasets row and the data version are written as the
local ingest writes them, and `about` and every verb answer from it unchanged. A Spark derivation
covers all of its input, so the directory replaces what was held rather than merging into it;
a derivation of no papers is refused while the database holds some (it would empty it).

Every table's row count is checked against the manifest before the swap, so a directory copied
half-way fails instead of loading.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from bot.config import Settings
from bot.data import derivation, papers
from bot.data.ingest.openalex import IngestError, IngestReport, Problem, swapped_database

SCHEMA_VERSION = 1  # of the directory: spark.py writes it, this module reads it
MANIFEST = "manifest.json"
TABLES = (*papers.PAPER_TABLES, *papers.AGGREGATE_ORDER)
_ORDER = {"papers": "work_id", "paper_countries": "work_id, country", "paper_fields": "work_id, field"}


def read_manifest(directory: Path) -> dict[str, Any]:
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise IngestError(
            f"{directory} has no {MANIFEST}: it is not a directory written by "
            "`collab ingest openalex ... --engine spark --out DIR`."
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise IngestError(f"{path} is not valid JSON ({error}).") from None
    if manifest.get("source") != papers.SOURCE or manifest.get("schema_version") != SCHEMA_VERSION:
        raise IngestError(
            f"{path} describes source {manifest.get('source')!r}, schema version {manifest.get('schema_version')!r}; "
            f"this collab loads source {papers.SOURCE!r}, schema version {SCHEMA_VERSION}."
        )
    return manifest


def _files(directory: Path, table: str, expected: int) -> str | None:
    """The glob of a table's Parquet files; None for a table with no rows (Spark writes no file
    for an empty partitioned table)."""
    folder = Path(directory) / table
    if not folder.is_dir() or (not any(folder.rglob("*.parquet")) and expected):
        raise IngestError(f"{folder} holds no Parquet files; the directory is incomplete.")
    if not any(folder.rglob("*.parquet")):
        return None
    return derivation.sql_string(str(folder / "**" / "*.parquet"))


def load_parquet(
    directory: Path, db_path: Path, *, memory_limit: str = Settings().ingest_memory, log: Callable[[str], None] = print
) -> IngestReport:
    """Replace the database's OpenAlex papers and aggregates with `directory`'s (atomically).
    The database must exist (`collab build` makes it)."""
    started = time.perf_counter()
    directory = Path(directory)
    manifest = read_manifest(directory)
    db_path = Path(db_path)
    report = report_from_manifest(manifest)
    report.database = str(db_path)
    report.loaded_from = str(directory)
    with swapped_database(db_path, memory_limit) as (con, _):
        report.held_before = con.execute("SELECT count(*) FROM papers").fetchone()[0] or None
        if report.held_before and not manifest["counts"].get("papers"):
            raise IngestError(empty_derivation_message(report, report.held_before))
        papers.clear_aggregates(con)
        for table in papers.PAPER_TABLES:
            con.execute(f"DELETE FROM {table}")
        for table in TABLES:
            order = _ORDER.get(table) or papers.AGGREGATE_ORDER[table]
            expected = manifest["counts"].get(table)
            files = _files(directory, table, expected)
            if files is None:
                continue
            try:
                loaded = con.execute(
                    f"INSERT INTO {table} BY NAME SELECT * FROM read_parquet({files}, hive_partitioning = true) "
                    f"ORDER BY {order}"
                ).fetchone()[0]
            except duckdb.Error as error:
                raise IngestError(f"{directory / table} can't be loaded: {str(error).splitlines()[0]}") from None
            if loaded != expected:
                raise IngestError(
                    f"{directory / table} holds {loaded:,} rows, its manifest says {expected:,}; "
                    "the directory is incomplete (copied half-way?). Nothing was loaded."
                )
        papers.link_partners(con)
        counts = papers.record_dataset(con)
    report.papers, report.pairs, report.country_articles = counts["papers"], counts["pairs"], counts["country_articles"]
    report.seconds = time.perf_counter() - started
    return report


def empty_derivation_message(report: IngestReport, held: int) -> str:
    """Why a derivation of no papers is not loaded over held ones: what its input lacked."""
    if report.works_read == 0:
        found = f"the derivation read no valid work from its {report.files:,} file(s)"
        if report.malformed:
            found += f": {report.malformed_lines:,} malformed line(s) and {report.malformed_works:,} malformed work(s)"
            if report.problems:
                found += f" (first: {report.problems[0]})"
        found += "; OpenAlex works files hold one JSON work object a line"
    else:
        found = (
            f"none of the {report.works_read:,} works the derivation read is in an AI field (--all-works keeps them)"
        )
    return (
        f"{found}; loading it would remove the {held:,} OpenAlex paper(s) the database holds, "
        "so nothing was loaded and the database is unchanged."
    )


def report_from_manifest(manifest: dict[str, Any]) -> IngestReport:
    """The derivation's report as the manifest keeps it (the summary the local ingest prints)."""
    counts = manifest["counts"]
    report = IngestReport(
        files=counts["files"],
        works_read=counts["works_read"],
        malformed_lines=counts["malformed_lines"],
        malformed_works=counts["malformed_works"],
        duplicates_in_input=counts["duplicates_in_input"],
        not_in_a_field=counts["not_in_a_field"],
        without_country=counts["without_country"],
        added=counts["papers"],
        all_works=manifest["all_works"],
        unknown_codes=Counter(manifest.get("unknown_codes", {})),
    )
    report.problems = [Problem(**problem) for problem in manifest.get("problems", [])]
    return report
