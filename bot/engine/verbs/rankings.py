"""Rankings: a country's (or group's) partners, the top countries, the top pairs."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.engine.db import Database
from bot.engine.interpret.canonical import canonical
from bot.engine.question import Query, is_group
from bot.engine.result import ChartSpec, Result
from bot.engine.verbs.common import (
    _METRIC_NOTES,
    MIN_ARTICLES_FOR_RATIO,
    MIN_JOINT_FOR_AFFINITY,
    PAIR_FLOOR,
    PAPER_LEVEL_SOURCES,
    Window,
    _absent,
    _common_params,
    _cut,
    _execute,
    _group_notes,
    _group_words,
    _has_articles,
    _inside,
    _membership_note,
    _metric_label,
    _name,
    _pct,
    _possessive,
    _ranked_note,
    _result,
    _setup,
    _top_words,
)
from bot.errors import DataUnavailable
from bot.reference.countries import all_groups
from bot.reference.wording import count, field_words, known

# ---------------------------------------------------------------- verbs


def partners(query: Query, db: Database) -> Result:
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
    asked = {**_common_params(query, source, window), "subject": code}
    if group:
        frame, sql, params = _execute(db, "group_partners", asked)
    else:
        drop = [] if fractional else ["fractional_articles"]
        if not _has_articles(query.field, source):
            drop.append("partner_share")
        frame, sql, params = _execute(db, "partners", {**asked, "min_joint": MIN_JOINT_FOR_AFFINITY}, leave_out=drop)
    value = "links" if group else "joint_articles"
    by_fraction = fractional and query.metric == "joint"
    y = (
        "fractional_articles"
        if by_fraction
        else {"share": "partner_share", "affinity": "affinity"}.get(query.metric, value)
    )
    frame, tie = _cut(frame, query.limit, y, lambda row: _name(row["partner_code"]))
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
    extra += _group_notes(facts, source, query.group) + tie
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


def top(query: Query, db: Database) -> Result:
    facts, source, window, notes = _setup(query, db)
    drop = []
    if source not in PAPER_LEVEL_SOURCES:
        drop.append("international_share")
    if not _has_articles(query.field, source):
        drop += ["articles", "links_per_article"]
    frame, sql, params = _execute(
        db,
        "top",
        {
            **_common_params(query, source, window),
            "min_articles": MIN_ARTICLES_FOR_RATIO,
        },
        leave_out=drop,
    )
    field = field_words(query.field)
    group = _group_words(query.group) if query.group else ""
    per_article = query.metric == "share"
    international = query.metric == "international"  # paper-level sources only (_source)
    y = "links_per_article" if per_article else "international_share" if international else "cross_border_links"
    frame, tie = _cut(frame, query.limit, y, lambda row: _name(row["country_code"]))
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
    extra += tie
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
        chart=ChartSpec("bar", x="country", y=y, y_label=_metric_label(y)),
    )


def pairs(query: Query, db: Database) -> Result:
    facts, source, window, notes = _setup(query, db)
    group_a, group_b = query.between if query.between else (None, None)  # NULL: no `between`
    fractional = query.count == "fractional"
    frame, sql, params = _execute(
        db,
        "pairs",
        {
            **_common_params(query, source, window),
            "min_joint": MIN_JOINT_FOR_AFFINITY,
            "group_a": group_a,
            "group_b": group_b,
        },
        leave_out=[] if fractional else ["fractional_articles"],
    )
    y = {"affinity": "affinity"}.get(query.metric, "fractional_articles" if fractional else "joint_articles")
    frame, tie = _cut(frame, query.limit, y, lambda row: f"{row['country_a']} – {row['country_b']}")
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
    extra += tie
    return _result(
        query,
        facts,
        source,
        window,
        uses_articles=False,
        extra=extra,
        title=title,
        summary=summary,
        frame=frame,
        sql=sql,
        params=params,
        chart=ChartSpec("bar", x="country_a", x2="country_b", y=y, y_label=_metric_label(y)),
    )
