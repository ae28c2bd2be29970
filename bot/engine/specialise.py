"""Specialise a reviewed query to the shape its values choose, before DuckDB plans it.

A reviewed file serves every shape of its command in one statement: `$among IS NULL OR …` for an
optional group, `CASE $metric WHEN …` for the ranking. DuckDB binds and optimises every branch of
such a statement on every answer, and that planning is most of what an answer costs. This rule
folds the branches the values rule out: `$p IS NULL` becomes what it is for the value bound, each
choice parameter becomes its literal, and sqlglot's simplifier removes what is then constant.
Every replacement is exact for the values bound, so the statement means what the file says."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.optimizer.simplify import simplify

# Parameters whose few values pick a branch (the grammar allows only those): written in as literals.
CHOICES = frozenset({"metric", "count", "complete_only"})


def shape(values: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """What of the values the specialised statement depends on, as values specialise() gives the same
    statement for: each choice itself, every other value as None (NULL) or True (any other value)."""
    return tuple(
        sorted(
            (name, value if name in CHOICES else (None if value is None else True)) for name, value in values.items()
        )
    )


def specialise(sql: str, values: Mapping[str, Any]) -> str:
    """The statement with the branches ruled out by `values` folded away, in DuckDB's dialect."""

    def fold(node: exp.Expr) -> exp.Expr:
        if (
            isinstance(node, exp.Is)
            and isinstance(node.this, exp.Placeholder)
            and isinstance(node.expression, exp.Null)
            and node.this.name in values
        ):
            return exp.true() if values[node.this.name] is None else exp.false()
        if isinstance(node, exp.Placeholder) and node.name in CHOICES and node.name in values:
            value = values[node.name]
            if isinstance(value, bool):
                return exp.Boolean(this=value)
            if isinstance(value, str):
                return exp.Literal.string(value)
        return node

    tree = sqlglot.parse_one(sql, read="duckdb").transform(fold)
    return simplify(tree, dialect="duckdb").sql(dialect="duckdb", pretty=True)
