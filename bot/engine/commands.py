"""Command text -> a frozen, validated Query. No database, no Slack: a pure function of the text."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypeVar

from bot.errors import ParseError, UnknownName
from bot.reference import countries as country_ref
from bot.reference import fields as field_ref

MAX_LIMIT = 100
DEFAULT_LIMIT = 10
MAX_TEXT = 2000
METRICS = ("joint", "share", "affinity", "international")
COUNTS = ("full", "fractional")
SOURCES = ("eto", "openalex")

VERBS: dict[str, tuple[str, str, str]] = {
    # verb: (usage, what it answers, example)
    "partners": ("partners <country>", "the countries it co-authors with most", "partners Malaysia"),
    "top": ("top [N] [<group>]", "countries with the most cross-border links", "top 10 non-western from 2015 to 2024"),
    "pair": ("pair <country> <country>", "joint articles of two countries, year by year", "pair China USA"),
    "compare": (
        "compare <country> <country> [...]",
        "cross-border links of several countries over time",
        "compare China India Japan",
    ),
    "fields": ("fields <country> [<partner>]", "collaboration by research field", "fields Malaysia China"),
    "rising": (
        "rising [<country>]",
        "fastest-growing partners (compound annual growth, complete years)",
        "rising China",
    ),
    "profile": (
        "profile <country>",
        "articles, citations, patents, investment, international links, top partners",
        "profile Saudi Arabia",
    ),
    "sql": ("sql <SELECT ...>", "your own SELECT over the published tables", "sql SELECT * FROM datasets"),
    "about": ("about", "sources, releases, licences, caveats and the published tables", "about"),
    "help": ("help [verb]", "how to ask", "help partners"),
}
VERB_ALIASES = {
    "partner": "partners",
    "collaborators": "partners",
    "ranking": "top",
    "rank": "top",
    "vs": "compare",
    "country": "profile",
    "sources": "about",
    "info": "about",
    "?": "help",
    "field": "fields",
    "trend": "pair",
    "growth": "rising",
    "select": "sql",
    "with": "sql",
}
OPTIONS_HELP = (
    "Options, anywhere after the verb: `in <field>` · `from <year>` `to <year>` `since <year>` `2016-2020` · "
    "`complete` (complete years only) · `top <n>` / `limit <n>` (at most 100) · `by joint|share|affinity` · "
    "`among <group>` · `count full|fractional` · `source eto|openalex` · `public` (post in the channel)"
)

_KEYWORDS = {
    "in",
    "from",
    "to",
    "since",
    "until",
    "complete",
    "top",
    "limit",
    "by",
    "among",
    "count",
    "source",
    "public",
    "share",
}
_CONNECTORS = {"and", "&", "vs", "vs.", "versus", "with", "x", "-", "–", "/"}
_YEAR = re.compile(r"^(19|20)\d\d$")
_YEAR_RANGE = re.compile(r"^((?:19|20)\d\d)\s*[-–—]\s*((?:19|20)\d\d)$")
_TOKEN = re.compile(r'"[^"]*"|“[^”]*”|‘[^’]*’|«[^»]*»|\'[^\']*\'(?=\s|$)|[^\s,;]+')
_MAX_NAME_WORDS = 6


@dataclass(frozen=True)
class Query:
    verb: str
    countries: tuple[str, ...] = ()  # ISO alpha-3 codes, in the order given
    group: str | None = None  # top's group, or `among <group>`
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


def parse(text: str) -> Query:
    """Parse command text; ParseError or UnknownName (both friendly) when it doesn't make sense."""
    raw = text or ""
    text = _clean(raw)
    if not text:
        raise ParseError("Ask me something, e.g. `partners Malaysia`. " + _verbs_line())
    if len(text) > MAX_TEXT:
        raise ParseError(f"That command is {len(text):,} characters long; keep it under {MAX_TEXT:,}.")
    first, _, rest = text.partition(" ")
    verb = _verb(first)
    if verb == "sql" and first.lower() in ("select", "with"):
        rest = text  # `select ...` typed without the `sql` verb
    if verb == "sql":
        statement = _sql_text(raw, keep_first_word=first.lower() != "sql")
        if not statement:
            raise ParseError("`sql` needs a SELECT, e.g. `sql SELECT * FROM datasets`. `about` lists the tables.")
        return Query(verb="sql", sql=statement, text=text)
    # "2016 - 2020" is one option, however it is spaced
    rest = re.sub(r"\b((?:19|20)\d\d)\s+[-–—]\s+((?:19|20)\d\d)\b", r"\1-\2", rest)
    tokens = _TOKEN.findall(rest)
    if verb == "help":
        topic = _verb(tokens[0]) if tokens else ""
        return Query(verb="help", topic=topic, text=text)
    query, positional = _options(Query(verb=verb, text=text), tokens)
    return _positional(query, positional)


def _clean(text: str) -> str:
    text = (text or "").replace("\u00a0", " ").replace("\u200b", "")
    text = "".join(ch if ch.isprintable() or ch in " \t\n" else " " for ch in text)
    return re.sub(r"\s+", " ", text).strip()


def _sql_text(raw: str, keep_first_word: bool) -> str:
    """The statement as typed: line breaks end `--` comments and spaces inside strings matter."""
    raw = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in raw.replace("\u00a0", " ")).strip()
    return raw if keep_first_word else raw[len(raw.split(None, 1)[0]) :].strip()


def _verbs_line() -> str:
    return "Commands: " + ", ".join(f"`{usage}`" for usage, _, _ in VERBS.values()) + "."


def _verb(word: str) -> str:
    key = word.lower().strip("`/")
    if key in VERBS:
        return key
    if key in VERB_ALIASES:
        return VERB_ALIASES[key]
    if country_ref.find_country(word):
        raise ParseError(f"Start with what you want to know, e.g. `partners {word}` or `profile {word}`.")
    found = country_ref.suggest(word, {v: v for v in VERBS})
    hint = f"Did you mean `{found[0]}`? " if found else ""
    raise ParseError(f"I don't know the command '{word[:40]}'. {hint}{_verbs_line()}", tuple(found))


def _options(query: Query, tokens: list[str]) -> tuple[Query, list[str]]:
    """Consume the options; return the query and the tokens left for the verb's own arguments."""
    positional: list[str] = []
    i = 0
    while i < len(tokens):
        word = tokens[i].lower()
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        if _YEAR_RANGE.match(tokens[i]):
            start, end = _YEAR_RANGE.match(tokens[i]).groups()
            query = replace(query, year_from=int(start), year_to=int(end))
        elif word in ("from", "since") and following:
            query = replace(query, year_from=_year(following, word))
            i += 1
        elif word in ("to", "until") and following:
            query = replace(query, year_to=_year(following, word))
            i += 1
        elif word == "in" and following and _YEAR.match(following):
            query = replace(query, year_from=int(following), year_to=int(following))
            i += 1
        elif word == "in" and following:
            field, used = _longest(
                tokens, i + 1, country_ref_lookup=field_ref.find_field, resolve=field_ref.resolve_field
            )
            query = replace(query, field=field.code)
            i += used
        elif word == "among" and following:
            group, used = _longest(
                tokens,
                i + 1,
                country_ref_lookup=country_ref.find_group,
                resolve=lambda t: country_ref.resolve_group(t, need_members=True),
            )
            query = replace(query, group=group.code)
            i += used
        elif (word == "limit" or (word == "top" and query.verb != "top")) and following:
            query = replace(query, limit=_limit(following))
            i += 1
        elif word == "by" and following:
            query = replace(
                query, metric=_choice(following, METRICS, "by", {"joint_articles": "joint", "articles": "joint"})
            )
            i += 1
        elif word == "count" and following:
            query = replace(
                query, count=_choice(following, COUNTS, "count", {"fraction": "fractional", "whole": "full"})
            )
            i += 1
        elif word == "source" and following:
            query = replace(query, source=_choice(following, SOURCES, "source", {}))
            i += 1
        elif word in ("complete", "complete-only"):
            query = replace(query, complete_only=True)
        elif word in ("public", "share"):
            query = replace(query, public=True)
        elif word in _KEYWORDS and following is None:
            raise ParseError(f"`{word}` needs a value after it. {OPTIONS_HELP}")
        else:
            positional.append(tokens[i])
        i += 1
    if query.year_from and query.year_to and query.year_from > query.year_to:
        raise ParseError(
            f"The years are reversed: from {query.year_from} to {query.year_to}. "
            f"Did you mean {query.year_to}-{query.year_from}?"
        )
    return query, positional


T = TypeVar("T")


def _longest(
    tokens: list[str], start: int, country_ref_lookup: Callable[[str], T | None], resolve: Callable[[str], T]
) -> tuple[T, int]:
    """The longest run of tokens from `start` that names something; else resolve's friendly error."""
    for length in range(min(_MAX_NAME_WORDS, len(tokens) - start), 0, -1):
        found = country_ref_lookup(" ".join(tokens[start : start + length]))
        if found is not None:
            return found, length
    end = start
    while end < len(tokens) and tokens[end].lower() not in _KEYWORDS and not _YEAR_RANGE.match(tokens[end]):
        end += 1
    return resolve(" ".join(tokens[start : max(end, start + 1)])), 0  # resolve raises: nothing matched


def _year(text: str, word: str) -> int:
    if not _YEAR.match(text):
        raise ParseError(f"`{word}` needs a year such as 2016, not '{text[:20]}'.")
    return int(text)


def _limit(text: str | None) -> int:
    if text is None or not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_LIMIT:
        raise ParseError(f"The number of rows must be a whole number from 1 to {MAX_LIMIT}, not '{(text or '')[:20]}'.")
    return int(text)


def _choice(text: str, choices: tuple[str, ...], word: str, aliases: dict[str, str]) -> str:
    key = text.lower()
    key = aliases.get(key, key)
    if key not in choices:
        raise ParseError(f"`{word}` takes {' | '.join(choices)}, not '{text[:20]}'.")
    return key


_ARITY = {  # verb: (fewest countries, most countries)
    "partners": (1, 1),
    "pair": (2, 2),
    "compare": (2, 8),
    "fields": (1, 2),
    "rising": (0, 1),
    "profile": (1, 1),
    "top": (0, 0),
    "about": (0, 0),
}


def _positional(query: Query, tokens: list[str]) -> Query:
    verb = query.verb
    if verb == "top":
        if tokens and tokens[0].isdigit():  # _limit refuses digits that are not 0-9
            query = replace(query, limit=_limit(tokens[0]))
            tokens = tokens[1:]
        if tokens:
            group, used = _longest(
                tokens,
                0,
                country_ref_lookup=country_ref.find_group,
                resolve=lambda t: country_ref.resolve_group(t, need_members=True),
            )
            if used < len(tokens):
                raise ParseError(
                    f"I didn't understand '{' '.join(tokens[used:])[:60]}' after the group. {OPTIONS_HELP}"
                )
            query = replace(query, group=group.code)
        return query
    if verb == "about":
        if tokens:
            raise ParseError("`about` takes no arguments.")
        return query
    codes = tuple(c.code for c in _countries(tokens))
    fewest, most = _ARITY[verb]
    usage, _, example = VERBS[verb]
    if not fewest <= len(codes) <= most:
        wanted = f"{fewest}" if fewest == most else f"{fewest} to {most}"
        raise ParseError(f"`{verb}` needs {wanted} countr{'y' if most == 1 else 'ies'} (`{usage}`), e.g. `{example}`.")
    if len(set(codes)) != len(codes):
        raise ParseError(f"A country is named twice in `{verb}`; name each once, e.g. `{example}`.")
    return replace(query, countries=codes)


def _countries(tokens: list[str]) -> list[country_ref.Country]:
    """Split tokens into country names (names may have several words), fewest names first."""
    n = len(tokens)
    best: list[list[country_ref.Country] | None] = [None] * (n + 1)
    best[0] = []
    for i in range(n):
        if best[i] is None:
            continue
        if tokens[i].lower() in _CONNECTORS:
            if best[i + 1] is None or len(best[i]) < len(best[i + 1]):
                best[i + 1] = best[i]
            continue
        for j in range(i + 1, min(n, i + _MAX_NAME_WORDS) + 1):
            country = country_ref.find_country(" ".join(tokens[i:j]))
            if country and (best[j] is None or len(best[i]) + 1 < len(best[j])):
                best[j] = best[i] + [country]
    if best[n] is not None:
        return best[n]
    # Name the first piece that is no country: from the last reachable point to where the rest parses.
    start = max(i for i in range(n) if best[i] is not None)
    tail_ok = [False] * (n + 1)
    tail_ok[n] = True
    for i in range(n - 1, -1, -1):
        tail_ok[i] = (tokens[i].lower() in _CONNECTORS and tail_ok[i + 1]) or any(
            country_ref.find_country(" ".join(tokens[i:j])) and tail_ok[j]
            for j in range(i + 1, min(n, i + _MAX_NAME_WORDS) + 1)
        )
    end = next((k for k in range(start + 1, n + 1) if tail_ok[k]), n)
    country_ref.resolve_country(" ".join(tokens[start:end]))  # raises UnknownName with suggestions
    raise UnknownName(f"I couldn't read '{' '.join(tokens[start:end])}' as a country.")
