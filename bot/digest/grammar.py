"""The words of `/collab digest …`: subcommands, and `subscribe`'s channel, day, time, zone, countries and field.

Pure functions of the text (and the reference tables); nothing here talks to Slack or the databases.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from functools import lru_cache
from zoneinfo import available_timezones

from bot.digest.schedule import WEEKDAYS
from bot.errors import ParseError, UserError

MAX_COUNTRIES = 5
_WEEKDAY_WORDS = {
    **{d: i for i, d in enumerate(WEEKDAYS)},
    **{d + "s": i for i, d in enumerate(WEEKDAYS)},
    **{d[:3]: i for i, d in enumerate(WEEKDAYS)},
    "tues": 1,
    "weds": 2,
    "thur": 3,
    "thurs": 3,
}

USAGE = {
    "subscribe": "digest subscribe [#channel] [every <weekday>] [at HH:MM] [<time zone>] [for <country> …] "
    "[in <field>] [quiet]",
    "list": "digest list [#channel]",
    "unsubscribe": "digest unsubscribe <id>",
    "preview": "digest preview [<id>]",
}
EXAMPLE = "digest subscribe #research every monday at 09:00 Europe/London for Malaysia Singapore"
SUBCOMMANDS = {
    "subscribe": "subscribe",
    "sub": "subscribe",
    "add": "subscribe",
    "create": "subscribe",
    "list": "list",
    "ls": "list",
    "show": "list",
    "unsubscribe": "unsubscribe",
    "unsub": "unsubscribe",
    "remove": "unsubscribe",
    "delete": "unsubscribe",
    "stop": "unsubscribe",
    "cancel": "unsubscribe",
    "preview": "preview",
    "help": "help",
}


_CHANNEL_MARKUP = re.compile(r"<#([CGD][A-Z0-9]+)(?:\|([^<>]*))?>")
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{6,}$")
_CHANNEL_SLOT = re.compile(r"^\x00(\d+)\x00$")
_TIME = re.compile(r"^(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm)?$")
_KEYWORDS = {"every", "on", "at", "for", "in", "quiet", "loud"}
_CONNECTORS = {"and", "&", "+", "/"}


@dataclass
class SubscribeRequest:
    channel: str | None = None  # an ID, or "#name" still to resolve
    weekday: int | None = None
    time: str | None = None
    tz: str | None = None
    countries: list[str] = dataclass_field(default_factory=list)
    field: str | None = None
    quiet: bool = False


def is_digest_command(text: str | None) -> bool:
    """True when /collab text is a digest command (`digest …`), raw or unescaped."""
    return (text or "").strip().lower().split(" ", 1)[0] in ("digest", "digests")


def split_command(text: str, labels: dict[str, str] | None = None) -> tuple[list[str], list[str]]:
    """The words of the command, with Slack channel links replaced by slots; and the channel IDs.

    `labels` (when given) collects "#name" for each linked channel, for messages that name it.
    """
    from bot.render.mrkdwn import unescape_command

    channels: list[str] = []

    def slot(match: re.Match[str]) -> str:
        channels.append(match.group(1))
        if labels is not None and match.group(2):
            labels[match.group(1)] = "#" + match.group(2)
        return f" \x00{len(channels) - 1}\x00 "

    text = _CHANNEL_MARKUP.sub(slot, text or "")
    text = unescape_command(text)
    return [t for t in re.split(r"[\s,;]+", text) if t], channels


@lru_cache(maxsize=1)
def _zones() -> dict[str, str]:
    zones = {z.lower(): z for z in available_timezones() if "/" in z}
    zones.update({"utc": "UTC", "gmt": "UTC", "z": "UTC"})
    return zones


def _zone(token: str) -> str | None:
    return _zones().get(token.lower())


def _looks_like_zone(token: str) -> bool:
    return "/" in token and len(token) > 2 and token[0].isalpha()


def _unknown_zone(token: str) -> UserError:
    close = difflib.get_close_matches(token.lower(), list(_zones()), n=3, cutoff=0.75)
    names = [_zones()[c] for c in close]
    hint = f" Did you mean {' or '.join(names)}?" if names else ""
    return ParseError(
        f"I don't know the time zone '{token[:40]}'.{hint} Use an IANA name such as "
        "Europe/London, America/New_York or Asia/Kuala_Lumpur.",
        tuple(names),
    )


def _parse_time(words: list[str], i: int) -> tuple[str, int]:
    """HH:MM from words[i] (and an am/pm after it); returns the time and how many words it used."""
    word = words[i].lower() if i < len(words) else ""
    used = 1
    if i + 1 < len(words) and words[i + 1].lower() in ("am", "pm", "a.m.", "p.m."):
        word += words[i + 1].lower().replace(".", "")
        used = 2
    match = _TIME.match(word)
    if match:
        hour, minute, half = int(match.group(1)), int(match.group(2) or 0), match.group(3)
        if half:
            if not 1 <= hour <= 12:
                match = None
            else:
                hour = hour % 12 + (12 if half == "pm" else 0)
        if match and hour <= 23 and minute <= 59:
            return f"{hour:02d}:{minute:02d}", used
    raise ParseError(f"`at` needs a time such as 09:00, 17:30 or 9am, not '{word[:20] or 'nothing'}'.")


def _parse_weekday(word: str | None) -> int:
    key = (word or "").lower().strip(".")
    if key in _WEEKDAY_WORDS:
        return _WEEKDAY_WORDS[key]
    if key in ("day", "days", "weekday", "weekdays", "week"):
        raise ParseError("Digests are weekly: name one day, e.g. `every monday`.")
    raise ParseError(f"`every` needs a day of the week such as monday or fri, not '{(word or 'nothing')[:20]}'.")


def _stop(word: str) -> bool:
    """Whether a word ends a list of country or field names."""
    low = word.lower()
    return (
        low in _KEYWORDS
        or _CHANNEL_SLOT.match(word) is not None
        or word.startswith("#")
        or _zone(word) is not None
        or _looks_like_zone(word)
        or bool(_CHANNEL_ID.match(word))
    )


def _is_country_code(word: str) -> bool:
    """An ISO code in capitals (IN, AT, AND) in a list of countries is a country, not the keyword `in` or `at`."""
    from bot.reference.countries import find_country

    return word.isupper() and word.isalpha() and find_country(word) is not None


def _parse_countries(words: list[str], i: int) -> tuple[list[str], int]:
    from bot.reference.countries import find_country, resolve_country

    end = i
    while end < len(words) and (not _stop(words[end]) or _is_country_code(words[end])):
        end += 1
    codes: list[str] = []
    j = i
    while j < end:
        if words[j] in _CONNECTORS:  # lower-case "and" joins names; "AND" is still Andorra
            j += 1
            continue
        for k in range(min(end, j + 6), j, -1):
            country = find_country(" ".join(words[j:k]))
            if country:
                codes.append(country.code)
                j = k
                break
        else:
            k = j + 1  # the unknown piece runs to where a country starts again
            while k < end and not any(find_country(" ".join(words[k:m])) for m in range(k + 1, min(end, k + 6) + 1)):
                k += 1
            resolve_country(" ".join(words[j:k]))  # raises UnknownName, with suggestions
            raise ParseError(f"I couldn't read '{' '.join(words[j:k])[:60]}' as a country.")
    if not codes:
        raise ParseError("`for` needs one or more countries, e.g. `for Malaysia Singapore`.")
    return codes, end - i


def _parse_field(words: list[str], i: int) -> tuple[str, int]:
    from bot.reference.fields import find_field, resolve_field

    end = i
    while end < len(words) and not _stop(words[end]):
        end += 1
    for k in range(min(end, i + 5), i, -1):
        found = find_field(" ".join(words[i:k]))
        if found:
            return found.code, k - i
    if end == i:
        raise ParseError("`in` needs a field, e.g. `in computer vision`.")
    return resolve_field(" ".join(words[i:end])).code, end - i  # raises UnknownName


def parse_subscribe(words: list[str], channels: list[str]) -> SubscribeRequest:
    request = SubscribeRequest()

    def set_channel(value: str) -> None:
        if request.channel is not None and request.channel != value:
            raise ParseError("Name one channel per subscription.")
        request.channel = value

    i = 0
    while i < len(words):
        word, low = words[i], words[i].lower()
        following = words[i + 1] if i + 1 < len(words) else None
        slot = _CHANNEL_SLOT.match(word)
        if slot:
            set_channel(channels[int(slot.group(1))])
        elif word.startswith("#") and len(word) > 1:
            inner = word[1:]
            set_channel(inner if _CHANNEL_ID.match(inner) else "#" + inner.lower())
        elif _CHANNEL_ID.match(word):
            set_channel(word)
        elif low in ("every", "on"):
            request.weekday = _parse_weekday(following)
            i += 1
        elif low in _WEEKDAY_WORDS and len(low) > 3:
            request.weekday = _WEEKDAY_WORDS[low]
        elif low == "at":
            if following is None:
                raise ParseError("`at` needs a time such as 09:00.")
            request.time, used = _parse_time(words, i + 1)
            i += used
        elif _TIME.match(low) and ":" in low:
            request.time, used = _parse_time(words, i)
            i += used - 1
        elif low == "for":
            codes, used = _parse_countries(words, i + 1)
            request.countries += [c for c in codes if c not in request.countries]
            i += used
        elif low == "in":
            request.field, used = _parse_field(words, i + 1)
            i += used
        elif low == "quiet":
            request.quiet = True
        elif _zone(word):
            request.tz = _zone(word)
        elif _looks_like_zone(word):
            raise _unknown_zone(word)
        else:
            raise ParseError(
                f"I didn't understand '{word[:40]}' in `digest subscribe`. "
                f"Usage: `/collab {USAGE['subscribe']}`, e.g. `/collab {EXAMPLE}`."
            )
        i += 1
    if len(request.countries) > MAX_COUNTRIES:
        raise ParseError(
            f"A digest watches at most {MAX_COUNTRIES} countries; you named {len(request.countries)}. "
            "Split them over two subscriptions."
        )
    return request


def parse_id(words: list[str], verb: str) -> int | None:
    if not words:
        return None
    if len(words) == 1 and words[0].lstrip("#").isdigit():
        return int(words[0].lstrip("#"))
    raise ParseError(
        f"`digest {verb}` takes a subscription number, e.g. `/collab digest {verb} 3`; "
        "`/collab digest list` shows them."
    )
