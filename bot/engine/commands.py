"""Command text -> a frozen, validated Query. No database, no Slack: a pure function of the text."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from bot.engine.question import COUNTS, MAX_LIMIT, METRICS, SOURCES, VERBS, Query, is_group, limit_refusal
from bot.errors import OptionRefused, ParseError, Refused, UnknownGroup, UnknownName
from bot.reference import countries as country_ref
from bot.reference import fields as field_ref

MAX_TEXT = 2000
_SQL_WORDS = ("sql", "select", "with")
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
    "pairings": "pairs",
}
OPTIONS_HELP = (
    "Options, anywhere after the verb: `in <field>` · `from <year>` `to <year>` `since <year>` `2016-2020` · "
    "`complete` (complete years only) · `top <n>` / `limit <n>` (at most 100) · "
    "`by joint|share|affinity|international` · "
    "`among <group>` · `between <group> and <group>` · `count full|fractional` · `source eto|openalex` · "
    "`public` (post in the channel). `help <verb>` says which options a verb takes."
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
    "between",
    "count",
    "source",
    "public",
    "share",
}
OPTION_KEYWORDS = frozenset(_KEYWORDS)  # words that start an option: never inside a name in canonical text
_CONNECTORS = {"and", "&", "vs", "vs.", "versus", "with", "x", "-", "–", "/"}
_YEAR = re.compile(r"^(19|20)\d\d$")
_YEAR_RANGE = re.compile(r"^((?:19|20)\d\d)\s*[-–—]\s*((?:19|20)\d\d)$")
_TOKEN = re.compile(r'"[^"]*"|“[^”]*”|‘[^’]*’|«[^»]*»|\'[^\']*\'(?=\s|$)|[^\s,;]+')
_MAX_NAME_WORDS = 6


def parse(text: str) -> Query:
    """Parse command text; ParseError or UnknownName (both friendly) when it doesn't make sense."""
    raw = text or ""
    text = _clean(raw)
    if not text:
        raise ParseError("Ask me something, e.g. `partners Malaysia`. " + _verbs_line())
    first, _, rest = text.partition(" ")
    verb = _verb(first) if len(text) <= MAX_TEXT or first.lower() in _SQL_WORDS else None
    if verb is None:  # SQL has its own bound (validate.py), so an answer's Show SQL runs as typed
        raise ParseError(f"That command is {len(text):,} characters long; keep it under {MAX_TEXT:,}.")
    if verb == "sql" and first.lower() in ("select", "with"):
        rest = text  # `select ...` typed without the `sql` verb
    if verb == "sql":
        statement = _sql_text(raw, keep_first_word=first.lower() != "sql")
        if not statement:
            raise ParseError("`sql` needs a SELECT, e.g. `sql SELECT * FROM datasets`. `about` lists the tables.")
        return Query(verb="sql", sql=statement, text=text)
    rest = re.sub(r"(?<=\d),(?=\d{3}\b)", "", rest)  # "1,000" is one number, not "1" and a name "000"
    # "2016 - 2020" is one option, however it is spaced
    rest = re.sub(r"\b((?:19|20)\d\d)\s+[-–—]\s+((?:19|20)\d\d)\b", r"\1-\2", rest)
    tokens = _TOKEN.findall(rest)
    if verb == "help":
        first_word = tokens[0].lower().strip("`/") if tokens else ""
        known = first_word in VERBS or first_word in VERB_ALIASES
        topic = _verb(tokens[0]) if known else ""
        query, leftover = _options(Query(verb="help", topic=topic, text=text), tokens[1:] if known else tokens)
        if leftover:  # "help nonsense": name what help knows
            _verb(leftover[0])
            raise ParseError(f"`help` takes a command name, e.g. `help partners`. {_verbs_line()}")
        return query
    query, positional = _options(Query(verb=verb, text=text), tokens)
    return _positional(query, positional)


def _clean(text: str) -> str:
    text = (text or "").replace("\u00a0", " ").replace("\u200b", "")
    # a control character inside a word ("Malay\x1bsia") is dropped, not read as a word break
    text = "".join(
        ch if ch.isprintable() or ch in " \t\n" else ("" if unicodedata.category(ch) == "Cc" else " ") for ch in text
    )
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
    said = _Said(query.verb)
    i = 0
    while i < len(tokens):
        word = tokens[i].lower()
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        year_range = _YEAR_RANGE.match(tokens[i])
        if year_range:
            start, end = year_range.groups()
            said.once(("year_from", "year_to"), (int(start), int(end)), tokens[i])
            query = replace(query, year_from=int(start), year_to=int(end))
        elif word in ("from", "since") and following:
            said.once(("year_from",), (_year(following, word),), f"{word} {following}")
            query = replace(query, year_from=_year(following, word))
            i += 1
        elif word in ("to", "until") and following:
            said.once(("year_to",), (_year(following, word),), f"{word} {following}")
            query = replace(query, year_to=_year(following, word))
            i += 1
        elif _YEAR.match(tokens[i]):  # a year on its own: that year only
            said.once(("year_from", "year_to"), (int(tokens[i]),) * 2, tokens[i])
            query = replace(query, year_from=int(tokens[i]), year_to=int(tokens[i]))
        elif word == "in" and following and _YEAR.match(following):
            said.once(("year_from", "year_to"), (int(following),) * 2, f"in {following}")
            query = replace(query, year_from=int(following), year_to=int(following))
            i += 1
        elif word == "in" and following:
            field, used = _longest(
                tokens, i + 1, country_ref_lookup=field_ref.find_field, resolve=field_ref.resolve_field
            )
            said.once(("field",), (field.code,), "in " + " ".join(tokens[i + 1 : i + 1 + used]))
            query = replace(query, field=field.code)
            i += used
        elif word == "among" and following:
            group, used = _group_at(tokens, i + 1, after_keyword=True)
            if query.group is not None and query.group != group.code:
                raise OptionRefused(_two_groups(query.verb))
            query = replace(query, group=group.code)
            i += used
        elif word == "between" and following:
            first, used = _group_at(tokens, i + 1, in_pair=True, after_keyword=True)
            i += used
            if i + 2 >= len(tokens) or tokens[i + 1].lower() not in _CONNECTORS:
                raise Refused(
                    f"`between` needs two groups joined by `and`, e.g. `pairs between {first.code} and eu`; "
                    f"for pairs with both countries in {first.name}, try `pairs among {first.code}`."
                )
            i += 1
            second, used = _group_at(tokens, i + 1, in_pair=True, after_keyword=True)
            i += used
            said.once(("between",), ((first.code, second.code),), f"between {first.code} and {second.code}")
            query = replace(query, between=(first.code, second.code))
        elif query.verb == "top" and i == 0 and word.isdigit():  # `top 5 …`
            said.once(("limit",), (_limit(word),), f"top {word}")
            query = replace(query, limit=_limit(word))
        elif following and (word == "limit" or (word == "top" and (query.verb != "top" or following.isdigit()))):
            said.once(("limit",), (_limit(following),), f"{word} {following}")
            query = replace(query, limit=_limit(following))
            i += 1
        elif word == "by" and following:
            metric = _choice(
                following, METRICS, "by", {"joint_articles": "joint", "articles": "joint", "links": "joint"}
            )
            said.once(("metric",), (metric,), f"by {following}")
            query = replace(query, metric=metric)
            i += 1
        elif word == "count" and following:
            counting = _choice(following, COUNTS, "count", {"fraction": "fractional", "whole": "full"})
            said.once(("count",), (counting,), f"count {following}")
            query = replace(query, count=counting)
            i += 1
        elif word == "source" and following:
            chosen = _choice(following, SOURCES, "source", {})
            said.once(("source",), (chosen,), f"source {following}")
            query = replace(query, source=chosen)
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


class _Said:
    """The options a command has set so far: setting one again to another value is refused, since
    only one of them could be answered and the other would be dropped without a word."""

    _WHAT = {
        "year_from": "the first year",
        "year_to": "the last year",
        "field": "the field",
        "limit": "the number of rows",
        "metric": "the ranking",
        "count": "the counting",
        "source": "the source",
        "between": "the two groups",
    }

    def __init__(self, verb: str) -> None:
        self.verb = verb
        self.values: dict[str, tuple[object, str]] = {}

    def once(self, slots: tuple[str, ...], values: tuple[object, ...], phrase: str) -> None:
        for slot, value in zip(slots, values, strict=True):
            earlier = self.values.get(slot)
            if earlier is not None and earlier[0] != value:
                raise Refused(
                    f"`{earlier[1]}` and `{phrase}` both set {self._WHAT[slot]}; say it once, "
                    f"e.g. `{self.verb} … {phrase}`."
                )
        for slot, value in zip(slots, values, strict=True):
            self.values[slot] = (value, phrase)


T = TypeVar("T")


def _longest(
    tokens: list[str],
    start: int,
    country_ref_lookup: Callable[[str], T | None],
    resolve: Callable[[str], T],
    stop: frozenset[str] | set[str] = _KEYWORDS,
) -> tuple[T, int]:
    """The longest run of tokens from `start` that names something; else resolve's friendly error."""
    for length in range(min(_MAX_NAME_WORDS, len(tokens) - start), 0, -1):
        found = country_ref_lookup(" ".join(tokens[start : start + length]))
        if found is not None:
            return found, length
    end = start
    while end < len(tokens) and tokens[end].lower() not in stop and not _YEAR_RANGE.match(tokens[end]):
        end += 1
    return resolve(" ".join(tokens[start : max(end, start + 1)])), 0  # resolve raises: nothing matched


# What starts like a number (-5, 2.5, 1e3, 0x7e0, 1,000) is one the person meant: never reread without it.
_NUMBER_LIKE = re.compile(r"[-+]?[0-9]")


def _year(text: str, word: str) -> int:
    if not _YEAR.match(text):
        message = f"`{word}` needs a year such as 2016, not '{text[:20]}'."
        # a number that is no year is refused as typed, never reread as a question without it;
        # words ("from last year") may still be plain English
        raise Refused(message) if _NUMBER_LIKE.match(text) else ParseError(message)
    return int(text)


def _limit(text: str | None) -> int:
    if text is None or not (text.isascii() and text.isdigit()):
        # a number that is no count ("-1", "2.5") is refused as typed; a word may be plain English
        numeric = text is not None and _NUMBER_LIKE.match(text)
        raise (Refused if numeric else ParseError)(limit_refusal(text or ""))
    if not 1 <= int(text) <= MAX_LIMIT:
        # a count out of range is refused as typed, never reread as a question without it
        raise Refused(limit_refusal(text))
    return int(text)


def _choice(text: str, choices: tuple[str, ...], word: str, aliases: dict[str, str]) -> str:
    key = text.lower()
    key = aliases.get(key, key)
    if key not in choices:
        raise ParseError(f"`{word}` takes {' | '.join(choices)}, not '{text[:20]}'.")
    return key


def _group_at(
    tokens: list[str], start: int, *, in_pair: bool = False, after_keyword: bool = False
) -> tuple[country_ref.Group, int]:
    """The group named from tokens[start] on (a country there gets a friendly refusal).

    in_pair: the name is one of `between A and B`, so a connector ends it. after_keyword: it
    follows `among` or `between`, so a name that is no usable group is refused, never reread.
    """
    try:
        return _longest(
            tokens,
            start,
            country_ref_lookup=country_ref.find_group,
            resolve=lambda t: country_ref.resolve_group(t, need_members=True),
            stop=_KEYWORDS | _CONNECTORS if in_pair else _KEYWORDS,
        )
    except UnknownGroup as error:
        error.after_keyword = after_keyword and not tokens[start].isdigit()  # "between 2015 and 2024" is years
        raise


def _two_groups(verb: str) -> str:
    if verb == "top":
        return (
            "`top` ranks the countries of one group: `top 10 asean` and `top 10 among asean` are the same, "
            "and a second group has nothing to restrict. For pairs across two groups try `pairs between asean and eu`."
        )
    return "Name one group after `among`; for pairs across two groups try `pairs between asean and eu`."


_ARITY = {  # verb: (fewest subjects, most subjects)
    "partners": (1, 1),
    "pair": (2, 2),
    "compare": (2, 8),
    "fields": (1, 2),
    "rising": (0, 1),
    "profile": (1, 1),
}


def _positional(query: Query, tokens: list[str]) -> Query:
    verb = query.verb
    if verb == "top":
        if tokens:
            group, used = _group_at(tokens, 0)
            if used < len(tokens):
                raise ParseError(
                    f"I didn't understand '{' '.join(tokens[used:])[:60]}' after the group. {OPTIONS_HELP}"
                )
            if query.group is not None and query.group != group.code:
                raise OptionRefused(_two_groups("top"))
            query = replace(query, group=group.code)
        return query
    if verb in ("about", "pairs"):
        if tokens:
            usage, _, example = VERBS[verb]
            hint = (
                " For one country's partners use `partners <country>`; for two, `pair <country> <country>`."
                if verb == "pairs"
                else ""
            )
            raise ParseError(
                f"`{verb}` takes no names, and I couldn't read '{' '.join(tokens)[:60]}' "
                f"(`{usage}`, e.g. `{example}`).{hint}"
            )
        return query
    fewest, most = _ARITY[verb]
    usage, _, example = VERBS[verb]
    # More words than `most` of the longest names with connectors between them can't fit; saying so
    # before splitting keeps a long text from costing a lookup per span.
    fits = len(tokens) <= most * (_MAX_NAME_WORDS + 2)
    codes = tuple(_code(subject) for subject in _subjects(tokens)) if fits else ()
    if not fits or not fewest <= len(codes) <= most:
        wanted = f"{fewest}" if fewest == most else f"{fewest} to {most}"
        things = "country or group" if most == 1 else "countries or groups"
        raise ParseError(f"`{verb}` needs {wanted} {things} (`{usage}`), e.g. `{example}`.")
    if len(set(codes)) != len(codes):
        raise Refused(f"A name appears twice in `{verb}`; name each once, e.g. `{example}`.")
    if verb == "fields" and is_group(codes[0]):
        raise ParseError(
            "`fields` is about one country (optionally with a partner country or group), "
            "e.g. `fields Malaysia` or `fields Malaysia asean`."
        )
    return replace(query, countries=codes)


def _code(subject: country_ref.Country | country_ref.Group) -> str:
    return subject.code


def _find_subject(text: str) -> country_ref.Country | country_ref.Group | None:
    """A country first ("Georgia" is the country), else a group with members."""
    return country_ref.find_country(text) or country_ref.find_group(text)


def _subjects(tokens: list[str]) -> list[country_ref.Country | country_ref.Group]:
    """Split tokens into names of countries or groups (names may have several words), fewest names first."""
    n = len(tokens)
    Subject = country_ref.Country | country_ref.Group
    best: list[list[Subject] | None] = [None] * (n + 1)
    best[0] = []
    for i in range(n):
        current = best[i]
        if current is None:
            continue
        if tokens[i].lower() in _CONNECTORS:
            following = best[i + 1]
            if following is None or len(current) < len(following):
                best[i + 1] = current
            continue
        for j in range(i + 1, min(n, i + _MAX_NAME_WORDS) + 1):
            subject = _find_subject(" ".join(tokens[i:j]))
            reached = best[j]
            if subject and (reached is None or len(current) + 1 < len(reached)):
                best[j] = current + [subject]
    found = best[n]
    if found is not None:
        return found
    # Name the first piece that is no country: from the last reachable point to where the rest parses.
    start = max(i for i in range(n) if best[i] is not None)
    tail_ok = [False] * (n + 1)
    tail_ok[n] = True
    for i in range(n - 1, -1, -1):
        tail_ok[i] = (tokens[i].lower() in _CONNECTORS and tail_ok[i + 1]) or any(
            _find_subject(" ".join(tokens[i:j])) is not None and tail_ok[j]
            for j in range(i + 1, min(n, i + _MAX_NAME_WORDS) + 1)
        )
    end = next((k for k in range(start + 1, n + 1) if tail_ok[k]), n)
    country_ref.resolve_country(" ".join(tokens[start:end]))  # raises UnknownName with suggestions
    raise UnknownName(f"I couldn't read '{' '.join(tokens[start:end])}' as a country.")
