"""Everything a question says, before a verb is chosen: its options, names, and intent cues.

Four passes: clean the text (Slack markup, greetings, politeness), take out the options said in
words (years, how many, ranking, complete years), find the names (countries, groups, fields; typos
only for words nothing else claimed), and score the intent cues on the question's skeleton.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.engine.interpret import slots as slot_finders
from bot.engine.interpret import text as text_tools
from bot.engine.interpret.names import Name, find_names, fuzzy_names, known_word
from bot.engine.interpret.vocabulary import ADJECTIVE_GROUPS, COMPILED_CUES
from bot.reference import countries as country_ref
from bot.reference import fields as field_ref

# Every verb and cue word, as typo targets ("partnrs", "comapre"): typo -> the word itself.
_INTENT_WORDS = {
    word: word
    for word in (
        "partners collaborators collaborate collaborates collaboration collaborating coauthors compare "
        "comparison versus rising growing growth fastest increasing profile overview summary fields "
        "topics areas leading ranking countries between together relationship statistics about sources "
        "affinity normalised complete incomplete articles papers research publications strongest "
        "biggest largest partnership partnerships emerging trending accelerating cooperation cooperate"
    ).split()
}


@dataclass
class Analysis:
    """Everything found in a question, before the verb is chosen."""

    text: str  # cleaned, lower case, politeness removed
    slots: slot_finders.Slots
    # What the question is about, in the order named: country codes, or group codes where a group
    # is the subject ("who does ASEAN work with"); `among` holds groups that narrow ("in ASEAN").
    subjects: list[str] = field(default_factory=list)
    among: list[str] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)  # countries named to leave out ("besides China")
    # names of several countries ("Congo"): (position in subjects, as typed, the codes it may mean)
    ambiguous: list[tuple[int, str, tuple[str, ...]]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)  # words that look like names but are none
    unplaced: list[str] = field(default_factory=list)  # of those, the ones where a name was expected
    corrected: list[str] = field(default_factory=list)  # typos read as names: "Malasia -> Malaysia"
    undefined: list[str] = field(default_factory=list)  # groups with no member list, as typed ("Global South")
    skeleton: str = ""
    scores: dict[str, int] = field(default_factory=dict)  # verb -> sum of cue weights
    strongest: dict[str, int] = field(default_factory=dict)  # verb -> its strongest cue's weight

    @property
    def field(self) -> str | None:
        specific = [f for f in self.fields if f != field_ref.DEFAULT_FIELD]
        return specific[0] if specific else (self.fields[0] if self.fields else None)

    def said_anything(self) -> bool:
        s = self.slots
        return bool(
            self.subjects
            or self.among
            or self.fields
            or self.scores
            or s.years_said
            or s.limit
            or s.metric
            or s.count
            or s.source
            or s.public
            or s.complete_only is not None
        )


def analyse(raw: str) -> Analysis:
    text = text_tools.strip_politeness(text_tools.clean(raw))
    slots = slot_finders.Slots()
    about_data = bool(
        re.search(
            r"\b(data|numbers|figures)\b.*\b(come|comes) from\b|\bsources?\b|\blicen[cs]e"
            r"|\b(what|who)('s| is| are) (the )?(eto|cset|openalex)\b",
            text,
        )
    )
    rest = slot_finders.find_years(text, slots)
    rest = slot_finders.find_limit(rest, slots)
    rest = slot_finders.find_metric(rest, slots)
    rest = slot_finders.find_options(rest, slots, about_data=about_data)
    words = _split_hyphens(text_tools.tokens(rest))
    # The typed case of each word decides whether "US" or "IN" is a code; find it in the raw text.
    typed = _typed_case(raw, words)
    names, used = find_names(words, typed)
    names = fuzzy_names(words, typed, used, _INTENT_WORDS, names)
    analysis = Analysis(text=text, slots=slots)
    by_start: dict[int, Name] = {}
    for name in names:
        by_start[name.start] = name
        if name.kind == "word":
            continue
        if name.kind == "undefined":
            analysis.undefined.append(name.typed)
            continue
        if name.kind in ("country", "group") and _excluded(words, name.start):
            analysis.excluded.append(name.code)
            continue
        if name.kind == "ambiguous":
            codes = tuple(name.code.split("|"))
            if any(said == codes for _, _, said in analysis.ambiguous):
                continue  # "Congo … Congo": one name said twice is one subject, as for any other name
            analysis.ambiguous.append((len(analysis.subjects), name.typed, codes))
            analysis.subjects.append(name.code.split("|")[0])
            continue
        if name.kind == "group":
            target = analysis.among if _narrows(words, name, names) else analysis.subjects
        else:
            target = analysis.subjects if name.kind == "country" else analysis.fields
        if name.code not in target:
            target.append(name.code)
        if name.fuzzy and f"{name.typed} → {_display(name)}" not in analysis.corrected:
            analysis.corrected.append(f"{name.typed} → {_display(name)}")
    skeleton: list[str] = []
    i = 0
    while i < len(words):
        here = by_start.get(i)
        if here is not None:
            skeleton.append({"country": "X", "group": "G", "field": "F"}.get(here.kind, here.code))
            i = here.end
            continue
        word = words[i]
        if word in ("–", "—", "/"):
            word = "-"
        if word not in ("(", ")", ","):
            skeleton.append(re.sub(r"'s$", "", word))
            # a name-like word no table knows: capitalised, or where a country is expected
            expected_here = i > 0 and words[i - 1] in ("of", "with", "for", "about", "and", "vs", "between")
            if not used[i] and word[:1].isalpha() and len(word) >= 4 and not known_word(word):
                if expected_here:
                    analysis.unplaced.append(typed[i])
                if expected_here or typed[i][:1].isupper():
                    analysis.unknown.append(typed[i])
        i += 1
    analysis.skeleton = " ".join(skeleton).replace(" - ", "-")
    for verb, weight, pattern in COMPILED_CUES:
        if pattern.search(analysis.skeleton):
            analysis.scores[verb] = analysis.scores.get(verb, 0) + weight
            analysis.strongest[verb] = max(analysis.strongest.get(verb, 0), weight)
    return analysis


_EXCLUDING = (
    "besides",
    "except",
    "excluding",
    "other than",
    "apart from",
    "aside from",
    "not counting",
    "but not",
    "outside",
    "outside of",
    "exclude",
    "without",
    "not including",
    "leave out",
    "leaving out",
    "minus",
)


def _excluded(words: list[str], start: int) -> bool:
    """ "partners of Malaysia other than China": China is not a subject of the question."""
    if start and words[start - 1] == "the":
        start -= 1
    before = " ".join(words[max(0, start - 2) : start])
    return any(before == phrase or before.endswith(" " + phrase) for phrase in _EXCLUDING)


_NARROWING = frozenset({"among", "amongst", "within", "inside", "in", "across", "from"})
_MEMBERS = frozenset({"countries", "members", "member", "nations", "states", "partners", "collaborators", "neighbours"})


def _narrows(words: list[str], group: Name, names: list[Name]) -> bool:
    """ "in ASEAN", "among EU members", "Malaysia's ASEAN partners": the group narrows, it isn't the subject."""
    k = group.start - 1
    while k >= 0 and words[k] in ("the", "its", "their", "his", "her", "our"):
        k -= 1
    if k >= 0 and words[k] in _NARROWING:
        return True
    following = words[group.end] if group.end < len(words) else ""
    if group.typed.lower() in ADJECTIVE_GROUPS and following in _MEMBERS | {"ones", "researchers", "scientists"}:
        return True
    return following in _MEMBERS and any(n.kind == "country" for n in names)


def _split_hyphens(words: list[str]) -> list[str]:
    """ "china-singapore" is two names; "co-authors", "non-western" and "timor-leste" stay whole."""
    from bot.engine.interpret.names import known_word

    out: list[str] = []
    for word in words:
        if "-" in word.strip("-") and not known_word(word) and not known_word(word.removesuffix("'s")):
            for k, part in enumerate(word.split("-")):
                out.extend((["-"] if k else []) + ([part] if part else []))
        else:
            out.append(word)
    return out


def _typed_case(raw: str, words: list[str]) -> list[str]:
    """Each lower-cased word as it was typed (case only matters for codes: "US", "IN").

    Text all in capitals carries no such signal, so it is read as if typed in lower case."""
    if raw.isupper():
        return list(words)
    typed: list[str] = []
    position = 0
    source = raw.translate(str.maketrans("’‘", "''"))
    lowered = source.lower()
    for word in words:
        found = lowered.find(word, position)
        if found < 0:
            typed.append(word)
            continue
        typed.append(source[found : found + len(word)])
        position = found + len(word)
    return typed


def _display(name: Name) -> str:
    if name.kind == "country":
        return country_ref.all_countries()[name.code].name
    if name.kind == "group":
        return country_ref.all_groups()[name.code].name
    return field_ref.all_fields()[name.code].name
