"""The one gate every SQL statement passes before it runs, shipped or typed after `sql`.

Two readings of the statement must both pass. sqlglot's tree settles the statement's kind (one
SELECT or set operation), its parameters and its row cap, and generates the text that will run.
DuckDB's own parser then reads that generated text (and the text as typed), and every table,
function and CTE reference in DuckDB's reading is checked against allowlists: published tables and
in-scope CTEs only, published functions only, no schema or catalog qualifiers, no table functions.
Because the check reads exactly the text that runs, with the parser that runs it, no rewrite by
sqlglot and no difference between the two parsers can slip a function or table past the gate.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.tokens import TokenType  # type: ignore[attr-defined]  # re-exported from sqlglot.tokenizer_core

from bot.engine.catalog import ALLOWED_FUNCTIONS, published_columns
from bot.errors import RejectedSQL

ROW_CAP = 1000
MAX_SQL_CHARS = 20_000
# Parentheses and brackets nested deeper than this are refused before any parser recurses into them
# (sqlglot's recursive-descent parser runs out of Python stack at about 50).
MAX_NESTING = 32
# Nodes deep in sqlglot's tree (a + b + ... chains): its SQL generator recurses once per level.
MAX_TREE_DEPTH = 250
# Brackets (lists and subscripts): sqlglot types the whole subscripted value again at each
# subscript, so its parse time grows with subscripts times list length (4 s for 440 subscripts after
# a list of 300, 1.4 s for 56 after one of 1,300, wherever parentheses split them); 16 cost at most
# a few tenths of a second, and no query needs more than a few.
MAX_BRACKETS = 16
# Tokens: validation time grows with them (about 0.1 s a thousand); the longest shipped query has 516.
MAX_TOKENS = 3000

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

# What DuckDB's parse tree may contain. Anything else (lambdas, PIVOT, DESCRIBE in FROM, table
# functions, node kinds a later DuckDB adds) is refused, not ignored.
_EXPRESSION_CLASSES = frozenset(
    {
        "BETWEEN",
        "CASE",
        "CAST",
        "COLLATE",
        "COLUMN_REF",
        "COMPARISON",
        "CONJUNCTION",
        "CONSTANT",
        "FUNCTION",
        "OPERATOR",
        "PARAMETER",
        "POSITIONAL_REFERENCE",
        "STAR",
        "SUBQUERY",
        "TYPE",
        "WINDOW",
    }
)
_QUERY_NODES = frozenset({"SELECT_NODE", "SET_OPERATION_NODE", "RECURSIVE_CTE_NODE"})
_TABLE_REFS = frozenset({"BASE_TABLE", "JOIN", "SUBQUERY", "EMPTY", "EXPRESSION_LIST"})
_TABLE_REF_NAMES = {"TABLE_FUNCTION": "table functions", "SHOW_REF": "DESCRIBE and SUMMARIZE", "PIVOT": "PIVOT"}


@dataclass(frozen=True)
class ValidatedSQL:
    sql: str  # generated from the checked tree, in DuckDB's dialect, and checked again as DuckDB reads it
    params: tuple[str, ...]  # the named parameters the statement binds
    row_cap: int


def _refuse(reason: str) -> RejectedSQL:
    return RejectedSQL(
        f"That SQL can't run here: {reason}. Only one SELECT over the published tables is allowed (`about` lists them)."
    )


def validate(
    sql: str, allowed_tables: frozenset[str], *, params: frozenset[str] = frozenset(), row_cap: int = ROW_CAP
) -> ValidatedSQL:
    """Check one statement and return it with a row cap applied (LIMIT row_cap + 1 to detect truncation)."""
    if not sql or not sql.strip():
        raise _refuse("the statement is empty")
    if len(sql) > MAX_SQL_CHARS:
        raise _refuse(f"it is {len(sql):,} characters long, and at most {MAX_SQL_CHARS:,} are allowed")
    try:
        _check_nesting(sql)
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except SqlglotError as error:
        first_line = str(error).splitlines()[0][:200]
        raise RejectedSQL(f"That SQL doesn't parse: {first_line}") from None
    except RecursionError:
        raise _too_deep() from None
    if len(statements) != 1:
        raise _refuse(f"it holds {len(statements)} statements, and exactly one is allowed")
    tree = statements[0]
    if not isinstance(tree, (exp.Select, exp.SetOperation)):
        raise _refuse("it is not a SELECT statement")
    if _depth(tree) > MAX_TREE_DEPTH:
        raise _too_deep()

    used_params: set[str] = set()
    cte_names = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for node in tree.walk():
        if isinstance(node, _FORBIDDEN_NODES):
            raise _refuse(f"it contains {node.key.upper()}")
        if isinstance(node, exp.Table) and isinstance(node.this, exp.Identifier):
            # A coarse first look (scoping is checked on DuckDB's reading): this also covers clauses
            # DuckDB's parser drops without binding them, such as an unused WINDOW definition.
            if node.args.get("db") or node.args.get("catalog"):
                raise _refuse(f"the table name {node.sql(dialect='duckdb')} names another schema or database")
            if node.name.lower() not in allowed_tables and node.name.lower() not in cte_names:
                raise _refuse(f"the table {node.name!r} is not published")
        if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.USERDEFINED and "." in node.sql("duckdb"):
            raise _refuse(f"the type name {node.sql(dialect='duckdb')} names another schema or database")
        if isinstance(node, (exp.Placeholder, exp.Parameter)):
            name = str(node.name or "")
            if not name or name not in params:
                raise _refuse("values must be written in the query, not as parameters")
            used_params.add(name)

    try:
        generated = _apply_row_cap(tree, row_cap).sql(dialect="duckdb")
    except RecursionError:
        raise _too_deep() from None
    # As typed first, so a refusal names what the person wrote; then what will actually run.
    _check_duckdb_reading(sql, allowed_tables, as_typed=True)
    _check_duckdb_reading(generated, allowed_tables, as_typed=False)
    return ValidatedSQL(sql=generated, params=tuple(sorted(used_params)), row_cap=row_cap)


def _too_deep() -> RejectedSQL:
    return _refuse(f"it is nested too deeply (at most {MAX_NESTING} levels of parentheses)")


def _check_nesting(sql: str) -> None:
    """Refuse over-long input, over-deep brackets and many lists or subscripts from the token stream
    (the tokenizer does not recurse, and takes linear time)."""
    tokens = sqlglot.tokenize(sql, read="duckdb")
    depth = brackets = 0
    for token in tokens:
        if token.token_type in (TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.L_BRACE):
            depth += 1
            if depth > MAX_NESTING:
                raise _too_deep()
        elif token.token_type in (TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.R_BRACE):
            depth -= 1
        if token.token_type == TokenType.L_BRACKET:
            brackets += 1
            if brackets > MAX_BRACKETS:
                raise _refuse(f"it has more than {MAX_BRACKETS} brackets ([…], lists and subscripts)")
    if len(tokens) > MAX_TOKENS:
        raise _refuse(f"it is {len(tokens):,} words and symbols long, and at most {MAX_TOKENS:,} are allowed")


def _depth(tree: exp.Expr) -> int:
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node.iter_expressions())
    return deepest


def _apply_row_cap(tree: exp.Query, row_cap: int) -> exp.Query:
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


# ---------------------------------------------------------------- DuckDB's reading


class _Parser:
    """DuckDB's parser, on a connection of its own that holds no data and can reach nothing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connection: duckdb.DuckDBPyConnection | None = None
        self.system_relations: frozenset[str] = frozenset()

    def parse(self, sql: str) -> dict[str, Any]:
        with self._lock:
            if self._connection is None:
                self._connection = duckdb.connect(
                    ":memory:",
                    config={
                        "enable_external_access": False,
                        "autoload_known_extensions": False,
                        "autoinstall_known_extensions": False,
                        "threads": 1,
                        "lock_configuration": True,
                    },
                )
                # Names an unqualified table reference can reach in any DuckDB (pg_settings, sqlite_master...).
                rows = self._connection.execute(
                    "SELECT view_name FROM duckdb_views() WHERE schema_name IN ('main', 'pg_catalog') "
                    "UNION SELECT table_name FROM duckdb_tables() WHERE schema_name IN ('main', 'pg_catalog')"
                ).fetchall()
                self.system_relations = frozenset(str(name).lower() for (name,) in rows)
            row = self._connection.execute("SELECT json_serialize_sql($sql)", {"sql": sql}).fetchone()
            text = row[0] if row else "{}"  # a scalar function: always one row
        return json.loads(text)

    @functools.lru_cache(maxsize=1024)  # noqa: B019 - one parser for the process's lifetime
    def is_bare_function(self, name: str) -> bool:
        """Whether DuckDB reads `name` alone, where no column has it, as a function call (`user`,
        `current_schema`): asked of this connection, which has no tables, so only functions can bind."""
        self.parse("SELECT 1")  # opens the connection
        assert self._connection is not None
        with self._lock:
            try:
                self._connection.execute('SELECT "' + name.replace('"', '""') + '"').fetchall()
            except duckdb.Error:
                return False
        return True


_PARSER = _Parser()
_COLUMN_NAMES = frozenset(column.lower() for columns in published_columns().values() for column in columns)


def _check_duckdb_reading(sql: str, allowed_tables: frozenset[str], *, as_typed: bool) -> None:
    try:
        reading = _PARSER.parse(sql)
    except RecursionError:  # json.loads recurses once per level of DuckDB's tree
        raise _too_deep() from None
    if reading.get("error"):
        if as_typed:  # sqlglot read it; the generated text is what DuckDB must read
            return
        message = str(reading.get("error_message", "")).splitlines()[0][:200]
        raise RejectedSQL(f"That SQL doesn't parse for DuckDB: {message}")
    statements = reading.get("statements") or []
    if len(statements) != 1:
        raise _refuse(f"it holds {len(statements)} statements, and exactly one is allowed")
    try:
        _Scope(allowed_tables, _PARSER.system_relations).check(statements[0]["node"])
    except RejectedSQL as refused:
        if as_typed:
            raise
        # What was typed passed; sqlglot's rewrite of it did not: say so, with what it became.
        raise RejectedSQL(f"{refused.message} As it would run: {sql[:300]}") from None


class _Scope:
    """Walks DuckDB's parse tree, tracking which CTE names each table reference can see.

    SQL's scoping: a CTE body sees the CTEs defined before it in the same WITH (and those of
    enclosing queries); it sees itself only as the recursive term of a WITH RECURSIVE union. The
    query the WITH belongs to sees all of them. A table reference that is neither an in-scope CTE nor
    a published table is refused, so a CTE can never make a hidden table's name readable.
    """

    def __init__(self, allowed_tables: frozenset[str], system_relations: frozenset[str]):
        self.allowed_tables = allowed_tables
        self.system_relations = system_relations

    def check(self, root: dict[str, Any]) -> None:
        stack: list[tuple[Any, frozenset[str]]] = [(root, frozenset())]
        while stack:
            node, visible = stack.pop()
            stack.extend(self._children(node, visible))

    def _children(self, node: Any, visible: frozenset[str]) -> Iterator[tuple[Any, frozenset[str]]]:
        if isinstance(node, list):
            yield from ((item, visible) for item in node)
            return
        if not isinstance(node, dict):
            return
        if "class" in node:
            self._check_expression(node)
        elif str(node.get("type", "")).endswith("_NODE"):
            yield from self._query_node(node, visible)
            return
        elif {"type", "alias", "sample"} <= node.keys():
            self._check_table_ref(node, visible)
        yield from ((value, visible) for value in node.values() if isinstance(value, (dict, list)))

    def _query_node(self, node: dict[str, Any], visible: frozenset[str]) -> Iterator[tuple[Any, frozenset[str]]]:
        kind = node["type"]
        if kind not in _QUERY_NODES:
            raise _refuse(f"{kind.removesuffix('_NODE').replace('_', ' ')} queries are not allowed")
        defined: list[str] = []
        for entry in (node.get("cte_map") or {}).get("map") or []:
            name = str(entry["key"]).lower()
            if name in self.system_relations and name not in self.allowed_tables:
                raise _refuse(f"the CTE name {entry['key']!r} belongs to a system table; name it something else")
            body = entry["value"]["query_node"]
            earlier = visible | frozenset(defined)
            if body.get("type") == "RECURSIVE_CTE_NODE" and str(body.get("cte_name", "")).lower() == name:
                # The anchor sees what came before; only the recursive term sees the CTE itself.
                yield from self._query_node_parts(body, earlier, omit=("left", "right"))
                yield (body["left"], earlier)
                yield (body["right"], earlier | {name})
            else:
                yield (body, earlier)
            defined.append(name)
        yield from self._query_node_parts(node, visible | frozenset(defined), omit=("cte_map",))

    @staticmethod
    def _query_node_parts(
        node: dict[str, Any], visible: frozenset[str], omit: tuple[str, ...]
    ) -> Iterator[tuple[Any, frozenset[str]]]:
        for key, value in node.items():
            if key not in omit and isinstance(value, (dict, list)):
                yield (value, visible)

    def _check_expression(self, node: dict[str, Any]) -> None:
        kind = node["class"]
        if kind not in _EXPRESSION_CLASSES:
            raise _refuse(f"{kind.lower().replace('_', ' ')} expressions are not allowed")
        names = node.get("column_names") or []
        if kind == "COLUMN_REF" and len(names) == 1:
            # DuckDB binds a bare name no column has to a function: `user`, `current_schema`.
            name = str(names[0]).lower()
            if name not in _COLUMN_NAMES and name not in ALLOWED_FUNCTIONS and _PARSER.is_bare_function(name):
                raise RejectedSQL(
                    f"That SQL can't run here: {names[0]} alone is the function {name}(), which is not allowed "
                    "(a column of that name needs its table's name in front). `about` lists the functions "
                    "and tables `sql` may use."
                )
        if kind in ("FUNCTION", "WINDOW"):
            name = str(node.get("function_name", "")).lower()
            if node.get("schema") or node.get("catalog"):
                raise _refuse(f"the function {node.get('catalog') or node.get('schema')}.{name}() names a schema")
            if name not in ALLOWED_FUNCTIONS:
                raise RejectedSQL(
                    f"That SQL can't run here: the function {name}() is not allowed. "
                    "`about` lists the functions and tables `sql` may use."
                )

    def _check_table_ref(self, node: dict[str, Any], visible: frozenset[str]) -> None:
        kind = node["type"]
        if kind not in _TABLE_REFS:
            what = _TABLE_REF_NAMES.get(kind, kind.lower().replace("_", " "))
            function = (node.get("function") or {}).get("function_name")
            raise _refuse(f"{what} ({function}) are not allowed" if function else f"{what} are not allowed")
        if kind != "BASE_TABLE":
            return
        name = str(node.get("table_name", ""))
        if node.get("schema_name") or node.get("catalog_name"):
            qualifier = ".".join(part for part in (node.get("catalog_name"), node.get("schema_name")) if part)
            raise _refuse(f"the table name {qualifier}.{name} names another schema or database")
        if node.get("at_clause"):
            raise _refuse("time travel (AT) is not allowed")
        if name.lower() not in visible and name.lower() not in self.allowed_tables:
            raise _refuse(f"the table {name!r} is not published")


def readable(sql: str) -> str:
    """A validated statement laid out for reading (one clause per line, each comment on its own line):
    the same tree, so the same query; the SQL as generated when it can't be laid out."""
    try:
        return sqlglot.transpile(sql, read="duckdb", write="duckdb", pretty=True)[0]
    except (SqlglotError, RecursionError, IndexError):
        return sql
