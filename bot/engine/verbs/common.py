"""What every verb shares: the data facts read once per version, the window and source of an answer,
the notes that state the data's caveats, and how names and numbers read in a sentence. Names with a
leading underscore are for the verb modules beside this one, not for the rest of the project."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bot.engine import queryfiles
from bot.engine.db import Database
from bot.engine.interpret.canonical import canonical
from bot.engine.question import Query, is_group
from bot.engine.result import Result
from bot.errors import DataUnavailable, ParseError
from bot.reference.countries import all_countries, all_groups
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
    memo: dict[tuple[str, ...], Any] = field(default_factory=dict, compare=False)  # text derived from these facts

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


def _execute(
    db: Database, name: str, params: dict[str, Any], leave_out: Sequence[str] = ()
) -> tuple[Any, str, dict[str, Any]]:
    """Run a reviewed query; leave_out: columns this answer doesn't show (removed in place: a copy of
    the frame per drop costs more than building it)."""
    declared = queryfiles.load(name).validated.params
    statement = queryfiles.statement(name, {key: params[key] for key in declared})  # validated once per shape
    bound = {key: params[key] for key in statement.params}
    frame = db.query(statement, bound)
    for column in leave_out:
        del frame[column]
    return frame, statement.sql, bound


def _cut(frame: Any, limit: int, column: str, label: Callable[[Any], str]) -> tuple[Any, list[str]]:
    """A ranking's rows (its SQL returns one past the limit) cut to the limit; a note when the row cut
    off ties with the last one shown (ties rank by name, so the cut alone would decide which is shown)."""
    if len(frame) <= limit:
        return frame, []
    values, shown = frame[column], frame.iloc[:limit]
    if not (known(values.iat[limit]) and values.iat[limit] == values.iat[limit - 1]):
        return shown, []
    cut_off, last = frame.iloc[limit], frame.iloc[limit - 1]
    return shown, [
        f"{label(cut_off)} ties with {label(last)}, the last row shown ({column} {_figure(last[column])}); ties are "
        f"in name order, so `top {limit + 1}` (or more) shows it and any others tied."
    ]


def _figure(value: Any) -> str:
    return count(value) if float(value).is_integer() else f"{value:.3g}"


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
    key = ("group notes", source, code)  # the same for every answer on this data: written once
    if key not in facts.memo:
        facts.memo[key] = _membership_notes(facts, source, code)
    notes: list[str] = list(facts.memo[key])
    if shown is not None and window is not None:
        group = all_groups()[code]
        members = sorted(group.members, key=lambda c: all_countries()[c].name)
        under = under_minimum or {}
        few = [c for c in members if c in under and c not in shown]
        silent = [
            all_countries()[c].name for c in members if facts.in_pairs(c, source) and c not in shown and c not in under
        ]
        if few or silent or len(shown & group.members) < len(members):
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


def _membership_notes(facts: DataFacts, source: str, code: str) -> tuple[str, ...]:
    """A group's definition and members, and those the source lists nowhere."""
    group = all_groups()[code]
    names = sorted(all_countries()[c].name for c in group.members)
    notes = [f"{group.name} ({len(names)} members): {group.definition} Members: {_listed(names)}."]
    absent = sorted(all_countries()[c].name for c in group.members if not facts.in_pairs(c, source))
    if absent:
        notes.append(f"Not in {_dataset_title(facts, source, 'pairs')} at all: {_listed(absent)}.")
    return tuple(notes)


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
    side = "its partners there are" if verb in ("partners", "among") else f"the side of {name} here is"
    return (
        f"{_capital(member)} is a member of {name}: {side} its other members (a country has no joint articles "
        "with itself)."
    )


def _group_words(code: str) -> str:
    """The countries of a group as a title reads them: "Western countries", "countries in Africa",
    "countries in the European Union"."""
    name = all_groups()[code].name
    return name if name.lower().endswith("countries") else f"countries in {_name(code)}"


def _result(
    query: Query,
    facts: DataFacts,
    source: str,
    window: Window,
    *,
    uses_articles: bool,
    extra: Sequence[str],
    **fields: Any,
) -> Result:
    """A data verb's Result over `window`: the notes every answer carries (source, years, floor) before
    its own (`extra`), the window's incomplete years, and the attribution under its chart."""
    notes = _notes(facts, source, window, uses_articles=uses_articles, extra=extra)
    fields["title"], fields["summary"] = _capital(fields["title"]), _capital(fields["summary"])
    return Result(
        command=query.verb,
        data_version=facts.version,
        notes=notes,
        incomplete_years=list(window.incomplete),
        source_line=_source_line(facts, source, notes),
        **fields,
    )


def _pct(value: Any) -> str:
    """A share as a percentage, with the digits a small one needs (0.045%, not 0.0%)."""
    if not known(value):
        return "n/a"
    return f"{value:.1%}" if value == 0 or abs(value) >= 0.001 else f"{value * 100:.2g}%"


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
