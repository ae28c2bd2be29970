"""Countries, groups and fields inside a sentence: exact names first, typos only for what is left.

Exact matching uses the reference tables (the command parser's own lookups), so every name the
parser accepts is accepted here. Two guards keep a sentence's ordinary words from becoming
countries: two-letter ISO codes count only in capitals, and codes that are words ("in", "to",
"me", "can") only in capitals where a country is expected ("partners of IN"); and fuzzy matching
only looks at words no exact name or known word claimed — which is why "Republic of Korea" (an
exact alias) can never become North Korea and "UK" (an exact alias, and too short to fuzz) never
Ukraine.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from bot.engine.interpret.text import variants
from bot.engine.interpret.vocabulary import DEMONYMS, FIELD_SYNONYMS, GROUP_SYNONYMS, STOPWORDS
from bot.errors import UserError
from bot.reference import countries as country_ref
from bot.reference import fields as field_ref

MAX_WORDS = 9  # "united kingdom of great britain and northern ireland", with a comma to spare
SEPARATORS = frozenset({"(", ")", "–", "—", "/", "&", "+", "-", ","})
# Codes that are everyday words in lower case; in capitals ("IN", "TO") they are still words here.
WORD_CODES = frozenset(
    "ai cv in to by and it me my no is at be do so am as or on id pe ad al can are per arm bra ton gin com mar "
    "fin nor pol som mac ago nam pan lie vat cod ken sen bel dom cub gab hun jam tun mus sur pry".split()
)
_CONNECTORS_FOR_US = frozenset({"the", "and", "vs", "vs.", "versus", "&", "-", "–", "—", "/", "or", "v", "v."})
_EXPECTING_A_COUNTRY = frozenset({"of", "with", "and", "vs", "vs.", "versus", "&", "between", "for"})
_FUZZY_CUTOFF = 80.0
# A question tries dozens of spans; the same few hundred words come back in every question.
normalise = lru_cache(maxsize=8192)(country_ref.normalise)
find_country = lru_cache(maxsize=8192)(country_ref.find_country)


@dataclass(frozen=True)
class Name:
    # "country" | "group" | "field" | "ambiguous" (code: the countries it may mean, "|"-joined) |
    # "undefined" (a group with no member list, refused by the reader)
    kind: str
    code: str
    start: int  # token span
    end: int
    typed: str  # the words as typed
    fuzzy: bool = False


@lru_cache(maxsize=1)
def _country_name_keys() -> dict[str, str]:
    """Normalised names, aliases, ETO spellings and demonyms -> country code (no ISO codes)."""
    keys: dict[str, str] = {}
    for c in country_ref.all_countries().values():
        for key in (c.name, *c.aliases, c.eto_cross_border_name, c.eto_activity_name):
            if key:
                keys.setdefault(normalise(key), c.code)
    for key, code in DEMONYMS.items():
        keys.setdefault(normalise(key), code)
    return keys


@lru_cache(maxsize=1)
def _group_keys() -> dict[str, str]:
    keys: dict[str, str] = {}
    for g in country_ref.all_groups().values():
        for key in (g.code, g.code.replace("_", " "), g.name, *g.aliases, g.eto_activity_name):
            if key and country_ref.find_group(key) is not None:
                keys.setdefault(normalise(key), g.code)
    for key, code in GROUP_SYNONYMS.items():
        keys.setdefault(normalise(key), code)
    return keys


@lru_cache(maxsize=1)
def _undefined_keys() -> dict[str, str]:
    """Names of groups with no agreed member list ("Global South"): read so they can be refused."""
    keys: dict[str, str] = {}
    for g in country_ref.all_groups().values():
        if g.kind == "undefined":
            for key in (g.code, g.code.replace("_", " "), g.name, *g.aliases):
                keys.setdefault(normalise(key), g.code)
    return keys


@lru_cache(maxsize=1)
def _field_keys() -> dict[str, str]:
    keys: dict[str, str] = {}
    for f in field_ref.all_fields().values():
        for key in (f.code, f.code.replace("_", " "), f.name, *f.aliases):
            keys.setdefault(normalise(key), f.code)
    for key, code in FIELD_SYNONYMS.items():
        keys.setdefault(normalise(key), code)
    keys.pop("all", None)  # "all" is an ordinary word in a sentence
    return keys


def known_word(word: str) -> bool:
    """A word that is a name (of anything) or a known ordinary word: never a typo candidate."""
    key = normalise(word)
    return (
        key in STOPWORDS
        or key in _country_name_keys()
        or key in _group_keys()
        or key in _field_keys()
        or find_country(word) is not None
    )


def _country(span: str, typed: str, before: str, after: str) -> str | None:
    key = normalise(span)
    code = _country_name_keys().get(key)
    if code:
        return code
    found = find_country(span)
    if found is None:
        return None
    # Only an ISO code matched: accept it in capitals, as a non-word, or "us" next to another name.
    if key == "us":
        return (
            found.code
            if typed.split()[-1].isupper() or before in _CONNECTORS_FOR_US or after in _CONNECTORS_FOR_US
            else None
        )
    capitals = typed.split()[-1].isupper()
    if key in WORD_CODES:
        # "IN", "TO", "AND" are countries only in capitals where a country is expected ("partners of IN")
        return found.code if capitals and before in _EXPECTING_A_COUNTRY else None
    if len(key) == 2 and not capitals:
        return None
    return found.code


def _lookup(span: str, typed: str, before: str, after: str) -> tuple[str, str] | None:
    for text in variants(span):
        key = normalise(text)
        if key in _field_keys():
            return "field", _field_keys()[key]
        if key in _group_keys():
            return "group", _group_keys()[key]
        if key in _undefined_keys():
            return "undefined", _undefined_keys()[key]
        code = _country(text, typed, before, after)
        if code:
            return "country", code
        if key in _ambiguous_keys():
            return "ambiguous", _ambiguous_keys()[key]
    return None


@lru_cache(maxsize=1)
def _ambiguous_keys() -> dict[str, str]:
    """Names that stand for several countries ("Congo") -> their codes, joined by "|"."""
    keys: dict[str, str] = {}
    for g in country_ref.all_groups().values():
        if g.kind != "ambiguous":
            continue
        try:
            country_ref.resolve_country(g.name)
        except UserError as error:
            codes = [c.code for name in error.suggestions if (c := country_ref.find_country(name)) is not None]
            for key in (g.name, *g.aliases, g.eto_activity_name):
                if key and codes:
                    keys[normalise(key)] = "|".join(codes)
    return keys


def _joined(words: list[str]) -> str:
    """Tokens back into a name: "china ( mainland )" -> "china (mainland)", "korea , republic of" ->
    "korea, republic of", "co - operation" -> "co-operation"."""
    return " ".join(words).replace("( ", "(").replace(" )", ")").replace(" ,", ",").replace(" - ", "-")


def find_names(words: list[str], typed: list[str]) -> tuple[list[Name], list[bool]]:
    """Exact names, longest first at each position; returns them and which tokens they used."""
    used = [False] * len(words)
    names: list[Name] = []
    n = len(words)
    i = 0
    while i < n:
        if words[i] in SEPARATORS:
            i += 1
            continue
        # an ordinary word starts a name only with more words after it: "all works", "the west"
        ordinary = words[i] in STOPWORDS and words[i] not in ("us", "the") and not typed[i].isupper()
        hit = None
        for length in range(min(MAX_WORDS, n - i), 1 if ordinary else 0, -1):
            end = i + length
            if words[end - 1] in SEPARATORS and words[end - 1] != ")":
                continue
            before = words[i - 1] if i else ""
            after = words[end] if end < n else ""
            found = _lookup(_joined(words[i:end]), " ".join(typed[i:end]), before, after)
            if found:
                hit = Name(found[0], found[1], i, end, " ".join(typed[i:end]))
                break
        if hit is None:
            i += 1
            continue
        names.append(hit)
        for k in range(hit.start, hit.end):
            used[k] = True
        i = hit.end
    return names, used


@lru_cache(maxsize=1)
def _fuzzy_choices() -> dict[str, tuple[str, str]]:
    """Typo targets: names of at least five letters (shorter ones are too easy to hit by accident)."""
    choices: dict[str, tuple[str, str]] = {}
    demonyms = {normalise(d) for d in DEMONYMS}  # adjectives sit too close to other words
    for kind, keys in (("country", _country_name_keys()), ("group", _group_keys()), ("field", _field_keys())):
        for key, code in keys.items():
            if len(key) >= 5 and key not in demonyms:
                choices.setdefault(key, (kind, code))
    return choices


@lru_cache(maxsize=1)
def _fuzzy_list() -> list[str]:
    return list(_fuzzy_choices())


def fuzzy_names(
    words: list[str], typed: list[str], used: list[bool], extra: dict[str, str], exact: list[Name]
) -> list[Name]:
    """`exact` plus typos among the words nothing claimed: names, or `extra` words (intent words).

    Two-word names are tried first ("untied states", "saudi arbia" next to the exact "saudi"),
    then single words of at least four letters.
    """
    found: list[Name] = list(exact)
    one_word = {name.start: name for name in exact if name.end == name.start + 1}
    choices = _fuzzy_choices()
    names_only = _fuzzy_list()
    targets = names_only + [word for word in extra if word not in choices]
    n = len(words)

    def free(k: int) -> bool:
        return 0 <= k < n and not used[k] and words[k] not in SEPARATORS and words[k].replace("'", "").isalpha()

    for i in range(n):
        if not free(i) or known_word(words[i]) or len(words[i]) < 4:
            continue
        for start, end in ((i, i + 2), (i - 1, i + 1)):
            neighbour = one_word.get(start if start != i else end - 1)
            if start >= 0 and end <= n and (free(start) and free(end - 1) or neighbour is not None):
                phrase = " ".join(words[start:end])
                best = process.extractOne(phrase, names_only, scorer=fuzz.ratio, score_cutoff=86.0)
                if best and " " in best[0]:
                    kind, code = choices[best[0]]
                    if neighbour is not None:
                        found.remove(neighbour)
                    found.append(Name(kind, code, start, end, " ".join(typed[start:end]), fuzzy=True))
                    for k in range(start, end):
                        used[k] = True
                    break
        if used[i]:
            continue
        word = variants(words[i])[-1]
        best = process.extractOne(word, targets, scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF)
        if best is None:
            continue
        if best[0] in extra and best[0] not in choices:
            found.append(Name("word", extra[best[0]], i, i + 1, typed[i], fuzzy=True))
        else:
            kind, code = choices[best[0]]
            found.append(Name(kind, code, i, i + 1, typed[i], fuzzy=True))
        used[i] = True
    return sorted(found, key=lambda name: name.start)
