"""Reference tables (countries, groups, fields) and name resolution, against the real ETO files."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bot.errors import UnknownName
from bot.reference.countries import (
    DATA_DIR,
    all_countries,
    all_groups,
    country_for_eto_name,
    group_for_eto_name,
    normalise,
    resolve_country,
    resolve_group,
)
from bot.reference.fields import DEFAULT_FIELD, all_fields, field_for_eto_name, resolve_field

ETO = DATA_DIR / "eto"
REGIONS = {"Africa", "Americas", "Asia", "Europe", "Oceania"}


def _names(pattern: str, columns: tuple[str, ...]) -> dict[str, set[str]]:
    """ETO name -> the files it appears in."""
    found: dict[str, set[str]] = {}
    for path in sorted(ETO.glob(pattern)):
        with open(path, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                for column in columns:
                    found.setdefault(row[column], set()).add(path.name)
    return found


CROSS_BORDER = _names("cross-border/*.csv", ("country1", "country2"))
ACTIVITY = _names("country-activity/*.csv", ("country",))


def test_eto_files_present() -> None:
    assert len(CROSS_BORDER) > 50 and len(ACTIVITY) > 150


@pytest.mark.parametrize("name", sorted(CROSS_BORDER))
def test_every_cross_border_name_is_one_country(name: str) -> None:
    # The pair files hold countries only, so every name must be a country.
    country = country_for_eto_name(name, "cross_border")
    assert country is not None, f"{name!r} ({CROSS_BORDER[name]}) has no country row"
    assert group_for_eto_name(name) is None


@pytest.mark.parametrize("name", sorted(ACTIVITY))
def test_every_activity_name_is_one_country_or_one_group(name: str) -> None:
    country = country_for_eto_name(name, "activity")
    group = group_for_eto_name(name)
    assert (country is None) != (group is None), f"{name!r}: country={country}, group={group}"
    if group is not None:
        assert sum(g.eto_activity_name == name for g in all_groups().values()) == 1


def test_eto_spellings_are_unique_per_dataset() -> None:
    for column in ("eto_cross_border_name", "eto_activity_name"):
        names = [getattr(c, column) for c in all_countries().values() if getattr(c, column)]
        assert len(names) == len(set(names)), column


def test_dataset_spellings_differ_where_documented() -> None:
    assert country_for_eto_name("China", "cross_border").code == "CHN"
    assert country_for_eto_name("China (mainland)", "activity").code == "CHN"
    assert country_for_eto_name("Brunei", "cross_border").code == "BRN"
    assert country_for_eto_name("Brunei Darussalam", "activity").code == "BRN"
    assert country_for_eto_name("China", "activity") is None
    assert country_for_eto_name("Congo", "activity") is None
    assert group_for_eto_name("Congo").kind == "ambiguous"
    with pytest.raises(ValueError):
        country_for_eto_name("China", "openalex")


def test_countries_table_shape() -> None:
    countries = all_countries()
    assert len(countries) >= 249 and "XKX" in countries
    codes = [c.code for c in countries.values()]
    iso2 = [c.iso2 for c in countries.values()]
    assert len(set(codes)) == len(codes) and len(set(iso2)) == len(iso2)
    for c in countries.values():
        assert len(c.code) == 3 and c.code.isupper() and len(c.iso2) == 2 and c.iso2.isupper()
        assert c.name and c.subregion
        # Antarctica belongs to no UN M49 continent.
        assert c.region in REGIONS or c.code == "ATA", c
    group_codes = set(all_groups())
    assert all(c.groups <= group_codes for c in countries.values())


def test_every_name_key_is_unambiguous() -> None:
    """Each normalised code, name, alias and ETO spelling belongs to one row, country or group."""
    owner: dict[str, str] = {}
    for c in all_countries().values():
        eto = (c.eto_cross_border_name, c.eto_activity_name)
        for key in (c.code, c.iso2, c.name, *c.aliases, *eto):
            if key:
                k = normalise(key)
                assert owner.setdefault(k, c.code) == c.code, (key, owner[k])
    for g in all_groups().values():
        for key in (g.code, g.name, *g.aliases, g.eto_activity_name):
            if key:
                k = normalise(key)
                assert owner.setdefault(k, "group:" + g.code) == "group:" + g.code, (key, owner[k])


def test_raw_aliases_are_unique() -> None:
    aliases = [a.casefold() for c in all_countries().values() for a in c.aliases]
    aliases += [a.casefold() for g in all_groups().values() for a in g.aliases]
    assert len(aliases) == len(set(aliases))


TRAPS = [
    ("Republic of Korea", "KOR"),
    ("Korea", "KOR"),
    ("South Korea", "KOR"),
    ("North Korea", "PRK"),
    ("DPRK", "PRK"),
    ("Kosovo", "XKX"),
    ("Serbia", "SRB"),
    ("U.S.", "USA"),
    ("USA", "USA"),
    ("America", "USA"),
    ("united states", "USA"),
    ("UK", "GBR"),
    ("uk", "GBR"),
    ("Britain", "GBR"),
    ("Ukraine", "UKR"),
    ("Türkiye", "TUR"),
    ("Turkey", "TUR"),
    ("turkiye", "TUR"),
    ("Swaziland", "SWZ"),
    ("Eswatini", "SWZ"),
    ("Georgia", "GEO"),
    ("Holland", "NLD"),
    ("the Netherlands", "NLD"),
    ("China (mainland)", "CHN"),
    ("China", "CHN"),
    ("PRC", "CHN"),
    ("Taiwan", "TWN"),
    ("Brunei Darussalam", "BRN"),
    ("Brunei", "BRN"),
    ("'Malaysia'", "MYS"),
    ("“Malaysia”", "MYS"),
    ("‘Malaysia’", "MYS"),
    ("«Malaysia»", "MYS"),
    (" malaysia ", "MYS"),
    ("MYS", "MYS"),
    ("my", "MYS"),
    ("côte d'ivoire", "CIV"),
    ("cote d'ivoire", "CIV"),
    ("Côte d’Ivoire", "CIV"),
    ("Ivory Coast", "CIV"),
    ("DRC", "COD"),
    ("Republic of the Congo", "COG"),
    ("Cape Verde", "CPV"),
    ("UAE", "ARE"),
    ("KSA", "SAU"),
    ("Czech Republic", "CZE"),
    ("Viet Nam", "VNM"),
    ("Russian Federation", "RUS"),
    ("Holy See", "VAT"),
]


@pytest.mark.parametrize(("text", "code"), TRAPS)
def test_traps(text: str, code: str) -> None:
    assert resolve_country(text).code == code


def test_misspelling_suggests() -> None:
    with pytest.raises(UnknownName) as err:
        resolve_country("Malasia")
    assert "did you mean" in err.value.message and "Malaysia" in err.value.message
    assert err.value.suggestions == ("Malaysia",)


def test_congo_is_ambiguous() -> None:
    with pytest.raises(UnknownName) as err:
        resolve_country("Congo")
    assert "ambiguous" in err.value.message
    assert set(err.value.suggestions) == {"Republic of the Congo", "DR Congo"}


@pytest.mark.parametrize("text", ["EU", "ASEAN", "Africa", "Five Eyes", "non-western"])
def test_group_is_not_a_country(text: str) -> None:
    with pytest.raises(UnknownName) as err:
        resolve_country(text)
    assert "group, not a country" in err.value.message and "among" in err.value.message


@pytest.mark.parametrize("text", ["xyzzy", "", "   ", "''", "🙂", "a" * 500])
def test_nonsense_is_a_helpful_error(text: str) -> None:
    with pytest.raises(UnknownName) as err:
        resolve_country(text)
    assert "no country" in err.value.message and "ISO code" in err.value.message


def test_group_membership() -> None:
    groups = all_groups()
    assert len(groups["g7"].members) == 7
    assert len(groups["eu"].members) == 27
    assert len(groups["gcc"].members) == 6
    assert len(groups["asean"].members) == 11
    assert len(groups["g20"].members) == 19
    assert len(groups["oecd"].members) == 38
    assert len(groups["nato"].members) == 32
    assert groups["five_eyes"].members == {"AUS", "CAN", "NZL", "GBR", "USA"}
    assert groups["quad"].members == {"AUS", "IND", "JPN", "USA"}
    assert "TLS" in groups["asean"].members
    western, non_western = groups["western"].members, groups["non_western"].members
    assert not western & non_western and western | non_western == set(all_countries())
    for code in ("JPN", "SGP", "CHN", "IND", "KOR", "SAU", "TWN"):
        assert code in non_western
    for code in ("DEU", "USA", "AUS", "NZL", "CHE", "GBR", "VAT"):
        assert code in western
    assert groups["asia"].members >= {"CHN", "GEO", "MYS"} and "GEO" not in groups["europe"].members
    assert groups["europe"].members >= {"XKX", "SRB", "RUS"}


def test_resolve_group() -> None:
    assert resolve_group("G7").code == "g7"
    assert resolve_group("the West").code == "western"
    assert resolve_group("Non-Western").code == "non_western"
    assert resolve_group("gulf").code == "gcc"
    assert resolve_group("FVEY").code == "five_eyes"
    assert resolve_group("European Union").code == resolve_group("EU").code == "eu"
    assert resolve_group("Africa").kind == "region"
    assert resolve_group("GPAI").members == frozenset()
    with pytest.raises(UnknownName, match="no member list"):
        resolve_group("GPAI", need_members=True)
    with pytest.raises(UnknownName, match="country, not a group"):
        resolve_group("Malaysia")
    with pytest.raises(UnknownName, match="not a group of countries"):
        resolve_group("European Patent Organization")
    with pytest.raises(UnknownName, match="not a group of countries"):
        resolve_group("Congo")
    with pytest.raises(UnknownName, match="did you mean"):
        resolve_group("Aesan")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("computer vision", "cv"),
        ("CV", "cv"),
        ("vision", "cv"),
        ("Artificial intelligence", "ai"),
        ("AI", "ai"),
        ("LLMs", "llm"),
        ("semiconductors", "chips"),
        ("AI safety", "ai_safety"),
        ("ai_safety", "ai_safety"),
        ("all", "all"),
    ],
)
def test_resolve_field(text: str, code: str) -> None:
    assert resolve_field(text).code == code


def test_field_misspelling() -> None:
    with pytest.raises(UnknownName) as err:
        resolve_field("robotcs")
    assert "did you mean Robotics" in err.value.message
    assert "cv (Computer vision)" in err.value.message  # the list of fields


def test_fields_match_eto_files() -> None:
    assert DEFAULT_FIELD in all_fields()
    cross = {p.stem for p in (ETO / "cross-border").glob("*.csv")}
    for name in _names("cross-border/*.csv", ("field",)):
        assert field_for_eto_name(name, "cross_border") is not None, name
        assert name in cross
    for name in _names("country-activity/publications_*.csv", ("field",)):
        assert field_for_eto_name(name, "activity") is not None, name
    assert field_for_eto_name("All", "activity").code == "ai"
    assert field_for_eto_name("Computer Vision", "activity").code == "cv"
    assert field_for_eto_name("Computer vision", "cross_border").code == "cv"


def test_reference_tables_have_exact_columns() -> None:
    expected = {
        "countries.csv": "code,iso2,name,region,subregion,groups,aliases,eto_cross_border_name,eto_activity_name",
        "groups.csv": "code,kind,name,aliases,definition,eto_activity_name",
        "fields.csv": "code,name,aliases,eto_cross_border_name,eto_activity_name,description",
    }
    for name, header in expected.items():
        first = Path(DATA_DIR / name).read_text(encoding="utf-8").splitlines()[0]
        assert first == header, name
