"""Query -> Result: runs the reviewed SQL for a command and words the answer honestly.

The one place where the data's caveats are attached to every answer: the source and release, the
years used, which of them are incomplete, ETO's floor of 25 joint articles per pair-year, and which
countries a dataset does not list at all (absent is not the same as under the floor).
"""

from __future__ import annotations

from collections.abc import Callable

from bot.engine.db import Database
from bot.engine.interpret import Reading, read, read_as_line
from bot.engine.question import Query, check
from bot.engine.result import Result
from bot.engine.verbs import rankings, reference, trends
from bot.engine.verbs.common import MIN_ARTICLES_FOR_RATIO, MIN_JOINT_FOR_AFFINITY
from bot.engine.verbs.reference import options_text
from bot.errors import ParseError

__all__ = [
    "MIN_ARTICLES_FOR_RATIO",
    "MIN_JOINT_FOR_AFFINITY",
    "NotUnderstood",
    "answer",
    "default_database",
    "options_text",
    "run",
]

_default_db: Database | None = None


def default_database() -> Database:
    """The database for callers that pass none (a notebook, a script): settings read on first use."""
    global _default_db
    if _default_db is None:
        from bot.config import Settings

        _default_db = Database.from_settings(Settings.from_env())
    return _default_db


def answer(text: str, db: Database | None = None, previous: Query | None = None) -> Result:
    """Answer a command or a plain-English question (read against `previous`, a thread's last Query).

    Raises a UserError with a friendly message, and the canonical commands to offer, when the text
    can't be read or answered. `result.read_as` says how plain English was read.
    """
    reading = read(text, previous)
    if reading.query is None:
        raise NotUnderstood(reading)
    result = run(reading.query, db)
    result.read_as = read_as_line(reading)
    return result


class NotUnderstood(ParseError):
    """Text the interpreter could not turn into one Query; `suggestions` are canonical commands to offer."""

    def __init__(self, reading: Reading):
        tries = " · ".join(f"`{choice}`" for choice in reading.choices)
        super().__init__(reading.understood + (f" Try: {tries}" if tries else ""), reading.choices)
        self.reading = reading


def run(query: Query, db: Database | None = None) -> Result:
    """Answer a Query, parsed or built by hand; options its verb can't honour are refused first."""
    check(query)
    if query.verb == "help":
        return reference.show_help(query)
    db = db or default_database()
    return _HANDLERS[query.verb](query, db)


_HANDLERS: dict[str, Callable[[Query, Database], Result]] = {
    "partners": rankings.partners,
    "top": rankings.top,
    "pairs": rankings.pairs,
    "pair": trends.pair,
    "compare": trends.compare,
    "fields": trends.fields,
    "rising": trends.rising,
    "profile": reference.profile,
    "sql": reference.sql,
    "about": reference.about,
}
