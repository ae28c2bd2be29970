"""What a country is, what the data holds and what can be asked: profile, sql, about, help."""

from __future__ import annotations

from typing import Any

from bot.engine import catalog
from bot.engine.commands import OPTIONS_HELP
from bot.engine.db import Database
from bot.engine.question import VERB_OPTIONS, VERBS, Query, is_group
from bot.engine.result import Result
from bot.engine.validate import validate
from bot.engine.verbs.common import (
    _METRIC_NOTES,
    DEFAULT_SOURCE,
    PAIR_FLOOR,
    WELL_KNOWN_GROUPS,
    WELL_KNOWN_TERRITORIES,
    DataFacts,
    Window,
    _capital,
    _common_params,
    _data_facts,
    _dataset_title,
    _execute,
    _group_notes,
    _name,
    _result,
    _setup,
    _years_text,
)
from bot.reference.countries import all_countries, all_groups, usable_group_names
from bot.reference.wording import count, field_words, joined, known


def profile(query: Query, db: Database) -> Result:
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
        window,
        uses_articles=True,
        extra=extra,
        title=title,
        summary=summary,
        frame=frame,
        sql=sql,
        params=params,
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
        window,
        uses_articles=own_rows,
        extra=extra,
        title=title,
        summary=summary,
        frame=frame,
        sql=sql,
        params=params,
    )


def sql(query: Query, db: Database) -> Result:
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


def about(query: Query, db: Database) -> Result:
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
        f"{t.name} — {t.description} Columns: " + "; ".join(f"{c} ({meaning})" for c, meaning in t.columns)
        for t in catalog.PUBLISHED
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
    from bot.engine.question import OPTION_NAMES, VERB_METRICS

    accepted = [o for o in OPTION_NAMES if o in VERB_OPTIONS[verb]]
    if not accepted:
        return "No options."
    metrics = "|".join(VERB_METRICS.get(verb, ("joint",)))
    return "Options: " + " · ".join(_OPTION_USAGE[o].format(metrics=metrics) for o in accepted) + "."


def show_help(query: Query) -> Result:
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
