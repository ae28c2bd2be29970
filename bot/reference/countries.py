"""Countries and groups of countries, resolved from the shipped reference tables.

`data/countries.csv` and `data/groups.csv` are the project's own tables; every name the ETO files
use maps to exactly one row of one of them (tests/test_reference.py checks it). Matching is exact
on a normalised form: fuzzy matching only ever produces "did you mean" suggestions, because a
fuzzy matcher happily turns "Republic of Korea" into North Korea or "UK" into Ukraine.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from bot.errors import UnknownGroup, UnknownName
from bot.paths import DATA_DIR

DATASETS = ("cross_border", "activity")
USABLE_GROUP_KINDS = ("bloc", "region")

_QUOTES = "'\"`‘’‚‛“”„‟«»‹›′″"
# Slack and phones turn apostrophes into curly ones: "Côte d’Ivoire" must still match.
_APOSTROPHES = str.maketrans({ch: "'" for ch in "‘’‚‛′`"})


@dataclass(frozen=True)
class Country:
    code: str
    iso2: str
    name: str
    region: str
    subregion: str
    groups: frozenset[str]
    aliases: tuple[str, ...]
    eto_cross_border_name: str
    eto_activity_name: str


@dataclass(frozen=True)
class Group:
    code: str
    kind: str  # bloc | region | office | ambiguous | undefined (a name with no agreed list: refused)
    name: str
    definition: str
    members: frozenset[str]  # country codes; empty when ETO reports only the aggregate
    aliases: tuple[str, ...] = ()
    eto_activity_name: str = ""


def normalise(text: str) -> str:
    """Comparison form: casefolded, no accents or outer quotes, single spaces, no leading "the "."""
    if not text.isascii():  # (ASCII has no accents to take off: the common case, and a hot one)
        text = unicodedata.normalize("NFKD", text.strip())
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.casefold().strip(_QUOTES + " \t").translate(_APOSTROPHES)
    text = re.sub(r"\s+", " ", text).strip()
    return text[4:] if text.startswith("the ") else text


def _split(cell: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in cell.split(";") if part.strip())


def _read(name: str) -> list[dict[str, str]]:
    with open(DATA_DIR / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@lru_cache(maxsize=1)
def all_countries() -> dict[str, Country]:
    return {
        row["code"]: Country(
            code=row["code"],
            iso2=row["iso2"],
            name=row["name"],
            region=row["region"],
            subregion=row["subregion"],
            groups=frozenset(_split(row["groups"])),
            aliases=_split(row["aliases"]),
            eto_cross_border_name=row["eto_cross_border_name"],
            eto_activity_name=row["eto_activity_name"],
        )
        for row in _read("countries.csv")
    }


def _members(code: str, kind: str, name: str) -> frozenset[str]:
    """Members listed in countries.csv's groups column; else a continent's countries (its UN M49 region)."""
    countries = all_countries().values()
    if code == "non_western":
        return frozenset(c.code for c in countries if "western" not in c.groups)
    if kind not in USABLE_GROUP_KINDS:
        return frozenset()
    listed = frozenset(c.code for c in countries if code in c.groups)
    if listed or kind == "bloc":
        return listed
    return frozenset(c.code for c in countries if c.region == name)


@lru_cache(maxsize=1)
def all_groups() -> dict[str, Group]:
    return {
        row["code"]: Group(
            code=row["code"],
            kind=row["kind"],
            name=row["name"],
            definition=row["definition"],
            members=_members(row["code"], row["kind"], row["name"]),
            aliases=_split(row["aliases"]),
            eto_activity_name=row["eto_activity_name"],
        )
        for row in _read("groups.csv")
    }


def _country_keys(c: Country) -> list[str]:
    # Order matters only for priority; the tests keep keys unique across countries anyway.
    return [c.code, c.iso2, c.name, *c.aliases, c.eto_cross_border_name, c.eto_activity_name]


def _group_keys(g: Group) -> list[str]:
    return [g.code, g.code.replace("_", " "), g.name, *g.aliases, g.eto_activity_name]


@lru_cache(maxsize=1)
def _country_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for c in all_countries().values():
        for key in _country_keys(c):
            if key:
                index.setdefault(normalise(key), c.code)
    return index


@lru_cache(maxsize=1)
def _group_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for g in all_groups().values():
        for key in _group_keys(g):
            if key:
                index.setdefault(normalise(key), g.code)
    return index


def _or_list(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def suggest(text: str, choices: dict[str, str], limit: int = 3) -> list[str]:
    """Up to `limit` display names whose keys (normalised name -> display name) look like `text`."""
    from rapidfuzz import fuzz, process  # only needed on a miss; keeps imports fast

    matches = process.extract(normalise(text), list(choices), scorer=fuzz.WRatio, limit=limit * 4, score_cutoff=80)
    found: list[str] = []
    for key, score, _ in matches:
        # Only near-ties with the best match: WRatio's partial matching scores "Untied States"
        # against "federated states of micronesia" at 86, just below the 92 of "united states".
        if score >= matches[0][1] - 4 and choices[key] not in found:
            found.append(choices[key])
    return found[:limit]


@lru_cache(maxsize=1)  # built from the cached tables; rebuilding it cost ~1 ms per misspelt name
def _country_choices() -> dict[str, str]:
    countries = all_countries()
    return {key: countries[code].name for key, code in _country_index().items() if len(key) > 3}


@lru_cache(maxsize=1)
def _group_choices() -> dict[str, str]:
    groups = all_groups()
    return {key: groups[code].name for key, code in _group_index().items() if groups[code].kind in USABLE_GROUP_KINDS}


_GROUP_HINT = "groups work with `top`, `among` and as subjects, e.g. `top 10 among {name}` or `partners {name}`"


def usable_group_names() -> list[str]:
    """Groups with a member list, by name: what a refusal offers instead."""
    return sorted(g.name for g in all_groups().values() if g.kind in USABLE_GROUP_KINDS and g.members)


def _no_list(group: Group) -> str:
    """The refusal for a name with no agreed member list ("Global South"), naming the groups that exist."""
    return f"'{group.name}': {group.definition} Groups with a documented membership: {', '.join(usable_group_names())}."


def _shown(text: str) -> str:
    """The user's text as echoed in a message: trimmed, unquoted, never a wall of text."""
    text = " ".join(text.split()).strip(_QUOTES).strip()
    return text if len(text) <= 60 else text[:57] + "..."


def resolve_country(text: str) -> Country:
    """The country `text` names (code, name, alias or ETO spelling); UnknownName otherwise."""
    key, shown = normalise(text), _shown(text)
    code = _country_index().get(key)
    if code:
        return all_countries()[code]
    group_code = _group_index().get(key)
    if group_code:
        group = all_groups()[group_code]
        if group.kind == "ambiguous":  # only ETO's "Congo" so far
            options = ("Republic of the Congo", "DR Congo")
            raise UnknownName(f"'{shown}' is ambiguous — did you mean {_or_list(list(options))}?", options)
        if group.kind == "office":
            raise UnknownName(f"'{shown}' is a patent office, not a country.")
        if group.kind == "undefined":
            raise UnknownGroup(_no_list(group), tuple(usable_group_names()), typed=text, undefined=True)
        if not group.members:  # ETO's aggregate rows only: nothing to rank or sum
            raise UnknownGroup(
                f"'{shown}' is a group with no member list here, so nothing can be ranked or summed over its "
                f"members: {group.definition} Groups with a documented membership: {', '.join(usable_group_names())}.",
                tuple(usable_group_names()),
                typed=text,
                undefined=True,
            )
        raise UnknownName(
            f"'{shown}' is a group, not a country — " + _GROUP_HINT.format(name=group.name),
            (group.name,),
        )
    found = suggest(text, _country_choices()) if key else []
    if found:
        raise UnknownName(f"no country '{shown}' — did you mean {_or_list(found)}?", tuple(found))
    raise UnknownName(
        f"no country '{shown}' — use a country name such as South Korea, or an ISO code such as KOR or KR."
    )


def resolve_group(text: str, *, need_members: bool = False) -> Group:
    """The bloc or region `text` names.

    With need_members (for `among`), groups that ETO reports only as a total (GPAI, its own
    continent splits) are refused, since there is no member list to rank.
    """
    key, shown = normalise(text), _shown(text)
    group_code = _group_index().get(key)
    usable = usable_group_names()
    if group_code:
        group = all_groups()[group_code]
        if group.kind == "undefined":
            raise UnknownGroup(_no_list(group), tuple(usable), typed=text, undefined=True)
        if group.kind not in USABLE_GROUP_KINDS:
            raise UnknownGroup(f"'{shown}' is not a group of countries: {group.definition}", typed=text)
        if need_members and not group.members:
            raise UnknownGroup(
                f"'{group.name}' has no member list here: {group.definition} Groups with members: {', '.join(usable)}.",
                tuple(usable),
                typed=text,
                undefined=True,
            )
        return group
    if key in _country_index():
        country = all_countries()[_country_index()[key]]
        message = f"'{country.name}' is a country, not a group. Groups: {', '.join(usable)}."
        raise UnknownGroup(message, tuple(usable), typed=text)
    found = suggest(text, _group_choices()) if key else []
    if found:
        raise UnknownGroup(f"no group '{shown}' — did you mean {_or_list(found)}?", tuple(found), typed=text)
    raise UnknownGroup(f"no group '{shown}'. Groups: {', '.join(usable)}.", tuple(usable), typed=text)


@lru_cache(maxsize=2)
def _eto_country_index(dataset: str) -> dict[str, Country]:
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}, not {dataset!r}")
    column = f"eto_{dataset}_name"
    return {getattr(c, column): c for c in all_countries().values() if getattr(c, column)}


def country_for_eto_name(name: str, dataset: str) -> Country | None:
    """The country an exact ETO spelling stands for in `dataset` ("cross_border" or "activity")."""
    return _eto_country_index(dataset).get(name)


def group_for_eto_name(name: str) -> Group | None:
    """The group/region/office/ambiguous row an ETO country-activity name stands for."""
    return next((g for g in all_groups().values() if g.eto_activity_name == name), None)


def country_name_keys() -> list[str]:
    """Every name and alias of every country, in comparison form."""
    return list(_country_index())


def group_name_keys() -> list[str]:
    """Every name and alias of every group, in comparison form."""
    return list(_group_index())


def find_country(text: str) -> Country | None:
    """The country `text` names exactly (code, name, alias, ETO spelling), or None; never raises."""
    code = _country_index().get(normalise(text))
    return all_countries()[code] if code else None


def find_group(text: str) -> Group | None:
    """The usable group (bloc or region with members) `text` names exactly, or None."""
    code = _group_index().get(normalise(text))
    group = all_groups().get(code) if code else None
    return group if group and group.kind in USABLE_GROUP_KINDS and group.members else None
