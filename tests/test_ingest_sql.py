"""queries/ingest/*.sql: headers that match the queries, and the DuckDB -> Spark translation (bot/data/derivation.py).

The Spark equality tests (test_ingest_spark.py) prove the translated queries give the same tables;
these check, without Spark, each file's header and each correction derivation.py makes to sqlglot.
"""

from __future__ import annotations

import re

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from bot.data import derivation as sql
from bot.data.ingest import mapping
from bot.data.ingest.openalex import create_field_rules, query_params

NAMES = sorted(p.stem for p in sql.INGEST_QUERIES.glob("*.sql"))


def test_every_stage_of_the_derivation_is_a_file():
    assert set(NAMES) >= {
        "works",
        "bad_works",
        "latest",
        "work_countries",
        "unknown_codes",
        "papers",
        "paper_countries",
        "paper_fields",
        "pairs",
        "country_articles",
    }


@pytest.mark.parametrize("name", NAMES)
def test_header_names_the_parameters_used(name):
    query = sql.load(name)
    used = {p.name for p in sqlglot.parse_one(query.text, read="duckdb").find_all(exp.Placeholder)}
    assert set(query.params) == used
    assert query.relations, "the header names the relations the query reads"
    for relation in query.relations:
        assert relation.isidentifier()


@pytest.mark.parametrize("name", NAMES)
def test_spark_text_parses_as_spark_and_binds_named_markers(name):
    query = sql.load(name)
    spark_text = query.spark
    tree = sqlglot.parse_one(spark_text, read="spark")
    assert {p.name for p in tree.find_all(exp.Placeholder)} == set(query.params)
    assert not re.search(r"\$[a-z]", spark_text) and "lambda" not in spark_text.lower()
    assert "&&" not in spark_text and "QUALIFY" not in spark_text.upper()


def test_list_has_any_becomes_arrays_overlap():
    """sqlglot writes DuckDB's list_has_any as `&&`, which Spark lacks; derivation.py spells it arrays_overlap."""
    plain = sqlglot.transpile("SELECT list_has_any(a, b) FROM t", read="duckdb", write="spark")[0]
    assert "&&" in plain  # the reason for the fix: if sqlglot changes, this fix can go
    assert sql.to_spark("SELECT list_has_any(a, b) FROM t") == "SELECT ARRAYS_OVERLAP(a, b) FROM t"


def test_array_lengths_are_sizes_not_string_lengths():
    """The files write array_length (Spark SIZE); DuckDB's len() would become Spark's string LENGTH."""
    assert "SIZE(in_rules)" in sql.load("works").spark
    assert "len(" not in sql.load("works").text.replace("array_length(", "")


def test_missing_parameter_is_named():
    with pytest.raises(KeyError, match="first_incomplete"):
        sql.load("pairs").values({"source": "openalex"})


def test_works_sql_maps_fields_like_the_python_mapping():
    """works.sql with mapping.rules_value() against mapping.fields_for, on hand-made works."""
    con = duckdb.connect()
    create_field_rules(con)
    works = {
        "W1": {"concepts": [{"id": "https://openalex.org/C31972630", "score": 0.5}]},  # cv
        "W2": {"concepts": [{"id": "C31972630", "score": 0.1}]},  # below the score: none
        "W3": {"topics": [{"id": "T10181", "display_name": "x", "subfield": {"id": "y"}}]},  # nlp
        "W4": {"keywords": [{"display_name": "Large Language Models"}]},  # llm
        "W5": {
            "topics": [{"id": "T1", "display_name": "z", "subfield": {"id": "https://openalex.org/subfields/1702"}}]
        },
        "W6": {},
    }
    con.execute("""CREATE TABLE work_source (id VARCHAR, publication_year INTEGER, title VARCHAR,
        updated_date VARCHAR, authorships STRUCT(countries VARCHAR[], institutions STRUCT(country_code VARCHAR)[])[],
        concepts STRUCT(id VARCHAR, score DOUBLE)[], topics STRUCT(id VARCHAR, display_name VARCHAR,
        subfield STRUCT(id VARCHAR))[], keywords STRUCT(display_name VARCHAR)[], seq BIGINT)""")
    for n, (work_id, work) in enumerate(works.items()):
        con.execute(
            "INSERT INTO work_source VALUES (?, 2020, 't', NULL, [], ?, ?, ?, ?)",
            [work_id, work.get("concepts", []), work.get("topics", []), work.get("keywords", []), n],
        )
    query = sql.load("works")
    got = dict(
        con.execute(f"SELECT work_id, fields FROM ({query.text}\n)", query.values(query_params(False))).fetchall()
    )
    assert {w: set(f) for w, f in got.items()} == {w: mapping.fields_for(work) for w, work in works.items()}
    assert set(got["W1"]) == {"cv", "ai"} and got["W6"] == []
