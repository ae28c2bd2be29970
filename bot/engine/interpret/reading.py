"""Plain English -> Query, deterministically: slots from grammar and the reference tables, the verb from cues.

`analysis` finds what a question says, `intent` picks the verb; this module builds the Query, reads
follow-ups against a thread's last Query, and offers choices instead of guessing. Every reading is
checked by re-parsing its canonical command and checking its options as answering will, so a
reading can never mean anything a command couldn't.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.engine import commands, question
from bot.engine.interpret import text as text_tools
from bot.engine.interpret.analysis import Analysis, analyse
from bot.engine.interpret.canonical import canonical
from bot.engine.interpret.intent import ARITY, CONFLICTS, available, default_verb, rank_verbs, takes
from bot.engine.interpret.names import WORD_CODES, known_word
from bot.engine.interpret.vocabulary import FOLLOW_UP
from bot.engine.question import Query
from bot.errors import Refused, UnknownField, UnknownGroup, UserError
from bot.reference import countries as country_ref
from bot.reference import fields as field_ref

MAX_CHOICES = 3
MAX_QUESTION_WORDS = 60  # longer than any one question; keeps reading any text in milliseconds
MAX_AMBIGUOUS_READINGS = 4  # readings tried for names of several countries ("Congo"), whatever their number
_LOST = (
    "I couldn't tell what you're asking. Ask like `who does Malaysia work with?` or `partners Malaysia`; "
    "`help` lists the commands."
)
_TOO_LONG = (
    f"I read questions of up to {MAX_QUESTION_WORDS} words. Ask one thing at a time, like "
    "`who does Malaysia work with in computer vision since 2018?`, or use a command (`help` lists them)."
)
_SQL_WITH = re.compile(r"^\s*with\s+(recursive\s+)?\w+\s*(\([^)]*\))?\s+as\s*\(", re.IGNORECASE)


@dataclass(frozen=True)
class Reading:
    query: Query | None  # what to answer; None when not understood well enough
    command: str  # canonical command text for `query` ("" when there is none)
    choices: tuple[str, ...]  # up to three canonical commands when ambiguous or partly understood
    understood: str  # one sentence: what was understood (shown with the choices)
    canonical_input: bool  # True when the text already was a canonical command (no "Read as" line)
    # what the command doesn't show of how the text was read: typos corrected, words it can't honour
    remarks: tuple[str, ...] = ()


def read_as_line(reading: Reading) -> str:
    """The line that starts an answer to plain English: "Read as `partners Malaysia in cv`"."""
    if reading.query is None or reading.canonical_input:
        return ""
    return f"Read as `{reading.command}`" + (f" ({'; '.join(reading.remarks)})" if reading.remarks else "")


# ------------------------------------------------------------------ building the Query


# Verbs whose answer shows every measure side by side: "what share…" or "relative to size" in a
# question asks for a column they already have, not for a ranking. (In a follow-up, "rank by
# affinity" is the whole request, so it is kept, and refused with what works instead.)
_FIXED_COLUMNS = frozenset({"pair", "fields", "profile", "rising", "about", "help"})


def _query(verb: str, subjects: Sequence[str], analysis: Analysis, base: Query | None = None) -> Query:
    s = analysis.slots
    query = base if base is not None else Query(verb=verb)
    query = replace(query, verb=verb, countries=tuple(subjects), text="", sql="", topic="")
    changes: dict[str, Any] = {}
    among = list(analysis.among)
    if verb in ("top", "pairs") and subjects:
        # a group named as what `top` or `pairs` is about is where it ranks
        changes["countries"] = ()
        if verb == "pairs" and len(subjects) == 2:
            changes["between"] = tuple(subjects)
        else:
            among = [subjects[0], *among]
    if analysis.field:
        changes["field"] = analysis.field
    if s.years_said or base is None:
        changes["year_from"], changes["year_to"] = s.year_from, s.year_to
    if s.complete_only is not None:
        changes["complete_only"] = s.complete_only
    if verb == "rising":
        changes["complete_only"] = False  # growth always uses complete years; saying so changes nothing
    if s.limit is not None:
        changes["limit"] = s.limit
    if s.metric is not None and (verb not in _FIXED_COLUMNS or base is not None):
        # "relative to size" for a ranking of countries is links per article (affinity is a pair's)
        changes["metric"] = "share" if verb == "top" and s.metric == "affinity" and s.size_words else s.metric
    if s.count is not None:
        changes["count"] = s.count
    if s.source is not None:
        changes["source"] = s.source
    changes["public"] = s.public
    if among:
        changes["group"] = among[0]
    if verb == "help":
        # "how do I use the compare command?": help on that verb
        named = [w for w in re.findall(r"[a-z]+", analysis.text) if w in question.VERBS and w != "help"]
        return Query(verb="help", topic=named[0] if named else "")
    if verb == "about":
        return Query(verb="about")
    return replace(query, **changes)


def _checked(query: Query) -> tuple[Query | None, str, str]:
    """Re-parse the canonical command and check its options against its verb, as answering will:
    (query, command, "") or (None, command, the reason it can't be answered)."""
    command = canonical(query)
    try:
        return question.check(commands.parse(command)), command, ""
    except UserError as error:
        return None, command, error.message


def _other_verbs(query: Query) -> tuple[str, ...]:
    """The same question with the verbs that take its subjects and every option it asks for."""
    verbs = ("partners", "pair", "compare", "fields", "profile", "rising", "top", "pairs")
    options = [replace(query, verb=v) for v in verbs if v != query.verb and takes(v, query.countries)]
    return _choices(options)


def _choices(options: list[Query]) -> tuple[str, ...]:
    found: list[str] = []
    for option in options:
        query, command, _ = _checked(option)
        if query is not None and command not in found:
            found.append(command)
    return tuple(found[:MAX_CHOICES])


def _subject_name(code: str) -> str:
    groups = country_ref.all_groups()
    return groups[code].name if code in groups else country_ref.all_countries()[code].name


def _summary(analysis: Analysis) -> str:
    """What was understood, as a phrase: "Malaysia and China, computer vision, from 2018"."""
    names = [_subject_name(code) for code in analysis.subjects]
    parts = [" and ".join(names)] if names else []
    parts += [f"among {country_ref.all_groups()[g].name}" for g in analysis.among]
    if analysis.field:
        parts.append(field_ref.all_fields()[analysis.field].name.lower())
    s = analysis.slots
    if s.year_from and s.year_to:
        parts.append(str(s.year_from) if s.year_from == s.year_to else f"{s.year_from}–{s.year_to}")
    elif s.year_from:
        parts.append(f"from {s.year_from}")
    elif s.year_to:
        parts.append(f"up to {s.year_to}")
    if analysis.corrected:
        parts.append("reading " + ", ".join(analysis.corrected))
    parts += _remarks(analysis)[len(analysis.corrected) :]
    return ", ".join(parts)


def _remarks(analysis: Analysis) -> list[str]:
    """How the text was read beyond what the command shows: "read 'Malasia' as Malaysia", and a
    country asked to be left out, which no command can do (so it is said, not dropped)."""
    said = []
    for correction in analysis.corrected:
        typed, _, meant = correction.partition(" → ")
        said.append(f"read '{typed}' as {meant}")
    if analysis.excluded:
        left = " and ".join(_subject_name(code) for code in analysis.excluded)
        said.append(f"only partly: answers can't leave a country out, so {left} is still listed where it ranks")
    return said


def _reading(query: Query, analysis: Analysis) -> Reading:
    checked, command, problem = _checked(query)
    if checked is None:
        return Reading(None, "", _other_verbs(query), f"I read `{command}`, but: {problem}", False)
    understood = f"I read this as `{command}`" + (f" ({_summary(analysis)})." if _summary(analysis) else ".")
    return Reading(checked, command, (), understood, False, tuple(_remarks(analysis)))


def _not_understood(analysis: Analysis, options: list[Query], why: str) -> Reading:
    summary = _summary(analysis)
    understood = why + (f" I understood: {summary}." if summary else "")
    if analysis.unknown:
        understood += f" I don't know {', '.join(repr(w) for w in analysis.unknown[:3])}."
    return Reading(None, "", _choices(options), understood, False)


def _fresh(analysis: Analysis, problem: str = "") -> Reading:
    if analysis.ambiguous:
        # "Congo": read the question once for each country it may mean, and offer those readings. Each
        # name's meanings multiply, so only the first few combinations are read (the offer shows three).
        offered: list[str] = []
        meanings = itertools.product(*(codes for _, _, codes in analysis.ambiguous))
        for chosen in itertools.islice(meanings, MAX_AMBIGUOUS_READINGS):
            subjects = list(analysis.subjects)
            for (position, _, _), code in zip(analysis.ambiguous, chosen, strict=True):
                subjects[position] = code
            one = _fresh(replace(analysis, subjects=subjects, ambiguous=[]), problem)
            offered += [c for c in ((one.command,) if one.command else one.choices) if c not in offered]
        _, typed, codes = analysis.ambiguous[0]
        names = " or ".join(country_ref.all_countries()[code].name for code in codes)
        return Reading(None, "", tuple(offered[:MAX_CHOICES]), f"'{typed}' could be {names}: which one?", False)
    countries = analysis.subjects
    n = len(countries)
    ranked = rank_verbs(analysis, countries)
    if not ranked and n == 2 and analysis.strongest.get("partners", 0) >= 2 and "pair" not in analysis.scores:
        # "partners of China and India": both lists, or the two together?
        options = [
            _query("partners", [countries[0]], analysis),
            _query("partners", [countries[1]], analysis),
            _query("compare", countries, analysis),
        ]
        return _not_understood(analysis, options, "Which question did you mean?")
    if (
        n == 3
        and analysis.strongest.get("compare", 0) < 3
        and re.search(r"\bX\b.*\bwith X (and|&|or) (with )?X\b", analysis.skeleton)
    ):
        # "China's collaboration with Singapore and Saudi Arabia", "does Saudi Arabia work more with
        # the US or with China": two pairs (or the first one's partners), not a comparison of three
        first, *others = countries
        options = [_query("pair", [first, other], analysis) for other in others]
        options.append(_query("rising" if "rising" in analysis.scores else "partners", [first], analysis))
        return _not_understood(analysis, options, "Which question did you mean?")
    if (
        n == 1
        and analysis.among
        and re.search(r"\b(rank|ranks|ranked|stand|stands|position|place)\b", analysis.skeleton)
    ):
        # "where does Malaysia rank among ASEAN countries": the group's ranking, Malaysia in it
        return _reading(_query("top", [], analysis), analysis)
    if ranked and len(ranked) > 1 and analysis.strongest[ranked[1]] >= 3 and {ranked[0], ranked[1]} in CONFLICTS:
        options = [_query(v, countries, analysis) for v in ranked[:MAX_CHOICES]]
        return _not_understood(analysis, options, f"Did you mean `{ranked[0]}` or `{ranked[1]}`?")
    needs_more = any(ARITY.get(v, (0, 0))[0] > n and analysis.strongest[v] >= 2 for v in analysis.scores)
    if analysis.unplaced and (not ranked or needs_more):
        # "who works with Atlantis": the country the question is about is the word nobody knows
        why = f"I couldn't read {analysis.unplaced[0]!r} as a country or group."
        return Reading(None, "", (), why + _suggestion(analysis.unplaced[0]), False)
    if not ranked and problem:
        # The text was a command with a mistake ("pair China China"): the parser's reason is the answer.
        return Reading(None, "", (), problem, False)
    if not ranked and n == 1:
        # "Malaysia" alone: its partners, its profile, or what is growing? Ask rather than guess.
        options = [_query(v, countries, analysis) for v in ("partners", "profile", "rising")]
        return _not_understood(analysis, options, f"What would you like to know about {_subject_name(countries[0])}?")
    verb = ranked[0] if ranked else default_verb(countries, analysis.among)
    if verb is None:
        return _unplaceable(analysis)
    if verb == "compare" and len(countries) > 8:
        countries = countries[:8]
    return _reading(_query(verb, countries, analysis), analysis)


def _suggestion(word: str) -> str:
    """The parser's own "did you mean" for a name it doesn't know, as a sentence ("" when none)."""
    try:
        country_ref.resolve_country(word)
    except UserError as error:
        return f" ({error.message})" if "did you mean" in error.message else ""
    return ""


def _unplaceable(analysis: Analysis) -> Reading:
    """Cues for verbs the named countries don't fit, or nothing at all: say so, offer what fits."""
    n = len(analysis.subjects)
    cued = sorted(analysis.scores, key=lambda v: (analysis.strongest[v], analysis.scores[v]), reverse=True)
    options: list[Query] = []
    if n == 0 and analysis.field:
        options = [_query(v, [], analysis) for v in ("top", "rising", "pairs") if available(v)]
    elif n == 1:
        options = [_query(v, analysis.subjects, analysis) for v in ("partners", "rising", "profile")]
    if cued and n == 0 and ARITY.get(cued[0], (0, 0))[0] > 0:
        why = f"`{cued[0]}` needs a country: which one?"
        if analysis.unknown:
            why = f"`{cued[0]}` needs a country, and I couldn't read {analysis.unknown[0]!r} as one."
        return _not_understood(analysis, options, why)
    return _not_understood(analysis, options, _LOST)


# ------------------------------------------------------------------ follow-ups in a thread


def _follow_up(analysis: Analysis, previous: Query) -> Reading:
    text = analysis.text
    new = analysis.subjects
    before = list(previous.countries)
    adds = bool(re.match(r"^(and |also |plus )?(compare|compared|vs\.?|versus|against|add)\b", text))
    joins = bool(re.match(r"^(and |also |but )?with\b", text))
    swaps = bool(re.match(r"^(swap|replace|substitute|change|switch)\b", text)) and len(new) == 2 and new[0] in before
    if swaps:  # "swap Malaysia for Singapore"
        countries = [new[1] if code == new[0] else code for code in before]
    elif not new:
        countries = before
    elif adds:
        countries = before + [c for c in new if c not in before]
    elif joins:
        countries = before[:1] + [c for c in new if c not in before[:1]]
    elif len(new) >= 2 or len(before) <= 1:
        countries = list(new)
    elif previous.verb == "compare":
        countries = before + [c for c in new if c not in before]
    else:
        countries = before[:-1] + [c for c in new if c not in before[:-1]]
    n = len(countries)
    ranked = rank_verbs(analysis, countries)
    if adds:
        verb = "compare"
    elif ranked and analysis.strongest[ranked[0]] >= (3 if ranked[0] == "top" else 2):
        verb = ranked[0]  # ("top 20" in a thread asks for more rows, not for `top`)
    elif takes(previous.verb, countries):
        verb = previous.verb
    elif joins and n == 2:
        verb = "pair"
    elif previous.verb in ("top", "pairs", "about", "help") and n == 1:
        verb = "partners" if previous.verb == "pairs" else "profile"
    elif previous.verb == "partners" and n == 2:
        verb = "pair"
    else:
        verb = default_verb(countries, analysis.among) or previous.verb
    if not takes(verb, countries):
        fits = [v for v in ("partners", "pair", "compare", "fields", "profile", "rising") if takes(v, countries)]
        options = [_query(v, countries, analysis, base=previous) for v in fits]
        return _not_understood(analysis, options, f"`{verb}` doesn't fit {n} countr{'y' if n == 1 else 'ies'}.")
    group_from_text = bool(analysis.among)
    base = (
        previous
        if group_from_text or verb == previous.verb or previous.group is None
        else replace(previous, group=None)
    )
    if verb != previous.verb:
        base = _carried_over(base, verb)
    return _reading(_query(verb, countries, analysis, base=base), analysis)


# The Query attributes behind each option name of question.OPTION_NAMES
_OPTION_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "field": ("field",),
    "years": ("year_from", "year_to"),
    "complete": ("complete_only",),
    "limit": ("limit",),
    "metric": ("metric",),
    "among": ("group",),
    "between": ("between",),
    "count": ("count",),
    "source": ("source",),
}


def _carried_over(previous: Query, verb: str) -> Query:
    """The last question's options that `verb` can take: "compare with India" after `top 20` drops the
    limit it can't use (what this turn says is applied after, so only what the user typed is refused)."""
    defaults = Query(verb=verb)
    accepted = question.VERB_OPTIONS[verb]
    dropped: dict[str, Any] = {
        attribute: getattr(defaults, attribute)
        for option, attributes in _OPTION_ATTRIBUTES.items()
        if option not in accepted
        for attribute in attributes
    }
    if "metric" in accepted and previous.metric not in question.VERB_METRICS.get(verb, ("joint",)):
        dropped["metric"] = defaults.metric  # "compare with India" after `by affinity`
    return replace(previous, **dropped)


def _is_follow_up(analysis: Analysis) -> bool:
    if FOLLOW_UP.match(analysis.text):
        return True
    if not analysis.subjects and not analysis.among:
        return True
    explicit = [v for v in analysis.scores if analysis.strongest[v] >= 2]
    return not explicit


# ------------------------------------------------------------------ the entry point


def _canonical_attempt(text: str) -> tuple[Query | None, str]:
    """The text as a command: (query, "") when it is one, (None, the parser's message) when it tried to be."""
    cleaned = text_tools.clean(text)
    stripped = re.sub(r"^\s*(<@[^>]+>|@\w+|/collab\b)[\s,:]*", "", text or "").strip()
    first = cleaned.split(" ", 1)[0].strip("`/") if cleaned else ""
    if first not in question.VERBS and first not in commands.VERB_ALIASES:
        return None, ""
    if commands.VERB_ALIASES.get(first) == "sql" and first == "with" and not _SQL_WITH.match(stripped):
        return None, ""
    try:
        query = commands.parse(stripped)
    except Refused:
        raise  # a command that can't be answered as typed: the refusal is the answer, not a rereading
    except UnknownField as error:
        if not _may_be_a_name(error):
            raise  # "partners Malaysia in biology": a field no table knows is named, never dropped
        return None, error.message
    except UnknownGroup as error:
        if error.undefined or not _may_be_read(error.typed, after_keyword=error.after_keyword):
            # "pairs among global south", "top among gpai", "top atlantis", "top south asia": a group
            # that can't be used, or a name no table knows, is refused, never dropped or widened
            raise
        return None, error.message
    except UserError as error:
        if query_verb_is_help(cleaned) and len(cleaned.split()) == 2 and not known_word(cleaned.split()[1]):
            # "help nonsense": one word that is no verb
            raise Refused(
                f"no verb '{cleaned.split()[1][:40]}'; verbs are "
                + ", ".join(f"`{verb}`" for verb in question.VERBS)
                + ". `help <verb>` lists the options a verb takes."
            ) from error
        return None, error.message
    words = stripped.lower().split()
    if (
        query.countries
        and query.between is None
        and any(
            word in WORD_CODES and word not in commands.OPTION_KEYWORDS and words[k - 1] not in commands.OPTION_KEYWORDS
            for k, word in enumerate(words[1:], 1)
        )
    ):
        return None, ""  # "compare it with Brazil": the parser took "it" for Italy; read it as English
    return query, ""


def _may_be_a_name(error: UnknownField) -> bool:
    """An unknown field that the interpreter reads as something ("in Afirca", "in the last five
    years") is for it to read; one it finds nothing in ("in biology") is refused as a field."""
    return analyse(f"in {error.typed}").said_anything()


# A compass word before a group's name names a smaller region ("south asia" is not Asia, "the West" is).
_COMPASS = r"\b(?:north|south|east|west|central)(?:ern)?"


def _part_of_a_region(text: str) -> str | None:
    """The first phrase such as "south asia" in `text`, or None: a compass word before a group's name
    that is no name itself (names that hold such words, South Korea, Central America, Middle East and
    North Africa, are taken out of the text first)."""
    rest = country_ref.normalise(text)
    for name in _names_with_compass_words():
        if name in rest:
            rest = re.sub(rf"\b{re.escape(name)}\b", " ", rest)
    for found in re.finditer(_COMPASS + r"\s+([a-z]+)", rest):
        if country_ref.find_group(found.group(1)):
            return found.group(0)
    return None


def _refuse_part_of_a_region(text: str) -> None:
    """Plain English naming part of a region is refused: reading the whole would widen the question."""
    phrase = _part_of_a_region(text)
    if phrase:
        usable = country_ref.usable_group_names()
        raise UnknownGroup(f"no group '{phrase}'. Groups: {', '.join(usable)}.", tuple(usable), typed=phrase)


@functools.cache
def _names_with_compass_words() -> tuple[str, ...]:
    names = [*country_ref.country_name_keys(), *country_ref.group_name_keys()]
    return tuple(sorted({n for n in names if " " in n and re.search(_COMPASS + r"\b", n)}, key=len, reverse=True))


def _may_be_read(typed: str, *, after_keyword: bool) -> bool:
    """Words where a group was expected that the interpreter reads as something ("top countries in
    cv", "top partners of Malaysia"), or that are all ordinary words; not a name-like word nothing
    knows ("top atlantis"), nor a part of a region it would read as the whole ("top south asia").
    After `among` or `between` only a group is meant, unless the words name a country ("among
    partners of India"): "among nordic countries" is refused, never read as no group at all."""
    if _part_of_a_region(typed):
        return False
    analysis = analyse(typed)
    if after_keyword:  # a country named alone there is refused as one ("among malaysia")
        return country_ref.find_country(typed) is None and any(not question.is_group(c) for c in analysis.subjects)
    return analysis.said_anything() or all(known_word(word) for word in text_tools.tokens(typed.lower()))


def query_verb_is_help(cleaned: str) -> bool:
    first = cleaned.split(" ", 1)[0].strip("`/") if cleaned else ""
    return commands.VERB_ALIASES.get(first, first) == "help"


def _changes_previous(query: Query, previous: Query) -> bool:
    """A bare `top 20` or `rank by affinity` in a thread changes the last answer's rows or order."""
    return query.verb == "top" and query.group is None and previous.verb not in ("about", "help", "sql")


def read(text: str, previous: Query | Reading | None = None) -> Reading:
    """Read `text` as a Query; `previous` is the thread's last Query (or the Reading it came from), for
    follow-ups that change one slot."""
    if isinstance(previous, Reading):
        previous = previous.query
    query, problem = _canonical_attempt(text)
    if query is not None and previous is not None and _changes_previous(query, previous):
        query = None  # "top 20" or "rank by affinity" in a thread: change the last question
    if query is not None:
        return Reading(query, canonical(query), (), f"`{canonical(query)}`", True)
    if len(text or "") > commands.MAX_TEXT:
        return Reading(
            None, "", (), f"That is {len(text):,} characters long; keep it under {commands.MAX_TEXT:,}.", False
        )
    words = len(text_tools.tokens(text_tools.clean(text).replace("-", " ")))  # "china-singapore" is two names
    if words > MAX_QUESTION_WORDS:
        # Reading costs a lookup per span of words: a cap on words is what bounds it.
        return Reading(None, "", (), f"That is {words} words long; {_TOO_LONG}", False)
    _refuse_part_of_a_region(text)
    analysis = analyse(text)
    if analysis.undefined:
        # "which global south countries…": a group with no member list is refused, never dropped
        country_ref.resolve_group(analysis.undefined[0])
    if previous is not None and previous.verb not in ("sql", "help") and _is_follow_up(analysis):
        if not analysis.said_anything():
            return Reading(None, "", (), "I didn't find anything to change in the last question.", False)
        reading = _follow_up(analysis, previous)
        if reading.query is not None and replace(reading.query, text="") == replace(previous, text=""):
            # "great, Malaysia is interesting" under `partners Malaysia`: talk, not a new question
            return Reading(None, "", (), "That changes nothing in the last question.", False)
        return reading
    if not analysis.said_anything():
        why = problem or _LOST
        return Reading(None, "", (), why, False)
    return _fresh(analysis, problem)
