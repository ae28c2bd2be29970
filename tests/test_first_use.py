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
from bot.errors import OptionRefused, Refused, UnknownField, UnknownName, UserError
from bot.reference import countries as country_ref


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


@pytest.mark.parametrize(
    "text",
    [
        "pairs among global south",
        "top global south",
        "partners Malaysia among global south",
        "which global south countries collaborate most?",
        "who are the top partners among developing countries?",
    ],
)
def test_global_south_is_refused_everywhere_naming_the_groups_that_exist(db, text) -> None:
    with pytest.raises(UnknownName) as refused:
        answer(text, db)
    assert "no agreed list" in refused.value.message and "Sub-Saharan Africa" in refused.value.message


@pytest.mark.parametrize("text", ["pairs among atlantis", "top atlantis", "partners Malaysia among neighbours"])
def test_an_unknown_group_is_named_not_dropped(db, text) -> None:
    with pytest.raises(UnknownName, match="no group"):
        answer(text, db)


@pytest.mark.parametrize(
    "text", ["partners Malaysia top 1000", "top 101", "pairs top 150", "rising limit 500", "fields Malaysia top 1000"]
)
def test_an_out_of_range_count_is_refused_by_every_verb(db, text) -> None:
    with pytest.raises(Refused, match=r"from 1 to 100, not '\d+'"):
        answer(text, db)


def test_between_the_same_group_twice_points_to_among(db) -> None:
    with pytest.raises(OptionRefused, match="same group twice") as refused:
        answer("pairs between asean and asean", db)
    assert "`pairs among asean`" in refused.value.message


@pytest.mark.parametrize(
    "text,title",
    [
        ("top africa", "Top 10 countries in Africa by"),
        ("top sub-saharan africa top 20", "Top 20 countries in Sub-Saharan Africa by"),
        ("top eu", "Top 10 countries in the European Union by"),
        ("top 5 asean", "Top 5 countries in ASEAN by"),
        ("top non-western", "Top 10 Non-Western countries by"),
    ],
)
def test_group_titles_read_naturally(db, text, title) -> None:
    assert answer(text, db).title.startswith(title)


@pytest.mark.parametrize(
    "text,said",
    [
        ("partners Malaysia 2030", "The latest year with data is 2025: try `partners Malaysia in 2025`."),
        ("partners Malaysia in 2025 complete", "try `partners Malaysia in 2023 complete`"),
        ("partners Malaysia to 2010", "The earliest year with data is 2015: try `partners Malaysia in 2015`."),
    ],
)
def test_years_outside_the_data_suggest_the_nearest_years_with_data(db, text, said) -> None:
    with pytest.raises(UserError) as refused:
        answer(text, db)
    assert said in refused.value.message and "from 2016" not in refused.value.message


@pytest.mark.parametrize("text", ["rising from 2024", "rising China 2023", "rising 2025"])
def test_a_growth_window_under_two_complete_years_says_which_exist(db, text) -> None:
    with pytest.raises(UserError) as refused:
        answer(text, db)
    message = refused.value.message
    assert "the complete years are 2015–2023" in message and "2024–2023" not in message
    assert "(2019–2023, the last 5 complete years)" in message


def test_rising_among_a_group_states_the_pair_minimum_for_pairs_inside_it(db) -> None:
    ranked = next(note for note in answer("rising among gcc", db).notes if note.startswith("Ranked"))
    assert "pairs of countries both in the Gulf Cooperation Council" in ranked
    assert "every pair of countries" not in ranked and "at least 100 joint articles" in ranked


@pytest.mark.parametrize(
    "text,years",
    [
        ("top by share among africa", range(2015, 2026)),
        ("top by share among sub-saharan africa top 20", range(2015, 2026)),
        ("top by share among asean since 2022", range(2022, 2026)),
    ],
)
def test_a_ratio_ranking_names_members_left_out_by_the_article_minimum_apart_from_the_floor(
    db, eto, text, years
) -> None:
    result = answer(text, db)
    shown = next(note for note in result.notes if note.startswith("Shown:"))
    group = result.params["among"]
    ranked = set(result.frame["country_code"])
    under_minimum = 0
    for code in (c for c in country_ref.all_groups()[group].members if c not in ranked):
        name = country_ref.all_countries()[code].name
        published = eto.partners(eto.code_cb.get(code, ""), "ai", list(years))
        articles = eto.country_articles(code, "ai", list(years))
        if published and articles is not None:  # has pair-years, too few articles: the minimum, not the floor
            under_minimum += 1
            assert articles < MIN_ARTICLES_FOR_RATIO
            said = shown[shown.index("Not ranked:") : shown.index("needs")]
            assert f"{name} ({articles:,} articles)" in said
            assert f"fewer than the {MIN_ARTICLES_FOR_RATIO:,} articles" in said
    assert under_minimum
    floor = shown[shown.index("No published pair-year") :] if "No published pair-year" in shown else ""
    assert "Rwanda" not in floor and "Brunei" not in floor


def test_partners_by_affinity_say_strongest_give_the_value_and_rank_only_the_minimum(db) -> None:
    result = answer("partners Malaysia by affinity", db)
    top = result.frame.iloc[0]
    assert result.summary.startswith("Malaysia's strongest AI partner by affinity in 2015–2025 was Indonesia")
    assert f"affinity {top['affinity']:.2f}" in result.summary
    assert result.frame["joint_articles"].min() >= MIN_JOINT_FOR_AFFINITY
    assert any(f"at least {MIN_JOINT_FOR_AFFINITY} joint articles" in note for note in result.notes)
    assert answer("partners Malaysia by affinity top 100", db).frame["joint_articles"].min() >= MIN_JOINT_FOR_AFFINITY
    assert answer("partners Malaysia top 100", db).frame["joint_articles"].min() < MIN_JOINT_FOR_AFFINITY
    none = answer("partners Brunei by affinity", db)
    assert none.frame.empty and f"the {MIN_JOINT_FOR_AFFINITY} AI joint articles" in none.summary
    assert "`partners Brunei`" in none.summary and "floor" not in none.summary


@pytest.mark.parametrize(
    "text,said",
    [
        ("pair Malaysia asean", "the side of ASEAN here is its other members"),
        ("partners Malaysia among asean", "its partners there are its other members"),
        ("fields Malaysia asean", "the side of ASEAN here is its other members"),
        ("compare Malaysia asean", "ASEAN's links (its members' with countries outside it) include Malaysia's"),
    ],
)
def test_a_country_asked_with_its_own_group_is_told_the_group_side_is_its_other_members(db, text, said) -> None:
    result = answer(text, db)
    assert any(note.startswith("Malaysia is a member of ASEAN: ") and said in note for note in result.notes)
    assert not any("is a member of" in note for note in answer("pair Japan asean", db).notes)


def test_a_source_not_loaded_says_how_to_load_it_in_plain_words() -> None:
    with pytest.raises(UserError) as refused:
        answer("partners Malaysia source openalex")
    message = refused.value.message
    assert "There is no AI data from source 'openalex'" in message  # the field as a word, not "Artificial intelligence"
    assert "collab ingest openalex PATH" in message and "ask without `source openalex`" in message
