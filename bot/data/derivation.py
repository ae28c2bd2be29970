"""The ingest's SQL, written once in queries/ingest/*.sql (DuckDB dialect) and run by both engines.

Each file is one SELECT over named relations, with a header naming its relations and parameters.
DuckDB runs the file's text as it is, over temporary tables or views of those names, with the
parameters bound. Spark runs sqlglot's transpilation of the same text (duckdb -> spark) over
temporary views, with the parameters bound as named markers (`:name`).

Where sqlglot's Spark output needs correcting, the correction is made here, in `_SPARK_FIXES`, and
nowhere else; tests/test_ingest_sql.py checks each one. Today there is one: sqlglot writes DuckDB's
`list_has_any` (works.sql's field rules) as the operator `&&`, which Spark does not have; Spark
spells it `arrays_overlap`. (Where DuckDB says false because only NULL elements could match,
arrays_overlap says NULL; works.sql only uses it inside a filter's condition, where both drop the
rule.) Everything else the files use, sqlglot translates as Spark needs: lambdas, list functions,
QUALIFY (as a subquery), FILTER clauses, TRY_CAST to TIMESTAMP_NTZ, named parameters.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import sqlglot
from sqlglot import exp

from bot.paths import QUERIES_DIR

INGEST_QUERIES = QUERIES_DIR / "ingest"
_SECTION = re.compile(r"^--\s*(name|summary|relations|params):\s*(.*)$")
_ITEM = re.compile(r"^--\s{2,}([a-z][a-z0-9_, ]*?)\s{2,}")


@dataclass(frozen=True)
class IngestQuery:
    name: str
    summary: str
    relations: tuple[str, ...]  # the relations the query reads, by name
    params: tuple[str, ...]  # the parameters it binds, by name
    text: str  # DuckDB dialect, as reviewed

    def values(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """The parameters this query names, from `given` (which may hold more)."""
        missing = [p for p in self.params if p not in given]
        if missing:
            raise KeyError(f"queries/ingest/{self.name}.sql needs {', '.join(missing)}")
        return {p: given[p] for p in self.params}

    @property
    def spark(self) -> str:
        return to_spark(self.text)


@cache
def load(name: str) -> IngestQuery:
    text = (INGEST_QUERIES / f"{name}.sql").read_text(encoding="utf-8")
    header: dict[str, str] = {}
    items: dict[str, list[str]] = {"relations": [], "params": []}
    section = ""
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        if match := _SECTION.match(line):
            section = match.group(1)
            header[section] = match.group(2).strip()
        elif section in items and (match := _ITEM.match(line)):
            items[section] += [n.strip() for n in match.group(1).split(",")]
    if header.get("name") != name:
        raise ValueError(f"queries/ingest/{name}.sql must start with '-- name: {name}'")
    used = sorted({p.name for p in sqlglot.parse_one(text, read="duckdb").find_all(exp.Placeholder)})
    declared = sorted(set(items["params"]))
    if used != declared:
        raise ValueError(f"queries/ingest/{name}.sql: header names parameters {declared}, the query uses {used}")
    return IngestQuery(name, header.get("summary", ""), tuple(items["relations"]), tuple(declared), text)


# ---------------------------------------------------------------- DuckDB -> Spark


def _arrays_overlap(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.ArrayOverlaps):
        return exp.Anonymous(this="arrays_overlap", expressions=[node.this, node.expression])
    return node


_SPARK_FIXES: tuple[Callable[[exp.Expression], exp.Expression], ...] = (_arrays_overlap,)


@cache
def to_spark(text: str) -> str:
    """The DuckDB-dialect `text` as Spark SQL: sqlglot's transpilation plus the fixes above."""
    tree = sqlglot.parse_one(text, read="duckdb")
    for fix in _SPARK_FIXES:
        tree = tree.transform(fix)
    return tree.sql(dialect="spark", comments=False)


def sql_string(value: str) -> str:
    """A SQL string literal (both dialects): for a file path put into a DuckDB view definition,
    where bound parameters can't go."""
    return exp.Literal.string(value).sql(dialect="duckdb")
