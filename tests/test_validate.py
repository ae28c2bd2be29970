"""The SQL gate: every hostile statement in hostile_sql.txt is refused; good statements pass and run."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlglot

from bot.engine import catalog
from bot.engine.answer import answer
from bot.engine.catalog import ALLOWED_TABLES
from bot.engine.validate import ROW_CAP, validate
from bot.errors import QueryFailed, RejectedSQL

HOSTILE_FILE = Path(__file__).with_name("hostile_sql.txt")


def _hostile() -> list[str]:
    """One statement a line; a multi-line statement sits between two `----` lines; `#` starts a comment."""
    statements, block, in_block = [], [], False
    for line in HOSTILE_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() == "----":
            if in_block and block:
                statements.append("\n".join(block))
            block, in_block = [], True
            continue
        if in_block:
            block.append(line)
        elif line.strip() and not line.startswith("#"):
            statements.append(line)
    # Lines after the last `----` would open a block that never closes: refuse them, don't drop them.
    assert not any(line.strip() for line in block), f"unclosed ---- block in {HOSTILE_FILE.name}: {block[:2]}"
    return statements


HOSTILE = _hostile()


def test_hostile_file_is_big_and_distinct():
    assert len(HOSTILE) >= 390  # 240 before the allowlists, 150 added with them
    assert len(set(HOSTILE)) == len(HOSTILE)
    assert sum("\n" in s for s in HOSTILE) >= 5


@pytest.mark.parametrize("sql", HOSTILE, ids=[s[:60] for s in HOSTILE])
def test_hostile_sql_is_refused(sql):
    with pytest.raises(RejectedSQL) as raised:
        validate(sql, ALLOWED_TABLES)
    message = raised.value.message
    assert message.startswith("That SQL"), message
    assert "Traceback" not in message and len(message) < 800


SINGLE_LINE = [s for s in HOSTILE if "\n" not in s]


@pytest.mark.parametrize("sql", SINGLE_LINE, ids=[s[:60] for s in SINGLE_LINE])
def test_hostile_sql_is_refused_through_the_sql_command(db, sql):
    with pytest.raises(RejectedSQL):
        answer(f"sql {sql}", db)


# ---------------------------------------------------------------- good statements

GOOD = [
    "SELECT * FROM pairs LIMIT 5",
    # CTEs are readable where they are in scope: later CTEs, nested subqueries, recursion
    "WITH x AS (SELECT * FROM pairs), y AS (SELECT * FROM x) SELECT count(*) FROM y",
    "WITH x AS (SELECT 1 AS n) SELECT * FROM (SELECT * FROM x) AS q",
    "SELECT * FROM (WITH x AS (SELECT * FROM fields) SELECT * FROM x) AS q",
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT * FROM r",
    "FROM pairs LIMIT 5",
    "SELECT * FROM Pairs LIMIT 5",
    "SELECT * FROM pairs;",
    "SELECT count(*) AS n FROM datasets",
    "SELECT p.country_a, c.name, p.joint_articles FROM pairs AS p JOIN countries AS c ON c.code = p.country_a LIMIT 10",
    "SELECT * FROM partner_links pl LEFT JOIN country_articles ca ON ca.country = pl.country AND ca.year = pl.year "
    "AND ca.field = pl.field WHERE pl.country = 'MYS' LIMIT 20",
    "WITH t AS (SELECT country, sum(joint_articles) AS n FROM partner_links WHERE field = 'ai' GROUP BY country) "
    "SELECT * FROM t ORDER BY n DESC LIMIT 5",
    "WITH a AS (SELECT * FROM pairs), b AS (SELECT * FROM a WHERE field = 'cv') SELECT count(*) FROM b",
    "SELECT country_a, year, joint_articles, rank() OVER (PARTITION BY year ORDER BY joint_articles DESC) AS r "
    "FROM pairs WHERE field = 'ai' QUALIFY r <= 3",
    "SELECT year, sum(joint_articles) OVER (ORDER BY year ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM pairs "
    "WHERE country_a = 'CHN' AND country_b = 'USA' AND field = 'ai'",
    "SELECT country_a AS c FROM pairs UNION SELECT country_b FROM pairs",
    "SELECT code FROM countries UNION ALL SELECT code FROM groups UNION ALL SELECT code FROM fields",
    "SELECT * FROM pairs INTERSECT SELECT * FROM pairs LIMIT 2",
    "SELECT * FROM pairs EXCEPT SELECT * FROM pairs WHERE field = 'ai'",
    "SELECT * FROM countries c WHERE EXISTS (SELECT 1 FROM country_groups g WHERE g.country = c.code "
    "AND g.group_code = 'asean')",
    "SELECT * FROM pairs WHERE country_a IN (SELECT code FROM countries WHERE region = 'Asia') LIMIT 10",
    "SELECT year, sum(joint_articles) FROM pairs WHERE field = 'ai' GROUP BY ALL ORDER BY ALL",
    "SELECT * EXCLUDE (source) FROM pairs LIMIT 3",
    "SELECT list(DISTINCT year ORDER BY year) FROM pairs",
    "SELECT 'DROP TABLE pairs; --' AS s",
    "SELECT * FROM countries WHERE name = 'read_csv(''x'')'",
    "SELECT * FROM pairs -- read_csv('x')",
    "SELECT * FROM pairs /* ; DROP TABLE pairs */ LIMIT 3",
    "SELECT 1 -- */ ; DROP TABLE pairs",
    "SELECT * FROM pairs LIMIT 5000",
    "SELECT * FROM pairs ORDER BY joint_articles DESC LIMIT (SELECT 3)",
    "SELECT * FROM group_metrics LIMIT 5",
    "SELECT * FROM country_citations, country_patents, country_investment LIMIT 1",
    "SELECT name, incomplete_years FROM datasets",
    # what an analyst reaches for, all inside the function allowlist
    "SELECT median(joint_articles), mode(year), count_if(complete), approx_count_distinct(country_a) FROM pairs",
    "SELECT today(), date_trunc('year', DATE '2020-05-01'), strftime(DATE '2020-01-01', '%Y'), "
    "date_diff('day', DATE '2020-01-01', DATE '2021-01-01'), extract(year FROM DATE '2020-01-01')",
    "SELECT left(name, 3), substr(name, 1, 2), upper(name), trim(name), length(name), split_part(name, ' ', 1), "
    "string_split(name, ' '), concat(name, '!'), name || '?', strpos(name, 'a'), starts_with(name, 'A'), "
    "regexp_matches(name, '^A'), regexp_extract(name, '^(A.)', 1) FROM countries",
    "SELECT round(avg(joint_articles), 2), stddev(joint_articles), quantile_cont(joint_articles, 0.9), "
    "corr(year, joint_articles), greatest(1, 2), abs(-1), ceil(1.2), sqrt(4), ln(2), power(2, 3), 7 // 2, 7 % 2, "
    "nullif(1, 1), coalesce(NULL, 1), ifnull(NULL, 2) FROM pairs",
    "SELECT country_a, lag(joint_articles) OVER w, lead(joint_articles) OVER w, first_value(year) OVER w, "
    "ntile(4) OVER w, percent_rank() OVER w, dense_rank() OVER w FROM pairs "
    "WINDOW w AS (PARTITION BY country_a ORDER BY year) LIMIT 5",
    "SELECT name, len(incomplete_years), list_contains(incomplete_years, 2024), incomplete_years[1], "
    "unnest(incomplete_years) FROM datasets",
    "SELECT arg_max(country_b, joint_articles), bool_and(complete), string_agg(DISTINCT field, ', ' ORDER BY field), "
    "list(year)[1] FROM pairs",
    "SELECT CAST(year AS VARCHAR), TRY_CAST(country_a AS INTEGER), CASE WHEN year > 2020 THEN 'late' ELSE 'early' END, "
    "year BETWEEN 2018 AND 2020, country_a ILIKE 'c%', country_a IN ('CHN', 'USA'), NOT complete FROM pairs LIMIT 3",
    "SELECT DISTINCT ON (country_a) country_a, year FROM pairs ORDER BY country_a, year DESC LIMIT 5",
    "SELECT country_a, year, sum(joint_articles) FROM pairs GROUP BY ROLLUP (country_a, year) LIMIT 5",
    "SELECT {'a': 1, 'b': 2} AS s, [1, 2, 3] AS l, (SELECT 1) AS sub",
    "SELECT COLUMNS('country_.*') FROM pairs LIMIT 2",
    "SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS v(n, s)",
    "SELECT year, count(*) FILTER (WHERE complete) FROM pairs GROUP BY year",
    "SELECT make_date(2020, 1, 1), last_day(DATE '2020-02-01'), DATE '2020-01-01' + INTERVAL 1 YEAR",
    # CTE names that are not system tables may shadow published ones; the CTE wins, as SQL says
    "WITH pairs AS (SELECT 1 AS n) SELECT * FROM pairs",
    "WITH RECURSIVE pairs AS (SELECT * FROM pairs) SELECT count(*) FROM pairs",
    'SELECT 1 AS "x""; SELECT * FROM build_info --"',
]


@pytest.mark.parametrize("sql", GOOD)
def test_good_sql_passes_and_runs(db, sql):
    validated = validate(sql, ALLOWED_TABLES)
    frame = db.query(validated.sql)
    assert len(frame) <= ROW_CAP + 1
    result = answer(f"sql {sql}", db)
    assert result.sql == validated.sql
    assert len(result.frame) <= ROW_CAP


GOLDEN = [
    ("SELECT * FROM pairs", "SELECT * FROM pairs LIMIT 1001"),
    ("select * from pairs", "SELECT * FROM pairs LIMIT 1001"),
    ("FROM pairs", "SELECT * FROM pairs LIMIT 1001"),
    ("SELECT * FROM pairs;", "SELECT * FROM pairs LIMIT 1001"),
    ("SELECT * FROM pairs LIMIT 5000", "SELECT * FROM pairs LIMIT 1001"),
    ("SELECT * FROM pairs LIMIT 10", "SELECT * FROM pairs LIMIT 10"),
    ("SELECT * FROM pairs LIMIT 1000", "SELECT * FROM pairs LIMIT 1000"),
    ("SELECT * FROM pairs LIMIT 10 OFFSET 5", "SELECT * FROM pairs LIMIT 10 OFFSET 5"),
    ("SELECT * FROM pairs LIMIT 1 + 1", "SELECT * FROM (SELECT * FROM pairs LIMIT 1 + 1) AS capped LIMIT 1001"),
    (
        "SELECT country_a AS c FROM pairs UNION SELECT country_b FROM pairs",
        "SELECT country_a AS c FROM pairs UNION SELECT country_b FROM pairs LIMIT 1001",
    ),
    ("SELECT * FROM pairs -- read_csv('x')", "SELECT * FROM pairs /* read_csv('x') */ LIMIT 1001"),
    # a `*/` inside a line comment must not close the comment it becomes
    ("SELECT 1 -- */ ; DROP TABLE pairs", "SELECT 1 /* * / ; DROP TABLE pairs */ LIMIT 1001"),
]


@pytest.mark.parametrize("sql,expected", GOLDEN)
def test_golden_generated_sql(sql, expected):
    assert validate(sql, ALLOWED_TABLES).sql == expected


def test_parameters_only_when_declared():
    validated = validate("SELECT * FROM pairs WHERE year = $year", ALLOWED_TABLES, params=frozenset({"year"}))
    assert validated.params == ("year",)
    with pytest.raises(RejectedSQL):
        validate("SELECT * FROM pairs WHERE year = $other", ALLOWED_TABLES, params=frozenset({"year"}))


def test_row_cap_is_a_parameter():
    assert validate("SELECT * FROM pairs", ALLOWED_TABLES, row_cap=10).sql == "SELECT * FROM pairs LIMIT 11"


def test_every_shipped_query_validates():
    from bot.engine import queryfiles

    names = queryfiles.names()
    assert {"partners", "top", "pair", "compare", "fields", "rising", "profile", "about", "coverage"} <= set(names)
    for name in names:
        assert queryfiles.load(name).validated.sql


# ---------------------------------------------------------------- truncation


def test_row_cap_truncates_big_results(db):
    result = answer("sql SELECT * FROM pairs", db)
    assert len(result.frame) == ROW_CAP == 1000
    assert result.truncated is True
    assert any("Truncated" in note and "1,000" in note for note in result.notes)
    assert result.sql == "SELECT * FROM pairs LIMIT 1001"


def test_exactly_the_cap_is_not_truncated(db):
    result = answer("sql SELECT * FROM pairs LIMIT 1000", db)
    assert len(result.frame) == 1000
    assert result.truncated is False


def test_small_query_is_not_truncated(db):
    result = answer("sql SELECT count(*) AS n FROM pairs", db)
    assert result.truncated is False
    assert not any("Truncated" in note for note in result.notes)
    assert result.frame["n"].iloc[0] > 10_000


def test_sql_keeps_line_breaks_so_comments_end_at_the_line(db):
    # Bug: parse() collapses all whitespace (newlines included) before `sql`, so a `--` comment on the
    # first line swallows the rest of the statement: the WHERE below is silently dropped.
    with_comment = answer("sql SELECT count(*) AS n FROM pairs -- every pair\nWHERE field = 'cv'", db)
    without = answer("sql SELECT count(*) AS n FROM pairs WHERE field = 'cv'", db)
    assert with_comment.frame["n"].iloc[0] == without.frame["n"].iloc[0]


def test_sql_keeps_spaces_inside_string_literals(db):
    # Same cause: 'a  b' (two spaces) becomes 'a b' before the statement is validated.
    result = answer("sql SELECT 'a  b' AS s", db)
    assert result.frame["s"].iloc[0] == "a  b"


# ---------------------------------------------------------------- the review's findings, one test each


def _refusal(sql: str) -> str:
    with pytest.raises(RejectedSQL) as raised:
        validate(sql, ALLOWED_TABLES)
    return raised.value.message


@pytest.mark.parametrize(
    "sql,hidden",
    [
        ("WITH build_info AS (SELECT * FROM build_info) SELECT * FROM build_info", "build_info"),
        ("WITH a AS (SELECT name, setting FROM pg_settings), pg_settings AS (SELECT 1) SELECT * FROM a", "pg_settings"),
        (
            "WITH a AS (SELECT * FROM duckdb_databases), duckdb_databases AS (SELECT 1) SELECT * FROM a",
            "duckdb_databases",
        ),
        ("WITH a AS (SELECT * FROM sqlite_master), sqlite_master AS (SELECT 1) SELECT * FROM a", "sqlite_master"),
        ("WITH a AS (SELECT * FROM pg_tables), pg_tables AS (SELECT 1) SELECT * FROM a", "pg_tables"),
        ("WITH a AS (SELECT * FROM duckdb_views), duckdb_views AS (SELECT 1) SELECT * FROM a", "duckdb_views"),
        ("WITH a AS (SELECT * FROM b), b AS (SELECT * FROM pairs) SELECT * FROM a", "'b'"),
    ],
)
def test_a_cte_body_sees_only_earlier_ctes(sql: str, hidden: str) -> None:
    assert hidden in _refusal(sql)


def test_a_cte_sees_itself_only_as_the_recursive_term() -> None:
    assert "'t'" in _refusal(
        "WITH RECURSIVE t(n) AS (SELECT count(*) FROM t UNION ALL SELECT n + 1 FROM t) SELECT * FROM t"
    )
    assert "'a'" in _refusal("WITH a AS (SELECT * FROM a) SELECT * FROM a")  # not RECURSIVE: no self-reference
    validate(
        "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 3) SELECT * FROM t", ALLOWED_TABLES
    )


@pytest.mark.parametrize(
    "sql,function",
    [
        ("SELECT printf('%01500000000d', 1), printf('%01500000000d', 1), printf('%01500000000d', 1)", "printf"),
        ("SELECT format('{:>2000000000}', 'x')", "format"),
        ("SELECT list_transform([1, 2, 3], x -> printf('%0500000000d', x))", "list_transform"),
        ("SELECT json_serialize_plan('SELECT current_setting(''secret_directory'')')", "json_serialize_plan"),
        ("SELECT current_setting('secret_directory')", "current_setting"),
        ("SELECT repeat('x', 2000000000)", "repeat"),
        ("SELECT main.getenv('HOME')", "getenv"),
    ],
)
def test_a_refused_function_is_named(sql: str, function: str) -> None:
    message = _refusal(sql)
    assert f"{function}()" in message, message


@pytest.mark.parametrize(
    "sql",
    ["SELECT generate_date_array(DATE '2000-01-01', DATE '2005-01-01', INTERVAL 1 SECOND)", "SELECT randstr(10, 10)"],
)
def test_what_sqlglot_generates_is_checked_as_duckdb_reads_it(sql: str) -> None:
    # sqlglot rewrites these into table-generating functions the typed text never named...
    rewritten = sqlglot.transpile(sql, read="duckdb", write="duckdb")[0]
    assert any(name in rewritten.upper() for name in ("GENERATE_SERIES", "RANGE(")), rewritten
    # ...so both the typed text and the rewrite are refused, by name
    assert "() is not allowed" in _refusal(sql)
    assert "() is not allowed" in _refusal(rewritten) or "table functions" in _refusal(rewritten)


def test_what_runs_reads_the_same_to_duckdb_and_to_the_validator(db) -> None:
    # sqlglot reads nested block comments; the generated text closes them safely, so DuckDB reads one column
    validated = validate("SELECT 'a' AS a /* nested /* comment */ , (SELECT * FROM build_info) */", ALLOWED_TABLES)
    assert "build_info" not in validated.sql.split("/*")[0]
    assert list(answer(f"sql {validated.sql}", db).frame.columns) == ["a"]


def test_every_function_duckdb_reads_in_generated_sql_is_allowlisted() -> None:
    from bot.engine import validate as gate

    for sql in GOOD:
        generated = validate(sql, ALLOWED_TABLES).sql
        assert validate(generated, ALLOWED_TABLES).sql == generated  # a fixpoint: nothing left to rewrite
        functions = set()
        stack = [gate._PARSER.parse(generated)]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                if node.get("class") in ("FUNCTION", "WINDOW"):
                    functions.add(node["function_name"])
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
        assert functions <= catalog.ALLOWED_FUNCTIONS, (sql, functions - catalog.ALLOWED_FUNCTIONS)


def test_allowlisted_functions_exist_and_are_not_table_functions() -> None:
    import duckdb

    with duckdb.connect() as con:
        kinds: dict[str, set[str]] = {}
        for name, kind in con.execute("SELECT function_name, function_type FROM duckdb_functions()").fetchall():
            kinds.setdefault(name, set()).add(kind)
    operators = set(catalog.FUNCTION_GROUPS["operators"])
    for name in catalog.ALLOWED_FUNCTIONS - operators - {"unnest"}:  # unnest: only the select-list form is read
        assert name in kinds, name
        assert "table" not in kinds[name], name


def test_unpublished_columns_cannot_be_read(db) -> None:
    with pytest.raises(QueryFailed) as raised:
        answer("sql SELECT content_hash, loaded_at FROM datasets", db)
    assert "content_hash" in raised.value.message
    every = answer("sql SELECT * FROM datasets", db)
    assert list(every.frame.columns) == list(catalog.published_columns()["datasets"])


@pytest.mark.parametrize("depth", [33, 50, 500, 5000])
def test_deep_nesting_is_refused_in_words(depth: int) -> None:
    message = _refusal("SELECT " + "(" * depth + "1" + ")" * depth)
    assert "nested too deeply" in message


def test_long_chains_are_refused_or_pass_but_never_crash() -> None:
    for sql in (
        "SELECT " + " + ".join(["1"] * 5000),
        "SELECT " + "NOT " * 3000 + "true",
        "SELECT " + "- " * 3000 + "1",
    ):
        try:
            validate(sql, ALLOWED_TABLES)
        except RejectedSQL as refused:
            assert refused.message.startswith("That SQL")


@pytest.mark.slow
def test_deep_nesting_exits_2_with_a_sentence_from_the_command_line(db_path) -> None:
    sql = "SELECT " + "(" * 50 + "1" + ")" * 50
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ask", f"sql {sql}"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr
    assert "nested too deeply" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr and "RecursionError" not in done.stderr


def test_a_rewrite_that_adds_a_function_is_refused_as_it_would_run() -> None:
    # sqlglot turns a two-argument length() into CASE TYPEOF(...) ... OCTET_LENGTH(...): DuckDB would run
    # functions nobody typed, so the refusal names the rewritten function and shows the rewrite
    message = _refusal("SELECT length(country_a, 1) FROM pairs")
    assert "octet_length() is not allowed" in message or "typeof() is not allowed" in message, message
    assert "As it would run: SELECT CASE TYPEOF" in message
    assert "TIME ZONE" in _refusal("SELECT today(country_a) FROM pairs")


def test_a_clause_duckdb_drops_unbound_is_still_checked() -> None:
    # DuckDB's parse tree leaves out a WINDOW definition no window function uses; sqlglot's keeps it
    assert "build_info" in _refusal("SELECT * FROM pairs WINDOW w AS (ORDER BY (SELECT count(*) FROM build_info))")


def test_about_lists_the_functions_sql_may_call(db) -> None:
    listed = next(line for line in answer("about", db).details if line.startswith("Functions `sql` may call"))
    assert "round" in listed and "string_agg" in listed and "row_number" in listed
    assert "printf" not in listed and "generate_series" not in listed
    assert "`about` lists the functions" in _refusal("SELECT printf('%d', 1)")


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT " + ",".join(["1"] * 5000),
        "SELECT * FROM pairs WHERE year IN (" + ",".join(["1"] * 5000) + ")",
        "SELECT " + "x" * 20_001,
    ],
)
def test_long_input_is_refused_quickly(sql: str) -> None:
    started = time.perf_counter()
    message = _refusal(sql)
    assert "at most" in message and time.perf_counter() - started < 1.0, message


_LIST_OF_300 = "[" + ",".join(["1"] * 300) + "]"


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT " + _LIST_OF_300 + "[1]" * 440,
        "SELECT count(*) FROM pairs a, pairs b, pairs c WHERE "
        + "["
        + ",".join(["1"] * 600)
        + "]"
        + "[1]" * 200
        + " = a.year",
        "SELECT " + _LIST_OF_300 + "[1:2]" * 200,
        "SELECT (" + _LIST_OF_300 + ")[1]" + "[1]" * 200,
        "SELECT {'a': " + _LIST_OF_300 + "}" + "['a']" * 200,
        "SELECT " + "(" * 30 + "[" + ",".join(["1"] * 1000) + "]" + ("[1]" * 7 + ")") * 30,
        "SELECT " + ", ".join(["[1][1]"] * 9),
    ],
    ids=["440 after a list", "200 after a list of 600", "slices", "after parentheses", "struct keys", "split", "17"],
)
def test_many_subscripts_are_refused_before_sqlglot_parses_them(sql: str) -> None:
    started = time.process_time()
    message = _refusal(sql)
    assert "brackets" in message and time.process_time() - started < 0.2, message


def test_lists_and_subscripts_within_the_limit_still_run(db) -> None:
    result = answer("sql SELECT [[[[[[[1]]]]]]][1][1][1][1][1][1][1] AS x, [1, 2][2] AS y", db)
    assert result.frame["x"].tolist() == [1] and result.frame["y"].tolist() == [2]


@pytest.mark.parametrize(
    "name", ["current_schema", "current_catalog", "user", "session_user", "current_role", '"user"', "localtime"]
)
def test_a_bare_name_duckdb_reads_as_a_function_is_refused(name: str) -> None:
    assert "is not allowed" in _refusal(f"SELECT {name}")
    assert "is not allowed" in _refusal(f"SELECT year FROM pairs WHERE {name} IS NOT NULL")


def test_bare_names_that_are_columns_or_allowed_functions_still_run(db) -> None:
    result = answer("sql SELECT year, current_date IS NOT NULL AS today FROM pairs ORDER BY year LIMIT 1", db)
    assert result.frame["today"].tolist() == [True]
