"""The public phrasing set: every plain-English question gives the same rows as its canonical command.

tests/phrasings.tsv lists the questions; this runs each through the interpreter and the real
engine, prints the accuracy, and fails on any question that reads differently.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from bot.engine.answer import run
from bot.engine.commands import parse
from bot.engine.interpret import canonical, read
from bot.engine.question import Query
from bot.errors import UserError

PHRASINGS = Path(__file__).parent / "phrasings.tsv"


@dataclass(frozen=True)
class Phrasing:
    line: int
    text: str
    expected: str  # a canonical command, or "choices: a | b"
    previous: str = ""


def load() -> list[Phrasing]:
    rows = []
    for number, line in enumerate(PHRASINGS.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        assert len(cells) in (2, 3), f"phrasings.tsv:{number}: expected 2 or 3 tab-separated cells"
        rows.append(Phrasing(number, *cells))
    return rows


def _plain(query: Query) -> Query:
    return replace(query, text="")


def check(phrasing: Phrasing, db) -> str:
    """'' when the phrasing reads right, else what went wrong."""
    previous = parse(phrasing.previous) if phrasing.previous else None
    reading = read(phrasing.text, previous)
    if phrasing.expected.startswith("choices:"):
        wanted = tuple(c.strip() for c in phrasing.expected.removeprefix("choices:").split("|") if c.strip())
        if reading.query is not None or set(reading.choices) != set(wanted):
            return f"wanted choices {wanted}, got `{reading.command}` {reading.choices} ({reading.understood})"
        return ""
    if reading.query is None:
        return f"not understood: {reading.understood} {reading.choices}"
    expected = parse(phrasing.expected)
    if _plain(reading.query) != _plain(expected):
        return f"read as `{reading.command}`"
    if _plain(parse(reading.command)) != _plain(reading.query):
        return f"`{reading.command}` does not parse back to the reading"
    if _plain(parse(canonical(expected))) != _plain(expected):
        return f"canonical(`{phrasing.expected}`) does not parse back"
    got, want = _outcome(reading.query, db), _outcome(expected, db)
    if got != want:
        return f"different answers: {str(got)[:80]} / {str(want)[:80]}"
    return ""


_outcomes: dict[str, tuple] = {}


def _outcome(query: Query, db) -> tuple:
    """The columns and rows of the answer, or the message of the error it raises (no data, say).

    Answers are kept by canonical command: many phrasings share one, and it fixes the Query."""
    key = canonical(query)
    if key not in _outcomes:
        _outcomes[key] = _answer(query, db)
    return _outcomes[key]


def _answer(query: Query, db) -> tuple:
    try:
        result = run(query, db)
    except UserError as error:
        return ("error", error.message)
    return (result.columns, result.rows())


@pytest.mark.slow
def test_public_phrasings_read_as_their_canonical_commands(db):
    phrasings = load()
    assert len(phrasings) >= 30
    failures = [(p, problem) for p in phrasings if (problem := check(p, db))]
    right = len(phrasings) - len(failures)
    print(f"\nphrasing accuracy: {right}/{len(phrasings)} ({right / len(phrasings):.1%})")
    for phrasing, problem in failures:
        print(f"  phrasings.tsv:{phrasing.line}: {phrasing.text!r}: {problem}")
    assert not failures, f"{len(failures)} phrasings read wrongly (listed above)"


@pytest.mark.parametrize("command", ["partners Malaysia in cv since 2018 top 5", "top 5 ASEAN 2016-2020 complete"])
def test_canonical_commands_are_read_as_themselves(command):
    reading = read(command)
    assert reading.canonical_input and reading.command == command and reading.choices == ()
