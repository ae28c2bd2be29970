"""Answers checked against an independent computation from the shipped CSV files.

The expected numbers come from `conftest.Eto`, which reads data/eto/ with the csv module and takes
each unordered pair-year once from whichever orientation(s) a file lists. Nothing here uses the
project's SQL, so a wrong join, a double count or a lost orientation shows up as a mismatch.
"""

from __future__ import annotations

import math
import re

import pandas as pd
import pytest

from bot.engine.answer import answer
from bot.errors import UserError

COUNTRIES = ["Malaysia", "Saudi Arabia", "China", "United States", "Brazil"]
FIELDS = ["ai", "cv", "robotics", "llm"]
# label -> (command words, year_from, year_to, complete only)
WINDOWS = {
    "all-years": ("", None, None, False),
    "2015-2020": ("2015-2020", 2015, 2020, False),
    "complete": ("complete", None, None, True),
    "single-year": ("in 2021", 2021, 2021, False),
}
REST_OF_WORLD_NON_WESTERN = {
    "China",
    "India",
    "Japan",
    "Singapore",
    "South Korea",
    "Saudi Arabia",
    "Pakistan",
    "Malaysia",
    "Brazil",
    "Taiwan",
}
CLEARLY_WESTERN = {
    "United States",
    "United Kingdom",
    "Germany",
    "France",
    "Canada",
    "Australia",
    "Italy",
    "Spain",
    "Netherlands",
    "Switzerland",
    "Sweden",
    "New Zealand",
}


def _ask(db, text: str):
    return answer(text, db)


def _by_code(frame: pd.DataFrame, code_column: str, value_column: str) -> dict[str, object]:
    return dict(zip(frame[code_column], frame[value_column], strict=True))


def _missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _label(years: list[int]) -> str:
    return str(years[0]) if years[0] == years[-1] else f"{years[0]}–{years[-1]}"


# ---------------------------------------------------------------- partners


@pytest.mark.parametrize("window", list(WINDOWS))
@pytest.mark.parametrize("fld", FIELDS)
@pytest.mark.parametrize("country", COUNTRIES)
def test_partners_match_independent_sums(db, eto, country, fld, window):
    words, year_from, year_to, complete = WINDOWS[window]
    result = _ask(db, f"partners {country} in {fld} {words} limit 100")
    code = eto.cb_code[country]
    years = eto.window(fld, year_from, year_to, complete)
    expected = {eto.cb_code[p]: n for p, n in eto.partners(country, fld, years).items()}
    assert len(expected) <= 100
    frame = result.frame
    assert _by_code(frame, "partner_code", "joint_articles") == expected
    # display names follow the codes
    assert list(frame["partner"]) == [eto.code_name[c] for c in frame["partner_code"]]
    # ranked by joint articles
    assert list(frame["joint_articles"]) == sorted(frame["joint_articles"], reverse=True)
    # partner share: joint / the country's own articles in the field and years (activity file names differ)
    own = eto.country_articles(code, fld, years)
    # affinity is association strength on collaboration volume: C(i,j)·T / (L(i)·L(j))
    links = eto.links(fld, years)
    total = sum(links.values())
    for _, row in frame.iterrows():
        if own:
            assert row["partner_share"] == pytest.approx(row["joint_articles"] / own, rel=1e-9)
        else:
            assert _missing(row["partner_share"])
        theirs = links[eto.code_cb[row["partner_code"]]]
        expected_affinity = row["joint_articles"] * total / (links[country] * theirs)
        assert row["affinity"] == pytest.approx(expected_affinity, rel=1e-9)
    # the years used are the years asked for, and incomplete ones are flagged
    assert result.incomplete_years == [y for y in years if y in (2024, 2025)]
    if years:
        assert _label(years) in result.title


def test_partner_share_uses_activity_name_for_china(db, eto):
    # "China" in the pair files is "China (mainland)" in the activity files: a naive join gives no share.
    result = _ask(db, "partners China limit 3")
    assert result.frame["partner_share"].notna().all()
    own = sum(n for (name, f, _), (n, _) in eto.articles.items() if name == "China (mainland)" and f == "ai")
    top = result.frame.iloc[0]
    assert top["partner_share"] == pytest.approx(top["joint_articles"] / own)


def test_brunei_partners_have_a_share(db, eto):
    result = _ask(db, "partners Brunei limit 100")
    years = eto.window("ai", None, None, False)
    expected = {eto.cb_code[p]: n for p, n in eto.partners("Brunei", "ai", years).items()}
    assert _by_code(result.frame, "partner_code", "joint_articles") == expected
    assert expected, "Brunei has published pairs in the AI file"
    own = eto.country_articles("BRN", "ai", years)
    assert own, "'Brunei Darussalam' in the activity file"
    assert result.frame["partner_share"].notna().all()


def test_partners_among_group_only_lists_members(db, eto):
    result = _ask(db, "partners Malaysia among gcc limit 100")
    gcc = {"SAU", "ARE", "QAT", "KWT", "OMN", "BHR"}
    assert set(result.frame["partner_code"]) <= gcc
    years = eto.window("ai", None, None, False)
    expected = {eto.cb_code[p]: n for p, n in eto.partners("Malaysia", "ai", years).items() if eto.cb_code[p] in gcc}
    assert _by_code(result.frame, "partner_code", "joint_articles") == expected


@pytest.mark.parametrize("metric,column", [("share", "partner_share"), ("affinity", "affinity")])
def test_partners_ranked_by_metric(db, metric, column):
    frame = _ask(db, f"partners Malaysia by {metric} limit 100").frame
    values = frame[column].dropna().tolist()
    assert values == sorted(values, reverse=True)
    assert len(values) > 5


# ---------------------------------------------------------------- the sentences of DESIGN.md


def test_malaysia_top_partners_sentence(db):
    frame = _ask(db, "partners Malaysia").frame
    assert list(frame["partner"][:4]) == ["China", "India", "Saudi Arabia", "Indonesia"]


def test_saudi_arabia_top_partners_sentence(db):
    result = _ask(db, "partners Saudi Arabia")
    assert list(result.frame["partner"][:3]) == ["Pakistan", "India", "Egypt"]
    assert "Pakistan" in result.summary


def test_us_china_top_pair_sentence(db, eto):
    years = eto.window("ai", None, None, False)
    totals: dict[tuple[str, str], int] = {}
    for (f, a, b, y), (n, _) in eto.pairs.items():
        if f == "ai" and y in years:
            totals[(a, b)] = totals.get((a, b), 0) + n
    assert max(totals, key=totals.get) == ("China", "United States")
    assert _ask(db, "partners China").frame["partner"].iloc[0] == "United States"
    assert _ask(db, "partners USA").frame["partner"].iloc[0] == "China"
    joint = _ask(db, "pair USA China").frame["joint_articles"].sum()
    assert joint == totals[("China", "United States")]


def test_top_non_western_sentence(db):
    # Over the complete years, the ten are Rest of World's ten (the order differs a little).
    frame = _ask(db, "top 10 non-western complete").frame
    assert set(frame["country"]) == REST_OF_WORLD_NON_WESTERN
    assert list(frame["country"][:2]) == ["China", "India"]


# ---------------------------------------------------------------- pair

PAIRS = [
    ("China", "United States", "ai"),
    ("Malaysia", "Saudi Arabia", "ai"),
    ("Brazil", "China", "cv"),
    ("United States", "United Kingdom", "cv"),
    ("China", "Singapore", "llm"),
    ("Saudi Arabia", "Pakistan", "robotics"),
]


@pytest.mark.parametrize("a,b,fld", PAIRS)
def test_pair_per_year_in_both_orientations(db, eto, a, b, fld):
    forward = _ask(db, f'pair "{a}" "{b}" in {fld}')
    backward = _ask(db, f'pair "{b}" "{a}" in {fld}')
    years = eto.window(fld, None, None, False)
    frame = forward.frame
    assert list(frame["year"]) == years
    for _, row in frame.iterrows():
        expected = eto.joint(fld, a, b, int(row["year"]))
        if expected is None:
            assert _missing(row["joint_articles"])
        else:
            assert row["joint_articles"] == expected
        assert bool(row["complete"]) == (row["year"] not in (2024, 2025))
        own = eto.articles.get((eto.code_activity[eto.cb_code[a]], fld, int(row["year"])))
        if expected is not None and own:
            assert row["country_share"] == pytest.approx(expected / own[0])
    pd.testing.assert_series_equal(frame["joint_articles"], backward.frame["joint_articles"])
    pd.testing.assert_series_equal(frame["year"], backward.frame["year"])
    # the shares swap with the orientation
    pd.testing.assert_series_equal(frame["country_share"], backward.frame["partner_share"], check_names=False)
    assert forward.incomplete_years == [2024, 2025]


def test_pair_unpublished_years_are_null_not_missing(db, eto):
    # A Malaysia pair with some years under the floor: every year is listed, unpublished ones NULL.
    years = eto.window("ai", None, None, False)
    counts: dict[str, int] = {}
    for (f, a, b, _), _ in eto.pairs.items():
        if f == "ai" and "Malaysia" in (a, b):
            other = b if a == "Malaysia" else a
            counts[other] = counts.get(other, 0) + 1
    partner = min((p for p, n in counts.items() if 2 <= n < len(years)), key=lambda p: (counts[p], p))
    result = _ask(db, f'pair Malaysia "{partner}"')
    frame = result.frame
    assert list(frame["year"]) == years
    assert frame["joint_articles"].isna().sum() == len(years) - counts[partner]
    assert any("under the floor" in note for note in result.notes)


def test_pair_china_usa_equals_usa_china(db):
    one, two = _ask(db, "pair China USA").frame, _ask(db, "pair USA China").frame
    assert one[["year", "joint_articles", "complete"]].equals(two[["year", "joint_articles", "complete"]])


# ---------------------------------------------------------------- the symmetry trap in a non-AI field


def test_us_uk_computer_vision_counted_once_not_lost(db, eto):
    rows = [
        (y, n)
        for (f, a, b, y), (n, _) in eto.pairs.items()
        if f == "cv" and (a, b) == ("United Kingdom", "United States")
    ]
    assert len(rows) == 11
    frame = _ask(db, "pair UK USA in cv").frame
    assert dict(zip(frame["year"], frame["joint_articles"], strict=True)) == dict(rows)
    partners = _ask(db, "partners UK in cv limit 100").frame
    assert _by_code(partners, "partner_code", "joint_articles")["USA"] == sum(n for _, n in rows)
    count = _ask(
        db, "sql SELECT count(*) AS n FROM pairs WHERE field = 'cv' AND country_a = 'GBR' AND country_b = 'USA'"
    )
    assert count.frame["n"].iloc[0] == 11


# ---------------------------------------------------------------- top


@pytest.mark.parametrize("window", list(WINDOWS))
@pytest.mark.parametrize("fld", FIELDS)
def test_top_cross_border_links(db, eto, fld, window):
    words, year_from, year_to, complete = WINDOWS[window]
    result = _ask(db, f"top 100 in {fld} {words}")
    years = eto.window(fld, year_from, year_to, complete)
    expected = {eto.cb_code[c]: n for c, n in eto.links(fld, years).items()}
    assert len(expected) <= 100
    assert _by_code(result.frame, "country_code", "cross_border_links") == expected
    links = list(result.frame["cross_border_links"])
    assert links == sorted(links, reverse=True)
    # distinct partners over the whole span, not summed per year
    partners = {code: len(eto.partners(eto.code_cb[code], fld, years)) for code in expected}
    assert _by_code(result.frame, "country_code", "partners") == partners


def test_top_non_western_members(db, eto):
    frame = _ask(db, "top 10 non-western").frame
    assert len(frame) == 10
    assert not set(frame["country"]) & CLEARLY_WESTERN
    assert not set(frame["country_code"]) & eto.western
    years = eto.window("ai", None, None, False)
    links = {eto.cb_code[c]: n for c, n in eto.links("ai", years).items()}
    expected = sorted((c for c in links if c not in eto.western), key=lambda c: -links[c])[:10]
    assert list(frame["country_code"]) == expected


def test_top_among_group_is_inside_group(db):
    frame = _ask(db, "top 100 among asean").frame
    assert set(frame["country"]) <= {
        "Brunei",
        "Cambodia",
        "Indonesia",
        "Laos",
        "Malaysia",
        "Myanmar",
        "Philippines",
        "Singapore",
        "Thailand",
        "Vietnam",
        "Timor-Leste",
    }
    assert {"Malaysia", "Singapore"} <= set(frame["country"])


def test_top_by_share_summary_does_not_claim_most_links(db):
    # Ranked by links per article, the first row is not the country with the most links; the summary
    # must not say it is. (Bug: _top words every summary as "had the most cross-border links".)
    result = _ask(db, "top among quad by share")
    frame = result.frame
    assert list(frame["links_per_article"]) == sorted(frame["links_per_article"], reverse=True)
    most_links = frame.loc[frame["cross_border_links"].idxmax(), "country"]
    leader = frame.iloc[0]["country"]
    assert leader != most_links  # the data makes this a real test
    claim = re.search(r"^(.*?) had the most cross-border AI links(?! per)", result.summary)
    assert claim is None or most_links in claim.group(1), result.summary


# ---------------------------------------------------------------- incomplete years


def test_incomplete_years_flagged(db):
    result = _ask(db, "partners Malaysia")
    assert result.incomplete_years == [2024, 2025]
    years_note = next(n for n in result.notes if n.startswith("Years:"))
    assert "2024–2025" in years_note and "incomplete" in years_note


def test_complete_excludes_incomplete_years(db, eto):
    result = _ask(db, "partners Malaysia complete limit 100")
    assert result.incomplete_years == []
    assert "2015–2023" in result.title
    assert any("complete years only" in n for n in result.notes)
    years = list(range(2015, 2024))
    expected = {eto.cb_code[p]: n for p, n in eto.partners("Malaysia", "ai", years).items()}
    assert _by_code(result.frame, "partner_code", "joint_articles") == expected
    pair = _ask(db, "pair China USA complete").frame
    assert pair["year"].max() == 2023 and pair["complete"].all()


# ---------------------------------------------------------------- rising


def _expected_rising(eto, country: str, fld: str, start: int, end: int, min_volume: int):
    """Partner code -> (first, last, cagr) over one window, and the partners new inside it."""
    ranked, new = {}, set()
    for partner in eto.partners(country, fld, [start, end]):
        first, last = eto.joint(fld, country, partner, start), eto.joint(fld, country, partner, end)
        if last is None or last < min_volume:
            continue
        if first is None:
            new.add(eto.cb_code[partner])
        else:
            ranked[eto.cb_code[partner]] = (first, last, (last / first) ** (1 / (end - start)) - 1)
    return ranked, new


@pytest.mark.parametrize(
    "country,fld,words,start,end",
    [
        ("China", "ai", "", 2019, 2023),
        ("Malaysia", "ai", "", 2019, 2023),
        ("United States", "cv", "", 2019, 2023),
        ("China", "ai", "from 2016", 2016, 2023),
        ("India", "robotics", "2017-2021", 2017, 2021),
        ("Saudi Arabia", "ai", "to 2021", 2017, 2021),
    ],
)
def test_rising_one_window_for_every_partner(db, eto, country, fld, words, start, end):
    result = _ask(db, f"rising {country} in {fld} {words} limit 100")
    assert f"{start}–{end}" in result.title
    assert result.incomplete_years == []
    frame = result.frame
    assert list(frame.columns) == [
        "partner",
        "cagr",
        "first_year",
        "first_value",
        "last_year",
        "last_value",
        "partner_code",
    ]
    assert (frame["first_year"] == start).all() and (frame["last_year"] == end).all()
    ranked, new = _expected_rising(eto, country, fld, start, end, min_volume=50)
    assert set(frame["partner_code"]) == set(ranked) or len(frame) == 100
    for _, row in frame.iterrows():
        first, last, cagr = ranked[row["partner_code"]]
        assert (row["first_value"], row["last_value"]) == (first, last)
        assert row["cagr"] == pytest.approx(cagr, rel=1e-9)
    assert list(frame["cagr"]) == sorted(frame["cagr"], reverse=True)
    notes = " ".join(result.notes)
    assert f"at least 50 joint articles in {end}" in notes
    if new:
        new_note = next(n for n in result.notes if n.startswith(f"New since {start}"))
        for code in new:
            assert eto.code_name[code] in new_note
    else:
        assert not any(n.startswith("New since") for n in result.notes)


def test_rising_china_singapore_and_saudi_arabia(db, eto):
    frame = _ask(db, "rising China limit 100").frame
    cagr = _by_code(frame, "partner_code", "cagr")
    for partner, code in (("Singapore", "SGP"), ("Saudi Arabia", "SAU")):
        first = eto.joint("ai", "China", partner, 2019)
        last = eto.joint("ai", "China", partner, 2023)
        assert cagr[code] == pytest.approx((last / first) ** (1 / 4) - 1)
        assert cagr[code] > 0.2


def test_rising_ignores_incomplete_years_even_when_asked(db):
    result = _ask(db, "rising China from 2015 to 2025")
    assert (result.frame["last_year"] == 2023).all() and (result.frame["first_year"] == 2015).all()
    assert "2024" not in result.title
    assert any("incomplete" in note and "2024–2025" in note for note in result.notes)


@pytest.mark.parametrize(
    "words,start,end,among",
    [
        ("", 2019, 2023, None),
        ("from 2017 in cv", 2017, 2023, None),
        ("among asean", 2019, 2023, "asean"),
        ("among non-western 2018-2022", 2018, 2022, "non_western"),
    ],
)
def test_rising_without_country_ranks_pairs_over_one_window(db, eto, words, start, end, among):
    from bot.reference.countries import all_groups

    result = _ask(db, f"rising {words} limit 100")
    fld = "cv" if "cv" in words else "ai"
    frame = result.frame
    assert list(frame.columns)[:7] == [
        "country_a",
        "country_b",
        "cagr",
        "first_year",
        "first_value",
        "last_year",
        "last_value",
    ]
    members = all_groups()[among].members if among else None
    expected = {}
    for (f, a, b, y), (n, _) in eto.pairs.items():
        if f != fld or y != end or n < 100:
            continue
        codes = (eto.cb_code[a], eto.cb_code[b])
        if members is not None and not set(codes) <= members:
            continue
        first = eto.joint(fld, a, b, start)
        if first is not None:
            expected[tuple(sorted(codes))] = (first, n, (n / first) ** (1 / (end - start)) - 1)
    got = {tuple(sorted((r["country_a_code"], r["country_b_code"]))): r for _, r in frame.iterrows()}
    assert set(got) == set(expected) or (len(frame) == 100 and set(got) <= set(expected))
    for key, row in got.items():
        first, last, cagr = expected[key]
        assert (row["first_value"], row["last_value"], row["first_year"], row["last_year"]) == (first, last, start, end)
        assert row["cagr"] == pytest.approx(cagr, rel=1e-9)
    assert "at least 100 joint articles" in " ".join(result.notes)


def test_rising_among_a_group_stays_inside_it(db):
    # `among` used to be ignored: Ethiopia–India ranked first in "rising among gcc".
    from bot.reference.countries import all_groups

    gcc = all_groups()["gcc"].members
    frame = _ask(db, "rising among gcc").frame
    assert set(frame["country_a_code"]) | set(frame["country_b_code"]) <= gcc


# ---------------------------------------------------------------- profile


def _activity_sum(filename: str, column: str, name: str, field_value: str, years: range) -> int:
    import csv

    from conftest import ACTIVITY_DIR

    total = 0
    with open(ACTIVITY_DIR / filename, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["country"] == name and row["field"] == field_value and int(row["year"]) in years:
                total += int(float(row[column]))
    return total


@pytest.mark.parametrize("country", ["Saudi Arabia", "Malaysia", "China"])
def test_profile_numbers(db, eto, country):
    result = _ask(db, f"profile {country}")
    row = result.frame.iloc[0]
    code = eto.cb_code[country]
    activity = eto.code_activity[code]
    years = eto.window("ai", None, None, False)
    partners = eto.partners(country, "ai", years)
    assert row["articles"] == eto.country_articles(code, "ai", years)
    assert row["cross_border_links"] == sum(partners.values())
    assert row["partners"] == len(partners)
    assert row["links_per_article"] == pytest.approx(sum(partners.values()) / row["articles"])
    top3 = sorted(partners, key=lambda p: (-partners[p], eto.cb_code[p]))[:3]
    assert row["top_partners"] == ", ".join(eto.code_name[eto.cb_code[p]] for p in top3)
    span = range(2015, 2026)
    assert row["citations"] == _activity_sum(
        "publications_yearly_citations.csv", "num_citations", activity, "All", span
    )
    assert row["patent_applications"] == _activity_sum(
        "patents_yearly_applications.csv", "num_patent_applications", activity, "All", span
    )


def test_saudi_profile_sentence(db):
    assert "Pakistan, India, Egypt" in _ask(db, "profile Saudi Arabia").summary


@pytest.mark.parametrize("text", ["profile Tuvalu", "profile North Korea", "profile Malaysia in chips"])
def test_profile_of_country_without_data_is_an_answer(db, text):
    # Bug: NULL sums come back as pandas' NA and `_fmt`/`if row["top_partners"]` raise TypeError.
    result = _ask(db, text)
    assert len(result.frame) == 1
    assert result.summary


# ---------------------------------------------------------------- about and notes


def test_about_lists_both_datasets_with_licences(db):
    result = _ask(db, "about")
    titles = set(result.frame["title"])
    assert titles == {"ETO Cross-Border Tech Research Metrics", "ETO Country AI Activity Metrics"}
    assert all("CC BY-NC 4.0" in licence for licence in result.frame["licence"])
    assert result.incomplete_years == [2024, 2025]
    text = " ".join(result.notes)
    assert "25" in text and "2024–2025" in text
    assert "Emerging Technology Observatory" in text


NOTED = [
    ("partners Malaysia", "2015–2025"),
    ("partners Brazil in cv from 2018", "2018–2025"),
    ("top", "2015–2025"),
    ("top 10 non-western complete", "2015–2023"),
    ("pair China USA in 2019", "2019"),
    ("compare China India Japan", "2015–2025"),
    ("fields Malaysia", "2015–2025"),
    ("rising China", "2019–2023"),
    ("profile Saudi Arabia", "2015–2025"),
    ("partners Malaysia in llm", "2016–2025"),
]


@pytest.mark.parametrize("text,years", NOTED)
def test_notes_name_source_years_and_floor(db, text, years):
    result = _ask(db, text)
    notes = " ".join(result.notes)
    assert "Source:" in notes and "ETO Cross-Border Tech Research Metrics" in notes
    assert "CC BY-NC 4.0" in notes
    assert f"Years: {years}" in notes
    assert "fewer than 25 joint articles" in notes and "lower bounds" in notes
    assert years in result.title
    assert result.data_version


@pytest.mark.parametrize(
    "text",
    [
        "partners Malaysia from 2050",
        "rising in 2023",
        "rising from 2024",
        "top by affinity",
        "partners Malaysia count fractional",
        "partners Malaysia source openalex",
        "partners Malaysia in all",
        "top by international",
    ],
)
def test_unanswerable_questions_are_user_errors(db, text):
    with pytest.raises(UserError) as raised:
        _ask(db, text)
    assert raised.value.message.strip()


def test_years_beyond_data_are_clamped_and_said(db):
    result = _ask(db, "partners Malaysia from 2010 to 2030")
    assert "2015–2025" in result.title
    assert any("2010–2030" in note for note in result.notes)


# ---------------------------------------------------------------- any well-formed command

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_COMMANDS = st.tuples(
    st.sampled_from(
        [
            "partners {c}",
            "pair {c} {d}",
            "compare {c} {d}",
            "fields {c}",
            "fields {c} {d}",
            "rising {c}",
            "rising",
            "profile {c}",
            "top",
            "top 5 {g}",
        ]
    ),
    st.sampled_from(["Malaysia", "Tuvalu", "North Korea", "China", "Kosovo", "Brunei", "Saint Lucia", "USA"]),
    st.sampled_from(["India", "Nauru", "Brazil", "Egypt", "Honduras"]),
    st.sampled_from(["non-western", "asean", "gcc", "africa", "oceania", "eu", "quad"]),
    st.sampled_from(["", "in cv", "in llm", "in ai_safety", "in chips", "in nlp", "in robotics"]),
    st.sampled_from(["", "complete", "in 2016", "in 2025", "2024-2025", "from 2023", "2015-2016", "to 2015"]),
    st.sampled_from(["", "by share", "by affinity", "among asean", "limit 1", "among oceania"]),
)


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    phases=(Phase.explicit, Phase.generate),
)  # no shrinking: keep the suite fast
@given(_COMMANDS)
def test_any_well_formed_command_answers_or_explains(db, parts):
    from bot.render.data import to_csv, to_json
    from bot.render.text import render_text

    verb, c, d, g, fld, window, option = parts
    text = " ".join(p for p in (verb.format(c=c, d=d, g=g), fld, window, option) if p)
    try:
        result = answer(text, db)
    except UserError as error:
        assert error.message.strip()
        return
    render_text(result), to_json(result), to_csv(result)
    assert any(note.startswith("Years:") for note in result.notes), text


# ---------------------------------------------------------------- review findings, kept fixed


def test_compare_summary_names_each_country_once_as_in_a_sentence(db):
    summary = answer("compare USA Kosovo", db).summary
    assert summary.startswith("Of the United States and Kosovo, the United States had the most")
    assert summary.endswith(
        "Kosovo is not in ETO Cross-Border Tech Research Metrics at all (absent, not under the floor)."
    )
    assert "the United States, Kosovo" not in summary


@pytest.mark.parametrize(
    "text", ["top 5 in cyber by share", "partners China in chips by share", "compare China India in chips by share"]
)
def test_ranking_by_share_needs_article_counts(db, text):
    with pytest.raises(UserError, match="article count"):
        answer(text, db)


@pytest.mark.parametrize("words", ["", "since 2015", "complete"])
def test_fields_count_each_fields_articles_over_the_years_its_pair_data_covers(db, eto, words):
    # ETO's llm and ai_safety pairs start in 2016, their article counts in 2015: dividing 2016-on links by
    # 2015-on articles understated links per article, and disagreed with `profile Germany in llm`.
    result = _ask(db, f"fields Germany {words}")
    rows = result.frame.set_index("field_code")
    complete = words == "complete"
    for fld in ("ai", "llm", "ai_safety"):
        years = eto.window(fld, 2015, None, complete)
        links = sum(eto.partners(eto.code_cb["DEU"], fld, years).values())
        articles = eto.country_articles("DEU", fld, years)
        assert rows.loc[fld, "joint_articles"] == links
        assert rows.loc[fld, "articles"] == articles
        assert math.isclose(rows.loc[fld, "links_per_article"], links / articles)
    assert eto.years("llm")[0] == 2016
    profile = _ask(db, f"profile Germany in llm {words}").frame.iloc[0]
    assert math.isclose(rows.loc["llm", "links_per_article"], profile["links_per_article"])
    last = 2023 if complete else 2025
    assert any(
        note.startswith(f"Large language models and AI safety: the cross-border data covers only 2016–{last} of 2015–")
        for note in result.notes
    )
    assert not any("covers only" in note for note in _ask(db, "fields Germany since 2016").notes)


def test_fields_refuses_a_field_rather_than_ignoring_it(db):
    with pytest.raises(UserError, match="drop `in"):
        answer("fields Malaysia in llm", db)


def test_profile_warns_of_patent_years_etos_marks_incomplete(db, eto):
    notes = " ".join(answer("profile China from 2021 to 2023", db).notes)
    assert "patent applications incomplete for 2021–2023" in notes


def test_profile_of_a_country_without_articles_says_so(db):
    summary = answer("profile Tuvalu", db).summary
    assert "Tuvalu is not in ETO Country AI Activity Metrics at all" in summary and "n/a" not in summary
    assert "absent, not under the floor" in summary


def test_chart_source_line_carries_the_publication_floor(db):
    assert "under 25 joint articles" in answer("partners Malaysia", db).source_line


def test_sql_answers_name_the_sources_loaded(db):
    notes = " ".join(answer("sql SELECT count(*) AS n FROM pairs", db).notes)
    assert "ETO Cross-Border Tech Research Metrics" in notes and "CC BY-NC 4.0" in notes


def test_compare_by_share_names_the_leader_by_links_per_article(db):
    result = _ask(db, "compare India Pakistan by share")
    frame = result.frame
    by_code = frame.groupby("country_code")
    ratio = by_code["cross_border_links"].sum() / by_code["articles"].sum()
    assert ratio.idxmax() == "PAK" and ratio["PAK"] > 2 * ratio["IND"]  # India has far more links
    assert result.summary.startswith("Of India and Pakistan, Pakistan had the most cross-border AI links per article")
    assert f"({ratio['PAK']:.2f}," in result.summary


def test_compare_says_which_years_a_subject_has_no_row_for(db, eto):
    result = _ask(db, "compare India Pakistan Bangladesh in llm")
    years = set(eto.years("llm"))
    for name in ("Pakistan", "Bangladesh"):
        code = eto.cb_code[name]
        shown = set(result.frame.loc[result.frame["country_code"] == code, "year"])
        published = {y for y in years if eto.partners(name, "llm", [y])}
        assert shown == published and shown != years
    note = next(n for n in result.notes if n.startswith("No published links for"))
    assert "Pakistan in " in note and "Bangladesh in " in note and "not zero" in note


def test_a_ranking_names_a_row_its_cut_leaves_out_on_a_tie(db, eto):
    result = _ask(db, "partners Türkiye from 2016 to 2020")
    partners = eto.partners("Turkey" if "Turkey" in eto.cb_code else "Türkiye", "ai", list(range(2016, 2021)))
    ranked = sorted(partners.items(), key=lambda item: -item[1])
    assert len(result.frame) == 10 and ranked[9][1] == ranked[10][1]  # the cut falls inside a tie
    shown = set(result.frame["partner_code"])
    left_out = [eto.code_name[eto.cb_code[p]] for p, n in ranked if n == ranked[9][1] and eto.cb_code[p] not in shown]
    note = next(n for n in result.notes if "ties with" in n)
    assert note.startswith(left_out[0]) and f"joint_articles {ranked[9][1]}" in note
    assert not [n for n in _ask(db, "partners Malaysia").notes if "ties with" in n]
