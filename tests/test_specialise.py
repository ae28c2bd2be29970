"""Reviewed queries specialised to their values' shape: the same rows as the file as written, less to plan."""

from __future__ import annotations

from typing import Any

import pytest
import sqlglot
from sqlglot import exp

from bot.engine import queryfiles
from bot.engine.answer import answer
from bot.engine.specialise import shape, specialise

# Every verb over the shapes its options give: groups or none, metrics, counts, windows, complete years.
COMMANDS = [
    "partners Malaysia",
    "partners Malaysia by affinity",
    "partners Malaysia by share among asean",
    "partners China complete years in robotics from 2016 to 2020",
    "partners asean in cv",
    "partners eu among asean",
    "top 10 non-western from 2015 to 2024",
    "top by share",
    "top among eu in nlp complete years",
    "pairs among non-western in robotics 2023",
    "pairs between asean and eu by affinity",
    "pairs between g20 and asean",
    "pairs top 20 complete years",
    "pair China USA",
    "pair Malaysia asean",
    "pair asean eu from 2018",
    "compare China India Japan South Korea",
    "compare China asean eu among g20",
    "compare USA UK complete years",
    "fields Malaysia China",
    "fields India among eu",
    "fields Germany asean",
    "rising",
    "rising China",
    "rising asean",
    "rising among gcc",
    "rising USA among eu from 2018 to 2022",
    "profile Saudi Arabia",
    "profile eu complete years",
]


@pytest.fixture(scope="module")
def statements(db) -> list[tuple[str, dict[str, Any]]]:
    """(query file, the values it was asked with) for every statement the commands ran."""
    asked: list[tuple[str, dict[str, Any]]] = []
    original = queryfiles.statement

    def spy(name: str, values: dict[str, Any]):
        asked.append((name, dict(values)))
        return original(name, values)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(queryfiles, "statement", spy)
        for command in COMMANDS:
            answer(command, db)
    return asked


def test_every_verb_file_is_specialised(statements):
    names = {name for name, _ in statements}
    assert {"partners", "group_partners", "top", "pairs", "pair", "compare", "fields", "rising"} <= names
    assert {"profile", "profile_group"} <= names


def test_specialised_statements_give_the_rows_of_the_file_as_written(db, statements):
    for name, values in statements:
        as_written = queryfiles.load(name).validated
        specialised = queryfiles.statement(name, values)
        full = db.query(as_written, {key: values[key] for key in as_written.params})
        folded = db.query(specialised, {key: values[key] for key in specialised.params})
        assert folded.equals(full), (name, values)
        assert list(folded.dtypes) == list(full.dtypes), (name, values)


def test_branches_the_values_rule_out_are_gone():
    text = queryfiles.load("pairs").text
    values = {"among": None, "group_a": None, "group_b": None, "metric": "joint", "count": "full"}
    tree = sqlglot.parse_one(specialise(text, values), read="duckdb")
    placeholders = {p.name for p in tree.find_all(exp.Placeholder)}
    assert not placeholders & {"among", "group_a", "group_b", "metric", "count", "min_joint"}
    assert not list(tree.find_all(exp.Case))
    # with a group and by affinity, both are kept and the ratio minimum applies
    values = {**values, "among": "asean", "metric": "affinity"}
    tree = sqlglot.parse_one(specialise(text, values), read="duckdb")
    assert {"among", "min_joint"} <= {p.name for p in tree.find_all(exp.Placeholder)}
    assert "affinity" in tree.sql(dialect="duckdb").split("ORDER BY")[-1]


def test_a_shape_depends_on_which_values_are_null_and_on_the_choices_only():
    one = shape({"subject": "MYS", "among": None, "metric": "share", "complete_only": True})
    other = shape({"subject": "CHN", "among": None, "metric": "share", "complete_only": True})
    assert one == other
    assert one != shape({"subject": "MYS", "among": "asean", "metric": "share", "complete_only": True})
    assert one != shape({"subject": "MYS", "among": None, "metric": "joint", "complete_only": True})
    assert one != shape({"subject": "MYS", "among": None, "metric": "share", "complete_only": False})
