"""Pair rankings, groups as subjects, coverage and the Python API, checked against the CSVs.

Expected numbers come from `conftest.Eto` (the ETO files read with the csv module) and from the
group memberships read straight from data/countries.csv here; nothing goes through the project's SQL.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

from bot.engine.answer import MIN_JOINT_FOR_AFFINITY, answer
from bot.errors import UserError

ROOT = Path(__file__).resolve().parents[1]
FIELDS = ["ai", "cv", "robotics", "nlp"]
# label -> (command words, year_from, year_to, complete only)
WINDOWS = {
    "all-years": ("", None, None, False),
    "2017-2021": ("2017-2021", 2017, 2021, False),
    "complete": ("complete", None, None, True),
    "2023": ("2023", 2023, 2023, False),
}


def _members(group: str) -> set[str]:
    """Members as data/countries.csv lists them (continents by their UN M49 region column)."""
    continents = {"africa": "Africa", "asia": "Asia", "europe": "Europe", "oceania": "Oceania", "americas": "Americas"}
    with open(ROOT / "data" / "countries.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if group == "non_western":
        return {r["code"] for r in rows if "western" not in r["groups"].split(";")}
    if group in continents:
        return {r["code"] for r in rows if r["region"] == continents[group]}
    return {r["code"] for r in rows if group in r["groups"].split(";")}


def _pair_totals(eto, fld: str, years: list[int]) -> dict[tuple[str, str], tuple[int, int]]:
    """(code, code) sorted -> (joint articles summed over years, published years)."""
    wanted, totals = set(years), defaultdict(lambda: [0, 0])
    for (f, a, b, y), (n, _) in eto.pairs.items():
        if f == fld and y in wanted:
            key = tuple(sorted((eto.cb_code[a], eto.cb_code[b])))
            totals[key][0] += n
            totals[key][1] += 1
    return {k: (v[0], v[1]) for k, v in totals.items()}


def _volumes(eto, fld: str, years: list[int]) -> tuple[dict[str, int], int]:
    links = {eto.cb_code[name]: n for name, n in eto.links(fld, years).items()}
    return links, sum(links.values())


# ---------------------------------------------------------------- pairs


@pytest.mark.parametrize("window", list(WINDOWS))
@pytest.mark.parametrize("fld", FIELDS)
@pytest.mark.parametrize(
    "scope",
    # g20 and asean overlap (Indonesia): a pair of two members of A, one of them also in B, is shown
    # with the country that is not in B as country_a
    ["", "among non-western", "among asean", "between asean and eu", "between mena and g7", "between g20 and asean"],
)
def test_pairs_match_independent_sums(db, eto, scope, fld, window):
    words, year_from, year_to, complete = WINDOWS[window]
    result = answer(f"pairs {scope} in {fld} {words} limit 100", db)
    years = eto.window(fld, year_from, year_to, complete)
    totals = _pair_totals(eto, fld, years)
    if scope.startswith("among"):
        inside = _members(scope.split()[1].replace("-", "_"))
        totals = {k: v for k, v in totals.items() if set(k) <= inside}
    elif scope.startswith("between"):
        first, second = (_members(g) for g in scope.split()[1::2])
        totals = {
            k: v for k, v in totals.items() if (k[0] in first and k[1] in second) or (k[1] in first and k[0] in second)
        }
    frame = result.frame
    assert list(frame.columns[:4]) == ["country_a", "country_b", "joint_articles", "affinity"]
    expected = sorted(totals.items(), key=lambda kv: -kv[1][0])[:100]
    got = {tuple(sorted((r["country_a_code"], r["country_b_code"]))): r for _, r in frame.iterrows()}
    assert len(got) == len(expected)
    cutoff = expected[-1][1][0] if expected else 0
    assert {k for k, v in totals.items() if v[0] > cutoff} <= set(got)  # ties at the cut may go either way
    links, total = _volumes(eto, fld, years)
    for key, row in got.items():
        assert (row["joint_articles"], row["published_years"]) == totals[key]
        assert row["affinity"] == pytest.approx(totals[key][0] * total / (links[key[0]] * links[key[1]]), rel=1e-9)
        if scope.startswith("between"):
            assert row["country_a_code"] in first and row["country_b_code"] in second
    assert list(frame["joint_articles"]) == sorted(frame["joint_articles"], reverse=True)
    assert frame["country_a"].tolist() == [eto.code_name[c] for c in frame["country_a_code"]]


def test_pairs_by_affinity_ranks_by_association_strength(db, eto):
    frame = answer("pairs by affinity in 2022 limit 20", db).frame
    assert list(frame["affinity"]) == sorted(frame["affinity"], reverse=True)
    links, total = _volumes(eto, "ai", [2022])
    totals = _pair_totals(eto, "ai", [2022])
    ranked = [k for k in totals if totals[k][0] >= MIN_JOINT_FOR_AFFINITY]  # the stated minimum volume
    best = max(ranked, key=lambda k: totals[k][0] * total / (links[k[0]] * links[k[1]]))
    assert tuple(sorted((frame.iloc[0]["country_a_code"], frame.iloc[0]["country_b_code"]))) == best


def test_pairs_chart_is_horizontal_bars_labelled_a_dash_b(db, tmp_path):
    from bot.render.charts import render_png

    result = answer("pairs between asean and eu", db)
    assert (result.chart.kind, result.chart.x, result.chart.x2) == ("bar", "country_a", "country_b")
    assert render_png(result).startswith(b"\x89PNG")


# ---------------------------------------------------------------- groups as subjects


def _group_partners(eto, members: set[str], fld: str, years: list[int]) -> dict[str, tuple[int, int]]:
    """partner -> (links: member-partner joint articles summed, members with a published pair-year)."""
    wanted = set(years)
    links, who = defaultdict(int), defaultdict(set)
    for (f, a, b, y), (n, _) in eto.pairs.items():
        if f != fld or y not in wanted:
            continue
        ca, cb = eto.cb_code[a], eto.cb_code[b]
        for member, partner in ((ca, cb), (cb, ca)):
            if member in members and partner not in members:
                links[partner] += n
                who[partner].add(member)
    return {p: (links[p], len(who[p])) for p in links}


@pytest.mark.parametrize("window", ["all-years", "2017-2021", "complete"])
@pytest.mark.parametrize("fld", ["ai", "cv", "robotics"])
@pytest.mark.parametrize("group", ["asean", "africa", "eu", "mena", "latin_america_caribbean", "sub_saharan_africa"])
def test_group_partners_are_outside_it_ranked_by_links(db, eto, group, fld, window):
    words, year_from, year_to, complete = WINDOWS[window]
    result = answer(f"partners {group.replace('_', ' ')} in {fld} {words} limit 100", db)
    members = _members(group)
    years = eto.window(fld, year_from, year_to, complete)
    expected = _group_partners(eto, members, fld, years)
    frame = result.frame
    assert list(frame.columns) == ["partner", "links", "published_years", "members", "partner_code"]
    assert not set(frame["partner_code"]) & members
    assert {r["partner_code"]: (r["links"], r["members"]) for _, r in frame.iterrows()} == dict(
        sorted(expected.items(), key=lambda kv: -kv[1][0])[:100]
    ) or len(frame) == 100
    assert list(frame["links"]) == sorted(frame["links"], reverse=True)
    notes = " ".join(result.notes)
    assert "counts twice" in notes and "Members:" in notes


def test_group_pair_sums_member_pairs_year_by_year(db, eto):
    result = answer("pair asean China in cv", db)
    asean = _members("asean")
    for _, row in result.frame.iterrows():
        year = int(row["year"])
        expected = [
            n
            for (f, a, b, y), (n, _) in eto.pairs.items()
            if f == "cv"
            and y == year
            and {eto.cb_code[a], eto.cb_code[b]} & {"CHN"}
            and ({eto.cb_code[a], eto.cb_code[b]} - {"CHN"}) <= asean
        ]
        assert (row["links"] if expected else None) == (sum(expected) if expected else None) or (
            not expected and row["links"] != row["links"]
        )
        if expected:
            assert row["pairs"] == len(expected)


@pytest.mark.parametrize(("first", "second"), [("eu", "nato"), ("gcc", "brics"), ("g20", "asean")])
def test_overlapping_groups_pair_counts_each_member_pair_once(db, eto, first, second):
    result = answer(f"pair {first} {second}", db)
    a, b = _members(first), _members(second)
    for year, links, pairs in zip(result.frame["year"], result.frame["links"], result.frame["pairs"], strict=True):
        expected = [
            n
            for (f, x, y, yr), (n, _) in eto.pairs.items()
            if f == "ai"
            and yr == year
            and ((eto.cb_code[x] in a and eto.cb_code[y] in b) or (eto.cb_code[y] in a and eto.cb_code[x] in b))
        ]
        assert (links, pairs) == ((sum(expected), len(expected)) if expected else (pd.NA, pd.NA)) or (
            not expected and pd.isna(links)
        )
    shared = a & b
    assert any(note.endswith("each member pair once.") and "in both" in note for note in result.notes) == bool(shared)


def test_compare_a_group_counts_links_outside_it(db, eto):
    result = answer("compare eu China 2019-2021", db)
    eu = _members("eu")
    for _, row in result.frame[result.frame["country_code"] == "eu"].iterrows():
        expected = _group_partners(eto, eu, "ai", [int(row["year"])])
        assert row["cross_border_links"] == sum(links for links, _ in expected.values())


def test_profile_of_a_group_uses_etos_own_rows(db):
    import csv as csv_module

    result = answer("profile asean 2020", db)
    with open(ROOT / "data" / "eto" / "country-activity" / "publications_yearly_articles.csv", newline="") as f:
        own = [
            int(r["num_articles"])
            for r in csv_module.DictReader(f)
            if r["country"] == "ASEAN" and r["field"] == "All" and r["year"] == "2020"
        ]
    assert result.frame.iloc[0]["articles"] == sum(own)
    assert "ETO's own rows for ASEAN" in " ".join(result.notes)
    without = answer("profile gcc", db)
    assert pd.isna(without.frame.iloc[0]["articles"])  # not summed from members
    assert "can't be added up" in " ".join(without.notes)


def test_top_of_a_group_names_the_members_it_has_no_row_for(db):
    result = answer("top asean", db)
    assert len(result.frame) == 7
    notes = " ".join(result.notes)
    for missing in ("Cambodia", "Laos", "Myanmar", "Timor-Leste"):
        assert missing in notes
    assert "Not in ETO Cross-Border Tech Research Metrics at all" in notes


def test_group_definitions_are_documented_and_global_south_is_refused(db):
    notice = (ROOT / "data" / "NOTICE.md").read_text(encoding="utf-8")
    for name in (
        "Latin America and the Caribbean",
        "South America",
        "Central America",
        "Middle East and North Africa",
        "Sub-Saharan Africa",
    ):
        assert name in notice
    assert _members("south_america") <= _members("latin_america_caribbean")
    assert (
        "MEX" in _members("central_america")
        and "EGY" in _members("mena")
        and "EGY" not in _members("sub_saharan_africa")
    )
    assert "NGA" in _members("sub_saharan_africa") and "SDN" not in _members(
        "sub_saharan_africa"
    )  # M49: Sudan is Northern Africa
    with pytest.raises(UserError) as refused:
        answer("partners Global South", db)
    assert "no agreed list" in refused.value.message and "Sub-Saharan Africa" in refused.value.message


# ---------------------------------------------------------------- coverage, not the floor


def test_a_country_absent_from_the_data_is_named_absent_not_under_the_floor(db):
    result = answer("partners Hong Kong", db)
    assert result.frame.empty
    assert "Hong Kong is not in ETO Cross-Border Tech Research Metrics at all" in result.summary
    assert "not the 25-article floor" in result.summary
    floor = answer("partners Brunei in llm", db)  # listed, but each pair-year under the floor
    assert "floor" in floor.summary and "not in" not in floor.summary


def test_about_lists_coverage_per_dataset_and_well_known_missing_countries(db):
    result = answer("about", db)
    assert set(result.frame["countries"]) == {94, 190}
    coverage = next(n for n in result.notes if n.startswith("Coverage"))
    assert "Hong Kong" in coverage and "Macao" in coverage and "Latvia" in coverage


# ---------------------------------------------------------------- the source that has the field


def test_a_field_only_one_source_has_uses_that_source_and_says_so(tmp_path):
    from bot.data.build import build
    from bot.data.ingest import ingest_openalex
    from bot.engine.db import Database

    path = tmp_path / "collab.duckdb"
    build(path, log=lambda line: None)
    ingest_openalex(
        [ROOT / "tests" / "data" / "openalex" / "works-sample.jsonl"],
        path,
        all_works=True,
        progress=False,
        log=lambda line: None,
    )
    database = Database(path)
    try:
        result = answer("partners Malaysia in all", database)
        assert any("Only OpenAlex" in note and "source openalex" in note for note in result.notes)
        assert set(result.frame["partner_code"]) == {"GBR", "USA"}  # the sample's two Malaysian co-authorships
        with pytest.raises(UserError, match="Source openalex has it"):
            answer("partners Malaysia in all source eto", database)
    finally:
        database.close()


# ---------------------------------------------------------------- the Python API


def test_importing_bot_stays_cheap():
    code = "import sys, bot; print(json.dumps(sorted(m for m in ('pandas', 'duckdb', 'sqlglot') if m in sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", "import json; " + code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    assert json.loads(out) == []


def test_ask_returns_the_result_the_cli_prints(db_path):
    script = (
        "import json; from bot import ask; r = ask('partners Malaysia'); "
        "print(json.dumps({'type': type(r.frame).__name__, 'title': r.title, 'summary': r.summary, "
        "'notes': r.notes, 'sql': r.sql[:40], 'keys': list(r.to_dict()), 'top': r.frame.iloc[0]['partner']}))"
    )
    env = {**os.environ, "COLLAB_DB": str(db_path)}
    out = json.loads(
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env).stdout
    )
    cli = json.loads(
        subprocess.run(
            [sys.executable, "-m", "bot.cli", "ask", "partners Malaysia", "--format", "json"],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        ).stdout
    )
    assert out["type"] == "DataFrame" and out["top"] == "China"
    assert (out["title"], out["summary"], out["notes"]) == (cli["title"], cli["summary"], cli["notes"])
    assert out["keys"] == list(cli)


def test_ask_builds_the_database_when_it_is_missing(tmp_path):
    env = {**os.environ, "COLLAB_DB": str(tmp_path / "fresh.duckdb")}
    script = "from bot import ask; print(ask('pair China USA').frame['joint_articles'].notna().sum())"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env)
    assert int(out.stdout) > 5 and (tmp_path / "fresh.duckdb").exists()


def test_rising_chart_draws_growth_in_percent(db):
    from bot.render.charts import _axis_formatter, _value_format

    result = answer("rising", db)
    assert (result.chart.y, result.chart.x, result.chart.x2) == ("cagr", "country_a", "country_b")
    assert _value_format("cagr")(0.848) == "84.8%"
    assert _axis_formatter("cagr", result.frame["cagr"])(0.4, 0) == "40%"


def test_group_growth_sums_only_member_pairs_published_in_both_end_years(db, eto):
    # Africa–India once grew 119% a year because member pairs crossed the floor inside the window.
    result = answer("rising Africa", db)
    africa = _members("africa")
    start, end = 2019, 2023
    published: dict[tuple[str, str, int], int] = {}
    for (f, a, b, y), (n, _) in eto.pairs.items():
        ca, cb = eto.cb_code[a], eto.cb_code[b]
        for member, partner in ((ca, cb), (cb, ca)):
            if f == "ai" and member in africa and partner not in africa:
                published[(member, partner, y)] = n
    assert len(result.frame) > 0
    for _, row in result.frame[result.frame["first_value"].notna()].iterrows():
        partner = row["partner_code"]
        both = [m for (m, p, y) in published if p == partner and y == start and (m, p, end) in published]
        assert row["first_value"] == sum(published[(m, partner, start)] for m in both)
        assert row["last_value"] == sum(published[(m, partner, end)] for m in both)
    india = result.frame[result.frame["partner_code"] == "IND"].iloc[0]
    assert india["cagr"] < 1.0
    assert any("only member–partner pairs published in both 2019 and 2023" in note for note in result.notes)


def test_a_group_ranking_with_fewer_rows_than_members_says_how_many_it_shows(db, eto):
    result = answer("top asean", db)
    listed = {eto.cb_code[name] for (_, a, b, _) in eto.pairs for name in (a, b)}
    shown = _members("asean") & listed
    assert set(result.frame["country_code"]) == shown
    assert f"Shown: {len(shown)} of {len(_members('asean'))} members." in result.notes
