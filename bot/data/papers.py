"""The paper-level tables in the analytics DuckDB, the aggregates derived from them, and the lock
that lets one writer (a build or an ingest) at a time replace the file.

Shared by bot/data/build.py (a rebuild carries the papers over) and bot/data/ingest/ (which writes
them), so neither of those imports the other.

Paper-level sources keep three tables in the analytics file itself (so one atomic rename swaps
papers and aggregates together, and a serving bot never sees them disagree):

    papers(work_id, year, title, updated_date, countries, all_works)   -- countries: how many
    paper_countries(work_id, country)      -- ISO alpha-3, distinct per work
    paper_fields(work_id, field)           -- collab field codes, distinct per work

From them `derive()` recomputes every aggregate with source = 'openalex', the same shapes the
engine answers from:

- pairs: one row per unordered country pair (country_a < country_b), field and year.
  joint_articles is the full count (papers with authors in both countries). fractional_articles
  weighs each paper by 1/(k-1) in each of its pairs, k = its number of countries: a paper with
  k countries has k(k-1)/2 pairs and each country is in k-1 of them, so each country's fractional
  links from one paper add up to exactly 1 (the paper's total over all pairs is k/2).
- country_articles: articles (papers with an author in the country) and international_articles
  (those with at least one author in another country), exact counts.
- complete: publication lag makes the latest years incomplete. OpenAlex works are complete up to
  the year before last relative to the snapshot's date (the latest updated_date of any work held):
  with works updated in 2025, the years 2024 and 2025 are marked incomplete, as in ETO's release.
  The snapshot date is used rather than the latest publication year because OpenAlex holds works
  dated in the future (forthcoming issues) and old slices whose latest year is long complete.
- datasets: one row named "openalex".

There is no publication floor: every pair-year with at least one joint paper is a row.
`collab build` rebuilds from the ETO files and calls `carry_over()` to copy the paper tables from
the file it replaces and derive the aggregates again, so a rebuild never loses ingested papers.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from bot.data import derivation

SOURCE = "openalex"
PAPER_TABLES = ("papers", "paper_countries", "paper_fields")
AGGREGATE_ORDER = {"pairs": "field, year, country_a, country_b", "country_articles": "field, year, country"}
DATASET = {
    "name": "openalex",
    "source": SOURCE,
    "title": "OpenAlex works",
    "publisher": "OurResearch (OpenAlex)",
    "licence": "CC0",
    "citation": (
        "Priem, J., Piwowar, H., & Orr, R. (2022). OpenAlex: A fully-open index of scholarly works, "
        "authors, venues, institutions, and concepts. arXiv:2205.01833"
    ),
    "url": "https://openalex.org (snapshot: https://docs.openalex.org/download-all-data/openalex-snapshot)",
}

_DDL = {
    "papers": """CREATE TABLE IF NOT EXISTS papers (
        work_id VARCHAR NOT NULL, year INTEGER NOT NULL, title VARCHAR, updated_date TIMESTAMP,
        countries INTEGER NOT NULL, all_works BOOLEAN NOT NULL)""",
    "paper_countries": "CREATE TABLE IF NOT EXISTS paper_countries (work_id VARCHAR NOT NULL, country VARCHAR NOT NULL)",
    "paper_fields": "CREATE TABLE IF NOT EXISTS paper_fields (work_id VARCHAR NOT NULL, field VARCHAR NOT NULL)",
}


def create_paper_tables(con: duckdb.DuckDBPyConnection) -> None:
    for ddl in _DDL.values():
        con.execute(ddl)


def has_paper_tables(con: duckdb.DuckDBPyConnection, catalog: str = "main") -> bool:
    found = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'main'", [catalog]
        ).fetchall()
    }
    return set(PAPER_TABLES) <= found


def carry_over(con: duckdb.DuckDBPyConnection, old_path: Path, log: Callable[[str], None] = print) -> int:
    """In a database being built: create the paper tables, copy them from `old_path` (the file
    about to be replaced) when it has any, and derive the aggregates again. Returns papers copied."""
    create_paper_tables(con)
    if not Path(old_path).exists():
        return 0
    try:
        con.execute("ATTACH ? AS previous (READ_ONLY)", [str(old_path)])
    except duckdb.Error as error:
        log(f"kept no ingested papers: the previous database can't be read ({type(error).__name__})")
        return 0
    try:
        if not has_paper_tables(con, "previous"):
            return 0
        loaded_at = con.execute("SELECT max(loaded_at) FROM previous.datasets WHERE source = ?", [SOURCE]).fetchone()[0]
        for table in PAPER_TABLES:
            columns = ", ".join(
                r[0]
                for r in con.execute(
                    "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() AND table_name = ? "
                    "ORDER BY column_index",
                    [table],
                ).fetchall()
            )
            con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM previous.{table}")
    finally:
        con.execute("DETACH previous")
    papers = con.execute("SELECT count(*) FROM papers").fetchone()[0]
    if papers:
        derive(con, loaded_at=loaded_at)
        log(f"kept {papers:,} ingested OpenAlex papers and derived their aggregates again")
    return papers


def first_incomplete_year(latest: datetime | None) -> int:
    """The first publication year marked incomplete: the year before the snapshot's (the latest
    updated_date of any work held), or before this year's when no work has a date."""
    return (latest or datetime.now(UTC)).year - 1


def clear_aggregates(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DELETE FROM pairs WHERE source = ?", [SOURCE])
    con.execute("DELETE FROM country_articles WHERE source = ?", [SOURCE])
    con.execute("DELETE FROM datasets WHERE name = ?", [DATASET["name"]])


def link_partners(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)write partner_links, every pair-year of `pairs` in both orientations (country, partner),
    and the serving tables the answers read: link_years (LINK_YEARS) and country_years (COUNTRY_YEARS).

    A table rather than a view: DuckDB plans every answer afresh, and binding a two-branch view at
    each of its uses costs an answer about a tenth of its time. So every writer of `pairs` (a build,
    derive(), a Parquet load) calls this after it. Sorted so a country's rows sit together.
    """
    legacy = con.execute(
        "SELECT count(*) FROM duckdb_views() WHERE database_name = current_database() AND view_name = 'partner_links'"
    ).fetchone()[0]
    if legacy:  # a database built before schema 3 held it as a view
        con.execute("DROP VIEW partner_links")
    con.execute("""CREATE OR REPLACE TABLE partner_links AS
        SELECT * FROM (
            SELECT country_a AS country, country_b AS partner, field, year, joint_articles, fractional_articles, complete, source
            FROM pairs
            UNION ALL
            SELECT country_b, country_a, field, year, joint_articles, fractional_articles, complete, source FROM pairs
        ) ORDER BY source, field, country, year, partner""")
    con.execute(FIELD_YEARS)
    con.execute(LINK_YEARS)
    bits = con.execute("SELECT count(*) FROM countries").fetchone()[0]  # bitstring_agg takes its range as constants
    con.execute(COUNTRY_YEARS.format(bits=bits))


# The years each field's pair data covers (articles may start earlier: ETO's llm), complete only if
# both its pairs and its article counts are: every year an answer lists, read without a scan of pairs.
FIELD_YEARS = """CREATE OR REPLACE TABLE field_years AS
SELECT p.field, p.source, p.year, bool_and(p.complete) AND coalesce(bool_and(a.complete), true) AS complete
FROM pairs AS p
LEFT JOIN country_articles AS a ON a.field = p.field AND a.source = p.source AND a.year = p.year
GROUP BY ALL
ORDER BY source, field, year"""

# Every (country, partner) pair with a published pair-year, in every year its field's pairs cover,
# with that year's totals beside it: an answer over any span is then one scan and one GROUP BY, with
# no join or window for DuckDB to plan (planning, not reading, is what an answer costs). A year the
# pair was not published has joint_articles NULL; the totals are there whatever the pair's count.
LINK_YEARS = """CREATE OR REPLACE TABLE link_years AS
WITH linked AS (SELECT DISTINCT country, partner, field, source FROM partner_links),
volume AS (
    SELECT country, field, source, year, CAST(sum(joint_articles) AS DOUBLE) AS links
    FROM partner_links GROUP BY ALL
),
total AS (SELECT field, source, year, sum(links) AS links FROM volume GROUP BY ALL),
lead AS (SELECT country, field, source, min(partner) AS partner FROM linked GROUP BY ALL),
memberships AS (SELECT country, list(group_code ORDER BY group_code) AS groups FROM country_groups GROUP BY country)
SELECT k.country, own.name AS country_name, coalesce(cg.groups, []) AS country_groups,
       k.partner, c.name AS partner_name, coalesce(pg.groups, []) AS partner_groups, k.field, k.source, y.year, y.complete,
       l.joint_articles, l.fractional_articles,
       vc.links AS country_links, vp.links AS partner_links, t.links AS total_links,
       ca.articles AS country_articles, ca.international_articles AS country_international_articles,
       pa.articles AS partner_articles,
       k.partner = lead.partner AS lead
FROM linked AS k
JOIN field_years AS y ON y.field = k.field AND y.source = k.source
JOIN countries AS own ON own.code = k.country
JOIN countries AS c ON c.code = k.partner
JOIN lead ON lead.country = k.country AND lead.field = k.field AND lead.source = k.source
LEFT JOIN memberships AS cg ON cg.country = k.country
LEFT JOIN memberships AS pg ON pg.country = k.partner
LEFT JOIN partner_links AS l
    ON l.country = k.country AND l.partner = k.partner AND l.field = k.field AND l.source = k.source AND l.year = y.year
LEFT JOIN volume AS vc ON vc.country = k.country AND vc.field = k.field AND vc.source = k.source AND vc.year = y.year
LEFT JOIN volume AS vp ON vp.country = k.partner AND vp.field = k.field AND vp.source = k.source AND vp.year = y.year
LEFT JOIN total AS t ON t.field = k.field AND t.source = k.source AND t.year = y.year
LEFT JOIN country_articles AS ca
    ON ca.country = k.country AND ca.field = k.field AND ca.source = k.source AND ca.year = y.year
LEFT JOIN country_articles AS pa
    ON pa.country = k.partner AND pa.field = k.field AND pa.source = k.source AND pa.year = y.year
ORDER BY k.source, k.field, k.country, k.partner, y.year"""

# link_years summed over partners: each country with a published pair-year, in every year of the field
# and source, with its links, the partners it was published with and its articles that year. The
# partners also as bits (bit i: the i-th country by code), so distinct partners over a span are
# bit_count(bit_or(partner_bits)): list_distinct(flatten(list(…))) costs a ranking a fifth of its time.
COUNTRY_YEARS = """CREATE OR REPLACE TABLE country_years AS
WITH numbered AS (SELECT code, row_number() OVER (ORDER BY code) AS bit FROM countries)
SELECT l.country, l.country_name, l.country_groups, l.field, l.source, l.year, bool_and(l.complete) AS complete,
       CAST(sum(l.joint_articles) AS BIGINT) AS links,
       list(l.partner ORDER BY l.partner) FILTER (WHERE l.joint_articles IS NOT NULL) AS partners,
       bitstring_agg(n.bit, 1, {bits}) FILTER (WHERE l.joint_articles IS NOT NULL) AS partner_bits,
       max(l.country_articles) AS articles,
       max(l.country_international_articles) AS international_articles
FROM link_years AS l
JOIN numbered AS n ON n.code = l.partner
GROUP BY l.country, l.country_name, l.country_groups, l.field, l.source, l.year
ORDER BY source, field, country, year"""


def derive(con: duckdb.DuckDBPyConnection, loaded_at: datetime | None = None) -> dict[str, int]:
    """Recompute every source='openalex' aggregate and the datasets row from the paper tables."""
    clear_aggregates(con)
    papers, latest = con.execute("SELECT count(*), max(updated_date) FROM papers").fetchone()
    if not papers:
        link_partners(con)
        return {"papers": 0, "pairs": 0, "country_articles": 0}
    params = {"first_incomplete": first_incomplete_year(latest), "source": SOURCE}
    for table, order in AGGREGATE_ORDER.items():
        query = derivation.load(table)  # queries/ingest/pairs.sql, country_articles.sql: the Spark engine runs them too
        con.execute(
            f"INSERT INTO {table} BY NAME SELECT * FROM (\n{query.text}\n) ORDER BY {order}", query.values(params)
        )
    link_partners(con)
    return record_dataset(con, loaded_at)


def record_dataset(con: duckdb.DuckDBPyConnection, loaded_at: datetime | None = None) -> dict[str, int]:
    """The datasets row of source 'openalex' (release, years, content hash) from the paper tables
    and aggregates held; the counts of each."""
    papers, latest, first, last = con.execute(
        "SELECT count(*), max(updated_date), min(year), max(year) FROM papers"
    ).fetchone()
    incomplete = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT year FROM papers WHERE year >= ? ORDER BY year", [first_incomplete_year(latest)]
        ).fetchall()
    ]
    release = f"works updated to {latest:%Y-%m-%d}" if latest else f"ingested {datetime.now(UTC):%Y-%m-%d}"
    digest = hashlib.sha256()
    for table in PAPER_TABLES:
        digest.update(repr(con.execute(f"SELECT count(*), sum(hash(COLUMNS(*))) FROM {table}").fetchone()).encode())
    con.execute(
        "INSERT INTO datasets VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            DATASET["name"],
            DATASET["source"],
            DATASET["title"],
            DATASET["publisher"],
            release,
            DATASET["licence"],
            DATASET["citation"],
            DATASET["url"],
            papers,
            first,
            last,
            incomplete,
            digest.hexdigest()[:12],
            loaded_at or datetime.now(UTC),
        ],
    )
    counts = {"papers": papers}
    for table in AGGREGATE_ORDER:
        counts[table] = con.execute(f"SELECT count(*) FROM {table} WHERE source = ?", [SOURCE]).fetchone()[0]
    return counts


def refresh_data_version(con: duckdb.DuckDBPyConnection) -> str:
    """build_info.data_version from every dataset's content hash (the formula `collab build` uses)."""
    hashes = [r[0] for r in con.execute("SELECT content_hash FROM datasets ORDER BY name").fetchall()]
    version = hashlib.sha256("".join(hashes).encode()).hexdigest()[:12]
    con.execute("UPDATE build_info SET value = ? WHERE key = 'data_version'", [version])
    return version


# ---------------------------------------------------------------- one writer at a time

_local = threading.local()


@contextmanager
def writer_lock(db_path: Path) -> Iterator[None]:
    """Serialise writers (build, ingest) of one database file, across processes and threads
    (flock on a lock file beside it); re-entrant within a thread. Readers never take it: they keep
    reading the old file until the rename."""
    lock_path = Path(db_path).with_name(f".{Path(db_path).name}.lock")  # stays; empty
    key = str(lock_path.resolve())
    held: dict[str, int] = _local.__dict__.setdefault("held", {})
    if held.get(key):
        held[key] += 1
        try:
            yield
        finally:
            held[key] -= 1
        return
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        held[key] = 1
        try:
            yield
        finally:
            held.pop(key, None)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
