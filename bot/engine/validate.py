"""The one gate every SQL statement passes before it runs, shipped or typed after `sql`.

It works on sqlglot's syntax tree, never on the text: the statement that runs is generated from the
tree that was checked, so comments, quoting tricks and stacked statements cannot smuggle anything in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from bot.errors import RejectedSQL

ROW_CAP = 1000

# Statement kinds that never belong inside a read-only query, wherever they appear in the tree.
_FORBIDDEN_NODES: tuple[type[exp.Expr], ...] = tuple(
    cls
    for cls in (
        exp.DDL,
        exp.DML,
        exp.Command,
        exp.Copy,
        exp.Attach,
        exp.Detach,
        exp.Install,
        exp.Set,
        exp.Pragma,
        exp.Describe,
        exp.Show,
        exp.Summarize,
        exp.Use,
        exp.Transaction,
        exp.Commit,
        exp.Rollback,
        exp.Into,
        exp.LoadData,
        exp.Cache,
        exp.Uncache,
        exp.Refresh,
        getattr(exp, "Export", None),
        getattr(exp, "Analyze", None),
        getattr(exp, "Grant", None),
    )
    if cls is not None
)

# Functions that read files or the network, run SQL from a string, or reveal the configuration.
_FORBIDDEN_FUNCTION = re.compile(
    r"^(read_|scan_|parquet_|iceberg_|delta_|sqlite_|postgres_|mysql_|duckdb_|pragma_|json_execute|"
    r"glob$|query$|query_table$|getenv$|current_setting$|sniff_csv$|which_secret$|load_|install_|"
    r"enable_|disable_|checkpoint$|force_checkpoint$|from_substrait|get_substrait|to_substrait|"
    r"http|s3|gcs|azure|hf_|test_|export_|import_|set_|reset_|getvariable$)"
)
# Functions that make data out of nothing: one call can allocate gigabytes outside DuckDB's memory
# cap (a string of a billion characters, a list of a billion numbers) before the time limit fires.
_GENERATORS = frozenset(
    {"generate_series", "range", "repeat", "pad", "lpad", "rpad", "list_resize", "array_resize", "explode", "unnest"}
)


@dataclass(frozen=True)
class ValidatedSQL:
    sql: str  # generated from the checked tree, in DuckDB's dialect
    params: tuple[str, ...]  # the named parameters the statement binds
    row_cap: int


def _refuse(reason: str) -> RejectedSQL:
    return RejectedSQL(
        f"That SQL can't run here: {reason}. Only one SELECT over the published tables is allowed (`about` lists them)."
    )


def _typed_name(node: exp.Func) -> str:
    """The function's name as DuckDB spells it (sqlglot's own name can differ: unnest is "explode")."""
    return node.sql(dialect="duckdb").split("(", 1)[0].strip().lower()


def _is_forbidden(node: exp.Func) -> bool:
    names = {_function_name(node), _typed_name(node)}
    return any(_FORBIDDEN_FUNCTION.match(name) or name in _GENERATORS for name in names)


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return node.sql_name().lower()


def validate(
    sql: str, allowed_tables: frozenset[str], *, params: frozenset[str] = frozenset(), row_cap: int = ROW_CAP
) -> ValidatedSQL:
    """Check one statement and return it with a row cap applied (LIMIT row_cap + 1 to detect truncation)."""
    if not sql or not sql.strip():
        raise _refuse("the statement is empty")
    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except SqlglotError as error:
        first_line = str(error).splitlines()[0][:200]
        raise RejectedSQL(f"That SQL doesn't parse: {first_line}") from None
    if len(statements) != 1:
        raise _refuse(f"it holds {len(statements)} statements, and exactly one is allowed")
    tree = statements[0]
    if not isinstance(tree, (exp.Select, exp.SetOperation)):
        raise _refuse("it is not a SELECT statement")

    used_params: set[str] = set()
    for node in tree.walk():
        if isinstance(node, _FORBIDDEN_NODES):
            raise _refuse(f"it contains {node.key.upper()}")
        if isinstance(node, exp.Unnest) and isinstance(node.parent, (exp.From, exp.Join, exp.Lateral)):
            raise _refuse("table functions are not allowed")
        if isinstance(node, exp.Table):
            _check_table(node, allowed_tables, _visible_ctes(node))
        elif isinstance(node, exp.Func) and _is_forbidden(node):
            raise _refuse(f"the function {_typed_name(node)}() is not allowed")
        elif isinstance(node, (exp.Placeholder, exp.Parameter)):
            name = str(node.name or "")
            if not name or name not in params:
                raise _refuse("values must be written in the query, not as parameters")
            used_params.add(name)

    capped = _apply_row_cap(tree, row_cap)
    return ValidatedSQL(sql=capped.sql(dialect="duckdb"), params=tuple(sorted(used_params)), row_cap=row_cap)


def _visible_ctes(node: exp.Expr) -> set[str]:
    """CTE names in scope where `node` stands: those of the WITH clauses around it, and no others.

    A CTE defined inside one subquery must not make its name readable elsewhere in the statement.
    """
    names: set[str] = set()
    for ancestor in _ancestors(node):
        # sqlglot names the clause "with_" (older releases: "with")
        with_clause = (
            ancestor.args.get("with_") or ancestor.args.get("with") if isinstance(ancestor, exp.Query) else None
        )
        if with_clause is not None:
            names.update(cte.alias_or_name.lower() for cte in with_clause.expressions)
    return names


def _ancestors(node: exp.Expr):
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent


def _check_table(node: exp.Table, allowed_tables: frozenset[str], cte_names: set[str]) -> None:
    if not isinstance(node.this, exp.Identifier):
        raise _refuse("table functions are not allowed")
    if node.args.get("db") or node.args.get("catalog"):
        raise _refuse(f"the table name {node.sql(dialect='duckdb')} names another schema or database")
    name = node.name.lower()
    if name not in allowed_tables and name not in cte_names:
        raise _refuse(f"the table {node.name!r} is not published")


def _apply_row_cap(tree: exp.Expr, row_cap: int) -> exp.Expr:
    """Keep at most row_cap + 1 rows, so the caller can tell a full result from a truncated one."""
    limit = tree.args.get("limit")
    if limit is None:
        return tree.limit(row_cap + 1, copy=True)
    value = limit.expression if isinstance(limit, exp.Limit) else limit
    if isinstance(value, exp.Literal) and value.is_int and int(value.this) <= row_cap:
        return tree
    if isinstance(value, exp.Literal) and value.is_int:
        return tree.limit(row_cap + 1, copy=True)
    # A computed or bound limit: cap around it, keeping its order.
    return exp.select("*").from_(tree.subquery("capped", copy=True)).limit(row_cap + 1)
