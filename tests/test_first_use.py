"""What a new user tried from the README alone: each command here once got an answer to a different
question (or a silent one). Through the real parser, interpreter and engine."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.engine.answer import MIN_ARTICLES_FOR_RATIO, MIN_JOINT_FOR_AFFINITY, answer
from bot.engine.commands import parse
from bot.engine.interpret import read
from bot.errors import OptionRefused, Refused, UnknownField


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


def test_a_groups_partners_among_itself_are_refused() -> None:
    with pytest.raises(OptionRefused, match="same group") as refused:
        answer("partners ASEAN among asean")
    assert "pairs among asean" in refused.value.message


def test_an_empty_answer_among_a_group_blames_no_floor_it_cannot_know() -> None:
    result = answer("partners malaysia among efta in robotics")
    assert result.frame.empty
    assert result.summary.startswith("No partner of Malaysia in EFTA has a published robotics pair-year")
    assert "every collaboration" not in result.summary


def test_a_corrected_typo_is_said_in_the_read_as_line() -> None:
    assert answer("who does Malasia work with?").read_as == "Read as `partners Malaysia` (read 'Malasia' as Malaysia)"


def test_a_country_to_leave_out_is_said_to_be_still_listed() -> None:
    result = answer("China's top partners excluding the US")
    assert result.read_as.startswith("Read as `partners China` (only partly:")
    assert "United States is still listed" in result.read_as


def test_a_pair_with_an_absent_country_gives_one_explanation() -> None:
    result = answer("pair Malaysia Cambodia")
    assert "Cambodia is not in ETO" in result.summary
    assert not any("under the floor, not zero" in note for note in result.notes)


def test_one_published_year_has_no_peak_year() -> None:
    assert "most in" not in answer("pair China USA 2021").summary


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "ask", *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_csv_carries_the_absence_sentence_on_stderr() -> None:
    done = _cli("partners Hong Kong", "--format", "csv")
    assert done.returncode == 0
    assert done.stdout.startswith("partner,")
    assert "Hong Kong is not in ETO Cross-Border Tech Research Metrics" in done.stderr


def test_a_chart_in_a_missing_directory_is_a_friendly_refusal(tmp_path: Path) -> None:
    target = tmp_path / "no such dir" / "x.png"
    done = _cli("partners Malaysia", "--chart", str(target))
    assert done.returncode == 2, done.stderr
    assert "doesn't exist" in done.stderr and "went wrong" not in done.stderr


def test_ratio_rankings_rank_only_rows_with_the_stated_minimum_volume() -> None:
    by_share = answer("top by share")
    assert by_share.frame["articles"].min() >= MIN_ARTICLES_FOR_RATIO
    assert "Saint Lucia" not in set(by_share.frame["country"])
    assert any(f"at least {MIN_ARTICLES_FOR_RATIO:,} articles" in note for note in by_share.notes)
    by_affinity = answer("pairs among non-western by affinity")
    assert by_affinity.frame["joint_articles"].min() >= MIN_JOINT_FOR_AFFINITY
    assert any(f"at least {MIN_JOINT_FOR_AFFINITY} joint articles" in note for note in by_affinity.notes)
    # ranking by joint articles keeps every pair
    assert answer("pairs among asean").frame["joint_articles"].min() < MIN_JOINT_FOR_AFFINITY


def test_read_takes_the_previous_reading_as_the_readme_says() -> None:
    first = read("partners Malaysia in cv")
    assert read("what about Indonesia?", first).command == "partners Indonesia in cv"


def test_a_chart_footer_names_only_the_datasets_used() -> None:
    for command in ("pairs", "rising", "rising Africa"):
        assert "Country AI Activity" not in answer(command).source_line
        assert "Cross-Border" in answer(command).source_line
    assert "Country AI Activity" in answer("partners Malaysia").source_line


def test_titles_say_what_is_there() -> None:
    rising = answer("rising among gcc")
    assert len(rising.frame) < 10 and not rising.title.startswith("Top")
    assert f"{len(rising.frame)} qualif" in rising.title
    assert answer("partners g20").title.startswith("The G20's")
