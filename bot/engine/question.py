"""A question as typed values (Query), the verbs, and which options each verb can honour (`check`):
what the command grammar (commands.py), the plain-English reader and the digests all build."""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import OptionRefused
from bot.reference import countries as country_ref
from bot.reference import fields as field_ref

MAX_LIMIT = 100
DEFAULT_LIMIT = 10
METRICS = ("joint", "share", "affinity", "international")
COUNTS = ("full", "fractional")
SOURCES = ("eto", "openalex")

VERBS: dict[str, tuple[str, str, str]] = {
    # verb: (usage, what it answers, example)
    "partners": (
        "partners <country|group>",
        "the countries it co-authors with most (a group: its partners outside it)",
        "partners Malaysia",
    ),
    "top": ("top [N] [<group>]", "countries with the most cross-border links", "top 10 non-western from 2015 to 2024"),
    "pairs": (
        "pairs [among <group>] [between <group> and <group>]",
        "country pairs ranked by joint articles",
        "pairs between asean and eu",
    ),
    "pair": (
        "pair <country|group> <country|group>",
        "joint articles of two countries (or groups), year by year",
        "pair China USA",
    ),
    "compare": (
        "compare <country|group> <country|group> [...]",
        "cross-border links of several countries or groups over time",
        "compare China India Japan",
    ),
    "fields": ("fields <country> [<partner>]", "collaboration by research field", "fields Malaysia China"),
    "rising": (
        "rising [<country|group>]",
        "fastest-growing collaborations over one window of complete years",
        "rising China",
    ),
    "profile": (
        "profile <country|group>",
        "articles, citations, patents, investment, international links, top partners",
        "profile Saudi Arabia",
    ),
    "sql": ("sql <SELECT ...>", "your own SELECT over the published tables", "sql SELECT * FROM datasets"),
    "about": ("about", "sources, coverage, licences, caveats and the published tables", "about"),
    "help": ("help [verb]", "how to ask", "help partners"),
}


@dataclass(frozen=True)
class Query:
    """One question, as typed values. Every field is a slot of its own: a follow-up replaces one
    (`dataclasses.replace(query, field="cv")`) and keeps the rest; `check` then refuses whatever the
    verb can't honour."""

    verb: str
    # What the answer is about, in the order given: ISO alpha-3 codes, or a group's code (lower case)
    # where a group is the subject (`partners asean`, `pair asean eu`).
    countries: tuple[str, ...] = ()
    group: str | None = None  # `among <group>`: top's ranked countries, partners' partners, pairs' both countries
    between: tuple[str, str] | None = None  # pairs: two group codes, one country of the pair in each
    field: str = field_ref.DEFAULT_FIELD
    year_from: int | None = None
    year_to: int | None = None
    complete_only: bool = False
    limit: int = DEFAULT_LIMIT
    metric: str = "joint"
    count: str = "full"
    source: str | None = None  # None: the default source for the field
    public: bool = False
    sql: str = ""
    topic: str = ""
    text: str = ""


def limit_refusal(typed: str) -> str:
    return f"The number of rows must be a whole number from 1 to {MAX_LIMIT}, not '{typed[:20]}'."


def is_group(code: str) -> bool:
    """Subjects are ISO alpha-3 codes (upper case) or group codes (lower case, from data/groups.csv)."""
    return code in country_ref.all_groups()


# What each verb can honour. An option outside its verb's set is refused (`check`) with why and
# what works instead, so no option is ever silently ignored.
OPTION_NAMES = ("field", "years", "complete", "limit", "metric", "among", "between", "count", "source")
VERB_OPTIONS: dict[str, frozenset[str]] = {
    "partners": frozenset({"field", "years", "complete", "limit", "metric", "among", "count", "source"}),
    "top": frozenset({"field", "years", "complete", "limit", "metric", "among", "source"}),
    "pairs": frozenset({"field", "years", "complete", "limit", "metric", "among", "between", "count", "source"}),
    "pair": frozenset({"field", "years", "complete", "source"}),
    "compare": frozenset({"field", "years", "complete", "metric", "among", "source"}),
    "fields": frozenset({"years", "complete", "among", "source"}),
    "rising": frozenset({"field", "years", "limit", "among", "source"}),
    "profile": frozenset({"field", "years", "complete", "source"}),
    "about": frozenset(),
    "sql": frozenset(),
    "help": frozenset(),
}
VERB_METRICS: dict[str, tuple[str, ...]] = {
    "partners": ("joint", "share", "affinity"),
    "top": ("joint", "share", "international"),
    "pairs": ("joint", "affinity"),
    "compare": ("joint", "share"),
}
_OPTION_WORDS = {
    "field": "in <field>",
    "years": "years",
    "complete": "complete",
    "limit": "top/limit <n>",
    "metric": "by <metric>",
    "among": "among <group>",
    "between": "between <group> and <group>",
    "count": "count fractional",
    "source": "source <name>",
}
# (verb, option) -> why it can't be honoured and what works instead
_REFUSALS: dict[tuple[str, str], str] = {
    ("top", "count"): "a country's fractional links add up to its articles with a foreign co-author; "
    "ask `top by international source openalex` for that.",
    ("pair", "limit"): "`pair` lists every year of the span. To rank, try `pairs top 5` or `partners China top 5`.",
    ("pair", "metric"): "`pair` shows joint articles year by year, with both shares beside them. "
    "To rank by another metric, try `partners China by affinity` or `pairs by affinity`.",
    ("pair", "among"): "`pair` is about the two it names. Try `partners China among gcc` or `pairs among gcc`.",
    (
        "pair",
        "count",
    ): "`pair` counts whole joint articles year by year; for fractional counts try "
    "`partners China count fractional source openalex`.",
    (
        "compare",
        "limit",
    ): "`compare` shows every country it names, year by year; name fewer to see fewer, e.g. `compare China India`.",
    (
        "compare",
        "count",
    ): "`compare` sums whole joint articles; for fractional counts try "
    "`partners China count fractional source openalex`.",
    ("fields", "field"): "`fields` lists every field side by side; drop `in …`, e.g. `fields Malaysia China`.",
    ("fields", "limit"): "`fields` lists every field (there are few); drop `top`/`limit`.",
    (
        "fields",
        "metric",
    ): "`fields` shows joint articles with links per article (or partner share) beside them; drop `by …`.",
    ("fields", "count"): "`fields` sums whole joint articles; drop `count`.",
    (
        "rising",
        "complete",
    ): "`rising` always uses complete years only (growth over incomplete years would mislead); drop `complete`.",
    ("rising", "metric"): "`rising` ranks by compound annual growth of joint articles; drop `by …`.",
    ("rising", "count"): "`rising` grows whole joint articles; drop `count`.",
    ("profile", "limit"): "`profile` is one row; for more partners try `partners Saudi Arabia top 20`.",
    ("profile", "metric"): "`profile` shows every measure side by side; drop `by …`.",
    (
        "profile",
        "among",
    ): "`profile` covers one country or group; for partners in a group try `partners Saudi Arabia among gcc`.",
    ("profile", "count"): "`profile` shows whole counts; drop `count`.",
    ("partners", "between"): "`between` picks pairs with one country in each group; try `pairs between asean and eu`.",
    ("top", "between"): "`between` picks pairs with one country in each group; try `pairs between asean and eu`.",
}


def _given(query: Query) -> list[str]:
    """The options a query asks for, by OPTION_NAMES (asking for a default changes nothing, so it is not counted)."""
    given = {
        "field": query.field != field_ref.DEFAULT_FIELD,
        "years": query.year_from is not None or query.year_to is not None,
        "complete": query.complete_only,
        "limit": query.limit != DEFAULT_LIMIT,
        "metric": query.metric != "joint",
        "among": query.group is not None,
        "between": query.between is not None,
        "count": query.count != "full",
        "source": query.source is not None,
    }
    return [name for name in OPTION_NAMES if given[name]]


def check(query: Query) -> Query:
    """Refuse (ParseError) every option the verb can't honour, saying why and what works instead.

    Run on every Query before it is answered (`answer.run` does), parsed, read from plain English or
    built by hand: parse() only reads the text, so a refusal comes with the rest of the answer's checks.
    """
    verb = query.verb
    accepted = VERB_OPTIONS[verb]
    for option in _given(query):
        if option in accepted:
            continue
        reason = _REFUSALS.get((verb, option))
        if reason is None and option == "between":
            reason = "`between` picks pairs with one country in each group; try `pairs between asean and eu`."
        if reason is None:
            reason = (
                f"`{verb}` takes no options; try `{VERBS[verb][2]}`."
                if not accepted
                else (
                    f"`{verb}` takes " + ", ".join(f"`{_OPTION_WORDS[o]}`" for o in OPTION_NAMES if o in accepted) + "."
                )
            )
        raise OptionRefused(f"`{verb}` can't use `{_OPTION_WORDS[option]}`: {reason}")
    if not 1 <= query.limit <= MAX_LIMIT:
        raise OptionRefused(limit_refusal(str(query.limit)))
    if query.between and query.between[0] == query.between[1]:
        group = country_ref.all_groups()[query.between[0]]
        typed = group.code.replace("_", " ")
        raise OptionRefused(
            f"`between {typed} and {typed}` names the same group twice; `between` takes two different "
            f"groups (one country in each). For pairs with both countries in {group.name}, try "
            f"`pairs among {typed}`."
        )
    metrics = VERB_METRICS.get(verb, ("joint",))
    if query.metric not in metrics:
        raise OptionRefused(_metric_refusal(verb, query.metric, metrics))
    if verb in ("partners", "rising") and query.group and query.countries and is_group(query.countries[0]):
        groups = country_ref.all_groups()
        subject, among = groups[query.countries[0]], groups[query.group]
        if among.members <= subject.members:
            raise OptionRefused(
                f"`{verb} {subject.code} among {among.code}` asks for partners outside {subject.name} that are "
                f"in {among.name}, and "
                + (
                    "those are the same group"
                    if among is subject
                    else f"every member of {among.name} is in {subject.name}"
                )
                + ", so none can match. "
                f"Try `pairs among {among.code}` for pairs inside it, or `{verb} {subject.code}` for its partners outside."
            )
    if verb == "top" and query.countries:
        raise OptionRefused("`top` ranks countries; name a group to rank within, e.g. `top 10 asean`.")
    if verb == "pairs" and query.group and query.between:
        raise OptionRefused(
            "`pairs` takes `among <group>` (both countries in it) or `between <group> and <group>` "
            "(one in each), not both."
        )
    return query


def _metric_refusal(verb: str, metric: str, metrics: tuple[str, ...]) -> str:
    takes = " or ".join(f"`by {m}`" for m in metrics)
    why = {
        (
            "top",
            "affinity",
        ): "affinity belongs to a pair of countries; try `partners <country> by affinity` or `pairs by affinity`.",
        ("partners", "international"): "the share of articles with a foreign co-author is a country's own figure; "
        "try `top by international source openalex`.",
        ("pairs", "share"): "a partner share is one country's view of a pair; rank pairs `by affinity`, "
        "or one country's partners `by share` (`partners Malaysia by share`).",
        ("pairs", "international"): "the share of articles with a foreign co-author is a country's own figure; "
        "try `top by international source openalex`.",
        ("compare", "affinity"): "affinity belongs to a pair; try `partners China by affinity`.",
        ("compare", "international"): "try `top by international source openalex` for that share.",
    }.get((verb, metric), "")
    return f"`{verb}` ranks {takes}, not `by {metric}`" + (f": {why}" if why else ".")
