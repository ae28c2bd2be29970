"""Query -> Result: runs the reviewed SQL for a command and words the answer honestly.

The one place where the data's caveats are attached to every answer: the source and release, the
years used, which of them are incomplete, and ETO's floor of 25 joint articles per pair-year.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.engine import catalog, queryfiles
from bot.engine.commands import OPTIONS_HELP, VERBS, Query
from bot.engine.db import Database
from bot.engine.interpret import Reading, read, read_as_line
from bot.engine.result import ChartSpec, Result
from bot.engine.validate import validate
from bot.errors import DataUnavailable, ParseError
from bot.reference import fields as field_ref
from bot.reference.countries import all_countries, all_groups
from bot.reference.fields import all_fields
from bot.reference.wording import count, field_words, joined, known

PAIR_FLOOR = 25
RISING_MIN_VOLUME = 50  # joint articles in the last year, for a partner to count as rising
RISING_MIN_YEARS = 3
PAPER_LEVEL_SOURCES = ("openalex",)
DEFAULT_SOURCE = "eto"

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


@dataclass(frozen=True)
class Coverage:
    source: str
    first_year: int
    last_year: int
    incomplete_years: tuple[int, ...]
    last_complete_year: int | None


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


def run(query: Query, db: Database | None = None) -> Result:
    db = db or default_database()
    if query.verb == "help":
        return _help(query)
    handler = _HANDLERS[query.verb]
    return handler(query, db)


# ---------------------------------------------------------------- shared pieces


def _execute(db: Database, name: str, params: dict[str, Any]) -> tuple[Any, str, dict[str, Any]]:
    qf = queryfiles.load(name)
    bound = {key: params[key] for key in qf.validated.params}
    frame = db.query(qf.validated.sql, bound)
    return frame, qf.validated.sql, bound


def _source(query: Query) -> str:
    source = query.source or DEFAULT_SOURCE
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
    if query.metric in ("share", "affinity") and _no_article_counts(query.field, source):
        raise DataUnavailable(
            f"`by {query.metric}` needs each country's article count, and ETO publishes none for "
            f"{field_words(query.field)}. Rank by joint articles instead (drop `by {query.metric}`)."
        )
    return source


def _coverage(db: Database, field: str, source: str) -> Coverage:
    frame, _, _ = _execute(db, "coverage", {"field": field, "source": source})
    row = frame.iloc[0]
    if not row["pair_years"]:
        loaded = sorted({d["source"] for d in _datasets(db, None)})
        raise DataUnavailable(
            f"There is no {all_fields()[field].name} data from source '{source}'. "
            f"Sources loaded: {', '.join(loaded)}. `about` lists what each covers."
        )
    years = row["incomplete_years"]  # NULL (every year complete) comes back as None or pd.NA
    incomplete = tuple(int(y) for y in years) if isinstance(years, (list, tuple)) or hasattr(years, "tolist") else ()
    last_complete = row["last_complete_year"]
    return Coverage(
        source,
        int(row["first_year"]),
        int(row["last_year"]),
        incomplete,
        None if last_complete is None or last_complete != last_complete else int(last_complete),
    )


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
        raise ParseError(
            f"The data covers {first}–{last}{' (complete years)' if complete_only else ''}, "
            f"so {asked} has nothing. Try `from {max(first, last - 9)}`."
        )
    clamped = ""
    if year_from < first or year_to > last:
        clamped = f"You asked for {year_from}–{year_to}; the data covers {first}–{last}, so that is what is shown."
        year_from, year_to = max(year_from, first), min(year_to, last)
    incomplete = tuple(y for y in coverage.incomplete_years if year_from <= y <= year_to)
    return Window(year_from, year_to, () if complete_only else incomplete, complete_only, clamped)


def _common_params(query: Query, source: str, window: Window) -> dict[str, Any]:
    return {
        "field": query.field,
        "source": source,
        "year_from": window.year_from,
        "year_to": window.year_to,
        "complete_only": window.complete_only,
        "among": query.group,
        "metric": query.metric,
        "limit": query.limit,
    }


_datasets_seen: dict[tuple[str, str, str | None], list[dict[str, Any]]] = {}


def _datasets(db: Database, source: str | None) -> list[dict[str, Any]]:
    """The datasets behind a source; read once per data version (every answer's notes and chart need them)."""
    key = (str(db.path), db.data_version, source)
    if key not in _datasets_seen:
        frame, _, _ = _execute(db, "sources", {"source": source})
        _datasets_seen[key] = frame.to_dict("records")
    return _datasets_seen[key]


def _notes(db: Database, source: str, window: Window, *, uses_articles: bool, extra: list[str] = ()) -> list[str]:
    datasets = _datasets(db, source)
    wanted = [d for d in datasets if uses_articles or "activity" not in d["name"]]
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


def _source_line(db: Database, source: str) -> str:
    """The attribution under a chart, which may be all a channel sees: the source and its floor."""
    titles = " + ".join(d["title"] for d in _datasets(db, source))
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
)


def _name(code: str) -> str:
    """A country's name as it reads in a sentence: "the United States", "Malaysia"."""
    name = all_countries()[code].name
    return f"the {name}" if name.startswith(_NAMES_WITH_THE) else name


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def _is_list(value: Any) -> bool:
    return isinstance(value, (list, tuple)) or hasattr(value, "tolist")


def _no_article_counts(field: str, source: str = DEFAULT_SOURCE) -> list[str]:
    """A note for fields ETO publishes pair counts for but no per-country article counts."""
    if all_fields()[field].eto_activity_name or source in PAPER_LEVEL_SOURCES:
        return []
    return [
        f"ETO's country activity data has no article counts for {field_words(field)}, so shares, "
        "affinity and links per article are empty."
    ]


def _pct(value: Any) -> str:
    return f"{value:.1%}" if known(value) else "n/a"


def _result(query: Query, db: Database, source: str, **fields: Any) -> Result:
    fields.setdefault("source_line", _source_line(db, source))
    fields["title"], fields["summary"] = _capital(fields["title"]), _capital(fields["summary"])
    return Result(command=query.verb, data_version=db.data_version, **fields)


_METRIC_NOTES = {
    "joint": "Joint articles: articles with authors in both countries, each counted once per pair (full counting).",
    "share": "Partner share: joint articles divided by all the country's articles in the field and years.",
    "fractional": (
        "Fractional count: a joint article with authors in k countries weighs 1/(k-1) in each of its "
        "pairs, so each country's share of one article, spread over its partners, adds up to 1."
    ),
    "affinity": (
        "Affinity: observed over expected joint articles, C(i,j)·N / (P(i)·P(j)), with N the sum of every "
        "country's article count in the field and years; above 1 means they work together more than "
        "their sizes predict."
    ),
}


# ---------------------------------------------------------------- verbs


def _partners(query: Query, db: Database) -> Result:
    source = _source(query)
    coverage = _coverage(db, query.field, source)
    window = _window(query, coverage)
    code = query.countries[0]
    fractional = query.count == "fractional"  # only reaches here for paper-level sources (_source)
    frame, sql, params = _execute(
        db, "partners", {**_common_params(query, source, window), "country": code, "count": query.count}
    )
    if not fractional:
        frame = frame.drop(columns=["fractional_articles"])
    name, field = _name(code), field_words(query.field)
    among = f" in {all_groups()[query.group].name}" if query.group else ""
    title = f"{_possessive(name)} top {field} research partners{among}, {window.label}"
    if frame.empty and source in PAPER_LEVEL_SOURCES:
        summary = (
            f"{name} has no {field} co-authored articles with another country{among} in {window.label} in this data."
        )
    elif frame.empty:
        summary = (
            f"No published {field} pair-years for {name}{among} in {window.label}: every collaboration "
            f"was under ETO's floor of {PAIR_FLOOR} joint articles a year, or the data has none."
        )
    else:
        top = frame.iloc[0]
        rest = [_name(c) for c in frame["partner_code"].iloc[1:3]]
        share = f", {_pct(top['partner_share'])} of {_possessive(name)} articles" if known(top["partner_share"]) else ""
        counted = f", {top['fractional_articles']:,.1f} fractional" if fractional else ""
        summary = (
            f"{_possessive(name)} top {field} partner{among} in {window.label} was {_name(top['partner_code'])} "
            f"({count(top['joint_articles'])} joint articles{counted}{share})"
            + (f", followed by {' and '.join(rest)}." if rest else ".")
        )
    ranked = (
        f"Ranked by {query.metric}."
        if query.metric != "joint"
        else "Ranked by fractional count."
        if fractional
        else "Ranked by joint articles."
    )
    if query.metric == "share":  # every share divides by the same total: say so rather than imply more
        ranked += " For one country's partners this is the same order as joint articles."
    notes = _notes(
        db,
        source,
        window,
        uses_articles=True,
        extra=[
            _METRIC_NOTES["joint"],
            *([_METRIC_NOTES["fractional"]] if fractional else []),
            _METRIC_NOTES["share"],
            _METRIC_NOTES["affinity"],
            ranked,
            *_no_article_counts(query.field, source),
        ],
    )
    by_fraction = fractional and query.metric == "joint"
    return _result(
        query,
        db,
        source,
        title=title,
        summary=summary,
        frame=frame,
        notes=notes,
        sql=sql,
        params=params,
        incomplete_years=list(window.incomplete),
        chart=ChartSpec(
            "bar",
            x="partner",
            y="fractional_articles" if by_fraction else _metric_column(query.metric),
            x_label="",
            y_label="Fractional count" if by_fraction else _metric_label(query.metric),
        ),
    )


def _metric_column(metric: str) -> str:
    return {"share": "partner_share", "affinity": "affinity"}.get(metric, "joint_articles")


def _metric_label(metric: str) -> str:
    return {"share": "Share of the country's articles", "affinity": "Affinity (observed / expected)"}.get(
        metric, "Joint articles"
    )


def _top(query: Query, db: Database) -> Result:
    if query.metric == "affinity":
        raise ParseError(
            "`top` ranks by joint (cross-border links) or share (links per article); affinity needs a pair — try `partners <country> by affinity`."
        )
    source = _source(query)
    coverage = _coverage(db, query.field, source)
    window = _window(query, coverage)
    frame, sql, params = _execute(db, "top", _common_params(query, source, window))
    field = field_words(query.field)
    group = all_groups()[query.group].name if query.group else ""
    if group and not group.lower().endswith("countries"):
        group += " countries"
    scope = f" {group}" if group else ""
    per_article = query.metric == "share"
    international = query.metric == "international"  # paper-level sources only (_source)
    measure = (
        f"share of {field} articles with a foreign co-author"
        if international
        else f"cross-border {field} links" + (" per article" if per_article else "")
    )
    title = f"Top {group or 'countries'} by {measure}, {window.label}"
    if frame.empty:
        summary = f"No{scope} country has published {field} pair-years in {window.label}."
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
    extra = [
        "Cross-border links: the sum of a country's joint articles with every partner; an article with "
        "several partner countries counts once per partner."
    ]
    if query.group:
        extra.append(f"{group}: {all_groups()[query.group].definition}")
    if query.metric == "share":
        extra.append("Ranked by links per article: cross-border links divided by the country's articles.")
    if international:
        extra.append(
            "Ranked by international share: the exact share of the country's articles with at least one "
            "co-author in another country (international_articles / articles), from paper-level data."
        )
    extra += _no_article_counts(query.field, source)
    return _result(
        query,
        db,
        source,
        title=title,
        summary=summary,
        frame=frame,
        notes=_notes(db, source, window, uses_articles=True, extra=extra),
        sql=sql,
        params=params,
        incomplete_years=list(window.incomplete),
        chart=ChartSpec(
            "bar",
            x="country",
            y="links_per_article" if query.metric == "share" else "cross_border_links",
            y_label="Links per article" if query.metric == "share" else "Cross-border links",
        ),
    )


def _pair(query: Query, db: Database) -> Result:
    source = _source(query)
    coverage = _coverage(db, query.field, source)
    window = _window(query, coverage)
    a, b = query.countries
    frame, sql, params = _execute(db, "pair", {**_common_params(query, source, window), "country": a, "partner": b})
    field, name_a, name_b = field_words(query.field), _name(a), _name(b)
    published = frame.dropna(subset=["joint_articles"])
    title = f"{name_a} – {name_b}: joint {field} articles, {window.label}"
    paper_level = source in PAPER_LEVEL_SOURCES
    if published.empty and paper_level:
        summary = f"{name_a} and {name_b} have no joint {field} articles in {window.label} in this data."
    elif published.empty:
        summary = (
            f"{name_a} and {name_b} have no published {field} pair-year in {window.label}: "
            f"each year was under ETO's floor of {PAIR_FLOOR} joint articles."
        )
    else:
        peak = published.loc[published["joint_articles"].idxmax()]
        summary = (
            f"{name_a} and {name_b} co-authored {'' if paper_level else 'at least '}{count(published['joint_articles'].sum())} {field} "
            f"articles in {window.label}, most in {int(peak['year'])} ({count(peak['joint_articles'])})."
        )
    missing = frame[frame["joint_articles"].isna()]["year"].tolist()
    extra = [
        _METRIC_NOTES["joint"],
        f"country_share and partner_share: joint articles as a share of {_possessive(name_a)} and of {_possessive(name_b)} articles.",
    ]
    if missing and paper_level:
        extra.append(
            f"No joint articles in {_years_text(tuple(int(y) for y in missing))} (paper-level data: that is zero)."
        )
    elif missing:
        extra.append(
            f"No published count for {_years_text(tuple(int(y) for y in missing))}: under the floor, not zero."
        )
    return _result(
        query,
        db,
        source,
        title=title,
        summary=summary,
        frame=frame,
        notes=_notes(db, source, window, uses_articles=True, extra=extra),
        sql=sql,
        params=params,
        incomplete_years=list(window.incomplete),
        chart=ChartSpec(
            "line", x="year", y="joint_articles", x_label="Year", y_label="Joint articles", complete_column="complete"
        ),
    )


def _compare(query: Query, db: Database) -> Result:
    source = _source(query)
    coverage = _coverage(db, query.field, source)
    window = _window(query, coverage)
    frame, sql, params = _execute(
        db, "compare", {**_common_params(query, source, window), "countries": list(query.countries)}
    )
    names = [_name(c) for c in query.countries]
    field = field_words(query.field)
    title = f"Cross-border {field} links: {', '.join(names)}, {window.label}"
    totals = frame.groupby("country_code", sort=False)["cross_border_links"].sum().sort_values(ascending=False)
    listed = joined([_name(c) for c in query.countries])
    if totals.empty:
        summary = f"None of {listed} has published {field} pair-years in {window.label}."
    else:
        silent = [_name(c) for c in query.countries if c not in totals.index]
        summary = (
            f"Of {listed}, {_name(totals.index[0])} had the most cross-border {field} links in "
            f"{window.label} ({count(totals.iloc[0])})" + (f"; {joined(silent)} had none published." if silent else ".")
        )
    return _result(
        query,
        db,
        source,
        title=title,
        summary=summary,
        frame=frame,
        notes=_notes(
            db,
            source,
            window,
            uses_articles=True,
            extra=["Cross-border links: the sum of a country's joint articles with every partner."],
        ),
        sql=sql,
        params=params,
        incomplete_years=list(window.incomplete),
        chart=ChartSpec(
            "line",
            x="year",
            y="cross_border_links",
            series="country",
            x_label="Year",
            y_label="Cross-border links",
            complete_column="complete",
        ),
    )


def _fields(query: Query, db: Database) -> Result:
    if query.field != field_ref.DEFAULT_FIELD:
        raise ParseError("`fields` lists every field side by side; drop `in …` (e.g. `fields Malaysia China`).")
    source = _source(query)
    coverage = _coverage(db, query.field, source)
    window = _window(query, coverage)
    code = query.countries[0]
    partner = query.countries[1] if len(query.countries) > 1 else None
    frame, sql, params = _execute(
        db, "fields", {**_common_params(query, source, window), "country": code, "partner": partner}
    )
    name = _name(code)
    with_whom = f" with {_name(partner)}" if partner else ""
    title = f"{name}{with_whom}: cross-border research by field, {window.label}"
    if frame.empty:
        summary = f"{name} has no published cross-border pair-years{with_whom} in any field in {window.label}."
    else:
        lead = frame.iloc[0]
        others = [f"{r['field']} ({count(r['joint_articles'])})" for _, r in frame.iloc[1:3].iterrows()]
        summary = (
            f"{_possessive(name)} cross-border work{with_whom} in {window.label} is largest in {lead['field']} "
            f"({count(lead['joint_articles'])} joint articles)" + (f", then {' and '.join(others)}." if others else ".")
        )
    extra = [
        "Fields overlap (computer vision, NLP, robotics, LLMs and AI safety are parts of AI), so the rows must not be added up.",
        "joint_articles: joint articles with "
        + (_name(partner) if partner else "every partner, summed (cross-border links)")
        + ".",
    ]
    return _result(
        query,
        db,
        source,
        title=title,
        summary=summary,
        frame=frame,
        notes=_notes(db, source, window, uses_articles=True, extra=extra),
        sql=sql,
        params=params,
        incomplete_years=list(window.incomplete),
        chart=ChartSpec("bar", x="field", y="joint_articles", y_label="Joint articles"),
    )


def _rising(query: Query, db: Database) -> Result:
    source = _source(query)
    coverage = _coverage(db, query.field, source)
    window = _window(query, coverage, complete_only=True)
    if window.year_to - window.year_from < RISING_MIN_YEARS:
        raise ParseError(
            f"Growth needs at least {RISING_MIN_YEARS + 1} complete years; "
            f"{window.label} is too short. Try `rising` without years."
        )
    code = query.countries[0] if query.countries else None
    min_volume = RISING_MIN_VOLUME if code else RISING_MIN_VOLUME * 2
    frame, sql, params = _execute(
        db,
        "rising",
        {
            **_common_params(query, source, window),
            "country": code,
            "min_volume": min_volume,
            "min_years": RISING_MIN_YEARS,
        },
    )
    field = field_words(query.field)
    who = _possessive(_name(code)) if code else "the"
    title = f"{who} fastest-rising {field} collaborations, {window.label}"
    if not code:
        frame.insert(0, "pair", frame["country"] + " – " + frame["partner"])
    if frame.empty:
        summary = (
            f"No {field} collaboration{' of ' + _name(code) if code else ''} reached {min_volume} joint "
            f"articles in {window.year_to} with {RISING_MIN_YEARS}+ years of published counts."
        )
    else:
        top = frame.iloc[0]
        label = _name(top["partner_code"]) if code else top["pair"]
        summary = (
            f"{who} fastest-rising {field} collaboration over {window.label} was {label}, growing "
            f"{top['cagr']:.0%} a year (from {count(top['first_value'])} in {int(top['first_year'])} "
            f"to {count(top['last_value'])} in {int(top['last_year'])})."
        )
    extra = [
        f"Growth: compound annual growth rate over complete years {window.label}, from each pair's first "
        f"published year to {window.year_to}; incomplete years are left out.",
        f"Only pairs with at least {min_volume} joint articles in {window.year_to} and {RISING_MIN_YEARS}+ years "
        "between first and last published count are ranked.",
    ]
    return _result(
        query,
        db,
        source,
        title=title,
        summary=summary,
        frame=frame,
        notes=_notes(db, source, window, uses_articles=False, extra=extra),
        sql=sql,
        params=params,
        incomplete_years=[],
        chart=ChartSpec("bar", x="partner" if code else "pair", y="cagr", y_label="Compound annual growth"),
    )


def _profile(query: Query, db: Database) -> Result:
    source = _source(query)
    coverage = _coverage(db, query.field, source)
    window = _window(query, coverage)
    code = query.countries[0]
    frame, sql, params = _execute(db, "profile", {**_common_params(query, source, window), "country": code})
    row = frame.iloc[0]
    name, field = _name(code), field_words(query.field)
    title = f"{name}: {field} research profile, {window.label}"
    top_partners = row["top_partners"] if isinstance(row["top_partners"], str) and row["top_partners"] else ""
    if known(row["articles"]):
        summary = f"{name} published {count(row['articles'])} {field} articles in {window.label}"
    else:
        summary = f"The source has no {field} article count for {name} in {window.label}"
    summary += (
        f", with {count(row['cross_border_links'])} cross-border links to {count(row['partners'])} partner countries"
        f"; top partners {top_partners}."
        if top_partners
        else "; no cross-border pair-year was published."
    )
    extra = [
        "Patent applications and estimated investment (USD millions, ETO's estimate) cover all of AI, whatever the field.",
        "links_per_article: cross-border links per article; an article with several partner countries counts once per partner.",
    ]
    activity, _, _ = _execute(db, "activity_years", {})
    for _, metric in activity.iterrows():
        years = tuple(
            int(y)
            for y in (metric["incomplete_years"] if _is_list(metric["incomplete_years"]) else ())
            if window.year_from <= y <= window.year_to
        )
        if years and not window.complete_only:
            extra.append(
                f"ETO marks {metric['metric']} incomplete for {_years_text(years)}: those counts will still rise."
            )
        elif years:
            extra.append(f"With `complete`, {metric['metric']} leave out {_years_text(years)} (incomplete at ETO).")
    return _result(
        query,
        db,
        source,
        title=title,
        summary=summary,
        frame=frame,
        notes=_notes(db, source, window, uses_articles=True, extra=extra),
        sql=sql,
        params=params,
        incomplete_years=list(window.incomplete),
    )


def _sql(query: Query, db: Database) -> Result:
    validated = validate(query.sql, catalog.ALLOWED_TABLES)
    frame = db.query(validated.sql)
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
        "partner_links lists it in both orientations (sum one or the other, not both).",
        f"Pair-years with fewer than {PAIR_FLOOR} joint articles are not published; `complete` marks incomplete years.",
        "Sources loaded: "
        + "; ".join(f"{d['title']} ({d['release']}, {d['licence'].split(' (')[0]})" for d in _datasets(db, None))
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


def _about(query: Query, db: Database) -> Result:
    frame, sql, params = _execute(db, "about", {})
    titles = "; ".join(f"{r['title']} ({r['release']})" for _, r in frame.iterrows())
    incomplete = sorted({int(y) for years in frame["incomplete_years"] for y in (years if years is not None else [])})
    summary = f"{len(frame)} source{'s' if len(frame) != 1 else ''} loaded: {titles}."
    notes = [
        f"Pair-years with fewer than {PAIR_FLOOR} joint articles are not published by ETO, so sums are lower bounds.",
        f"Incomplete years (publication lag): {_years_text(tuple(incomplete)) or 'none'}; growth rates leave them out.",
        "ETO's cross-border files list most pairs in both orientations; collab keeps each unordered pair-year once.",
        "Groups (EU, NATO, ASEAN, continents, patent offices) are kept apart from countries; ETO's 'Congo' is "
        "ambiguous and belongs to neither Congo.",
        "Citations: "
        + "; ".join(f'{r["title"]}: "{r["citation"]}", {r["licence"]}, {r["url"]}' for _, r in frame.iterrows()),
    ]
    details = ["Published tables (for `sql`):"] + [
        f"{t.name} — {t.description} Columns: " + ", ".join(c for c, _ in t.columns) for t in catalog.PUBLISHED
    ]
    return Result(
        command="about",
        title="About collab's data",
        summary=summary,
        frame=frame,
        notes=notes,
        sql=sql,
        params=params,
        data_version=db.data_version,
        incomplete_years=incomplete,
        details=details,
        machine_columns=("publisher", "citation", "url"),
    )


def _help(query: Query) -> Result:
    import pandas as pd

    if query.topic and query.topic in VERBS:
        usage, what, example = VERBS[query.topic]
        frame = pd.DataFrame([{"command": usage, "answers": what, "example": example}])
        details = [f"`{usage}` — {what}. Example: `{example}`.", OPTIONS_HELP]
        title = f"Help: {query.topic}"
    else:
        frame = pd.DataFrame([{"command": u, "answers": w, "example": e} for u, w, e in VERBS.values()])
        details = [
            OPTIONS_HELP,
            "Countries: names, ISO codes or aliases (USA, UK, Türkiye, Republic of Korea); "
            "groups: western, non-western, EU, ASEAN, G7, G20, OECD, GCC, BRICS, NATO, Quad, Five Eyes, continents.",
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
    "pair": _pair,
    "compare": _compare,
    "fields": _fields,
    "rising": _rising,
    "profile": _profile,
    "sql": _sql,
    "about": _about,
}
