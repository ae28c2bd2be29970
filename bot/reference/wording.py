"""How numbers, lists and names read inside a sentence; shared by answers and digests."""

from __future__ import annotations

from typing import Any

from bot.reference.fields import all_fields

_FIELD_WORDS = {"ai": "AI", "llm": "LLM", "nlp": "NLP", "ai_safety": "AI safety"}


def joined(names: list[str], last: str = "and") -> str:
    """ "A", "A and B", "A, B and C"."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" {last} " + names[-1]


def known(value: Any) -> bool:
    """False for None, NaN and pandas' NA (which refuses to be compared)."""
    import pandas as pd

    return value is not None and not bool(pd.isna(value))


def count(value: Any) -> str:
    """12,345, or "n/a" when there is no number."""
    return f"{int(value):,}" if known(value) else "n/a"


def field_words(code: str) -> str:
    """The field as it reads inside a sentence: "AI", "computer vision"."""
    field = all_fields().get(code)
    return _FIELD_WORDS.get(code) or (field.name.lower() if field else code)
