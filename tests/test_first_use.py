"""What a new user tried from the README alone: each command here once got an answer to a different
question (or a silent one). Through the real parser, interpreter and engine."""

from __future__ import annotations

import pytest

from bot.engine.answer import answer
from bot.engine.commands import parse
from bot.errors import Refused, UnknownField


@pytest.mark.parametrize(
    "text,named",
    [
        ("partners Malaysia since 2018 from 2019", ["since 2018", "from 2019", "first year"]),
        ("partners Malaysia in cv in nlp", ["in cv", "in nlp", "field"]),
        ("partners Malaysia top 5 top 7", ["top 5", "top 7", "rows"]),
        ("partners Malaysia by share by affinity", ["by share", "by affinity", "ranking"]),
    ],
)
def test_an_option_set_twice_to_different_values_is_refused_naming_both(text: str, named: list[str]) -> None:
    with pytest.raises(Refused) as refused:
        answer(text)
    for words in named:
        assert words in refused.value.message


def test_an_option_said_twice_alike_and_plain_english_years_still_work() -> None:
    assert parse("partners Malaysia since 2018 since 2018").year_from == 2018
    assert answer("who are Malaysia's partners since 2018?").read_as == "Read as `partners Malaysia since 2018`"


def test_an_unknown_field_is_named_not_dropped() -> None:
    with pytest.raises(UnknownField, match="no field 'biology'"):
        answer("partners Malaysia in biology")


def test_between_with_one_group_says_it_needs_two() -> None:
    with pytest.raises(Refused, match="`between` needs two groups") as refused:
        answer("pairs between asean")
    assert "pairs between asean and eu" in refused.value.message


def test_the_same_country_twice_in_fields_is_refused() -> None:
    with pytest.raises(Refused, match="twice"):
        answer("fields Malaysia Malaysia")


def test_help_on_an_unknown_verb_says_so() -> None:
    with pytest.raises(Refused, match="no verb 'nonsense'; verbs are") as refused:
        answer("help nonsense")
    assert "`partners`" in refused.value.message


def test_control_characters_inside_a_name_are_dropped() -> None:
    assert parse("partners \x07Malay\x1bsia").countries == ("MYS",)
    assert parse("partners Mal\x00aysia").countries == ("MYS",)
