"""The digest asks the engine with Query objects, never command text: a watched country whose ISO code
is also one of the grammar's words (Andorra's AND, India's IN, Tonga's TO, Belarus's BY, Austria's AT)
gets its figures, not "`partners` needs 1 country".
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.digest import build_digest, grammar, parse_subscribe
from bot.engine import commands, question
from bot.engine.answer import run
from bot.engine.question import Query
from bot.state.store import Subscription

ROOT = Path(__file__).resolve().parents[1]
DUE = datetime(2026, 11, 30, 9, tzinfo=UTC)

# Every word either grammar gives a meaning of its own: options, connectors, verbs and their values.
OPTION_WORDS = (
    commands._KEYWORDS
    | commands._CONNECTORS
    | set(question.VERBS)
    | set(commands.VERB_ALIASES)
    | set(question.METRICS)
    | set(question.COUNTS)
    | set(question.SOURCES)
    | grammar._KEYWORDS
    | grammar._CONNECTORS
)


def _countries_named_by_an_option_word() -> dict[str, str]:
    """ISO alpha-3 code -> name, for each country one of whose codes (alpha-3 or alpha-2) is an option word."""
    with open(ROOT / "data" / "countries.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return {
        row["code"]: row["name"]
        for row in rows
        if row["code"].lower() in OPTION_WORDS or row["iso2"].lower() in OPTION_WORDS
    }


CLASHING = _countries_named_by_an_option_word()


def test_the_clashing_countries_include_the_known_ones() -> None:
    assert {"AND", "IND", "TON", "BLR", "AUT"} <= set(CLASHING)


def _watching(*codes: str) -> Subscription:
    return Subscription(
        id=7,
        team_id="T0",
        channel_id="C0DIGEST",
        created_by="U0OWNER",
        weekday=0,
        time="09:00",
        tz="UTC",
        countries=codes,
        field="ai",
        quiet=False,
        created_at=datetime(2026, 11, 1, tzinfo=UTC),
    )


@pytest.mark.parametrize("code", sorted(CLASHING))
def test_a_digest_for_a_country_whose_code_is_an_option_word_shows_its_figures(code: str, db) -> None:
    digest = build_digest(_watching(code), previous=None, due=DUE, now=DUE, db=db)
    text = json.dumps(digest.blocks, ensure_ascii=False)
    name = CLASHING[code]
    assert f"*{name}*" in text
    assert "needs" not in text and "couldn't" not in text, text
    assert code in digest.snapshot["partners"]  # the spotlight was answered, not replaced by an error line
    partners = run(Query(verb="partners", countries=(code,), field="ai", limit=5), db)
    if partners.frame.empty:
        assert "No published" in text
    else:  # the same figures the engine gives for that country
        top = partners.frame.iloc[0]
        assert "Top partners" in text and f"{top['partner']} {int(top['joint_articles']):,}" in text


def test_andorra_and_other_clashing_countries_together(db) -> None:
    codes = ("AND", "IND", "AUT")
    digest = build_digest(_watching(*codes), previous=None, due=DUE, now=DUE, db=db)
    assert set(digest.snapshot["partners"]) == set(codes)
    assert digest.chart is not None and digest.chart.command == "compare"  # two or more watched: compared
    # Andorra's pairs are all under the publication floor, so only India and Austria have lines.
    assert set(digest.chart.frame["country_code"]) == {"IND", "AUT"}


def test_subscribe_reads_capitalised_codes_after_for_as_countries() -> None:
    request = parse_subscribe("for AND IN TO BY AT".split(), [])
    assert request.countries == ["AND", "IND", "TON", "BLR", "AUT"]
    request = parse_subscribe("for Andorra and Malaysia in cv at 10:00".split(), [])
    assert (request.countries, request.field, request.time) == (["AND", "MYS"], "cv", "10:00")
