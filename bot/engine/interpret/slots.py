"""Options in sentence form: years, how many rows, ranking metric, complete years, counting, source.

Each finder takes the question (lower case, cleaned), records what it understood and blanks the
words it used, so the name and intent readers never see "2019" or "top 5" again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.engine.interpret.vocabulary import NUMBER_WORDS

_Y = r"((?:19|20)\d\d)"
_NUM = r"(\d{1,5}|" + "|".join(sorted((re.escape(w) for w in NUMBER_WORDS), key=len, reverse=True)) + r")"


@dataclass
class Slots:
    year_from: int | None = None
    year_to: int | None = None
    years_said: bool = False  # any time phrase, even one that sets only one end
    complete_only: bool | None = None  # None: not mentioned; False: "include incomplete years"
    limit: int | None = None
    metric: str | None = None
    size_words: bool = False  # the metric was said as "relative to size", not named
    count: str | None = None
    source: str | None = None
    public: bool = False
    found: list[str] = field(default_factory=list)  # what was understood, for the "understood" line


def _number(text: str) -> int:
    return int(text) if text.isdigit() else NUMBER_WORDS[text]


def _blank(text: str, match: re.Match[str]) -> str:
    return text[: match.start()] + " " * (match.end() - match.start()) + text[match.end() :]


_TO_WORDS = r"(?:-|–|—|to|until|till|through|thru|and|&)"
# (pattern, what it sets) in order: longer phrases first, so "between 2016 and 2020" is never "in 2020".
_YEAR_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), kind)
    for pattern, kind in (
        (rf"\b(?:between|from|in|during|over|for)?\s*(?:the\s+)?(?:years?\s+)?{_Y}\s*{_TO_WORDS}\s*{_Y}\b", "range"),
        (
            rf"\b(?:since|from|after|starting(?: in| from)?|beginning(?: in)?|as of|post)\s+"
            rf"(?:the\s+)?(?:year\s+)?{_Y}\b",
            "from",
        ),
        (rf"\b{_Y}\s*(?:onwards?|and later|and after|or later|and beyond|on|\+|to date|to now)(?=\W|$)", "from0"),
        (
            rf"\b(?:until|till|to|through|thru|up to|up until|before|by|prior to|pre)\s+(?:the\s+)?(?:year\s+)?{_Y}\b",
            "to",
        ),
        (rf"\b{_Y}\s*(?:and earlier|and before|or earlier)\b", "to0"),
        (r"\b(?:in|during|over|for)?\s*the\s+((?:19|20)\d)0s\b", "decade"),
        (rf"\b(?:in|during|for|of)?\s*(?:the\s+)?(?:year\s+)?{_Y}\b(?:\s+only|\s+alone)?", "single"),
    )
)


def find_years(text: str, slots: Slots) -> str:
    for pattern, kind in _YEAR_RULES:
        while (match := pattern.search(text)) is not None:
            whole = match.group(0)
            first = int(match.group(1))
            if kind == "range":
                slots.year_from, slots.year_to = first, int(match.group(2))
            elif kind == "from":
                slots.year_from = first + 1 if re.match(r"\s*(after|post)\b", whole) else first
            elif kind == "from0":
                slots.year_from = first
            elif kind == "to":
                slots.year_to = first - 1 if re.match(r"\s*(before|prior|pre)\b", whole) else first
            elif kind == "to0":
                slots.year_to = first
            elif kind == "decade":  # "the 2010s": group 1 is the decade's first three digits
                slots.year_from, slots.year_to = first * 10, first * 10 + 9
            else:
                slots.year_from = slots.year_to = first
            slots.years_said = True
            text = _blank(text, match)
    any_years = (
        r"\b(all|every|any) years?\b|\bwhole period\b|\ball time\b|\bno year limits?\b"
        r"|\b(drop|remove|clear|no|without|ignore) (the )?(year|years|time|date)s? ?(filter|limit|range|window)?s?\b"
    )
    if re.search(any_years, text):
        slots.years_said = True  # "all years": clears a follow-up's window
    return text


_LIMIT_RULES = tuple(
    re.compile(pattern)
    for pattern in (
        rf"\b(?:top|first|best|limit(?: to)?|leading|biggest|largest|strongest|main|closest|only|just|show(?: me)?|"
        rf"give(?: me)?|list)[\s-]+(?:the\s+)?{_NUM}\b",
        rf"\b(?:the\s+)?{_NUM}\s+(?:most|biggest|largest|top|leading|main|strongest|closest|fastest|best|highest|"
        rf"partners?|countries|collaborators|rows|results|pairs|nations|places|entries)\b",
        rf"\b{_NUM}\s+(?:of\s+)?(?:the\s+)?(?:top|most|leading)\b",
        rf"^\s*(?:only\s+|just\s+)?{_NUM}\s*$",  # a number alone: "give me 50" in a thread
    )
)


def find_limit(text: str, slots: Slots) -> str:
    for pattern in _LIMIT_RULES:
        for match in pattern.finditer(text):
            # numbers inside group names: "five eyes", "group of seven"
            before = text[: match.start(1)]
            if re.match(r"\s*eyes\b", text[match.end(1) :]) or before.endswith(("group of ", "which ", "what ")):
                continue  # "which two countries" asks for pairs, not two rows
            slots.limit = _number(match.group(1))
            # keep the ranking word ("top", "most"): it is also a cue for what is asked
            start, end = match.span(1)
            return text[:start] + " " * (end - start) + text[end:]
    return text


_AFFINITY = (
    r"affinity",
    r"association strength",
    r"relative to (?:their |its |the )?(?:sizes?|volume)",
    r"normali[sz](?:ed|e|ing|ation)",
    r"(?:weighted|scaled|adjusted|corrected|controlled) (?:by|for|to) (?:their |its |the )?(?:sizes?|volume)",
    r"size[- ]adjusted",
    r"controlling for size",
    r"(?:more|less) than expected",
    r"than (?:you'?d |one would )?expect(?:ed)?",
    r"punch(?:es|ing)? above",
    r"disproportionate(?:ly)?",
    r"over-?represented",
    r"(?:given|for) (?:their|its) size",
    r"relative strength",
    r"intensity",
)
_SHARE = (
    r"links per article",
    r"per article",
    r"share",
    r"shares",
    r"percentage",
    r"percent",
    r"per cent",
    r"proportion",
    r"fraction of (?:its|their)",
)
_JOINT = (
    r"joint articles",
    r"joint papers",
    r"joint",
    r"volume",
    r"raw counts?",
    r"counts?",
    r"number of (?:joint )?(?:articles|papers)",
    r"absolute numbers",
    r"articles",
    r"papers",
)
_METRIC_RULES = tuple(
    (re.compile(pattern), metric)
    for pattern, metric in (
        (rf"\b(?:by |using )?(?:{'|'.join(_AFFINITY)})\b", "affinity"),
        (
            r"\b(?:by |as a |as |in )?(?:international share|share of international(?: articles| papers)?)\b",
            "international",
        ),
        # "share it with the channel" is about posting, not the metric
        (rf"\b(?:by |as a |as |in |what )?(?:{'|'.join(_SHARE)})\b(?! (?:it|this|that|with|in|to) )", "share"),
        (rf"\b(?:by|on|using) (?:{'|'.join(_JOINT)})\b", "joint"),
    )
)


def find_metric(text: str, slots: Slots) -> str:
    for pattern, metric in _METRIC_RULES:
        match = pattern.search(text)
        if match is not None:
            slots.metric = metric
            slots.size_words = metric == "affinity" and "affinity" not in match.group(0)
            return _blank(text, match)
    return text


_PARTIAL_YEARS = r"(?:the )?(?:incomplete|partial|unfinished|recent|latest) (?:years?|data)"
_LEAVE_OUT = r"(?:exclude|excluding|without|ignore|ignoring|skip|drop|no|not the|minus)"
# Only explicit asks: "I'll share this with the team" in a thread is talk, not an option.
_PUBLIC = (
    r"make it public",
    r"public(?:ly)?",
    r"post (?:it |this |that )?(?:in|to) (?:the )?channel",
    r"share (?:it |this |that )(?:with|in|to) (?:the )?channel",
)
_OTHER_RULES = tuple(
    (re.compile(pattern), name, value)
    for pattern, name, value in (
        (
            rf"\b(?:include|including|with|keep|show|all) {_PARTIAL_YEARS}\b|\bincomplete years too\b|\ball years\b",
            "complete_only",
            False,
        ),
        (
            rf"\b(?:only |just )?(?:complete|completed|full|finished|final) (?:years?|data)(?: only)?\b"
            rf"|\b{_LEAVE_OUT} {_PARTIAL_YEARS}\b|\bcomplete(?:-only| only)?\b",
            "complete_only",
            True,
        ),
        (
            r"\bfractional(?:ly)?(?: count(?:ing|s)?)?\b|\bfraction(?:al)? counting\b"
            r"|\bcount(?:ed|ing)? fractionally\b",
            "count",
            "fractional",
        ),
        (r"\b(?:full|whole) count(?:ing|s)?\b", "count", "full"),
        (r"\b(?:from |using |in |via )?(?:the )?open ?alex(?: data)?\b|\bsource openalex\b", "source", "openalex"),
        (r"\b(?:from |using |via )?(?:the )?(?:eto|cset)(?:'s)?(?: data)?\b", "source", "eto"),
        (rf"\b(?:{'|'.join(_PUBLIC)})\b", "public", True),
    )
)


_POST_IN_CHANNEL = re.compile(r"\b(?:in|to) (?:the |this )?channel\b")


def find_options(text: str, slots: Slots, *, about_data: bool) -> str:
    if re.search(r"\b(?:post|share)\b", text) and (match := _POST_IN_CHANNEL.search(text)) is not None:
        slots.public = True  # "post Malaysia's partners in the channel"
        text = _blank(text, match)
    for pattern, name, value in _OTHER_RULES:
        if name == "source" and about_data:
            continue  # "where does ETO's data come from" asks about the source, it doesn't pick one
        match = pattern.search(text)
        if match is not None:
            setattr(slots, name, value)
            text = _blank(text, match)
    return text
