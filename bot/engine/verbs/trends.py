"""Year by year and across fields: one pair, several countries compared, a country by field, growth."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from bot.engine.db import Database
from bot.engine.interpret.canonical import canonical
from bot.engine.question import Query, is_group
from bot.engine.result import ChartSpec, Result
from bot.engine.verbs.common import (
    _METRIC_NOTES,
    NEW_PARTNERSHIPS_LISTED,
    PAIR_FLOOR,
    PAPER_LEVEL_SOURCES,
    RISING_MIN_VOLUME,
    RISING_MIN_VOLUME_ALL_PAIRS,
    RISING_WINDOW_YEARS,
    Coverage,
    DataFacts,
    Window,
    _absent,
    _at_both_ends,
    _capital,
    _common_params,
    _data_facts,
    _dataset_title,
    _execute,
    _group_notes,
    _has_articles,
    _inside,
    _listed,
    _members,
    _membership_note,
    _metric_label,
    _name,
    _plain_name,
    _possessive,
    _present_in,
    _result,
    _setup,
    _source,
    _top_words,
    _years_text,
)
from bot.errors import DataUnavailable, ParseError
from bot.reference.wording import count, field_words, joined


def pair(query: Query, db: Database) -> Result:
    facts, source, window, notes = _setup(query, db)
    a, b = query.countries
    absent = _absent(facts, source, (a, b))
    groups = is_group(a) or is_group(b)
    unused = ["pairs"] if not groups else []
    if groups or not _has_articles(query.field, source):
        unused += ["country_share", "partner_share"]
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
        leave_out=unused,
    )
    import numpy as np

    if groups:
        frame = frame.rename(columns={"joint_articles": "links"})
    value = "links" if groups else "joint_articles"
    counts = frame[value].to_numpy(dtype="float64", na_value=np.nan)
    published = ~np.isnan(counts)
    field, name_a, name_b = field_words(query.field), _name(a), _name(b)
    # a country beside its own group pairs with the group's other members: the summary says so too
    if _inside(a, b):
        name_b = f"the rest of {name_b}"
    elif _inside(b, a):
        name_a = f"the rest of {name_a}"
    what = "links" if groups else "articles"
    title = (
        f"{_capital(name_a)} – {name_b}: {f'{field} links' if groups else f'joint {field} articles'}, {window.label}"
    )
    paper_level = source in PAPER_LEVEL_SOURCES
    if absent:
        summary = absent
    elif not published.any() and paper_level:
        summary = f"{name_a} and {name_b} have no joint {field} articles in {window.label} in this data."
    elif not published.any():
        summary = (
            f"{name_a} and {name_b} have no published {field} pair-year in {window.label}: "
            f"each year was under ETO's floor of {PAIR_FLOOR} joint articles."
        )
    else:
        peak = int(np.nanargmax(counts))  # the first year of the most, as pandas' idxmax
        verb = "had" if groups else "co-authored"
        # the peak year says something only when more than one year was published
        peak_year = int(frame["year"].iloc[peak])
        peak_words = (
            f", most in {peak_year} ({count(counts[peak])}"
            + (", an incomplete year)" if peak_year in window.incomplete else ")")
            if published.sum() > 1
            else ""
        )
        summary = (
            f"{name_a} and {name_b} {verb} {'' if paper_level else 'at least '}{count(np.nansum(counts))} {field} "
            f"{'links' if groups else what} in {window.label}{peak_words}."
        )
    missing = frame["year"].to_numpy()[~published].tolist()
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
        else:
            extra.append(f"No shares: the source has no article counts for {field}.")
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
    if is_group(a) and is_group(b) and (shared := set(_members(a)) & set(_members(b))):
        extra.append(
            f"{_capital(_listed(sorted(_name(c) for c in shared)))} {'is' if len(shared) == 1 else 'are'} in both "
            f"{name_a} and {name_b}: {'its' if len(shared) == 1 else 'their'} links with the other side's members "
            "count as links between the groups, each member pair once."
        )
    extra += _group_notes(facts, source, a) + _group_notes(facts, source, b)
    return _result(
        query,
        facts,
        source,
        window,
        uses_articles=not groups,
        extra=extra,
        title=title,
        summary=summary,
        frame=frame,
        sql=sql,
        params=params,
        chart=ChartSpec(
            "line", x="year", y=value, x_label="Year", y_label=_metric_label(value), complete_column="complete"
        ),
    )


def compare(query: Query, db: Database) -> Result:
    per_article = query.metric == "share"
    if per_article and any(is_group(c) for c in query.countries):
        raise DataUnavailable(
            "`compare … by share` divides by each one's article count, and a group's can't be added up from "
            "its members' (an article with two members would count twice). Drop `by share`, or compare countries."
        )
    facts, source, window, notes = _setup(query, db)
    absent = [c for c in query.countries if not is_group(c) and not facts.in_pairs(c, source)]
    no_articles = not _has_articles(query.field, source) or all(is_group(c) for c in query.countries)
    frame, sql, params = _execute(
        db,
        "compare",
        {**_common_params(query, source, window), "subjects": list(query.countries)},
        leave_out=["articles", "links_per_article"] if no_articles else [],
    )
    names = [_plain_name(c) for c in query.countries]
    field = field_words(query.field)
    among = f" with partners in {_name(query.group)}" if query.group else ""
    measure = "links per article" if per_article else "links"
    title = f"Cross-border {field} {measure}{among}: {', '.join(names)}, {window.label}"
    by_subject = frame.groupby("country_code", sort=False)
    totals = by_subject["cross_border_links"].sum().sort_values(ascending=False)
    listed = joined([_name(c) for c in query.countries])
    if totals.empty:
        summary = f"None of {listed} has published {field} pair-years{among} in {window.label}."
    else:
        silent = [_name(c) for c in query.countries if c not in totals.index and c not in absent]
        if per_article:  # ranked as charted: links over articles, in the years each has a row
            ratios = (totals / by_subject["articles"].sum()).dropna().sort_values(ascending=False)
            lead = (
                f"{_name(ratios.index[0])} had the most cross-border {field} links per article{among} in "
                f"{window.label} ({ratios.iloc[0]:.2f}, over its years with published links)"
            )
        else:
            lead = (
                f"{_name(totals.index[0])} had the most cross-border {field} links{among} in "
                f"{window.label} ({count(totals.iloc[0])})"
            )
        summary = (
            f"Of {listed}, {lead}"
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
    extra += _years_without_rows(query, facts, source, window, frame)
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
        window,
        uses_articles=True,
        extra=extra,
        title=title,
        summary=summary,
        frame=frame,
        sql=sql,
        params=params,
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


def _years_without_rows(query: Query, facts: DataFacts, source: str, window: Window, frame: Any) -> list[str]:
    """compare lists a subject only in years with links: the years it has no row for, said, not hidden."""
    years = [
        y for y in range(window.year_from, window.year_to + 1) if not (window.complete_only and y in window.incomplete)
    ]
    shown = frame.groupby("country_code")["year"].agg(set).to_dict()
    gaps = []
    for code in query.countries:
        missing = tuple(y for y in years if y not in shown.get(code, set()))
        if missing and code in shown:  # one with no row at all is named in the summary
            gaps.append(f"{_name(code)} in {_years_text(missing)}")
    if not gaps:
        return []
    if source in PAPER_LEVEL_SOURCES:
        return [
            f"No joint articles{' with partners in ' + _name(query.group) if query.group else ''} for {joined(gaps)} (paper-level data: that is zero)."
        ]
    return [
        f"No published links for {joined(gaps)}: every pair-year was under the {PAIR_FLOOR}-article floor, not zero."
    ]


def fields(query: Query, db: Database) -> Result:
    facts, source, window, notes = _setup(query, db)
    code = query.countries[0]
    partner = query.countries[1] if len(query.countries) > 1 else None
    absent = _absent(facts, source, query.countries)
    one_partner = partner is not None and not is_group(partner)
    frame, sql, params = _execute(
        db,
        "fields",
        {
            **_common_params(query, source, window),
            "country": code,
            "partner_members": _members(partner) if partner else None,
        },
        leave_out=["partners"] if one_partner else [],
    )
    ratio = "partner_share" if one_partner and not query.group else "links_per_article"
    frame = frame.rename(columns={"per_article": ratio})
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
        window,
        uses_articles=True,
        extra=extra,
        title=title,
        summary=summary,
        frame=frame,
        sql=sql,
        params=params,
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


def rising(query: Query, db: Database) -> Result:
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
    published = frame["first_value"].notna().to_numpy()
    new = frame.iloc[(~published).nonzero()[0]]
    names, codes = (
        (["country_b"], ["country_b_code"])
        if code
        else (["country_a", "country_b"], ["country_a_code", "country_b_code"])
    )
    # positions, not boolean masks and a frame of aligned Series: a fifth of this answer's Python time
    ranked = frame.iloc[published.nonzero()[0][: query.limit]][[*names, "cagr", "first_value", "last_value", *codes]]
    ranked = ranked.reset_index(drop=True).rename(
        columns={"country_b": "partner", "country_b_code": "partner_code"} if code else {}
    )
    ranked.insert(len(names) + 1, "first_year", start)
    ranked.insert(len(names) + 3, "last_year", end)
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
        result_window,
        uses_articles=False,
        extra=extra,
        title=title,
        summary=summary,
        frame=ranked,
        sql=sql,
        params=params,
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
