"""Slack's mrkdwn both ways. Pure: no Slack imports.

Out: `escape` is the one function that makes text safe inside mrkdwn. Slack reads `<…>` as a link,
mention or command and `&…;` as an entity, so `/collab <command>` would lose its placeholder.
Every mrkdwn string the bot builds from text (answers, help, App Home, digests, errors, SQL) and
every message's fallback `text` goes through it; plain_text fields (headers, buttons, table cells)
are shown as written and must not be escaped.

In: Slack sends `/collab partners <#C123|malaysia-research>` with channels, people and links
wrapped in angle brackets and `&`, `<`, `>` escaped; phones and Macs add smart quotes and
non-breaking spaces. `unescape_command` gives the parser plain text.
"""

from __future__ import annotations

import re

# <#C123|general>, <@U123|bob>, <!subteam^S1|@team>, <mailto:a@b.c|a@b.c>, <https://x|label>, <https://x>
_MARKUP = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")
_SPACES = dict.fromkeys(map(ord, "\u00a0\u2007\u202f\u2009\u200a\u3000"), " ")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)
_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
    }
)


def escape(text: object) -> str:
    """Text safe inside mrkdwn: `&`, `<` and `>` as the entities Slack expects."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape_command(text: str | None) -> str:
    """Plain text from a slash command's `text`: markup resolved, entities decoded, quotes and spaces plain."""
    text = _MARKUP.sub(_plain_markup, text or "")
    # `&amp;` last, so a typed "&amp;lt;" stays "&lt;" instead of becoming "<".
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return text.translate(_SPACES).translate(_INVISIBLE).translate(_QUOTES)


def _plain_markup(match: re.Match[str]) -> str:
    target, label = match.group(1), match.group(2)
    if target.startswith("#"):  # channel
        return "#" + (label or target[1:])
    if target.startswith("@"):  # person
        return "@" + (label or target[1:])
    if target.startswith("!"):  # <!here>, <!subteam^S1|@team>, <!date^…|fallback>
        if label:
            return label
        return "@" + target[1:].split("^", 1)[0]
    if target.startswith("mailto:"):
        return label or target[len("mailto:") :]
    return label or target  # a link: its label, else the URL itself
