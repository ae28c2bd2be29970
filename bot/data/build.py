"""Build the analytics DuckDB file from the shipped data: `collab build`.

The file is written under a temporary name and renamed into place, so a reader never sees half a
database. Every source name must map to a country or a known group, else the build fails and names
the strays: a new release never loses rows silently.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from bot.config import Settings
from bot.data import papers
from bot.errors import DataUnavailable
from bot.paths import ETO_DIR, source_files
from bot.reference import countries as country_ref
from bot.reference import fields as field_ref

# 2: paper-level tables (papers, paper_countries, paper_fields); 3: partner_links a table; 4: link_years;
# 5: field_years, country_years.partner_bits
SCHEMA_VERSION = "5"
CROSS_BORDER = "cross_border"
ACTIVITY = "activity"
DEFAULTS = Settings()


class BuildError(Exception):
    """The shipped data cannot be built as it is (unknown names, disagreeing rows)."""


@dataclass(frozen=True)
class Dataset:
    name: str
    source: str
    title: str
    publisher: str
    release: str
    licence: str
    citation: str
    url: str


ETO_CROSS_BORDER = Dataset(
    name="eto_cross_border",
    source="eto",
    title="ETO Cross-Border Tech Research Metrics",
    publisher="Emerging Technology Observatory (CSET, Georgetown University)",
    release="files dated 2026-04-13",
    licence="CC BY-NC 4.0 (assumed: the files state none; it is ETO's licence for its sibling dataset)",
    citation="Emerging Technology Observatory, Cross-Border Tech Research Metrics",
    url="https://eto.tech/dataset-docs/cross-border-tech-research-metrics/ (Zenodo concept DOI 10.5281/zenodo.14058168)",
)
ETO_COUNTRY_ACTIVITY = Dataset(
    name="eto_country_activity",
    source="eto",
    title="ETO Country AI Activity Metrics",
    publisher="Emerging Technology Observatory (CSET, Georgetown University)",
    release="April 2026",  # the years are the data's own (datasets.first_year, last_year)
    licence="CC BY-NC 4.0",
    citation="Emerging Technology Observatory Country Activity Tracker: Artificial Intelligence",
    url="https://eto.tech/dataset-docs/country-ai-activity-metrics/",
)


def is_stale(path: Path, memory_limit: str = DEFAULTS.memory_limit) -> bool:
    """True when the database is missing, from another schema, or older than a source file.

    `memory_limit` must match any Database this process holds open on the file (DuckDB refuses a second
    configuration for one file).
    """
    if not path.exists():
        return True
    built = path.stat().st_mtime
    if any(f.stat().st_mtime > built for f in source_files()):
        return True
    try:
        from bot.engine.db import sandbox_config  # the same settings as a serving Database, which may hold the file

        with duckdb.connect(str(path), read_only=True, config=sandbox_config(memory_limit)) as con:
            row = con.execute("SELECT value FROM build_info WHERE key = 'schema_version'").fetchone()
    except duckdb.Error:
        return True
    return row is None or row[0] != SCHEMA_VERSION


def build(path: Path, log: Callable[[str], None] = print) -> Path:

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DataUnavailable(
            f"The database can't be written at {path} ({error.strerror or error}). Set COLLAB_DB to a file in a "
            "folder you can write to (the README's settings table), or run collab from the project's folder."
        ) from None
    _check_replaceable(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.building")
    with papers.writer_lock(path):  # one writer at a time: an ingest can't be lost to a rebuild
        temporary.unlink(missing_ok=True)
        try:
            with duckdb.connect(str(temporary)) as con:
                _load_reference_tables(con)
                _load_cross_border(con, log)
                _load_country_activity(con, log)
                papers.carry_over(con, path, log)  # ingested papers survive a rebuild
                papers.link_partners(con)
                _write_build_info(con)
                con.execute("CHECKPOINT")
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
            Path(f"{temporary}.wal").unlink(missing_ok=True)
    log(f"built {path}")
    return path


def _check_replaceable(path: Path) -> None:
    """A build replaces the file at `path`: only a DuckDB database collab built, or a damaged one (it
    can't be opened, or is named .duckdb but isn't one), never another file a mistyped COLLAB_DB names."""
    if not path.exists():
        return
    where = f"{path} (COLLAB_DB or the default path)"
    if not path.is_file():
        raise DataUnavailable(f"{where} is not a file. Set COLLAB_DB to a database file, e.g. data/collab.duckdb.")
    with path.open("rb") as file:
        is_duckdb = file.read(12)[8:12] == b"DUCK"  # DuckDB's magic bytes, after the header's checksum
    if not is_duckdb:
        if path.suffix == ".duckdb":
            return  # a database file by name whose content is not one (a bad copy): a rebuild repairs it
        raise DataUnavailable(
            f"{where} is not a DuckDB database, so collab won't replace it. Set COLLAB_DB to a new file or to "
            "collab's database (a .duckdb file)."
        )
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            ours = con.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND table_name = 'build_info'"
            ).fetchone()[0]
    except duckdb.Error:
        return  # damaged, another version, or open here with other settings: a rebuild is what it needs
    if not ours:
        raise DataUnavailable(
            f"{where} is a DuckDB database that collab did not build, so collab won't replace it. Set COLLAB_DB "
            "to a new file or to collab's database."
        )


def ensure_built(path: Path, log: Callable[[str], None] = print, memory_limit: str = DEFAULTS.memory_limit) -> Path:
    """Build the database at `path` unless it is already current."""
    if is_stale(path, memory_limit):
        build(path, log)
    return path


def _load_reference_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "CREATE TABLE countries (code VARCHAR PRIMARY KEY, iso2 VARCHAR, name VARCHAR, region VARCHAR, subregion VARCHAR)"
    )
    con.executemany(
        "INSERT INTO countries VALUES (?, ?, ?, ?, ?)",
        [(c.code, c.iso2, c.name, c.region, c.subregion) for c in country_ref.all_countries().values()],
    )
    con.execute("CREATE TABLE groups (code VARCHAR PRIMARY KEY, kind VARCHAR, name VARCHAR, definition VARCHAR)")
    con.execute("CREATE TABLE country_groups (group_code VARCHAR, country VARCHAR)")
    groups = country_ref.all_groups().values()
    con.executemany("INSERT INTO groups VALUES (?, ?, ?, ?)", [(g.code, g.kind, g.name, g.definition) for g in groups])
    con.executemany(
        "INSERT INTO country_groups VALUES (?, ?)", [(g.code, m) for g in groups for m in sorted(g.members)]
    )
    con.execute("CREATE TABLE fields (code VARCHAR PRIMARY KEY, name VARCHAR, description VARCHAR)")
    con.executemany(
        "INSERT INTO fields VALUES (?, ?, ?)",
        [(f.code, f.name, f.description) for f in field_ref.all_fields().values()],
    )
    # Every spelling the sources use, mapped to a code; the joins below go through this table only.
    con.execute(
        "CREATE TEMP TABLE source_names (dataset VARCHAR, source_name VARCHAR, code VARCHAR, is_country BOOLEAN)"
    )
    rows = []
    for c in country_ref.all_countries().values():
        if c.eto_cross_border_name:
            rows.append((CROSS_BORDER, c.eto_cross_border_name, c.code, True))
        if c.eto_activity_name:
            rows.append((ACTIVITY, c.eto_activity_name, c.code, True))
    for g in country_ref.all_groups().values():
        if g.eto_activity_name:
            rows.append((ACTIVITY, g.eto_activity_name, g.code, False))
    con.executemany("INSERT INTO source_names VALUES (?, ?, ?, ?)", rows)
    con.execute("CREATE TEMP TABLE field_names (dataset VARCHAR, source_name VARCHAR, code VARCHAR)")
    field_rows = []
    for f in field_ref.all_fields().values():
        if f.eto_cross_border_name:
            field_rows.append((CROSS_BORDER, f.eto_cross_border_name, f.code))
        if f.eto_activity_name:
            field_rows.append((ACTIVITY, f.eto_activity_name, f.code))
    con.executemany("INSERT INTO field_names VALUES (?, ?, ?)", field_rows)


def _fail_on_unknown_names(con: duckdb.DuckDBPyConnection, dataset: str, names_sql: str, what: str) -> None:
    """names_sql selects one column of source spellings; each must be in the mapping table."""
    table = "field_names" if what == "field" else "source_names"
    unknown = [
        r[0]
        for r in con.execute(
            f"SELECT DISTINCT n FROM ({names_sql}) AS t(n) WHERE n NOT IN "
            f"(SELECT source_name FROM {table} WHERE dataset = ?) ORDER BY n",
            [dataset],
        ).fetchall()
    ]
    if unknown:
        raise BuildError(
            f"{len(unknown)} {what} name(s) in the {dataset} data map to nothing in data/"
            f"{'fields' if what == 'field' else 'countries or groups'}.csv: {', '.join(map(repr, unknown))}. "
            "Add them to the reference table (as a country, an alias or a group) and build again."
        )


def _load_cross_border(con: duckdb.DuckDBPyConnection, log: Callable[[str], None]) -> None:
    files = sorted(str(p) for p in (ETO_DIR / "cross-border").glob("*.csv"))
    if not files:
        raise BuildError(f"no cross-border files in {ETO_DIR / 'cross-border'}")
    con.execute(
        "CREATE TEMP TABLE raw_pairs (country1 VARCHAR, country2 VARCHAR, field VARCHAR, year INTEGER, "
        "num_articles INTEGER, complete BOOLEAN)"
    )
    for file in files:  # one file at a time: format detection (line endings, quoting) is per file
        before = con.execute("SELECT count(*) FROM raw_pairs").fetchone()[0]
        con.execute(
            "INSERT INTO raw_pairs SELECT * FROM read_csv(?, header = true, columns = {"
            "'country1': 'VARCHAR', 'country2': 'VARCHAR', 'field': 'VARCHAR', 'year': 'INTEGER', "
            "'num_articles': 'INTEGER', 'complete': 'BOOLEAN'})",
            [file],
        )
        loaded = con.execute("SELECT count(*) FROM raw_pairs").fetchone()[0] - before
        expected = _csv_rows(file)
        if loaded != expected:
            raise BuildError(f"{Path(file).name}: read {loaded:,} rows but the file has {expected:,}")
    _fail_on_unknown_names(
        con, CROSS_BORDER, "SELECT country1 FROM raw_pairs UNION SELECT country2 FROM raw_pairs", "country"
    )
    _fail_on_unknown_names(con, CROSS_BORDER, "SELECT field FROM raw_pairs", "field")
    groups_in_pairs = con.execute(
        "SELECT DISTINCT source_name FROM source_names WHERE dataset = ? AND NOT is_country "
        "AND source_name IN (SELECT country1 FROM raw_pairs UNION SELECT country2 FROM raw_pairs)",
        [CROSS_BORDER],
    ).fetchall()
    if groups_in_pairs:
        raise BuildError(f"cross-border rows name groups, not countries: {groups_in_pairs}")
    # Each unordered pair-year once, from whichever orientation(s) the file lists.
    con.execute("""
        CREATE TEMP TABLE oriented AS
        SELECT least(a.code, b.code) AS country_a, greatest(a.code, b.code) AS country_b, f.code AS field,
               r.year, r.num_articles, r.complete
        FROM raw_pairs r
        JOIN source_names a ON a.dataset = 'cross_border' AND a.source_name = r.country1
        JOIN source_names b ON b.dataset = 'cross_border' AND b.source_name = r.country2
        JOIN field_names f ON f.dataset = 'cross_border' AND f.source_name = r.field
    """)
    disagreeing = con.execute("""
        SELECT country_a, country_b, field, year, list(DISTINCT num_articles) FROM oriented
        GROUP BY ALL HAVING count(DISTINCT num_articles) > 1 OR count(DISTINCT complete) > 1 LIMIT 5
    """).fetchall()
    if disagreeing:
        raise BuildError(f"the two orientations of some pair-years disagree: {disagreeing}")
    con.execute("""
        CREATE TABLE pairs AS
        SELECT country_a, country_b, field, year, any_value(num_articles) AS joint_articles,
               CAST(NULL AS DOUBLE) AS fractional_articles, bool_and(complete) AS complete,
               'eto' AS source
        FROM oriented GROUP BY country_a, country_b, field, year
        ORDER BY field, year, country_a, country_b
    """)
    raw = con.execute("SELECT count(*) FROM raw_pairs").fetchone()[0]
    kept = con.execute("SELECT count(*) FROM pairs").fetchone()[0]
    both = con.execute(
        "SELECT count(*) FROM (SELECT 1 FROM oriented GROUP BY country_a, country_b, field, year HAVING count(*) > 1)"
    ).fetchone()
    _record_dataset(con, ETO_CROSS_BORDER, files, "pairs", kept)
    log(
        f"loaded {ETO_CROSS_BORDER.title}: {len(files)} files, {raw:,} rows -> {kept:,} pair-years "
        f"(listed in both orientations: {both[0]:,})"
    )


def _csv_rows(path: str) -> int:
    """Data rows of a CSV file, counted independently of DuckDB's reader."""
    import csv

    with open(path, newline="", encoding="utf-8") as f:
        return sum(1 for _ in csv.reader(f)) - 1


def _activity_csv(name: str) -> str:
    return str(ETO_DIR / "country-activity" / name)


def _load_country_activity(con: duckdb.DuckDBPyConnection, log: Callable[[str], None]) -> None:
    read = "read_csv(?, header = true)"
    files = {
        "articles": _activity_csv("publications_yearly_articles.csv"),
        "citations": _activity_csv("publications_yearly_citations.csv"),
        "patents": _activity_csv("patents_yearly_applications.csv"),
        "investment": _activity_csv("companies_yearly_estimated.csv"),
        "publication_totals": _activity_csv("publications_summary.csv"),
        "patent_totals": _activity_csv("patents_summary.csv"),
        "investment_totals": _activity_csv("companies_summary.csv"),
    }
    for key, file in files.items():
        con.execute(f"CREATE TEMP TABLE raw_{key} AS SELECT * FROM {read}", [file])
        _fail_on_unknown_names(con, ACTIVITY, f"SELECT country FROM raw_{key}", "country")
    for key in ("articles", "citations", "publication_totals"):
        _fail_on_unknown_names(con, ACTIVITY, f"SELECT field FROM raw_{key}", "field")

    join = "JOIN source_names n ON n.dataset = 'activity' AND n.source_name = r.country"
    field_join = "JOIN field_names f ON f.dataset = 'activity' AND f.source_name = r.field"
    con.execute(f"""CREATE TABLE country_articles AS
        SELECT n.code AS country, f.code AS field, r.year, r.num_articles AS articles,
               CAST(NULL AS BIGINT) AS international_articles, r.complete, 'eto' AS source
        FROM raw_articles r {join} {field_join} WHERE n.is_country ORDER BY field, year, country""")
    con.execute(f"""CREATE TABLE country_citations AS
        SELECT n.code AS country, f.code AS field, r.year, r.num_citations AS citations, 'eto' AS source
        FROM raw_citations r {join} {field_join} WHERE n.is_country ORDER BY field, year, country""")
    con.execute(f"""CREATE TABLE country_patents AS
        SELECT n.code AS country, r.field AS category, r.year, r.num_patent_applications AS applications, r.complete
        FROM raw_patents r {join} WHERE n.is_country ORDER BY category, year, country""")
    con.execute(f"""CREATE TABLE country_investment AS
        SELECT n.code AS country, r.field AS sector, r.year, r.estimated_investment, r.complete
        FROM raw_investment r {join} WHERE n.is_country ORDER BY sector, year, country""")
    # Groups, regions, offices and the ambiguous "Congo": kept, but never mixed with countries.
    con.execute(f"""CREATE TABLE group_metrics AS
        SELECT n.code AS group_code, 'articles' AS metric, f.code AS category, r.year, CAST(r.num_articles AS DOUBLE) AS value, r.complete
        FROM raw_articles r {join} {field_join} WHERE NOT n.is_country
        UNION ALL SELECT n.code, 'citations', f.code, r.year, r.num_citations, NULL FROM raw_citations r {join} {field_join} WHERE NOT n.is_country
        UNION ALL SELECT n.code, 'patent_applications', r.field, r.year, r.num_patent_applications, r.complete FROM raw_patents r {join} WHERE NOT n.is_country
        UNION ALL SELECT n.code, 'estimated_investment', r.field, r.year, r.estimated_investment, r.complete FROM raw_investment r {join} WHERE NOT n.is_country
        UNION ALL SELECT n.code, 'total_articles', f.code, NULL, r.num_articles, NULL FROM raw_publication_totals r {join} {field_join} WHERE NOT n.is_country
        UNION ALL SELECT n.code, 'total_citations', f.code, NULL, r.num_citations, NULL FROM raw_publication_totals r {join} {field_join} WHERE NOT n.is_country
        UNION ALL SELECT n.code, 'total_patent_applications', r.field, NULL, r.num_patent_applications, NULL FROM raw_patent_totals r {join} WHERE NOT n.is_country
        UNION ALL SELECT n.code, 'total_patents_granted', r.field, NULL, r.num_patent_granted, NULL FROM raw_patent_totals r {join} WHERE NOT n.is_country
        UNION ALL SELECT n.code, 'disclosed_investment', r.field, NULL, r.disclosed_investment, NULL FROM raw_investment_totals r {join} WHERE NOT n.is_country
        UNION ALL SELECT n.code, 'total_estimated_investment', r.field, NULL, r.estimated_investment, NULL FROM raw_investment_totals r {join} WHERE NOT n.is_country
    """)
    counts = {
        t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("country_articles", "country_citations", "country_patents", "country_investment", "group_metrics")
    }
    total = sum(counts.values())
    _record_dataset(con, ETO_COUNTRY_ACTIVITY, list(files.values()), "country_articles", total)
    log(
        f"loaded {ETO_COUNTRY_ACTIVITY.title}: {len(files)} files -> "
        + ", ".join(f"{t} {n:,}" for t, n in counts.items())
    )


def _record_dataset(
    con: duckdb.DuckDBPyConnection, dataset: Dataset, files: list[str], year_table: str, rows: int
) -> None:
    con.execute("""CREATE TABLE IF NOT EXISTS datasets (
        name VARCHAR PRIMARY KEY, source VARCHAR, title VARCHAR, publisher VARCHAR, release VARCHAR,
        licence VARCHAR, citation VARCHAR, url VARCHAR, row_count BIGINT, first_year INTEGER,
        last_year INTEGER, incomplete_years INTEGER[], content_hash VARCHAR, loaded_at TIMESTAMPTZ)""")
    first, last = con.execute(f"SELECT min(year), max(year) FROM {year_table}").fetchone()
    incomplete = [
        r[0] for r in con.execute(f"SELECT DISTINCT year FROM {year_table} WHERE NOT complete ORDER BY year").fetchall()
    ]
    digest = hashlib.sha256()
    for file in sorted(files):
        digest.update(Path(file).read_bytes())
    con.execute(
        "INSERT INTO datasets VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            dataset.name,
            dataset.source,
            dataset.title,
            dataset.publisher,
            dataset.release,
            dataset.licence,
            dataset.citation,
            dataset.url,
            rows,
            first,
            last,
            incomplete,
            digest.hexdigest()[:12],
            datetime.now(UTC),
        ],
    )


def _write_build_info(con: duckdb.DuckDBPyConnection) -> None:
    hashes = [r[0] for r in con.execute("SELECT content_hash FROM datasets ORDER BY name").fetchall()]
    version = hashlib.sha256("".join(hashes).encode()).hexdigest()[:12]
    con.execute("CREATE TABLE build_info (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.executemany(
        "INSERT INTO build_info VALUES (?, ?)",
        [
            ("schema_version", SCHEMA_VERSION),
            ("data_version", version),
            ("built_at", datetime.now(UTC).isoformat(timespec="seconds")),
        ],
    )
