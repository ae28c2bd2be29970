"""The SQL gate: every hostile statement in hostile_sql.txt is refused; good statements pass and run."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.engine.answer import answer
from bot.engine.catalog import ALLOWED_TABLES
from bot.engine.validate import ROW_CAP, validate
from bot.errors import RejectedSQL

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
    assert len(HOSTILE) >= 100
    assert len(set(HOSTILE)) == len(HOSTILE)
    assert sum("\n" in s for s in HOSTILE) >= 5


@pytest.mark.parametrize("sql", HOSTILE, ids=[s[:60] for s in HOSTILE])
def test_hostile_sql_is_refused(sql):
    with pytest.raises(RejectedSQL) as raised:
        validate(sql, ALLOWED_TABLES)
    message = raised.value.message
    assert message.startswith("That SQL"), message
    assert "Traceback" not in message and len(message) < 600


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
