"""Cleaning a chat message down to the words that matter: no Slack markup, emoji, greetings or politeness."""

from __future__ import annotations

import re
import unicodedata

from bot.engine.interpret.vocabulary import CHAT_SPELLINGS

_SLACK_MARKUP = re.compile(r"<[@#!][^>]*>|<(?:https?|mailto):[^>|]*(?:\|([^>]*))?>")
_MENTION = re.compile(r"(?<!\w)@[\w.-]+")
_EMOJI_CODE = re.compile(r":[a-z0-9_+-]{1,40}:")
_QUOTES = str.maketrans({**{ch: "'" for ch in "‘’‚‛′`"}, **{ch: '"' for ch in "“”„"}})
_GREETING = (
    r"(?:hi|hello|hey|hiya|heya|yo|howdy|greetings|good (?:morning|afternoon|evening|day)|dear|ok(?:ay)?|so|um+|"
    r"uh+|hmm+|quick question|question|q)\b"
)
_NOISE = re.compile(rf"^(?:{_GREETING}[\s,!.:;-]*(?:there\b|all\b|team\b|collab\b|bot\b|folks\b)?[\s,!.:;-]*)+")
_POLITE_PHRASES = (
    r"please|pls|plz|kindly|thanks|thank you|thx|ty|cheers",
    r"i'?d like to know|i would like to know|i want to know|i wonder|i'?m wondering|i was wondering|wondering",
    # "can you" is politeness, except in "what can you do" and at the end
    r"(?:can|could|would|will) (?:you|u)\b(?! (?:do|answer|help|tell me about (?:the|this|your) data)\b)(?!\s*$)",
    r"do you know(?! about)|let me know|tell me(?! about)|show me|give me|i need|i want|quickly|real quick",
    r"for me|for a brief|for a report|if possible|if you can|if you could|maybe|perhaps|actually|basically",
)
_POLITE = re.compile(rf"\b(?:{'|'.join(_POLITE_PHRASES)})\b")


def clean(text: str) -> str:
    """Lower-case text with Slack markup, mentions, emoji and stray symbols removed; single spaces."""
    text = _SLACK_MARKUP.sub(lambda m: f" {m.group(1) or ''} ", text or "")
    text = _MENTION.sub(" ", text)
    text = _EMOJI_CODE.sub(" ", text.translate(_QUOTES))
    if not text.isascii():  # emoji, symbols, invisible format characters
        text = "".join(
            " " if unicodedata.category(ch) in ("So", "Sk", "Cs", "Co", "Cn", "Cf", "Mn", "Me") else ch
            for ch in unicodedata.normalize("NFC", text)
        )
    text = re.sub(r"\s+", " ", text).strip().lower()
    # the bot addressed by name ("/collab …", "hey collab, …") is not "collab" the word for collaboration
    text = re.sub(r"^((?:hi|hello|hey|hiya|yo|dear|ok|okay|thanks)\s+)?/?collab\b[\s,:!.]*", r"\1", text)
    return _CHAT_WORD.sub(lambda m: CHAT_SPELLINGS[m.group(0)], text)


def strip_politeness(text: str) -> str:
    """The question without greetings and politeness ("tell me about" stays: it asks for a profile)."""
    text = _POLITE.sub(" ", _NOISE.sub("", text))
    return re.sub(r"\s+", " ", text).strip(" ,.;:!?")


_CHAT_WORD = re.compile(
    r"(?<![\w/.])(?:" + "|".join(re.escape(w) for w in sorted(CHAT_SPELLINGS, key=len, reverse=True)) + r")(?![\w/.'])"
)
_TOKEN = re.compile(r"\(|\)|[–—/&+,]|\w(?:[\w.'-]*[\w.])?|-")


def tokens(text: str) -> list[str]:
    """Words (keeping "u.s.", "co-authors", "d'ivoire" whole), dashes, slashes, commas and parentheses."""
    return _TOKEN.findall(text)


def variants(span: str) -> list[str]:
    """A span as written, without a trailing full stop or a possessive ("malaysia's"), or with its last
    full stop back ("e.u" at the end of a sentence)."""
    out = [span]
    bare = span.rstrip(".")
    for candidate in (bare, re.sub(r"'s$|(?<=s)'$", "", bare), bare + "." if "." in bare else ""):
        if candidate and candidate not in out:
            out.append(candidate)
    return out
