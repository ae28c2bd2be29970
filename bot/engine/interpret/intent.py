"""Choosing the verb: the cued verbs that fit what the question is about, the one meant first."""

from __future__ import annotations

from collections.abc import Sequence

from bot.engine import question
from bot.engine.interpret.analysis import Analysis
from bot.reference import countries as country_ref

# Countries each verb takes (fewest, most); a group can stand where `top`, `rising`, `pairs` rank.
ARITY = {
    "partners": (1, 1),
    "pair": (2, 2),
    "compare": (2, 8),
    "fields": (1, 2),
    "rising": (0, 1),
    "profile": (1, 1),
    "top": (0, 0),
    "pairs": (0, 0),
    "about": (0, 0),
    "help": (0, 0),
}
# When two verbs are both cued, the more specific one is meant: "fastest-growing partners" is
# `rising`, "tell me about Malaysia's partners" is `partners`, "China–India over time" is `pair`.
_SPECIFICITY = ("profile", "partners", "top", "pair", "compare", "pairs", "fields", "rising", "about", "help")
# A verb whose answer contains another's: "fastest-growing partners" is `rising`, not `partners`.
_SUBSUMES = {
    "rising": {"partners", "top", "profile"},
    "fields": {"partners", "pair", "profile", "top"},
    "compare": {"pair", "partners", "profile", "top"},
    "pairs": {"top", "pair", "partners"},
    "partners": {"profile", "top"},
    "pair": {"profile", "partners"},
    "top": {"profile"},
    "about": {"profile"},
}
# Pairs of verbs that both answer the question: offer both instead of choosing.
CONFLICTS = ({"fields", "rising"}, {"fields", "compare"}, {"compare", "rising"})


def available(verb: str) -> bool:
    return verb in question.VERBS


def is_group(code: str) -> bool:
    return code in country_ref.all_groups()


def takes(verb: str, subjects: Sequence[str]) -> bool:
    """Whether `verb` takes these subjects: `top` ranks within one group, `pairs` within or between two."""
    if not available(verb):
        return False
    if verb in ("top", "pairs") and subjects and all(is_group(code) for code in subjects):
        return len(subjects) <= (1 if verb == "top" else 2)
    fewest, most = ARITY.get(verb, (0, 0))
    return fewest <= len(subjects) <= most


def default_verb(subjects: Sequence[str], among: Sequence[str]) -> str | None:
    n = len(subjects)
    if n == 1:
        return "profile"
    if n == 2:
        return "pair"
    if n > 2:
        return "compare"
    return "top" if among else None


def rank_verbs(analysis: Analysis, subjects: Sequence[str]) -> list[str]:
    """The cued verbs that fit the subjects, the one meant first."""
    verbs = [v for v in analysis.scores if takes(v, subjects)]
    ranked = sorted(
        verbs,
        key=lambda v: (analysis.strongest[v], analysis.scores[v], _SPECIFICITY.index(v)),
        reverse=True,
    )
    for verb in list(ranked):
        wider = [v for v in ranked if verb in _SUBSUMES.get(v, ()) and analysis.strongest[v] >= 2]
        if wider and ranked.index(wider[0]) > ranked.index(verb):
            ranked.remove(wider[0])
            ranked.insert(ranked.index(verb), wider[0])
    return ranked
