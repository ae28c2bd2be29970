"""Query -> Result: runs the reviewed SQL for a command and words the answer honestly.

The one place where the data's caveats are attached to every answer: the source and release, the
years used, which of them are incomplete, ETO's floor of 25 joint articles per pair-year, and which
countries a dataset does not list at all (absent is not the same as under the floor).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.engine import catalog, queryfiles
from bot.engine.commands import OPTIONS_HELP, VERB_OPTIONS, VERBS, Query, check, is_group
from bot.engine.db import Database
from bot.engine.interpret import Reading, read, read_as_line
from bot.engine.interpret.canonical import canonical
from bot.engine.result import ChartSpec, Result
from bot.engine.validate import validate
from bot.errors import DataUnavailable, ParseError
from bot.reference.countries import all_countries, all_groups, usable_group_names
from bot.reference.fields import all_fields
from bot.reference.wording import count, field_words, joined, known

PAIR_FLOOR = 25
RISING_WINDOW_YEARS = 5  # the default window: five complete years ending with the last complete year
RISING_MIN_VOLUME = 50  # joint articles in the window's last year, for one country's (or group's) partners
RISING_MIN_VOLUME_ALL_PAIRS = 100  # the same for the ranking of every pair
PAPER_LEVEL_SOURCES = ("openalex",)
DEFAULT_SOURCE = "eto"
# Ratios of small counts rank first by noise (126 articles, 33 joint articles): a ratio ranking
# counts only rows with at least this much behind them, and says so in its notes.
MIN_ARTICLES_FOR_RATIO = 1000  # `top by share|international`: the country's articles in the span
MIN_JOINT_FOR_AFFINITY = 100  # `pairs by affinity`: the pair's joint articles in the span
LISTED_NAMES = 15  # names written out in a note before "and N more"
NEW_PARTNERSHIPS_LISTED = 40  # rising's "new since" note names more: they are part of the answer
# Countries and territories whose absence from a dataset is worth saying in `about`.
WELL_KNOWN_GROUPS = ("g20", "oecd", "eu", "asean", "brics", "gcc")
WELL_KNOWN_TERRITORIES = ("HKG", "MAC", "TWN")

_default_db: Database | None = None


def default_database() -> Database:
    """The database for callers that pass none (a notebook, a script): settings read on first use."""
    global _default_db
    if _default_db is None:
        from bot.config import Settings

        _default_db = Database.from_settings(Settings.from_env())
    return _default_db


def answer(text: str, db: Database | None = None, previous: Query | None = None) -> Result:
    """Answer a command or a plain-English question (read against `previous`, a thread's last Query).

    Raises a UserError with a friendly message, and the canonical commands to offer, when the text
    can't be read or answered. `result.read_as` says how plain English was read.
    """
    reading = read(text, previous)
    if reading.query is None:
        raise NotUnderstood(reading)
    result = run(reading.query, db)
    result.read_as = read_as_line(reading)
    return result


class NotUnderstood(ParseError):
    """Text the interpreter could not turn into one Query; `suggestions` are canonical commands to offer."""

    def __init__(self, reading: Reading):
        tries = " · ".join(f"`{choice}`" for choice in reading.choices)
        super().__init__(reading.understood + (f" Try: {tries}" if tries else ""), reading.choices)
        self.reading = reading


def run(query: Query, db: Database | None = None) -> Result:
    """Answer a Query, parsed or built by hand; options its verb can't honour are refused first."""
    check(query)
    if query.verb == "help":
        return _help(query)
    db = db or default_database()
    return _HANDLERS[query.verb](query, db)


# ---------------------------------------------------------------- what the data covers, read once per version


@dataclass(frozen=True)
class Coverage:
    source: str
    first_year: int
    last_year: int
    incomplete_years: tuple[int, ...]
    last_complete_year: int | None


@dataclass(frozen=True)
class DataFacts:
    """What every answer needs to know about the loaded data; read once per data version."""

    version: str  # the database's data_version these facts were read from
    coverage: dict[tuple[str, str], Coverage]  # (field, source) -> years
    datasets: tuple[dict[str, Any], ...]
    listed: dict[tuple[str, str], frozenset[str]]  # (source, "pairs" | "articles") -> countries present
    activity_incomplete: tuple[tuple[str, tuple[int, ...]], ...]  # (metric, its incomplete years) for profile

    def sources_with(self, field: str) -> list[str]:
        found = sorted(source for f, source in self.coverage if f == field)
        return sorted(found, key=lambda s: s != DEFAULT_SOURCE)

    def in_pairs(self, code: str, source: str) -> bool:
        return code in self.listed.get((source, "pairs"), frozenset())

    def in_articles(self, code: str, source: str) -> bool:
        return code in self.listed.get((source, "articles"), frozenset())

    def datasets_of(self, source: str | None) -> list[dict[str, Any]]:
        return [d for d in self.datasets if source is None or d["source"] == source]


_facts: dict[tuple[str, str], DataFacts] = {}
_facts_lock = threading.Lock()


def _data_facts(db: Database) -> DataFacts:
    key = (str(db.path), db.data_version)
    facts = _facts.get(key)
    if facts is None:
        with _facts_lock:
            coverage = {}
            for row in _rows(db, "coverage", {}):
                years = row["incomplete_years"]
                coverage[(row["field"], row["source"])] = Coverage(
                    row["source"],
                    int(row["first_year"]),
                    int(row["last_year"]),
                    tuple(int(y) for y in years) if _is_list(years) else (),
                    int(row["last_complete_year"]) if known(row["last_complete_year"]) else None,
                )
            listed = {(row["source"], row["kind"]): frozenset(row["countries"]) for row in _rows(db, "presence", {})}
            activity = tuple(
                (
                    row["metric"],
                    tuple(int(y) for y in row["incomplete_years"]) if _is_list(row["incomplete_years"]) else (),
                )
                for row in _rows(db, "activity_years", {})
            )
            facts = DataFacts(key[1], coverage, tuple(_rows(db, "sources", {"source": None})), listed, activity)
            _facts.clear()  # one data version at a time per process is all that is ever asked
            _facts[key] = facts
    return facts


# ---------------------------------------------------------------- shared pieces


@dataclass(frozen=True)
class Window:
    """The years an answer uses, after defaults and clamping to what the data covers."""

    year_from: int
    year_to: int
    incomplete: tuple[int, ...]  # incomplete years inside the window that the answer used
    complete_only: bool
    clamped: str = ""  # a note when the asked years went beyond the data

    @property
    def label(self) -> str:
        return str(self.year_from) if self.year_from == self.year_to else f"{self.year_from}–{self.year_to}"


def _execute(db: Database, name: str, params: dict[str, Any]) -> tuple[Any, str, dict[str, Any]]:
    qf = queryfiles.load(name)  # parsed and validated once per process
    bound = {key: params[key] for key in qf.validated.params}
    frame = db.query(qf.validated, bound)
    return frame, qf.validated.sql, bound


def _rows(db: Database, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    frame, _, _ = _execute(db, name, params)
    return frame.to_dict("records")


def _source(query: Query, facts: DataFacts) -> tuple[str, list[str]]:
    """The one source an answer uses, and a note when it was not the default; refusals say what works."""
    field_name = field_words(query.field)
    having = facts.sources_with(query.field)
    notes: list[str] = []
    if query.source is not None:
        source = query.source
        if source not in having:
            load = (
                " Load OpenAlex works with `collab ingest openalex PATH` (the README's OpenAlex section)."
                if source in PAPER_LEVEL_SOURCES and not facts.datasets_of(source)
                else ""
            )
            others = f" Source {joined(having, 'or')} has it: ask without `source {source}`." if having else ""
            raise DataUnavailable(f"There is no {field_name} data from source '{source}'.{load}{others}")
    elif DEFAULT_SOURCE in having:
        source = DEFAULT_SOURCE
    elif having:
        source = having[0]
        title = facts.datasets_of(source)[0]["title"] if facts.datasets_of(source) else source
        notes.append(f"Only {title} has {field_name} data, so this answer uses it (source {source}).")
    else:
        loaded = sorted({d["source"] for d in facts.datasets})
        hint = " Load it with `collab ingest openalex PATH --all-works`." if query.field == "all" else ""
        raise DataUnavailable(
            f"No loaded source has {field_name} data (sources loaded: {', '.join(loaded)}).{hint} "
            "`about` lists what each covers."
        )
    if query.count == "fractional" and source not in PAPER_LEVEL_SOURCES:
        raise DataUnavailable(
            "Fractional counts need paper-level data: ETO publishes whole counts of joint articles "
            "only. Ingest OpenAlex works (`collab ingest openalex PATH`) and ask with `source openalex`."
        )
    if query.metric == "international" and source not in PAPER_LEVEL_SOURCES:
        raise DataUnavailable(
            "The exact share of articles with a foreign co-author needs paper-level data: ETO's pair "
            "counts can't tell it (an article with three partner countries appears in three pairs). "
            "Use `by share` for cross-border links per article, or ingest OpenAlex works and ask with "
            "`source openalex`."
        )
    if query.metric == "share" and not _has_articles(query.field, source):
        raise DataUnavailable(
            f"`by share` needs each country's article count, and ETO publishes none for "
            f"{field_words(query.field)}. Rank by joint articles instead (drop `by share`)."
        )
    return source, notes


def _has_articles(field: str, source: str) -> bool:
    """Whether the source publishes per-country article counts for the field."""
    return bool(all_fields()[field].eto_activity_name) or source in PAPER_LEVEL_SOURCES


def _present_in(source: str) -> str:
    """How a pair's having a count in a year reads: ETO publishes only counts of PAIR_FLOOR or more;
    paper-level data counts every joint article, so there it simply means it had some."""
    return "with joint articles" if source in PAPER_LEVEL_SOURCES else "published"


def _at_both_ends(source: str, start: int, end: int, min_volume: int) -> str:
    """The collaborations a growth ranking takes: counted at both ends of its window, enough at the last."""
    if source in PAPER_LEVEL_SOURCES:
        return f"with joint articles in both {start} and {end} and at least {min_volume} in {end}"
    return f"published in both {start} and {end} with at least {min_volume} joint articles in {end}"


def _window(query: Query, coverage: Coverage, *, complete_only: bool | None = None) -> Window:
    complete_only = query.complete_only if complete_only is None else complete_only
    first, last = coverage.first_year, coverage.last_year
    if complete_only:
        if coverage.last_complete_year is None:
            raise DataUnavailable("Every year of this field is marked incomplete; drop `complete`.")
        last = coverage.last_complete_year
    year_from = query.year_from if query.year_from is not None else first
    year_to = query.year_to if query.year_to is not None else last
    if year_from > last or year_to < first:
        asked = (
            f"from {query.year_from}"
            if query.year_to is None
            else f"to {query.year_to}"
            if query.year_from is None
            else f"{year_from}"
            if year_from == year_to
            else f"{year_from}–{year_to}"
        )
        raise ParseError(_no_years(query, coverage, asked, first, last, complete_only))
    clamped = ""
    if year_from < first or year_to > last:
        clamped = f"You asked for {year_from}–{year_to}; the data covers {first}–{last}, so that is what is shown."
        year_from, year_to = max(year_from, first), min(year_to, last)
    incomplete = tuple(y for y in coverage.incomplete_years if year_from <= y <= year_to)
    return Window(year_from, year_to, () if complete_only else incomplete, complete_only, clamped)


def _no_years(query: Query, coverage: Coverage, asked: str, first: int, last: int, complete_only: bool) -> str:
    """Why the asked years have nothing, and the question that comes closest: the same one in the
    latest year with data (the latest complete year with `complete`), or the earliest."""
    later = (query.year_from if query.year_from is not None else first) > last
    nearest = last if later else first
    instead = canonical(replace(query, year_from=nearest, year_to=nearest, text=""))
    which = "latest" if later else "earliest"
    if complete_only and later:
        unfinished = tuple(y for y in coverage.incomplete_years if y > last)
        so_far = (
            f"; or drop `complete` to see {asked} as published so far"
            if query.year_from is not None and query.year_from <= coverage.last_year
            else ""
        )
        return (
            f"The complete years are {first}–{last} ({_years_text(unfinished)} "
            f"{'is' if len(unfinished) == 1 else 'are'} incomplete), so {asked} has nothing with `complete`. "
            f"The latest complete year is {last}: try `{instead}`{so_far}."
        )
    return f"The data covers {first}–{last}, so {asked} has nothing. The {which} year with data is {nearest}: try `{instead}`."


def _setup(query: Query, db: Database, **window: Any) -> tuple[DataFacts, str, Window, list[str]]:
    """The source, window and source notes every data verb starts from."""
    facts = _data_facts(db)
    source, notes = _source(query, facts)
    coverage = facts.coverage[(query.field, source)]
    return facts, source, _window(query, coverage, **window), notes


def _common_params(query: Query, source: str, window: Window) -> dict[str, Any]:
    return {
        "field": query.field,
        "source": source,
        "year_from": window.year_from,
        "year_to": window.year_to,
        "complete_only": window.complete_only,
        "among": query.group,
        "metric": query.metric,
        "count": query.count,
        "limit": query.limit,
    }


def _members(code: str) -> list[str]:
    """The countries a subject stands for: a country itself, or a group's members (bound as a list)."""
    return sorted(all_groups()[code].members) if is_group(code) else [code]


def _notes(
    facts: DataFacts, source: str, window: Window, *, uses_articles: bool, extra: Sequence[str] = ()
) -> list[str]:
    wanted = [d for d in facts.datasets_of(source) if uses_articles or "activity" not in d["name"]]
    licences = sorted({d["licence"].split(" (")[0] for d in wanted})
    sources = " and ".join(f"{d['title']} ({d['release']})" for d in wanted)
    notes = [f"Source: {sources}; licence {', '.join(licences)} (`about` has citations)."]
    years = f"Years: {window.label}"
    if window.complete_only:
        years += " (complete years only)."
    elif window.incomplete:
        years += f"; {_years_text(window.incomplete)} {'is' if len(window.incomplete) == 1 else 'are'} incomplete (publication lag), so recent counts will still rise."
    else:
        years += "."
    notes.append(years)
    if window.clamped:
        notes.append(window.clamped)
    if source == DEFAULT_SOURCE:
        notes.append(
            f"Pair-years with fewer than {PAIR_FLOOR} joint articles are not published, so totals are lower bounds."
        )
    elif source in PAPER_LEVEL_SOURCES:
        notes.append(
            "Paper-level data: counted from individual works, so every count is exact (no publication floor); "
            "an article's countries are those of its authors' affiliations."
        )
    notes.extend(extra)
    return notes


def _years_text(years: tuple[int, ...]) -> str:
    if len(years) > 1 and list(years) == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}–{years[-1]}"
    return ", ".join(str(y) for y in years)


def _source_line(facts: DataFacts, source: str, notes: Sequence[str] = ()) -> str:
    """The attribution under a chart, which may be all a channel sees: the datasets the answer's
    source note names (every dataset of the source when there is none) and the floor."""
    datasets = facts.datasets_of(source)
    named = [d for d in datasets if notes and notes[0].startswith("Source:") and d["title"] in notes[0]]
    titles = " + ".join(d["title"] for d in named or datasets)
    floor = (
        f" · pair-years under {PAIR_FLOOR} joint articles unpublished (lower bounds)"
        if source == DEFAULT_SOURCE
        else ""
    )
    return f"Source: {titles}{floor} · collab"


_NAMES_WITH_THE = (
    "United ",
    "Netherlands",
    "Philippines",
    "Bahamas",
    "Gambia",
    "Maldives",
    "Comoros",
    "Marshall Islands",
    "Solomon Islands",
    "Central African Republic",
    "Dominican Republic",
    "Republic of the Congo",
    "DR Congo",
    "Vatican",
    "European Union",
    "Gulf Cooperation Council",
    "Americas",
    "Middle East",
    "Quad",
    "G7",
    "G20",
    "OECD",
    "Five Eyes",
    "Global Partnership",
    "Eurasian Patent",
    "European Patent",
    "International Bureau",
    "World Intellectual",
)


def _name(code: str) -> str:
    """A country's or group's name as it reads in a sentence: "the United States", "Malaysia", "ASEAN"."""
    name = all_groups()[code].name if is_group(code) else all_countries()[code].name
    return f"the {name}" if name.startswith(_NAMES_WITH_THE) else name


def _plain_name(code: str) -> str:
    return all_groups()[code].name if is_group(code) else all_countries()[code].name


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def _is_list(value: Any) -> bool:
    return isinstance(value, (list, tuple)) or hasattr(value, "tolist")


def _listed(names: list[str], most: int = LISTED_NAMES) -> str:
    """Names in a note, at most `most` of them."""
    if len(names) <= most:
        return joined(names)
    return ", ".join(names[:most]) + f" and {len(names) - most} more"


def _dataset_title(facts: DataFacts, source: str, kind: str) -> str:
    """The dataset of a source that holds its pairs ("pairs") or its article counts ("articles")."""
    datasets = facts.datasets_of(source)
    wanted = [d for d in datasets if ("activity" in d["name"]) == (kind == "articles")] or datasets
    return wanted[0]["title"] if wanted else source


def _absent(facts: DataFacts, source: str, codes: tuple[str, ...] | list[str]) -> str:
    """A sentence for countries the pair data does not list at all (absent, not under the floor); else ""."""
    missing = [c for c in codes if not is_group(c) and not facts.in_pairs(c, source)]
    if not missing:
        return ""
    names = joined([_name(c) for c in missing])
    articles = [all_countries()[c].name for c in missing if facts.in_articles(c, source) and source == DEFAULT_SOURCE]
    hint = (
        f" ({_dataset_title(facts, source, 'articles')} does have article counts: try `profile {articles[0]}`.)"
        if articles
        else ""
    )
    return (
        f"{_capital(names)} {'is' if len(missing) == 1 else 'are'} not in {_dataset_title(facts, source, 'pairs')} "
        f"at all: it lists no rows for {'it' if len(missing) == 1 else 'them'} in any field or year, so this is "
        f"not the {PAIR_FLOOR}-article floor.{hint} `about` lists which countries each dataset covers."
    )


def _group_notes(
    facts: DataFacts,
    source: str,
    code: str | None,
    *,
    shown: set[str] | None = None,
    window: Window | None = None,
    under_minimum: dict[str, Any] | None = None,
    minimum: str = "",
) -> list[str]:
    """A group's members, those the data does not list, and (with shown) members an answer has no row for.

    under_minimum: members with published pair-years that a ratio ranking left out for too few articles
    (code -> their articles in the span), and `minimum` the phrase saying what the ranking needs."""
    if code is None or not is_group(code):
        return []
    group = all_groups()[code]
    members = sorted(group.members, key=lambda c: all_countries()[c].name)
    names = [all_countries()[c].name for c in members]
    notes = [f"{group.name} ({len(members)} members): {group.definition} Members: {_listed(names)}."]
    absent = [all_countries()[c].name for c in members if not facts.in_pairs(c, source)]
    if absent:
        notes.append(f"Not in {_dataset_title(facts, source, 'pairs')} at all: {_listed(absent)}.")
    if shown is not None and window is not None:
        under = under_minimum or {}
        few = [c for c in members if c in under and c not in shown]
        silent = [
            all_countries()[c].name for c in members if facts.in_pairs(c, source) and c not in shown and c not in under
        ]
        if few or silent:
            said = [f"Shown: {len(shown & group.members)} of {len(members)} members."]
            if few:
                counted = [
                    f"{all_countries()[c].name} ({count(under[c])} articles)"
                    if known(under[c])
                    else all_countries()[c].name
                    for c in few
                ]
                no_count = [all_countries()[c].name for c in few if not known(under[c])]
                said.append(
                    f"Not ranked: {_listed(counted)} {'has' if len(few) == 1 else 'have'} published pair-years in "
                    f"{window.label} but fewer than {minimum}"
                    + (f" ({joined(no_count)}: no article count at all)" if no_count else "")
                    + "."
                )
            if silent:
                reason = (
                    f"each of their pair-years was under the {PAIR_FLOOR}-article floor"
                    if source == DEFAULT_SOURCE
                    else "no joint article in this data"
                )
                said.append(f"No published pair-year in {window.label} for {_listed(silent)} ({reason}).")
            notes.append(" ".join(said))
    return notes


def _inside(country: str | None, group: str | None) -> bool:
    """Whether a country is asked together with a group it belongs to (`pair Malaysia asean`)."""
    return bool(
        country and group and not is_group(country) and is_group(group) and country in all_groups()[group].members
    )


def _membership_note(verb: str, country: str, group: str) -> str:
    """What a group means beside one of its own members: its other members (no country pairs with itself)."""
    member, name = _name(country), _name(group)
    if verb == "compare":
        return (
            f"{_capital(member)} is a member of {name}: {_possessive(name)} links (its members' with countries "
            f"outside it) include {_possessive(member)} links outside {name}, and {_possessive(member)} links include "
            f"those with the other members, so the two overlap."
        )
    side = "its partners there are" if verb in ("partners", "among") else f"the {name} side here is"
    return (
        f"{_capital(member)} is a member of {name}: {side} its other members (a country has no joint articles "
        "with itself)."
    )


def _group_words(code: str) -> str:
    """The countries of a group as a title reads them: "Western countries", "countries in Africa",
    "countries in the European Union"."""
    name = all_groups()[code].name
    return name if name.lower().endswith("countries") else f"countries in {_name(code)}"


def _result(query: Query, facts: DataFacts, source: str, **fields: Any) -> Result:
    fields.setdefault("source_line", _source_line(facts, source, fields.get("notes") or ()))
    fields["title"], fields["summary"] = _capital(fields["title"]), _capital(fields["summary"])
    return Result(command=query.verb, data_version=facts.version, **fields)


def _pct(value: Any) -> str:
    return f"{value:.1%}" if known(value) else "n/a"


_METRIC_NOTES = {
    "joint": "Joint articles: articles with authors in both countries, each counted once per pair (full counting).",
    "links": (
        "Links: the sum over the group's members of their joint articles with each partner outside the group; "
        "an article with authors in two members counts twice."
    ),
    "share": "Partner share: joint articles divided by all the country's articles in the field and years.",
    "fractional": (
        "Fractional count: a joint article with authors in k countries weighs 1/(k-1) in each of its "
        "pairs, so each country's share of one article, spread over its partners, adds up to 1."
    ),
    "affinity": (
        "Affinity (association strength): C(i,j)·T / (L(i)·L(j)), where C is joint articles, L a country's "
        "cross-border links (its joint articles with every partner) and T the sum of L over all countries, "
        "in the same field, years and source; above 1 means they co-author more than their overall "
        "collaboration volumes predict."
    ),
    "cross_border": "Cross-border links: the sum of a country's joint articles with every partner; an article with "
    "several partner countries counts once per partner.",
}


def _ranked_note(query: Query, fractional: bool) -> str:
    metric = query.metric
    if metric == "share":
        return "Ranked by partner share; for one country's partners this is the same order as joint articles."
    if metric == "affinity":
        return "Ranked by affinity."
    return "Ranked by fractional count." if fractional else "Ranked by joint articles."


def _top_words(query: Query) -> str:
    return f"top {query.limit}"


# ---------------------------------------------------------------- verbs


def _partners(query: Query, db: Database) -> Result:
    code = query.countries[0]
    group = is_group(code)
    if group and query.metric in ("share", "affinity"):
        raise DataUnavailable(
            f"`by {query.metric}` needs the subject's own article count or collaboration volume, and a group's "
            "can't be added up from its members' (an article with two members would count twice). "
            f"Rank the group's partners by links (drop `by {query.metric}`), or ask for one country."
        )
    if group and query.count == "fractional":
        raise DataUnavailable(
            "A group's links count an article once per member–partner pair, which a fractional count (one "
            "article split over its countries) can't be summed into. Ask for one country with `count fractional`."
        )
    facts, source, window, notes = _setup(query, db)
    absent = _absent(facts, source, [code])
    fractional = query.count == "fractional"
    if group:
        frame, sql, params = _execute(db, "group_partners", {**_common_params(query, source, window), "subject": code})
    else:
        frame, sql, params = _execute(
            db,
            "partners",
            {**_common_params(query, source, window), "subject": code, "min_joint": MIN_JOINT_FOR_AFFINITY},
        )
        drop = [] if fractional else ["fractional_articles"]
        if not _has_articles(query.field, source):
            drop.append("partner_share")
        frame = frame.drop(columns=drop)
    value = "links" if group else "joint_articles"
    name, field = _name(code), field_words(query.field)
    among = f" in {_name(query.group)}" if query.group else ""
    outside = " outside it" if group else ""
    title = f"{_possessive(name)} {_top_words(query)} {field} research partners{outside}{among}, {window.label}"
    by_affinity = query.metric == "affinity"
    if absent:
        summary = absent
    elif frame.empty and by_affinity and _partners_published(query, db, source, window):
        summary = (
            f"No partner of {name}{among} has the {MIN_JOINT_FOR_AFFINITY} {field} joint articles in {window.label} "
            "that ranking by affinity needs (affinity over fewer ranks first by noise). Try "
            f"`{canonical(replace(query, metric='joint', text=''))}` to rank its partners by joint articles."
        )
    elif frame.empty and source in PAPER_LEVEL_SOURCES:
        summary = (
            f"{name} has no {field} co-authored articles with another country{among} in {window.label} in this data."
        )
    elif frame.empty and query.group:
        # Only the partners in the group were asked for: whether the subject has others says nothing here.
        summary = (
            f"No partner of {name}{outside}{among} has a published {field} pair-year with it in {window.label} "
            f"(ETO does not publish pair-years under {PAIR_FLOOR} joint articles)."
        )
    elif frame.empty:
        summary = (
            f"No published {field} pair-years for {name} in {window.label}: every collaboration "
            f"was under ETO's floor of {PAIR_FLOOR} joint articles a year."
        )
    else:
        top = frame.iloc[0]
        rest = [_name(c) for c in frame["partner_code"].iloc[1:3]]
        share = (
            f", {_pct(top['partner_share'])} of {_possessive(name)} articles"
            if "partner_share" in frame and known(top["partner_share"])
            else ""
        )
        counted = f", {top['fractional_articles']:,.1f} fractional" if fractional else ""
        what = "links" if group else "joint articles"
        strength = f"affinity {top['affinity']:.2f}, " if by_affinity else ""
        summary = (
            f"{_possessive(name)} {'strongest' if by_affinity else 'top'} {field} partner{outside}{among}"
            f"{' by affinity' if by_affinity else ''} in {window.label} was {_name(top['partner_code'])} "
            f"({strength}{count(top[value])} {what}{counted}{share})"
            + (f", followed by {' and '.join(rest)}." if rest else ".")
        )
    extra = notes + [_METRIC_NOTES["links"] if group else _METRIC_NOTES["joint"]]
    if fractional:
        extra.append(_METRIC_NOTES["fractional"])
    if "partner_share" in frame:
        extra.append(_METRIC_NOTES["share"])
    if not group:
        extra.append(_METRIC_NOTES["affinity"])
    extra.append("Ranked by links." if group else _ranked_note(query, fractional))
    if by_affinity:
        extra.append(f"Only partners with at least {MIN_JOINT_FOR_AFFINITY} joint articles in the span are ranked.")
    if group:
        extra.append(
            "members: how many of the group's members have a "
            + ("pair-year with joint articles" if source in PAPER_LEVEL_SOURCES else "published pair-year")
            + " with the partner."
        )
    if not group and not _has_articles(query.field, source):
        extra.append(f"ETO publishes no article counts for {field_words(query.field)}, so there is no partner share.")
    extra += _group_notes(facts, source, code)
    if _inside(code, query.group):
        extra.append(_membership_note("partners", code, query.group))  # type: ignore[arg-type]  # _inside: set
    extra += _group_notes(facts, source, query.group)
    by_fraction = fractional and query.metric == "joint"
    y = (
        "fractional_articles"
        if by_fraction
        else {"share": "partner_share", "affinity": "affinity"}.get(query.metric, value)
    )
    return _result(
        query,
        facts,
        source,
        title=title,
        summary=summary,
        frame=frame,
        notes=_notes(facts, source, window, uses_articles=True, extra=extra),
        sql=sql,
        params=params,
        incomplete_years=list(window.incomplete),
        chart=ChartSpec("bar", x="partner", y=y, x_label="", y_label=_metric_label(y)),
    )


def _partners_published(query: Query, db: Database, source: str, window: Window) -> bool:
    """Whether the subject has any published partner in the span (asked when none reaches a minimum)."""
    frame, _, _ = _execute(
        db,
        "partners",
        {
            **_common_params(query, source, window),
            "subject": query.countries[0],
            "metric": "joint",
            "limit": 1,
            "min_joint": MIN_JOINT_FOR_AFFINITY,
        },
    )
    return not frame.empty


def _metric_label(column: str) -> str:
    return {
        "partner_share": "Share of the country's articles",
        "affinity": "Affinity (association strength)",
        "fractional_articles": "Fractional count",
        "links": "Links (member–partner joint articles)",
        "links_per_article": "Links per article",
        "cross_border_links": "Cross-border links",
        "cagr": "Compound annual growth",
    }.get(column, "Joint articles")


def _top(query: Query, db: Database) -> Result:
    facts, source, window, notes = _setup(query, db)
    frame, sql, params = _execute(
        db, "top", {**_common_params(query, source, window), "min_articles": MIN_ARTICLES_FOR_RATIO}
    )
    drop = []
    if source not in PAPER_LEVEL_SOURCES:
        drop.append("international_share")
    if not _has_articles(query.field, source):
        drop += ["articles", "links_per_article"]
    frame = frame.drop(columns=drop)
    field = field_words(query.field)
    group = _group_words(query.group) if query.group else ""
    per_article = query.metric == "share"
    international = query.metric == "international"  # paper-level sources only (_source)
    measure = (
        f"share of {field} articles with a foreign co-author"
        if international
        else f"cross-border {field} links" + (" per article" if per_article else "")
    )
    title = f"Top {query.limit} {group or 'countries'} by {measure}, {window.label}"
    who = f"None of the {group}" if group else "No country"
    if frame.empty and (per_article or international):
        summary = (
            f"{who} has the {MIN_ARTICLES_FOR_RATIO:,} {field} articles in {window.label} that ranking by "
            f"{'international share' if international else 'links per article'} needs; without `by {query.metric}`, "
            "countries rank by cross-border links."
        )
    elif frame.empty:
        summary = f"{who} has published {field} pair-years in {window.label}."
    else:
        leader, rest = frame.iloc[0], [_name(c) for c in frame["country_code"].iloc[1:3]]
        value = (
            f"{leader['links_per_article']:.2f}"
            if per_article
            else _pct(leader["international_share"])
            if international
            else count(leader["cross_border_links"])
        )
        summary = (
            f"{_name(leader['country_code'])} had the {'highest' if international else 'most'} {measure}"
            f"{' among ' + group if group else ''} in {window.label} "
            f"({value})" + (f", followed by {' and '.join(rest)}." if rest else ".")
        )
    extra = notes + [_METRIC_NOTES["cross_border"]]
    if per_article:
        extra.append(
            "Ranked by links per article: cross-border links divided by the country's articles (it can exceed 1); "
            f"only countries with at least {MIN_ARTICLES_FOR_RATIO:,} articles in the span are ranked."
        )
    elif international:
        extra.append(
            "Ranked by international share: the exact share of the country's articles with at least one "
            "co-author in another country (international_articles / articles), from paper-level data; "
            f"only countries with at least {MIN_ARTICLES_FOR_RATIO:,} articles in the span are ranked."
        )
    else:
        extra.append("Ranked by cross-border links.")
    if not _has_articles(query.field, source):
        extra.append(
            f"ETO publishes no article counts for {field_words(query.field)}, so there are no per-article figures."
        )
    shown = set(frame["country_code"])
    under_minimum: dict[str, Any] = {}
    if query.group and (per_article or international) and len(frame) < query.limit:
        # members with published pair-years that the article minimum left out: ranked by links, all of them
        members = all_groups()[query.group].members
        unranked, _, _ = _execute(
            db,
            "top",
            {
                **_common_params(query, source, window),
                "metric": "joint",
                "limit": len(members),
                "min_articles": MIN_ARTICLES_FOR_RATIO,
            },
        )
        under_minimum = {
            row["country_code"]: row["articles"]
            for row in unranked.to_dict("records")
            if row["country_code"] not in shown
        }
    ranking = "international share" if international else "links per article"
    extra += _group_notes(
        facts,
        source,
        query.group,
        shown=shown if len(frame) < query.limit else None,
        window=window,
        under_minimum=under_minimum,
        minimum=f"the {MIN_ARTICLES_FOR_RATIO:,} articles that ranking by {ranking} needs",
    )
    y = "links_per_article" if per_article else "international_share" if international else "cross_border_links"
    return _result(
        query,
        facts,
        source,
        title=title,
        summary=summary,
        frame=frame,
        notes=_notes(facts, source, window, uses_articles=True, extra=extra),
        sql=sql,
        params=params,
        incomplete_years=list(window.incomplete),
        chart=ChartSpec("bar", x="country", y=y, y_label=_metric_label(y)),
    )


def _pairs(query: Query, db: Database) -> Result:
    facts, source, window, notes = _setup(query, db)
    group_a, group_b = query.between if query.between else (None, None)  # NULL: no `between`
    frame, sql, params = _execute(
        db,
        "pairs",
        {
            **_common_params(query, source, window),
            "min_joint": MIN_JOINT_FOR_AFFINITY,
            "group_a": group_a,
            "group_b": group_b,
        },
    )
    fractional = query.count == "fractional"
    if not fractional:
        frame = frame.drop(columns=["fractional_articles"])
    field = field_words(query.field)
    if query.group:
        scope = f" within {_name(query.group)}"
    elif query.between:
        scope = f" between {_name(query.between[0])} and {_name(query.between[1])}"
    else:
        scope = ""
    by = {"affinity": " by affinity"}.get(query.metric, " by fractional count" if fractional else "")
    title = f"Top {query.limit} {field} country pairs{scope}{by}, {window.label}"
    if frame.empty and query.metric == "affinity":
        summary = (
            f"No {field} country pair{scope} has the {MIN_JOINT_FOR_AFFINITY} joint articles in {window.label} "
            "that ranking by affinity needs; without `by affinity`, pairs rank by joint articles."
        )
    elif frame.empty:
        summary = f"No {field} country pair{scope} has a published pair-year in {window.label}."
    else:
        top = frame.iloc[0]
        rest = [f"{a} – {b}" for a, b in zip(frame["country_a"].iloc[1:3], frame["country_b"].iloc[1:3], strict=True)]
        value = (
            f"affinity {top['affinity']:.2f}, {count(top['joint_articles'])} joint articles"
            if query.metric == "affinity"
            else f"{count(top['joint_articles'])} joint articles"
        )
        summary = (
            f"The {'strongest' if query.metric == 'affinity' else 'largest'} {field} pair{scope} in {window.label} "
            f"was {_name(top['country_a_code'])} – {_name(top['country_b_code'])} ({value})"
            + (f", followed by {' and '.join(rest)}." if rest else ".")
        )
    extra = notes + [_METRIC_NOTES["joint"], _METRIC_NOTES["affinity"]]
    if fractional:
        extra.append(_METRIC_NOTES["fractional"])
    extra.append(_ranked_note(query, fractional))
    if query.metric == "affinity":
        extra.append(f"Only pairs with at least {MIN_JOINT_FOR_AFFINITY} joint articles in the span are ranked.")
    extra.append(
        "published_years: the years in which the pair had joint articles."
        if source in PAPER_LEVEL_SOURCES
        else "published_years: the years in which the pair's count was published."
    )
    if query.between:
        first, second = (_name(code) for code in query.between)
        extra.append(f"country_a is the country in {first}, country_b the one in {second}.")
    for code in (query.group, group_a, group_b):
        extra += _group_notes(facts, source, code)
    y = {"affinity": "affinity"}.get(query.metric, "fractional_articles" if fractional else "joint_articles")
    return _result(
        query,
        facts,
        source,
        title=title,
        summary=summary,
        frame=frame,
        notes=_notes(facts, source, window, uses_articles=False, extra=extra),
        sql=sql,
        params=params,
        incomplete_years=list(window.incomplete),
        chart=ChartSpec("bar", x="country_a", x2="country_b", y=y, y_label=_metric_label(y)),
    )


def _pair(query: Query, db: Database) -> Result:
    facts, source, window, notes = _setup(query, db)
    a, b = query.countries
    absent = _absent(facts, source, (a, b))
    frame, sql, params = _execute(
        db,
        "pair",
        {
            **_common_params(query, source, window),
            "country": a,
            "partner": b,
            "country_members": _members(a),
            "partner_members": _members(b),
        },
    )
    groups = is_group(a) or is_group(b)
    if groups:
        frame = frame.drop(columns=["country_share", "partner_share"]).rename(columns={"joint_articles": "links"})
    else:
        frame = frame.drop(columns=["pairs"])
        if not _has_articles(query.field, source):
            frame = frame.drop(columns=["country_share", "partner_share"])
    value = "links" if groups else "joint_articles"
    field, name_a, name_b = field_words(query.field), _name(a), _name(b)
    # a country beside its own group pairs with the group's other members: the summary says so too
    if _inside(a, b):
        name_b = f"the rest of {name_b}"
    elif _inside(b, a):
        name_a = f"the rest of {name_a}"
    published = frame.dropna(subset=[value])
    what = "links" if groups else "articles"
    title = (
        f"{_capital(name_a)} – {name_b}: {f'{field} links' if groups else f'joint {field} articles'}, {window.label}"
    )
    paper_level = source in PAPER_LEVEL_SOURCES
    if absent:
        summary = absent
    elif published.empty and paper_level:
        summary = f"{name_a} and {name_b} have no joint {field} articles in {window.label} in this data."
    elif published.empty:
        summary = (
            f"{name_a} and {name_b} have no published {field} pair-year in {window.label}: "
            f"each year was under ETO's floor of {PAIR_FLOOR} joint articles."
        )
    else:
        peak = published.loc[published[value].idxmax()]
        verb = "had" if groups else "co-authored"
        # the peak year says something only when more than one year was published
        peak_words = f", most in {int(peak['year'])} ({count(peak[value])})" if len(published) > 1 else ""
        summary = (
            f"{name_a} and {name_b} {verb} {'' if paper_level else 'at least '}{count(published[value].sum())} {field} "
            f"{'links' if groups else what} in {window.label}{peak_words}."
        )
    missing = frame[frame[value].isna()]["year"].tolist()
    extra = notes[:]
    if groups:
        extra.append(
            "Links between groups: the sum, over each member of the first and each member of the second, of "
            "their joint articles (an article with authors in several members counts once per member pair); "
            "pairs: the member pairs published that year."
        )
    else:
        extra.append(_METRIC_NOTES["joint"])
        if "country_share" in frame:
            extra.append(
                "country_share and partner_share: joint articles as a share of "
                f"{_possessive(name_a)} and of {_possessive(name_b)} articles."
            )
    if missing and paper_level:
        extra.append(
            f"No joint articles in {_years_text(tuple(int(y) for y in missing))} (paper-level data: that is zero)."
        )
    elif missing and not absent:  # a country the data lacks is the reason, not the floor
        extra.append(
            f"No published count for {_years_text(tuple(int(y) for y in missing))}: under the floor, not zero."
        )
    for country, group in ((a, b), (b, a)):
        if _inside(country, group):
            extra.append(_membership_note("pair", country, group))
    extra += _group_notes(facts, source, a) + _group_notes(facts, source, b)
    return _result(
        query,
        facts,
        source,
        title=title,
        summary=summary,
        frame=frame,
        notes=_notes(facts, source, window, uses_articles=not groups, extra=extra),
        sql=sql,
        params=params,
        incomplete_years=list(window.incomplete),
        chart=ChartSpec(
            "line", x="year", y=value, x_label="Year", y_label=_metric_label(value), complete_column="complete"
        ),
    )


def _compare(query: Query, db: Database) -> Result:
    per_article = query.metric == "share"
    if per_article and any(is_group(c) for c in query.countries):
        raise DataUnavailable(
            "`compare … by share` divides by each one's article count, and a group's can't be added up from "
            "its members' (an article with two members would count twice). Drop `by share`, or compare countries."
        )
    facts, source, window, notes = _setup(query, db)
    absent = [c for c in query.countries if not is_group(c) and not facts.in_pairs(c, source)]
    frame, sql, params = _execute(
        db, "compare", {**_common_params(query, source, window), "subjects": list(query.countries)}
    )
    if not _has_articles(query.field, source) or all(is_group(c) for c in query.countries):
        frame = frame.drop(columns=["articles", "links_per_article"])
    names = [_plain_name(c) for c in query.countries]
    field = field_words(query.field)
    among = f" with partners in {_name(query.group)}" if query.group else ""
    measure = "links per article" if per_article else "links"
    title = f"Cross-border {field} {measure}{among}: {', '.join(names)}, {window.label}"
    totals = frame.groupby("country_code", sort=False)["cross_border_links"].sum().sort_values(ascending=False)
    listed = joined([_name(c) for c in query.countries])
    if totals.empty:
        summary = f"None of {listed} has published {field} pair-years{among} in {window.label}."
    else:
        silent = [_name(c) for c in query.countries if c not in totals.index and c not in absent]
        summary = (
            f"Of {listed}, {_name(totals.index[0])} had the most cross-border {field} links{among} in "
            f"{window.label} ({count(totals.iloc[0])})"
            + (f"; {joined(silent)} had none published" if silent else "")
            + (
                f"; {joined([_name(c) for c in absent])} {'is' if len(absent) == 1 else 'are'} not in "
                f"{_dataset_title(facts, source, 'pairs')} at all (absent, not under the floor)."
                if absent
                else "."
            )
        )
    extra = notes + [_METRIC_NOTES["cross_border"]]
    if any(is_group(c) for c in query.countries):
        extra.append("A group's cross-border links are its members' joint articles with countries outside the group.")
    if per_article:
        extra.append(
            "Charted by links per article: cross-border links divided by the country's articles (can exceed 1)."
        )
    if query.group:
        extra.append(f"Only links with partners in {_name(query.group)} are counted.")
    for country in query.countries:
        for group in query.countries:
            if _inside(country, group):
                extra.append(_membership_note("compare", country, group))
        if _inside(country, query.group):
            extra.append(_membership_note("among", country, query.group))  # type: ignore[arg-type]  # _inside: set
    for code in (*query.countries, query.group):
        extra += _group_notes(facts, source, code)
    y = "links_per_article" if per_article else "cross_border_links"
    return _result(
        query,
        facts,
        source,
        title=title,
        summary=summary,
        frame=frame,
        notes=_notes(facts, source, window, uses_articles=True, extra=extra),
        sql=sql,
        params=params,
        incomplete_years=list(window.incomplete),
        chart=ChartSpec(
            "line",
            x="year",
            y=y,
            series="country",
            x_label="Year",
            y_label=_metric_label(y),
            complete_column="complete",
        ),
    )


def _fields(query: Query, db: Database) -> Result:
    facts, source, window, notes = _setup(query, db)
    code = query.countries[0]
    partner = query.countries[1] if len(query.countries) > 1 else None
    absent = _absent(facts, source, query.countries)
    frame, sql, params = _execute(
        db,
        "fields",
        {
            **_common_params(query, source, window),
            "country": code,
            "partner_members": _members(partner) if partner else None,
        },
    )
    one_partner = partner is not None and not is_group(partner)
    ratio = "partner_share" if one_partner and not query.group else "links_per_article"
    frame = frame.rename(columns={"per_article": ratio})
    if one_partner:
        frame = frame.drop(columns=["partners"])
    name = _name(code)
    with_whom = f" with {_name(partner)}" if partner else ""
    among = f" with partners in {_name(query.group)}" if query.group else ""
    title = f"{name}{with_whom}: cross-border research by field{among}, {window.label}"
    if absent:
        summary = absent
    elif frame.empty:
        summary = f"{name} has no published cross-border pair-years{with_whom}{among} in any field in {window.label}."
    else:
        lead = frame.iloc[0]
        others = [
            f"{f} ({count(n)})"
            for f, n in zip(frame["field"].iloc[1:3], frame["joint_articles"].iloc[1:3], strict=True)
        ]
        summary = (
            f"{_possessive(name)} cross-border work{with_whom}{among} in {window.label} is largest in {lead['field']} "
            f"({count(lead['joint_articles'])} joint articles)" + (f", then {' and '.join(others)}." if others else ".")
        )
    extra = notes + [
        "Fields overlap (computer vision, NLP, robotics, LLMs and AI safety are parts of AI), so the rows must not be added up.",
        "joint_articles: joint articles with "
        + (
            _name(partner)  # type: ignore[arg-type]  # one_partner: partner is set
            if one_partner
            else f"members of {_name(partner)}"
            if partner
            else "every partner, summed (cross-border links)"
        )
        + (f" in {_name(query.group)}" if query.group else "")
        + ".",
    ]
    if ratio == "partner_share":
        extra.append(
            f"partner_share: joint articles with {_name(partner)} divided by {_possessive(name)} articles in the field."  # type: ignore[arg-type]  # partner_share needs a partner
        )
    else:
        extra.append(
            "links_per_article: those joint articles divided by the country's articles in the field; an article "
            "with several partner countries counts once per partner, so it can exceed 1 (it is not a share)."
        )
    extra.append("Fields with no article counts (chips, cybersecurity at ETO) have no per-article figure.")
    extra += _field_span_notes(facts, source, window, frame)
    if _inside(code, partner):
        extra.append(_membership_note("pair", code, partner))  # type: ignore[arg-type]  # _inside: set
    if _inside(code, query.group):
        extra.append(_membership_note("among", code, query.group))  # type: ignore[arg-type]  # _inside: set
    extra += _group_notes(facts, source, partner) + _group_notes(facts, source, query.group)
    return _result(
        query,
        facts,
        source,
        title=title,
        summary=summary,
        frame=frame,
        notes=_notes(facts, source, window, uses_articles=True, extra=extra),
        sql=sql,
        params=params,
        incomplete_years=list(window.incomplete),
        chart=ChartSpec("bar", x="field", y="joint_articles", y_label="Joint articles"),
    )


def _field_span_notes(facts: DataFacts, source: str, window: Window, frame: Any) -> list[str]:
    """Fields whose pair data covers fewer of the window's years than the title says: their rows,
    articles included, count only those years (fields.sql), and the note says which."""
    spans: dict[str, list[str]] = {}
    for code, field in zip(frame["field_code"], frame["field"], strict=True):
        covered = facts.coverage.get((code, source))
        if covered is None:
            continue
        first, last = max(window.year_from, covered.first_year), min(window.year_to, covered.last_year)
        if (first, last) != (window.year_from, window.year_to):
            spans.setdefault(_years_text(tuple(range(first, last + 1))), []).append(field)
    return [
        f"{joined(names)}: the cross-border data covers only {span} of {window.label}, so "
        f"{'its row counts' if len(names) == 1 else 'their rows count'} {span} only, articles included."
        for span, names in spans.items()
    ]


def _rising_window(query: Query, coverage: Coverage) -> Window:
    """One window for every row: by default the five complete years ending with the last complete one."""
    last_complete = coverage.last_complete_year
    if last_complete is None:
        raise DataUnavailable("Every year of this field is marked incomplete, so there is no growth to measure yet.")
    clamped = []
    year_to = query.year_to if query.year_to is not None else last_complete
    if year_to > last_complete:
        clamped.append(f"{_years_text(tuple(range(last_complete + 1, year_to + 1)))} incomplete")
        year_to = last_complete
    year_from = query.year_from if query.year_from is not None else year_to - (RISING_WINDOW_YEARS - 1)
    if year_from < coverage.first_year:
        clamped.append(f"the data starts in {coverage.first_year}")
        year_from = coverage.first_year
    if year_from >= year_to:
        raise ParseError(_too_few_complete_years(query, coverage, last_complete))
    note = f"The window was cut to complete years with data ({'; '.join(clamped)})." if clamped else ""
    return Window(year_from, year_to, (), True, note)


def _too_few_complete_years(query: Query, coverage: Coverage, last_complete: int) -> str:
    """The refusal for a growth window with fewer than two complete years: which complete years exist,
    and the nearest window of five that does."""
    first = coverage.first_year
    asked_from = query.year_from if query.year_from is not None else first
    asked_to = query.year_to if query.year_to is not None else coverage.last_year
    if query.year_from is not None and query.year_to is not None:
        asked = f"in {asked_from}" if asked_from == asked_to else f"{asked_from}–{asked_to}"
    else:
        asked = f"from {asked_from}" if query.year_from is not None else f"to {asked_to}"
    inside = list(range(max(asked_from, first), min(asked_to, last_complete) + 1))
    covers = "no complete year" if not inside else f"only {inside[0]}"
    unfinished = tuple(y for y in coverage.incomplete_years if y > last_complete)
    incomplete = (
        f" ({_years_text(unfinished)} {'is' if len(unfinished) == 1 else 'are'} incomplete, so growth leaves "
        f"{'it' if len(unfinished) == 1 else 'them'} out)"
        if unfinished
        else ""
    )
    latest = canonical(replace(query, year_from=None, year_to=None, text=""))
    start = max(first, last_complete - (RISING_WINDOW_YEARS - 1))
    suggestion = f"`{latest}` ({start}–{last_complete}, the last {RISING_WINDOW_YEARS} complete years)"
    if asked_to < last_complete - 1:  # the early years were asked for: offer the first five too
        end = min(last_complete, first + RISING_WINDOW_YEARS - 1)
        earliest = canonical(replace(query, year_from=first, year_to=end, text=""))
        suggestion = f"`{earliest}` ({first}–{end}, the first {RISING_WINDOW_YEARS}) or " + suggestion
    return (
        f"Growth needs a window of at least two complete years, and {asked} covers {covers}: the complete years "
        f"are {first}–{last_complete}{incomplete}. Try {suggestion}."
    )


def _rising(query: Query, db: Database) -> Result:
    facts = _data_facts(db)
    source, notes = _source(query, facts)
    window = _rising_window(query, facts.coverage[(query.field, source)])
    code = query.countries[0] if query.countries else None
    absent = _absent(facts, source, [code]) if code else ""
    min_volume = RISING_MIN_VOLUME if code else RISING_MIN_VOLUME_ALL_PAIRS
    frame, sql, params = _execute(
        db,
        "rising",
        {
            **_common_params(query, source, window),
            "members": _members(code) if code else None,
            "min_volume": min_volume,
        },
    )
    start, end = window.year_from, window.year_to
    import pandas as pd

    published = frame["first_value"].notna()
    new, top_rows = frame[~published], frame[published].head(query.limit)
    name_columns = {"partner": top_rows["country_b"]} if code else {k: top_rows[k] for k in ("country_a", "country_b")}
    code_columns = (
        {"partner_code": top_rows["country_b_code"]}
        if code
        else {k: top_rows[k] for k in ("country_a_code", "country_b_code")}
    )
    ranked = pd.DataFrame(
        {
            **name_columns,
            "cagr": top_rows["cagr"],
            "first_year": start,
            "first_value": top_rows["first_value"],
            "last_year": end,
            "last_value": top_rows["last_value"],
            **code_columns,
        }
    ).reset_index(drop=True)
    field = field_words(query.field)
    who = f"{_possessive(_name(code))} " if code else ""
    among = f" in {_name(query.group)}" if query.group else ""
    if len(ranked) < query.limit:  # "Top 10" over one row would promise rows that aren't there
        qualify = f"{len(ranked)} qualif{'ies' if len(ranked) == 1 else 'y'}"
        title = f"{_capital(who)}fastest-rising {field} collaborations{among}, {start}–{end}: {qualify}"
    else:
        title = f"{_capital(who)}{_top_words(query)} fastest-rising {field} collaborations{among}, {start}–{end}"
    label: Callable[[Any], str] = (
        (lambda r: _name(r["partner_code"])) if code else (lambda r: f"{r['country_a']} – {r['country_b']}")
    )
    if absent:
        summary = absent
    elif ranked.empty:
        summary = f"No {field} collaboration{' of ' + _name(code) if code else ''}{among} " + (
            f"had joint articles in both {start} and {end} and at least {min_volume} in {end}."
            if source in PAPER_LEVEL_SOURCES
            else f"was {_at_both_ends(source, start, end, min_volume)}."
        )
    else:
        top = ranked.iloc[0]
        summary = (
            f"{_capital(who) or 'The '}fastest-rising {field} collaboration{among} over {start}–{end} "
            f"was {label(top)}, "
            f"growing {top['cagr']:.0%} a year (from {count(top['first_value'])} in {start} to "
            f"{count(top['last_value'])} in {end})."
        )
    extra = notes + [
        f"Growth: compound annual growth rate of joint articles from {start} to {end}, the same window for every row: "
        f"(last / first)^(1/{end - start}) − 1. Only complete years are used.",
        _rising_ranked_note(query, source, start, end, min_volume),
    ]
    if code and is_group(code):
        extra.append(_METRIC_NOTES["links"])
        extra.append(
            f"Growth of a group is on one basis: only member–partner pairs {_present_in(source)} in both {start} "
            f"and {end} are summed (a member pair "
            + (
                "that first had joint articles"
                if source in PAPER_LEVEL_SOURCES
                else f"that crossed the {PAIR_FLOOR}-article floor"
            )
            + " inside the window would count as growth otherwise); a partner with no such pair is new."
        )
    if not new.empty:
        names = (
            [_name(partner) for partner in new["country_b_code"]]
            if code
            else [f"{a} – {b}" for a, b in zip(new["country_a"], new["country_b"], strict=True)]
        )
        extra.append(
            f"New since {start} ("
            + (
                f"no joint articles in {start}"
                if source in PAPER_LEVEL_SOURCES
                else f"unpublished in {start}, under the floor"
            )
            + f", and at least {min_volume} in {end}; no growth rate): {_listed(names, NEW_PARTNERSHIPS_LISTED)}."
        )
    if window.clamped:
        extra.append(window.clamped)
    extra += _group_notes(facts, source, code) + _group_notes(facts, source, query.group)
    result_window = Window(start, end, (), True)
    return _result(
        query,
        facts,
        source,
        title=title,
        summary=summary,
        frame=ranked,
        notes=_notes(facts, source, result_window, uses_articles=False, extra=extra),
        sql=sql,
        params=params,
        incomplete_years=[],
        chart=ChartSpec(
            "bar",
            x="partner" if code else "country_a",
            x2=None if code else "country_b",
            y="cagr",
            y_label="Compound annual growth",
        ),
    )


def _rising_ranked_note(query: Query, source: str, start: int, end: int, min_volume: int) -> str:
    """Which collaborations rank, and the minimum that applies to them."""
    published = _at_both_ends(source, start, end, min_volume)
    if query.countries:
        return f"Ranked: collaborations {published}."
    pairs = f"pairs of countries both in {_name(query.group)}" if query.group else "pairs of countries"
    return (
        f"Ranked: {pairs} {published} (a ranking of pairs needs {RISING_MIN_VOLUME_ALL_PAIRS}, where one country's "
        f"or group's partners need {RISING_MIN_VOLUME}: pairs are far more numerous, and small counts grow "
        "fastest by chance)."
    )


def _profile(query: Query, db: Database) -> Result:
    facts, source, window, notes = _setup(query, db)
    code = query.countries[0]
    if is_group(code):
        return _profile_group(query, db, facts, source, window, notes)
    frame, sql, params = _execute(db, "profile", {**_common_params(query, source, window), "subject": code})
    row = frame.iloc[0]
    name, field = _name(code), field_words(query.field)
    title = f"{name}: {field} research profile, {window.label}"
    top_partners = row["top_partners"] if isinstance(row["top_partners"], str) and row["top_partners"] else ""
    if known(row["articles"]):
        summary = f"{name} published {count(row['articles'])} {field} articles in {window.label}"
    elif not facts.in_articles(code, source):
        summary = (
            f"{name} is not in {_dataset_title(facts, source, 'articles')} at all, "
            f"so there is no {field} article count for it"
        )
    else:
        summary = f"The source has no {field} article count for {name} in {window.label}"
    if top_partners:
        summary += (
            f", with {count(row['cross_border_links'])} cross-border links to {count(row['partners'])} partner "
            f"countries; top partners {top_partners}."
        )
    elif not facts.in_pairs(code, source):
        summary += f"; nor is it in {_dataset_title(facts, source, 'pairs')} (absent, not under the floor)."
    else:
        summary += f"; no cross-border pair-year was published (each was under the {PAIR_FLOOR}-article floor)."
    extra = notes + [
        "Patent applications and estimated investment (USD millions, ETO's estimate) cover all of AI, whatever the field.",
        "links_per_article: cross-border links per article; an article with several partner countries counts once per partner.",
    ]
    for metric, incomplete in facts.activity_incomplete:
        years = tuple(y for y in incomplete if window.year_from <= y <= window.year_to)
        if years and not window.complete_only:
            extra.append(f"ETO marks {metric} incomplete for {_years_text(years)}: those counts will still rise.")
        elif years:
            extra.append(f"With `complete`, {metric} leave out {_years_text(years)} (incomplete at ETO).")
    return _result(
        query,
        facts,
        source,
        title=title,
        summary=summary,
        frame=frame,
        notes=_notes(facts, source, window, uses_articles=True, extra=extra),
        sql=sql,
        params=params,
        incomplete_years=list(window.incomplete),
    )


def _profile_group(
    query: Query, db: Database, facts: DataFacts, source: str, window: Window, notes: list[str]
) -> Result:
    code = query.countries[0]
    group = all_groups()[code]
    frame, sql, params = _execute(db, "profile_group", {**_common_params(query, source, window), "subject": code})
    row = frame.iloc[0]
    name, field = _name(code), field_words(query.field)
    title = f"{_capital(name)}: {field} research profile, {window.label}"
    own_rows = bool(group.eto_activity_name) and source == DEFAULT_SOURCE
    if known(row["articles"]):
        summary = (
            f"{_capital(name)} published {count(row['articles'])} {field} articles in {window.label} "
            "(ETO's own count for the group)"
        )
    else:
        summary = f"There is no {field} article count for {name} in {window.label}"
    top_partners = row["top_partners"] if isinstance(row["top_partners"], str) and row["top_partners"] else ""
    summary += (
        f", with {count(row['cross_border_links'])} links to {count(row['partners'])} countries outside it; "
        f"top partners {top_partners}."
        if top_partners
        else "; none of its members has a published pair-year with a country outside it."
    )
    extra = notes + [
        _METRIC_NOTES["links"],
        "links_per_article: links divided by the group's own article count; an article with several partner "
        "countries counts once per member–partner pair, so it can exceed 1.",
    ]
    if own_rows:
        extra.append(
            f"articles and citations are ETO's own rows for {group.name} (each article counted once for the group); "
            "ETO publishes no patent or investment figures for groups."
        )
    else:
        extra.append(
            f"ETO publishes no rows of its own for {group.name}, and its members' article counts can't be added up "
            "(an article with two members would count twice), so articles and citations are empty."
        )
    extra += _group_notes(facts, source, code)
    return _result(
        query,
        facts,
        source,
        title=title,
        summary=summary,
        frame=frame,
        notes=_notes(facts, source, window, uses_articles=own_rows, extra=extra),
        sql=sql,
        params=params,
        incomplete_years=list(window.incomplete),
    )


def _sql(query: Query, db: Database) -> Result:
    facts = _data_facts(db)
    validated = validate(query.sql, catalog.ALLOWED_TABLES)
    frame = db.query_typed(validated.sql, validated.row_cap)
    truncated = len(frame) > validated.row_cap
    if truncated:
        frame = frame.head(validated.row_cap)
    shown = f"{len(frame):,} row{'s' if len(frame) != 1 else ''}"
    summary = (
        f"Your query returned more than {validated.row_cap:,} rows; the first {shown} are shown."
        if truncated
        else f"Your query returned {shown}."
    )
    notes = [
        "Your own SQL: check how it treats the caveats. pairs holds each unordered pair-year once; "
        "partner_links and link_years list it in both orientations (sum one or the other, not both).",
        f"Pair-years with fewer than {PAIR_FLOOR} joint articles are not published; `complete` marks incomplete years.",
        "Sources loaded: "
        + "; ".join(f"{d['title']} ({d['release']}, {d['licence'].split(' (')[0]})" for d in facts.datasets)
        + ". `about` has citations.",
    ]
    if truncated:
        notes.insert(0, f"Truncated: only the first {validated.row_cap:,} rows are shown. Add a LIMIT or aggregate.")
    return Result(
        command="sql",
        title="Your query",
        summary=summary,
        frame=frame,
        notes=notes,
        sql=validated.sql,
        params={},
        data_version=db.data_version,
        truncated=truncated,
    )


def _well_known() -> list[str]:
    groups = all_groups()
    codes = {c for g in WELL_KNOWN_GROUPS for c in groups[g].members} | set(WELL_KNOWN_TERRITORIES)
    return sorted(codes, key=lambda c: all_countries()[c].name)


def _coverage_line(facts: DataFacts, dataset: dict[str, Any]) -> tuple[int, str]:
    """How many countries a dataset lists, and a sentence naming the well-known ones it does not."""
    kind = "articles" if "activity" in dataset["name"] else "pairs"
    listed = facts.listed.get((dataset["source"], kind), frozenset())
    missing = [all_countries()[c].name for c in _well_known() if c not in listed]
    what = "at least one published pair-year" if kind == "pairs" else "article counts"
    sentence = f"{dataset['title']}: {len(listed)} countries with {what}" + (
        f"; not in it: {joined(missing)}." if missing else "."
    )
    return len(listed), sentence


def _about(query: Query, db: Database) -> Result:
    facts = _data_facts(db)
    frame, sql, params = _execute(db, "about", {})
    coverage = {d["name"]: _coverage_line(facts, d) for d in facts.datasets}
    frame.insert(frame.columns.get_loc("row_count") + 1, "countries", [coverage[n][0] for n in frame["name"]])
    titles = "; ".join(f"{r['title']} ({r['release']})" for _, r in frame.iterrows())
    incomplete = sorted({int(y) for years in frame["incomplete_years"] for y in (years if years is not None else [])})
    summary = f"{len(frame)} source{'s' if len(frame) != 1 else ''} loaded: {titles}."
    notes = [
        f"Pair-years with fewer than {PAIR_FLOOR} joint articles are not published by ETO, so sums are lower bounds.",
        f"Incomplete years (publication lag): {_years_text(tuple(incomplete)) or 'none'}; growth rates leave them out.",
        "ETO's cross-border files list most pairs in both orientations; collab keeps each unordered pair-year once.",
        "Coverage (a country missing here is absent from the dataset, not under the floor; well-known means a "
        "member of the G20, OECD, EU, ASEAN, BRICS or GCC, or Hong Kong, Macao or Taiwan): "
        + " ".join(coverage[d["name"]][1] for d in facts.datasets),
        "Groups (EU, NATO, ASEAN, continents, patent offices) are kept apart from countries; ETO's 'Congo' is "
        "ambiguous and belongs to neither Congo.",
        "Citations: "
        + "; ".join(f'{r["title"]}: "{r["citation"]}", {r["licence"]}, {r["url"]}' for _, r in frame.iterrows()),
    ]
    details = ["Published tables (for `sql`):"] + [
        f"{t.name} — {t.description} Columns: " + ", ".join(c for c, _ in t.columns) for t in catalog.PUBLISHED
    ]
    details.append(
        "Functions `sql` may call: "
        + "; ".join(f"{group}: {', '.join(names)}" for group, names in catalog.FUNCTION_GROUPS.items())
        + "."
    )
    return Result(
        command="about",
        title="About collab's data",
        summary=summary,
        frame=frame.drop(columns=["name"]),
        notes=notes,
        sql=sql,
        params=params,
        data_version=db.data_version,
        incomplete_years=incomplete,
        details=details,
        machine_columns=("publisher", "citation", "url"),
    )


_OPTION_USAGE = {
    "field": "`in <field>`",
    "years": "`from`/`to`/`since <year>`, `2016-2020`, `in 2021`",
    "complete": "`complete`",
    "limit": "`top <n>`/`limit <n>`",
    "metric": "`by {metrics}`",
    "among": "`among <group>`",
    "between": "`between <group> and <group>`",
    "count": "`count fractional` (paper-level sources)",
    "source": "`source eto|openalex`",
}


def options_text(verb: str) -> str:
    """The options a verb takes, as help shows them."""
    from bot.engine.commands import OPTION_NAMES, VERB_METRICS

    accepted = [o for o in OPTION_NAMES if o in VERB_OPTIONS[verb]]
    if not accepted:
        return "No options."
    metrics = "|".join(VERB_METRICS.get(verb, ("joint",)))
    return "Options: " + " · ".join(_OPTION_USAGE[o].format(metrics=metrics) for o in accepted) + "."


def _help(query: Query) -> Result:
    import pandas as pd

    if query.topic and query.topic in VERBS:
        usage, what, example = VERBS[query.topic]
        frame = pd.DataFrame([{"command": usage, "answers": what, "example": example}])
        details = [f"`{usage}` — {what}. Example: `{example}`.", options_text(query.topic)]
        title = f"Help: {query.topic}"
    else:
        frame = pd.DataFrame([{"command": u, "answers": w, "example": e} for u, w, e in VERBS.values()])
        details = [
            OPTIONS_HELP,
            "Countries: names, ISO codes or aliases (USA, UK, Türkiye, Republic of Korea). Groups, as subjects or "
            f"after `among`: {', '.join(usable_group_names())}.",
        ]
        title = "How to ask collab"
    return Result(
        command="help",
        title=title,
        summary="Ask about cross-border AI research collaboration between countries.",
        frame=frame,
        notes=["Data: Emerging Technology Observatory (CSET, Georgetown). `about` lists sources and caveats."],
        details=details,
    )


_HANDLERS: dict[str, Callable[[Query, Database], Result]] = {
    "partners": _partners,
    "top": _top,
    "pairs": _pairs,
    "pair": _pair,
    "compare": _compare,
    "fields": _fields,
    "rising": _rising,
    "profile": _profile,
    "sql": _sql,
    "about": _about,
}
