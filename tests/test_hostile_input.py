"""Hostile and odd input: every command text gets a friendly reply, never a traceback or an internal error.

Two layers, both property-based (hypothesis) over command text and Slack's markup:
  (a) in process: unescape_command -> parse -> answer -> Block Kit raise nothing but UserError, whose
      message names no file, no exception class and carries no traceback;
  (b) over HTTP: a bounded sample of signed slash commands against the real server, each acked
      within 3 s and then answered, or refused with a friendly message, via the response_url.
And the SQL guard's corpus (hostile_sql.txt, refused by the validator in test_validate.py) sent
through Slack as `/collab sql …`: a friendly refusal every time, nothing posted.

COLLAB_HYPOTHESIS_EXAMPLES sets the in-process examples (default 500), COLLAB_HTTP_EXAMPLES the
HTTP ones (default 60).
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest
from conftest_slack import SlackServer, is_answer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_standin import Call, SlackStandIn, unescaped_markup

from bot.engine.commands import VERB_ALIASES
from bot.engine.question import VERBS

IN_PROCESS_EXAMPLES = int(os.environ.get("COLLAB_HYPOTHESIS_EXAMPLES", "500"))
HTTP_EXAMPLES = int(os.environ.get("COLLAB_HTTP_EXAMPLES", "60"))

# What must never reach a person: tracebacks, source paths, Python's exception class names, our
# own "something went wrong" (the sign of an unexpected exception).
INTERNALS = re.compile(
    r"Traceback|File \"|\.py\b|line \d+, in |site-packages|/usr/lib|"
    + re.escape(str(Path(__file__).resolve().parents[1]))
    + "|"
    r"\b(?:[A-Z][A-Za-z]*(?:Error|Exception)|KeyError|Warning)\b|Something went wrong on my side"
)

# ---------------------------------------------------------------- the text strategy

WORDS = [
    *VERBS,
    *VERB_ALIASES,
    "digest",
    "digest subscribe",
    "public",
    "complete",
    "in",
    "from",
    "to",
    "since",
    "top",
    "limit",
    "by",
    "among",
    "count",
    "source",
    "share",
    "affinity",
    "fractional",
    "openalex",
    "eto",
    "Malaysia",
    "China",
    "USA",
    "U.S.",
    "UK",
    "Ukraine",
    "Saudi Arabia",
    "Republic of Korea",
    "Kosovo",
    "Georgia",
    "Türkiye",
    "Holland",
    "Brunei Darussalam",
    "EU",
    "ASEAN",
    "non-western",
    "G7",
    "BRICS",
    "computer vision",
    "nlp",
    "robotics",
    "llm",
    "ai safety",
    "chips",
    "cyber",
    "Atlantis",
    "Malasia",
]
ODD = [
    "'; DROP TABLE pairs; --",
    "Malaysia' OR '1'='1",
    'Robert"); DELETE FROM countries;--',
    "1; ATTACH 'x'",
    "SELECT * FROM read_csv('/etc/passwd')",
    "UNION SELECT getenv('HOME')",
    "%s",
    "{0}",
    "${HOME}",
    "$(id)",
    "-1",
    "0",
    "1e309",
    "NaN",
    "99999999999999999999",
    "2099",
    "1900",
    "0000",
    "2024-2015",
    "2015-2024",
    "from 2025 to 2015",
    "top 0",
    "top -5",
    "top 101",
    "limit 1000000",
    "since 3000",
    "--",
    "/*",
    "*/",
    ";",
    "\\",
    "\\n",
    "NULL",
    "None",
    "true",
    "[]",
    "{}",
    "<script>alert(1)</script>",
    "&",
    "&&",
    "|",
    "||",
]
MARKUP = [
    "<#C0123ABCD|general>",
    "<#C0123ABCD>",
    "<@U0123ABCD>",
    "<@U0123ABCD|bob>",
    "<mailto:a@b.co|a@b.co>",
    "<https://example.com/x?a=1&amp;b=2|a link>",
    "<https://example.com>",
    "&amp;",
    "&lt;",
    "&gt;",
    "&amp;lt;",
    "<!here>",
    "<!channel>",
    "<!subteam^S0123|@team>",
    "<!date^1392734382^{date}|Feb 18>",
    "<#C0123ABCD|",
    "<@",
    ">",
    "<",
    "<|>",
    "<<>>",
]
QUOTES = list("\"'`´“”‘’„‚«»‹›「」『』") + ["''", '""', "“Malaysia”", "‘China’", "«Brazil»", "'South Africa'"]
RTL = ["ماليزيا", "الصين", "المملكة العربية السعودية", "ישראל", "\u202eaisyalaM\u202c", "\u200fMalaysia\u200e"]
EMOJI = ["🇲🇾", "🇨🇳", "🇺🇸", "🤖", "📈", "👩🏽‍🔬", "❤️", "\u200d", "\ufe0f"]
CONTROL = [
    "\x00",
    "\x01",
    "\x07",
    "\x08",
    "\t",
    "\n",
    "\r",
    "\x0b",
    "\x0c",
    "\x1b[31m",
    "\x7f",
    "\u0085",
    "\u2028",
    "\u00a0",
    "\u200b",
    "\ufeff",
]

token = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(ODD),
    st.sampled_from(MARKUP),
    st.sampled_from(QUOTES),
    st.sampled_from(RTL),
    st.sampled_from(EMOJI),
    st.sampled_from(CONTROL),
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=12),
)
# Mostly well-formed commands with odd parts, so many get past the parser and reach the database.
PLACES = [
    "Malaysia",
    "China",
    "USA",
    "U.S.",
    "Saudi Arabia",
    "India",
    "Japan",
    "Brazil",
    "“Malaysia”",
    "'Saudi Arabia'",
    "«China»",
    "<#C0123ABCD|malaysia>",
    "Republic of Korea",
    "Georgia",
    "Türkiye",
    "UK",
    "Brunei",
    "Kosovo",
    "Holland",
    "America",
]
ODD_PLACES = [
    "ماليزيا",
    "🇲🇾",
    "Malaysia'; DROP TABLE pairs;--",
    "Atlantis",
    "non-western",
    "asean",
    "EU",
    "Malaysia &amp; China",
    "China\x00",
]
OPTIONS = [
    "from 2015",
    "to 2020",
    "since 2018",
    "2016-2020",
    "2024-2015",
    "from 2025 to 2015",
    "from 1800",
    "to 2999",
    "top 5",
    "top 0",
    "top 101",
    "top 99999999999999999999",
    "limit 100",
    "complete",
    "by share",
    "by affinity",
    "by international",
    "in computer vision",
    "in robotics",
    "in llm",
    "in 🤖",
    "count fractional",
    "source openalex",
    "source eto",
    "among asean",
    "among G7",
    "public",
]
ARITY = {
    "partners": (1, 1),
    "pair": (2, 2),
    "compare": (2, 4),
    "fields": (1, 2),
    "rising": (0, 1),
    "profile": (1, 1),
    "top": (0, 0),
    "vs": (2, 3),
    "trend": (2, 2),
}
place = st.one_of(
    st.sampled_from(PLACES), st.sampled_from(PLACES), st.sampled_from(PLACES), st.sampled_from(ODD_PLACES)
)
plausible = (
    st.sampled_from(sorted(ARITY))
    .flatmap(
        lambda verb: st.tuples(
            st.just(verb),
            st.lists(place, min_size=ARITY[verb][0], max_size=ARITY[verb][1]),
            st.lists(
                st.one_of(
                    st.sampled_from(OPTIONS),
                    st.sampled_from(OPTIONS),
                    st.sampled_from(MARKUP + QUOTES + EMOJI + CONTROL),
                ),
                max_size=3,
            ),
        )
    )
    .map(lambda t: " ".join([t[0], *t[1], *t[2]]))
)

command_text = st.one_of(
    plausible,
    plausible,
    plausible,
    st.just(""),
    st.just(" \t\n "),
    st.lists(token, max_size=10).map(" ".join),
    st.lists(token, max_size=10).map("".join),
    st.tuples(st.sampled_from(list(VERBS)), st.lists(token, min_size=1, max_size=6)).map(
        lambda t: " ".join([t[0], *t[1]])
    ),
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=60).map(  # 10,000 characters
        lambda t: (t * (10_000 // len(t) + 1))[:10_000]
    ),
    st.sampled_from(WORDS + ODD).map(lambda w: (w + " ") * (10_000 // (len(w) + 1))),
)


any_text = st.one_of(plausible, command_text)  # half well-formed with odd parts, half anything


def internals_in(text: str) -> list[str]:
    return [m.group(0) for m in INTERNALS.finditer(text)]


# ---------------------------------------------------------------- (a) in process


@pytest.mark.slow
@settings(
    max_examples=IN_PROCESS_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
@given(text=any_text)
def test_any_command_text_is_answered_or_refused_in_plain_words(db, text: str) -> None:
    from bot.engine.answer import answer
    from bot.engine.commands import parse
    from bot.errors import UserError
    from bot.render import blocks
    from bot.render.mrkdwn import unescape_command

    plain = unescape_command(text)
    try:
        parse(plain)
        result = answer(plain, db)
    except UserError as error:
        assert error.message.strip(), repr(text)
        assert not internals_in(error.message), (text[:200], error.message)
        message = blocks.error_message(error)
    else:
        message = blocks.answer_message(result, plain)
    assert message["text"] and len(message.get("blocks") or []) <= 50
    assert blocks.text_length(message.get("blocks") or []) <= blocks.MAX_MESSAGE_TEXT
    assert not unescaped_markup(message), (text[:200], unescaped_markup(message)[:1])


# ---------------------------------------------------------------- (b) over HTTP


def reply_text(call: Call) -> str:
    return json.dumps(call.body, ensure_ascii=False)


def test_any_command_text_over_http_gets_a_friendly_reply_within_3s(server: SlackServer, standin: SlackStandIn) -> None:
    pending: list[tuple[str, str]] = []  # (text, response key) of commands acked empty (answered later)
    tried: list[str] = []

    @settings(
        max_examples=HTTP_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(text=any_text)
    def send(text: str) -> None:
        tried.append(text)
        ack, sent = server.slash_command(text)
        assert ack.status == 200 and ack.seconds < 3, (text[:200], ack.status, ack.seconds)
        if not ack.body:  # a slow answer or a digest command: it follows at the response_url
            pending.append((text, sent["key"]))
            return
        body = ack.json()
        assert body["response_type"] in ("ephemeral", "in_channel") and body["text"].strip(), text[:200]
        assert not internals_in(json.dumps(body, ensure_ascii=False)), (text[:200], body)
        assert is_answer(body) or ":thinking_face:" in body["text"], (text[:200], body)

    started = time.monotonic()
    send()
    for text, key in pending:
        reply = standin.wait_for("response", where={"key": key}, timeout=30)[0]
        shown = reply_text(reply)
        assert reply.status == 200 and not internals_in(shown), (text[:200], shown[:500])
        assert reply.body.get("blocks") or reply.body.get("delete_original"), (text[:200], shown[:500])
    print(
        f"\n{len(tried)} command texts over HTTP ({len(pending)} answered after an empty ack), "
        f"{time.monotonic() - started:.1f} s"
    )


# ---------------------------------------------------------------- the SQL corpus, through Slack


def hostile_sample(every: int = 8) -> list[str]:
    from test_validate import HOSTILE

    return HOSTILE[::every]


def slack_escaped(text: str) -> str:
    """What Slack sends for typed text: &, < and > as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def test_hostile_sql_through_slack_is_refused_in_plain_words(server: SlackServer, standin: SlackStandIn) -> None:
    statements = hostile_sample()
    assert len(statements) >= 30
    refusals = []
    for sql in statements:
        ack, sent = server.slash_command(slack_escaped(f"sql {sql}"))
        assert ack.status == 200 and ack.seconds < 3
        reply_body = ack.json() if ack.body else standin.wait_for("response", where={"key": sent["key"]})[0].body
        text = json.dumps(reply_body, ensure_ascii=False)
        assert ":thinking_face:" in text and "SQL" in text, (sql, text[:400])
        assert not internals_in(text), (sql, text[:400])
        assert not standin.history.get(sent["channel"]), sql  # nothing reached the channel
        refusals.append(reply_body["text"])
    assert all("can't run here" in r or "doesn't parse" in r or "SQL" in r for r in refusals)
