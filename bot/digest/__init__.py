"""Weekly channel digests: `/collab digest …`, `collab digest run-due` and `collab worker`.

Three parts, all plain functions over a `Store` (bot/state/store.py) and a slack_sdk `WebClient`:

- `handle_digest_command(text, …)`: subscribe / list / unsubscribe / preview, returning a Slack
  message payload (`{"text", "blocks"}`) for the reply, or raising a UserError that says what works;
- `build_digest(…)`: one compact message (what changed since the channel's last digest, a
  spotlight on the watched countries or a rotating one, the caveat line) and its chart;
- `run_due(now, …)`: deliver every digest that is due, exactly once across any number of
  workers: claim (unique row) → post (with the period in the message metadata) → mark sent. A
  claim whose worker died is taken over after a lease (measured by the real clock, whatever moment
  the run is for), and the rescuer first looks in the channel's history for a message carrying the
  period, so a post that reached Slack is never repeated. Posts go through bot/slack/web.py's
  CollabWebClient, which never repeats a chat.postMessage that may have reached Slack without
  first checking the channel for it.

Schedules are computed with APScheduler's CronTrigger in the subscription's own time zone, so
"Monday 09:00 Europe/London" is 09:00 London time in winter and in summer.
"""

from __future__ import annotations

import difflib
import logging
import re
import signal
import time as _time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.config import Settings
from bot.errors import ParseError, UserError
from bot.reference.wording import count, field_words, joined
from bot.render import blocks as kit
from bot.slack.web import CollabWebClient, api_error, find_in_history
from bot.slack.web import web_client as slack_web_client
from bot.state.store import Claim, Delivery, Store, Subscription, utcnow

log = logging.getLogger("collab.digest")


DEFAULTS = Settings()
LATE_AFTER = timedelta(minutes=10)  # posted later than this after its time: says it is late
LOOKBACK = timedelta(days=35)  # how far back missed periods are looked for (and logged as skipped)
MAX_COUNTRIES = 5
MAX_PER_CHANNEL = 10
DEFAULT_WEEKDAY, DEFAULT_TIME = 0, "09:00"
EVENT_TYPE = "collab_digest"


@dataclass(frozen=True)
class DeliveryRules:
    """When a claim is abandoned, how often a digest is tried, and how late it may still be posted."""

    lease: timedelta = timedelta(seconds=DEFAULTS.digest_lease_seconds)  # a claim older than this is abandoned
    max_attempts: int = DEFAULTS.digest_max_attempts
    grace: timedelta = timedelta(hours=DEFAULTS.digest_grace_hours)  # later than this: skipped, not posted

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryRules:
        return cls(
            lease=timedelta(seconds=settings.digest_lease_seconds),
            max_attempts=settings.digest_max_attempts,
            grace=timedelta(hours=settings.digest_grace_hours),
        )


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY_WORDS = {
    **{d: i for i, d in enumerate(WEEKDAYS)},
    **{d + "s": i for i, d in enumerate(WEEKDAYS)},
    **{d[:3]: i for i, d in enumerate(WEEKDAYS)},
    "tues": 1,
    "weds": 2,
    "thur": 3,
    "thurs": 3,
}
# The rotating spotlight when a subscription watches no country: the countries of the Rest of
# World analysis first, then other large collaborators.
NOTABLE = (
    "CHN",
    "IND",
    "JPN",
    "SGP",
    "KOR",
    "SAU",
    "PAK",
    "MYS",
    "BRA",
    "TWN",
    "USA",
    "GBR",
    "DEU",
    "IDN",
    "VNM",
    "EGY",
    "NGA",
    "ARE",
    "TUR",
    "AUS",
)

# Slack errors that mean the bot may not post in the channel: the subscriber is told by DM.
CHANNEL_ERRORS = {
    "not_in_channel",
    "channel_not_found",
    "is_archived",
    "method_not_supported_for_channel_type",
    "restricted_action",
}
TRANSIENT_ERRORS = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}

USAGE = {
    "subscribe": "digest subscribe [#channel] [every <weekday>] [at HH:MM] [<time zone>] [for <country> …] "
    "[in <field>] [quiet]",
    "list": "digest list [#channel]",
    "unsubscribe": "digest unsubscribe <id>",
    "preview": "digest preview [<id>]",
}
EXAMPLE = "digest subscribe #research every monday at 09:00 Europe/London for Malaysia Singapore"
_SUBCOMMANDS = {
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


# ---------------------------------------------------------------- small Slack text helpers


def slack_date(moment: datetime, tz: str) -> str:
    """`<!date^…>`: shown in each reader's own time zone; the fallback names the subscription's zone."""
    local = moment.astimezone(ZoneInfo(tz))
    fallback = f"{local:%A} {local.day} {local:%B %Y} at {local:%H:%M} ({tz})"
    return f"<!date^{int(moment.timestamp())}^{{date_long_pretty}} at {{time}}|{fallback}>"


# ---------------------------------------------------------------- schedules


def _trigger(sub: Subscription):
    from apscheduler.triggers.cron import CronTrigger

    hour, minute = (int(part) for part in sub.time.split(":"))
    return CronTrigger(day_of_week=WEEKDAYS[sub.weekday][:3], hour=hour, minute=minute, timezone=ZoneInfo(sub.tz))


def next_run(sub: Subscription, after: datetime) -> datetime:
    """The first scheduled time at or after `after` (aware, in the subscription's zone)."""
    return _trigger(sub).get_next_fire_time(None, after)


def fire_times(sub: Subscription, start: datetime, end: datetime) -> list[datetime]:
    """Scheduled times t with start <= t <= end, oldest first."""
    trigger, times = _trigger(sub), []
    moment = trigger.get_next_fire_time(None, start)
    while moment is not None and moment <= end:
        times.append(moment)
        moment = trigger.get_next_fire_time(moment, moment)
    return times


def period_key(sub: Subscription, moment: datetime) -> str:
    """The scheduled local date-time of a run, e.g. "2026-11-30T09:00": one delivery per key."""
    return moment.astimezone(ZoneInfo(sub.tz)).strftime("%Y-%m-%dT%H:%M")


def period_moment(sub: Subscription, key: str) -> datetime:
    return datetime.strptime(key, "%Y-%m-%dT%H:%M").replace(tzinfo=ZoneInfo(sub.tz))


def schedule_text(sub: Subscription) -> str:
    return f"every {WEEKDAYS[sub.weekday].capitalize()} at {sub.time} ({sub.tz})"


# ---------------------------------------------------------------- parsing `/collab digest …`

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


def _tokens(text: str, labels: dict[str, str] | None = None) -> tuple[list[str], list[str]]:
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


def _parse_countries(words: list[str], i: int) -> tuple[list[str], int]:
    from bot.reference.countries import find_country, resolve_country

    end = i
    while end < len(words) and not _stop(words[end]):
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


def _parse_id(words: list[str], verb: str) -> int | None:
    if not words:
        return None
    if len(words) == 1 and words[0].lstrip("#").isdigit():
        return int(words[0].lstrip("#"))
    raise ParseError(
        f"`digest {verb}` takes a subscription number, e.g. `/collab digest {verb} 3`; "
        "`/collab digest list` shows them."
    )


# ---------------------------------------------------------------- Slack look-ups for commands


def _resolve_channel_name(client: Any, name: str) -> str:
    from slack_sdk.errors import SlackApiError

    wanted = name.lstrip("#").lower()
    cursor = None
    try:
        for _ in range(20):
            page = client.conversations_list(
                types="public_channel,private_channel", exclude_archived=True, limit=1000, cursor=cursor
            )
            for channel in page.get("channels") or []:
                if str(channel.get("name", "")).lower() == wanted:
                    return channel["id"]
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
    except SlackApiError as error:
        raise UserError(
            f"I couldn't look up #{wanted} ({api_error(error)}). Pick the channel from Slack's "
            "autocomplete as you type `#`, so it arrives as a link."
        ) from None
    raise UserError(
        f"I can't find a channel called #{wanted} that I can see. Pick it from Slack's autocomplete "
        "as you type `#`, or invite me to it (`/invite @collab`) if it is private."
    )


def _is_member(client: Any, channel: str, user: str, label: str) -> bool:
    from slack_sdk.errors import SlackApiError

    cursor = None
    try:
        for _ in range(100):
            page = client.conversations_members(channel=channel, limit=1000, cursor=cursor)
            if user in (page.get("members") or []):
                return True
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return False
    except SlackApiError as error:
        code = api_error(error)
        if code == "channel_not_found":
            raise UserError(
                f"I can't see {label}: it is private and I'm not in it, or it doesn't exist. "
                "Invite me with `/invite @collab` and try again."
            ) from None
        raise UserError(f"I couldn't check who is in {label} ({code}). Try again, or ask a collab admin.") from None
    return False


def _check_may_manage(
    client: Any, channel: str, user: str, label: str = "", admins: frozenset[str] = frozenset()
) -> None:
    """Members of a channel manage its digests; `admins` (COLLAB_ADMINS) manage all. UserError otherwise."""
    label = label or f"channel {channel}"
    if user in admins or _is_member(client, channel, user, label):
        return
    raise UserError(
        f"Only members of {label} (or a collab admin) can manage its digests. Join the channel, or ask an admin."
    )


def _user_zone(client: Any, user: str) -> tuple[str, str]:
    """The person's Slack time zone, or UTC with a note saying why."""
    try:
        tz = (client.users_info(user=user).get("user") or {}).get("tz") or ""
    except Exception as error:  # noqa: BLE001 - any failure falls back to UTC, said out loud
        return "UTC", f"I couldn't read your Slack time zone ({api_error(error)}), so I used UTC."
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC", "Your Slack profile has no time zone I know, so I used UTC."
    return tz, ""


# ---------------------------------------------------------------- the command


def handle_digest_command(
    text: str,
    *,
    user_id: str,
    channel_id: str,
    client: Any,
    store: Store,
    db: Any = None,
    team_id: str = "",
    now: datetime | None = None,
    admins: frozenset[str] = frozenset(),
    rules: DeliveryRules = DeliveryRules(),
) -> dict[str, Any]:
    """Answer `/collab digest …` (raw slash-command text, Slack markup and all) with a message payload.

    `db` is the analytics Database (default: the engine's); `admins` (COLLAB_ADMINS) may manage every
    channel's digests. Raises a UserError (ParseError, UnknownName, …) whose message says what would work.
    """
    labels: dict[str, str] = {channel_id: "this channel"}
    words, channels = _tokens(text, labels)
    if words and words[0].lower() in ("digest", "digests"):
        words = words[1:]
    verb = _SUBCOMMANDS.get(words[0].lower()) if words else "help"
    if verb is None:
        raise ParseError(f"I don't know `digest {words[0][:30]}`. " + _usage_line())
    args = words[1:]
    now = now or utcnow()
    if verb == "help":
        return _help_message()
    if verb == "subscribe":
        return _subscribe(
            parse_subscribe(args, channels),
            user_id=user_id,
            channel_id=channel_id,
            client=client,
            store=store,
            db=db,
            team_id=team_id,
            now=now,
            labels=labels,
            admins=admins,
        )
    if verb == "list":
        target = channel_id
        if args:
            request = parse_subscribe(args, channels)
            extras = (request.weekday, request.time, request.tz, request.field)
            if request.channel is None or any(x is not None for x in extras) or request.countries or request.quiet:
                raise ParseError(f"`{USAGE['list']}` takes at most a channel.")
            target = _channel_id(client, request.channel, labels)
            if target != channel_id:
                _check_may_manage(client, target, user_id, labels.get(target, ""), admins)
        return _list(store, target, now, rules)
    if verb == "unsubscribe":
        number = _parse_id(args, "unsubscribe")
        if number is None:
            raise ParseError("Which one? `/collab digest unsubscribe <id>`; `/collab digest list` shows the ids.")
        sub = store.subscription(number)
        if sub is None or not sub.active:
            raise UserError(f"There is no active digest #{number}. `/collab digest list` shows this channel's.")
        _check_may_manage(
            client, sub.channel_id, user_id, labels.get(sub.channel_id, f"digest #{sub.id}'s channel"), admins
        )
        store.deactivate(sub.id)
        message = f"Unsubscribed: digest #{sub.id} ({schedule_text(sub)}) will no longer post in <#{sub.channel_id}>."
        return {"text": message, "blocks": [kit.section(f":wave: {message}")]}
    if verb == "preview":
        number = _parse_id(args, "preview")
        return _preview(
            number,
            user_id=user_id,
            channel_id=channel_id,
            client=client,
            store=store,
            db=db,
            now=now,
            labels=labels,
            admins=admins,
        )
    raise AssertionError(verb)


def _usage_line() -> str:
    return "Digest commands: " + " · ".join(f"`/collab {u}`" for u in USAGE.values()) + "."


def _help_message() -> dict[str, Any]:
    lines = home_lines()
    text = "\n".join(lines)
    return {"text": text, "blocks": [kit.section(text)]}


def home_lines() -> list[str]:
    """How channel digests work, for the help reply and the App Home tab."""
    return [
        "A weekly digest posts what changed in the data and a spotlight on the countries a channel watches.",
        f"• `/collab {kit.escape(USAGE['subscribe'])}`: defaults are this channel, Monday 09:00 in your Slack time zone, "
        "all of AI and a rotating country spotlight; `quiet` skips weeks with nothing new.",
        f"   e.g. `/collab {EXAMPLE}`",
        f"• `/collab {kit.escape(USAGE['list'])}`: this channel's digests, their next runs and last deliveries.",
        f"• `/collab {kit.escape(USAGE['preview'])}`: what the next digest would say (only you see it).",
        f"• `/collab {kit.escape(USAGE['unsubscribe'])}`: stop one.",
    ]


def _channel_id(client: Any, channel: str, labels: dict[str, str]) -> str:
    if not channel.startswith("#"):
        return channel
    found = _resolve_channel_name(client, channel)
    labels.setdefault(found, channel)
    return found


def _subscribe(
    request: SubscribeRequest,
    *,
    user_id: str,
    channel_id: str,
    client: Any,
    store: Store,
    db: Any,
    team_id: str,
    now: datetime,
    labels: dict[str, str],
    admins: frozenset[str],
) -> dict[str, Any]:
    from bot.engine.answer import answer
    from bot.reference.fields import DEFAULT_FIELD

    target = _channel_id(client, request.channel, labels) if request.channel else channel_id
    label = labels.get(target, f"channel {target}")
    _check_may_manage(client, target, user_id, label, admins)
    if len(store.subscriptions(target)) >= MAX_PER_CHANNEL:
        raise UserError(
            f"{label[:1].upper() + label[1:]} already has {MAX_PER_CHANNEL} digests; unsubscribe one first "
            "(`/collab digest list` shows them)."
        )
    field = request.field or DEFAULT_FIELD
    answer(f"top 1 in {field}", db)  # raises DataUnavailable when the field has no data to digest
    tz, tz_note = (request.tz, "") if request.tz else _user_zone(client, user_id)
    sub = store.add_subscription(
        channel_id=target,
        created_by=user_id,
        team_id=team_id,
        weekday=DEFAULT_WEEKDAY if request.weekday is None else request.weekday,
        time=request.time or DEFAULT_TIME,
        tz=tz,
        countries=request.countries,
        field=field,
        quiet=request.quiet,
        now=now,
    )
    upcoming = next_run(sub, max(now, sub.created_at))
    quiet = ""
    if sub.quiet:
        quiet = (
            " (quiet: weeks with nothing new are skipped)"
            if not sub.countries
            else " (`quiet` only matters without watched countries: each week spotlights them)"
        )
    message = (
        f"Subscribed <#{target}> to collab digest #{sub.id}: {schedule_text(sub)}, {_watching(sub)}{quiet}. "
        f"Next digest: {slack_date(upcoming, sub.tz)}."
    )
    notes = [
        tz_note,
        f"`/collab digest preview {sub.id}` shows what it would say · `/collab digest unsubscribe {sub.id}` stops it.",
    ]
    return {"text": message, "blocks": [kit.section(f":white_check_mark: {message}"), kit.context(*notes)]}


def _country_names(codes: Iterable[str]) -> list[str]:
    from bot.reference.countries import all_countries

    countries = all_countries()
    return [countries[c].name if c in countries else c for c in codes]


def _watching(sub: Subscription) -> str:
    field = field_words(sub.field)
    if sub.countries:
        return f"watching {joined(_country_names(sub.countries))} in {field}"
    return f"with a rotating country spotlight in {field}"


def _status_line(delivery: Delivery | None, sub: Subscription, rules: DeliveryRules) -> str:
    if delivery is None:
        return "Last: none yet."
    when = period_moment(sub, delivery.period_key)
    due = slack_date(when, sub.tz)
    if delivery.status == "sent":
        late = ""
        if delivery.sent_at and delivery.sent_at - when > LATE_AFTER:
            late = " (late)"
        return f"Last: :white_check_mark: sent for {due}{late}."
    if delivery.status == "failed":
        retry = " I'll retry." if delivery.retryable and delivery.attempts < rules.max_attempts else ""
        return f"Last: :x: failed for {due}: `{kit.escape(kit.cut(delivery.error or 'unknown error', 300))}`.{retry}"
    if delivery.status == "skipped":
        return f"Last: skipped for {due} ({kit.escape(delivery.note or 'no reason recorded')})."
    return f"Last: :hourglass_flowing_sand: being delivered for {due} (attempt {delivery.attempts})."


def _list(store: Store, channel: str, now: datetime, rules: DeliveryRules) -> dict[str, Any]:
    subs = store.subscriptions(channel)
    if not subs:
        message = f"No digests in <#{channel}> yet. `/collab digest subscribe` sets one up (e.g. `/collab {EXAMPLE}`)."
        return {"text": message, "blocks": [kit.section(message)]}
    blocks = [kit.section(f"*Digests in <#{channel}>*")]
    lines = []
    for sub in subs:
        upcoming = next_run(sub, max(now, sub.created_at))
        line = (
            f"*#{sub.id}* {schedule_text(sub)} · {kit.escape(_watching(sub))}{' · quiet' if sub.quiet else ''} · "
            f"set up by <@{sub.created_by}>\nNext: {slack_date(upcoming, sub.tz)}. "
            f"{_status_line(store.last_delivery(sub.id), sub, rules)}"
        )
        blocks.append(kit.section(line))
        lines.append(line)
    blocks.append(kit.context(kit.escape("`/collab digest preview <id>` · `/collab digest unsubscribe <id>`")))
    return {"text": kit.cut(f"Digests in <#{channel}>:\n" + "\n".join(lines), 3000), "blocks": blocks[:50]}


def _preview(
    number: int | None,
    *,
    user_id: str,
    channel_id: str,
    client: Any,
    store: Store,
    db: Any,
    now: datetime,
    labels: dict[str, str],
    admins: frozenset[str],
) -> dict[str, Any]:
    note = ""
    if number is not None:
        sub = store.subscription(number)
        if sub is None or not sub.active:
            raise UserError(f"There is no active digest #{number}. `/collab digest list` shows this channel's.")
        if sub.channel_id != channel_id:
            _check_may_manage(
                client, sub.channel_id, user_id, labels.get(sub.channel_id, f"digest #{number}'s channel"), admins
            )
    else:
        subs = store.subscriptions(channel_id)
        if subs:
            sub = subs[0]
            if len(subs) > 1:
                note = f"This channel has {len(subs)} digests; this is #{sub.id}. `/collab digest preview &lt;id&gt;` picks another."
        else:
            tz, _ = _user_zone(client, user_id)
            sub = Subscription(
                id=0,
                team_id="",
                channel_id=channel_id,
                created_by=user_id,
                weekday=DEFAULT_WEEKDAY,
                time=DEFAULT_TIME,
                tz=tz,
                countries=(),
                field="ai",
                quiet=False,
                created_at=now,
            )
            note = "This channel has no digest yet; this is what the default one would say. `/collab digest subscribe` sets it up."
    upcoming = next_run(sub, max(now, sub.created_at))
    digest = build_digest(sub, previous=store.last_sent(sub.id) if sub.id else None, due=upcoming, now=upcoming, db=db)
    head = kit.context(
        f":eyes: Preview{f' of digest #{sub.id}' if sub.id else ''}, only you can see it. "
        f"Next run: {slack_date(upcoming, sub.tz)}.",
        note,
    )
    if digest.skip:
        message = (
            f"The next digest{f' #{sub.id}' if sub.id else ''} would be skipped: nothing is new since the last "
            "one and it watches no country (it is `quiet`)."
        )
        return {"text": message, "blocks": [head, kit.section(message)]}
    tail = (
        [kit.context(f":bar_chart: The posted digest comes with a chart: {kit.escape(digest.chart.title)}.")]
        if digest.chart
        else []
    )
    return {"text": "Preview: " + digest.text, "blocks": ([head] + digest.blocks + tail)[:50]}


# ---------------------------------------------------------------- building a digest


@dataclass
class Digest:
    text: str
    blocks: list[dict[str, Any]]
    chart: Any  # a Result with a chart, or None
    snapshot: dict[str, Any]
    data_version: str
    is_new: bool  # the data changed since the channel's last digest (or there was none)
    skip: bool  # nothing new, nothing watched, and the subscription is quiet


def spotlight_country(sub: Subscription, due: datetime) -> str:
    """The rotating spotlight: a notable country chosen by the week of the scheduled run."""
    year, week, _ = due.astimezone(ZoneInfo(sub.tz)).isocalendar()
    return NOTABLE[(year * 53 + week) % len(NOTABLE)]


def _signed(value: int) -> str:
    return f"+{value:,}" if value > 0 else f"−{abs(value):,}"


def _window_label(result: Any) -> str:
    return result.title.rsplit(", ", 1)[-1] if ", " in result.title else ""


def _caveat(result: Any) -> str:
    keep = [n for n in result.notes if n.startswith(("Source:", "Years:", "Pair-years"))]
    return " ".join(keep)


def _releases(about: Any) -> str:
    rows = about.frame.to_dict("records")
    return "; ".join(f"{r['title']} ({r['release']})" for r in rows)


def _country_block(code: str, field: str, db: Any) -> tuple[str, Any, dict[str, int]]:
    """The spotlight lines for one country, its partners Result, and its top partners (code -> count)."""
    from bot.engine.answer import answer

    name = _country_names([code])[0]
    partners = answer(f"partners {code} in {field} top 5", db)
    lines = [f"*{kit.escape(name)}*"]
    top: dict[str, int] = {}
    if partners.frame.empty:
        lines.append(f"No published {field_words(field)} partners in {_window_label(partners)}.")
    else:
        rows = partners.frame.head(3).to_dict("records")
        top = {str(r["partner_code"]): int(r["joint_articles"]) for r in partners.frame.to_dict("records")}
        lines.append(
            f"Top partners ({_window_label(partners)}, joint articles): "
            + " · ".join(f"{kit.escape(r['partner'])} {count(r['joint_articles'])}" for r in rows)
        )
    try:
        rising = answer(f"rising {code} in {field} top 3", db)
        if not rising.frame.empty:
            r = rising.frame.iloc[0]
            lines.append(
                f"Fastest-rising partner: {kit.escape(r['partner'])}, {r['cagr']:+.0%} a year "
                f"({count(r['first_value'])} in {int(r['first_year'])} → {count(r['last_value'])} in "
                f"{int(r['last_year'])}, complete years)."
            )
    except UserError:
        pass
    try:
        profile = answer(f"profile {code} in {field}", db)
        p = profile.frame.iloc[0]
        if p["articles"] == p["articles"] and p["articles"]:
            lines.append(
                f"International work: {float(p['links_per_article']):.2f} cross-border links per article "
                f"({count(p['cross_border_links'])} links, {count(p['articles'])} articles, "
                f"{count(p['partners'])} partner countries)."
            )
    except (UserError, KeyError, TypeError, ValueError):
        pass
    return "\n".join(lines), partners, top


def _movers(previous: dict[str, Any], current: dict[str, Any], field: str) -> list[str]:
    """What moved between two snapshots: cross-border links of the top countries, watched partners."""
    lines = []
    names = {**previous.get("names", {}), **current.get("names", {})}
    before, after = previous.get("top") or {}, current.get("top") or {}
    changes = sorted(
        ((after[c] - before[c], c) for c in after if c in before and after[c] != before[c]),
        key=lambda change: (-abs(change[0]), change[1]),
    )
    if changes:
        lines.append(
            f"Biggest movers in cross-border {field_words(field)} links: "
            + " · ".join(
                f"{kit.escape(names.get(c, c))} {_signed(d)} ({before[c]:,} → {after[c]:,})" for d, c in changes[:3]
            )
        )
    entered = [c for c in after if c not in before]
    if before and entered:
        lines.append("New in the top 10: " + ", ".join(kit.escape(names.get(c, c)) for c in entered) + ".")
    for code, partners in (current.get("partners") or {}).items():
        old = (previous.get("partners") or {}).get(code)
        if not old:
            continue
        moved = sorted(
            ((n - old[p], p) for p, n in partners.items() if p in old and n != old[p]),
            key=lambda change: (-abs(change[0]), change[1]),
        )
        if moved:
            d, p = moved[0]
            lines.append(
                f"{kit.escape(names.get(code, code))}: with {kit.escape(names.get(p, p))} {_signed(d)} joint articles "
                f"({old[p]:,} → {partners[p]:,})."
            )
    return lines


def build_digest(
    sub: Subscription, *, previous: Delivery | None, due: datetime, now: datetime, db: Any = None
) -> Digest:
    """The digest for the run scheduled at `due`, compared with the channel's last posted digest."""
    from bot.engine.answer import answer

    field = sub.field
    top = answer(f"top 10 in {field}", db)
    about = answer("about", db)
    data_version = top.data_version
    names = {str(r["country_code"]): str(r["country"]) for r in top.frame.to_dict("records")}
    snapshot: dict[str, Any] = {
        "version": 1,
        "data_version": data_version,
        "field": field,
        "top": {str(r["country_code"]): int(r["cross_border_links"]) for r in top.frame.to_dict("records")},
        "names": names,
        "partners": {},
    }
    is_new = previous is None or previous.data_version != data_version
    late = now - due > LATE_AFTER
    field_label = field_words(field)

    # What changed
    if previous is None:
        whats_new = (
            f"*What's new:* this is the first collab digest here. Data loaded: {kit.escape(_releases(about))} "
            f"(data version `{kit.escape(data_version)}`)."
        )
    elif is_new:
        whats_new = (
            f"*New data since the last digest:* {kit.escape(_releases(about))} (data version "
            f"`{kit.escape(data_version)}`, was `{kit.escape(previous.data_version or 'unknown')}`)."
        )
    else:
        since = slack_date(previous.sent_at, sub.tz) if previous.sent_at else "the last digest"
        whats_new = (
            f"Nothing new in collab's {field_label} data since the last digest ({since}; data version "
            f"`{kit.escape(data_version)}`)."
        )
    late_line = f":hourglass: This digest is late: it was due {slack_date(due, sub.tz)}." if late else ""

    watched = list(sub.countries)
    if not watched and not is_new:  # nothing new, nothing watched: one line, or nothing
        snapshot = previous.snapshot or snapshot if previous else snapshot
        text = f"collab digest: nothing new in the {field_label} data since the last digest."
        blocks = [kit.section(whats_new + (f"\n{late_line}" if late_line else "")), kit.context(_caveat(top))]
        return Digest(text, blocks, None, snapshot, data_version, is_new=False, skip=sub.quiet)

    spotlight = watched or [spotlight_country(sub, due)]
    sections, chart, caveat_from = [], None, top
    for code in spotlight:
        try:
            body, partners, partner_counts = _country_block(code, field, db)
        except UserError as error:
            sections.append(f"*{kit.escape(_country_names([code])[0])}*: {kit.escape(error.message)}")
            continue
        sections.append(body)
        snapshot["partners"][code] = partner_counts
        names.update({str(r["partner_code"]): str(r["partner"]) for r in partners.frame.to_dict("records")})
        names.setdefault(code, _country_names([code])[0])
        if chart is None and partners.chart is not None and not partners.frame.empty:
            chart, caveat_from = partners, partners
    if len(watched) >= 2:
        try:
            compare = answer(f"compare {' '.join(watched)} in {field}", db)
            if compare.chart is not None and not compare.frame.empty:
                chart = compare
        except UserError:
            pass

    what = [whats_new]
    if is_new and previous is not None:
        if previous.snapshot and previous.snapshot.get("field") == field:
            movers = _movers(previous.snapshot, snapshot, field)
            what += movers or ["The figures this digest follows did not change."]
        else:
            what.append("The last digest recorded no figures to compare with.")
    spotlight_names = joined(_country_names(spotlight))
    title = (
        f"collab digest: {spotlight_names} · {field_label}"
        if watched
        else f"collab digest · spotlight on {spotlight_names} · {field_label}"
    )
    blocks = [kit.header(title)]
    if late_line:
        blocks.append(kit.context(late_line))
    blocks.append(kit.section("\n".join(what)))
    if not watched:
        sections[0] = "*Spotlight of the week* · " + sections[0]
    blocks += [kit.section(s) for s in sections]
    blocks.append(
        kit.context(
            _caveat(caveat_from),
            f"Digest #{sub.id} · {schedule_text(sub)} · `/collab digest unsubscribe {sub.id}`" if sub.id else "",
        )
    )
    summary_bits = [title + "."]
    if late:
        summary_bits.append("This digest is late.")
    summary_bits.append(re.sub(r"[*`]", "", whats_new))
    text = kit.cut(" ".join(summary_bits), 3000)
    return Digest(text, blocks[:50], chart, snapshot, data_version, is_new=is_new, skip=False)


# ---------------------------------------------------------------- delivering


@dataclass
class Outcome:
    status: str  # sent | recovered | skipped | missed | failed | busy
    subscription_id: int
    period: str
    channel: str
    detail: str = ""

    def line(self) -> str:
        return f"{self.status:<9} digest #{self.subscription_id} {self.period} in {self.channel}" + (
            f": {self.detail}" if self.detail else ""
        )


@dataclass
class RunReport:
    now: datetime
    outcomes: list[Outcome] = dataclass_field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(o.status == "failed" for o in self.outcomes)


class DeliveryError(Exception):
    def __init__(self, code: str, *, retryable: bool, tell_subscriber: bool = False):
        super().__init__(code)
        self.code, self.retryable, self.tell_subscriber = code, retryable, tell_subscriber


class Pacer:
    """At most one post per `seconds` in each channel (Slack allows about one a second)."""

    def __init__(self, seconds: float = DEFAULTS.digest_pace_seconds, sleep: Callable[[float], None] = _time.sleep):
        self.seconds = seconds
        self.sleep, self.last = sleep, {}

    def wait(self, channel: str) -> None:
        last = self.last.get(channel)
        if last is not None:
            gap = self.seconds - (_time.monotonic() - last)
            if gap > 0:
                self.sleep(gap)
        self.last[channel] = _time.monotonic()


def web_client(token: str, api_url: str | None = None) -> CollabWebClient:
    """bot/slack/web.py's client (posts land once), from SLACK_BOT_TOKEN and SLACK_API_URL's values."""
    if not token:
        raise UserError("SLACK_BOT_TOKEN is not set: digests need the bot token to post.")
    return slack_web_client(token, api_url or None)


# Called with "claim" once a period is claimed and with "post" once its message is in Slack: the two
# moments a crash must not lose or repeat a digest (tests stop the process there).
AfterStep = Callable[[str], None]


def _no_step(point: str) -> None:
    pass


def _classify(error: Exception) -> DeliveryError:
    from slack_sdk.errors import SlackApiError

    if isinstance(error, DeliveryError):
        return error
    if isinstance(error, SlackApiError):
        code = api_error(error)
        status = getattr(error.response, "status_code", 200)
        return DeliveryError(
            code,
            retryable=code in TRANSIENT_ERRORS or status >= 500 or status == 429,
            tell_subscriber=code in CHANNEL_ERRORS,
        )
    return DeliveryError(f"{type(error).__name__}: {error}"[:300], retryable=True)


def is_digest_message(sub_id: int, period: str) -> Callable[[dict], bool]:
    """Recognises the digest message of one period of one subscription, by its metadata."""

    def ours(message: dict) -> bool:
        metadata = message.get("metadata") or {}
        payload = metadata.get("event_payload") or {}
        return (
            metadata.get("event_type") == EVENT_TYPE
            and str(payload.get("subscription_id")) == str(sub_id)
            and payload.get("period") == period
        )

    return ours


def _post(client: Any, sub: Subscription, claim: Claim, digest: Digest, pacer: Pacer) -> str:
    from slack_sdk.errors import SlackApiError

    message = dict(
        channel=sub.channel_id,
        text=digest.text,
        blocks=digest.blocks,
        unfurl_links=False,
        unfurl_media=False,
        metadata={"event_type": EVENT_TYPE, "event_payload": {"subscription_id": sub.id, "period": claim.period_key}},
    )
    pacer.wait(sub.channel_id)
    try:
        return client.chat_postMessage(**message)["ts"]
    except SlackApiError as error:
        if api_error(error) != "not_in_channel":
            raise
    try:  # a public channel can be joined; a private one needs an invitation
        client.conversations_join(channel=sub.channel_id)
    except SlackApiError:
        raise DeliveryError("not_in_channel", retryable=False, tell_subscriber=True) from None
    return client.chat_postMessage(**message)["ts"]


def _upload_chart(client: Any, sub: Subscription, claim: Claim, digest: Digest) -> str:
    """Upload the chart to the channel, right under the digest; returns a note on failure ("" when it went well)."""
    if digest.chart is None:
        return ""
    try:
        from bot.render.charts import render_png

        png = render_png(digest.chart)
        client.files_upload_v2(
            channel=sub.channel_id,
            file=png,
            filename=f"collab-digest-{sub.id}-{claim.period_key.replace(':', '')}.png",
            title=digest.chart.title,
            alt_txt=kit.cut(f"Chart: {digest.chart.title}. {digest.chart.summary}", 1000),
        )
        return ""
    except Exception as error:  # noqa: BLE001 - the digest is posted; the chart is a bonus
        log.warning("digest #%s: chart upload failed: %s", sub.id, error)
        return f"chart upload failed: {api_error(error)}"


def _tell_subscriber(client: Any, sub: Subscription, code: str, period: str) -> str:
    text = (
        f":warning: Your collab digest #{sub.id} for <#{sub.channel_id}> (due {period}, {sub.tz}) could not be "
        f"posted: `{code}`. Invite me to the channel with `/invite @collab`, or stop the digest with "
        f"`/collab digest unsubscribe {sub.id}`."
    )
    try:
        dm = client.conversations_open(users=sub.created_by)["channel"]["id"]
        client.chat_postMessage(channel=dm, text=text)
        return " (subscriber told by DM)"
    except Exception as error:  # noqa: BLE001
        log.warning("digest #%s: could not DM %s: %s", sub.id, sub.created_by, error)
        return f" (DM to the subscriber failed: {api_error(error)})"


def deliver(
    sub: Subscription,
    due: datetime,
    *,
    now: datetime,
    store: Store,
    client: Any,
    pacer: Pacer,
    db: Any = None,
    rules: DeliveryRules = DeliveryRules(),
    after_step: AfterStep = _no_step,
) -> Outcome:
    """Claim, build, post and record one period of one subscription."""
    key = period_key(sub, due)
    outcome = Outcome("busy", sub.id, key, sub.channel_id)
    claim = store.claim(sub.id, key, lease=rules.lease, max_attempts=rules.max_attempts)  # the real clock
    if claim is None:
        outcome.detail = "already delivered or being delivered by another worker"
        return outcome
    after_step("claim")
    try:
        digest = build_digest(sub, previous=store.last_sent(sub.id), due=due, now=now, db=db)
    except Exception as error:  # noqa: BLE001
        message = error.message if isinstance(error, UserError) else f"{type(error).__name__}: {error}"
        store.mark_failed(claim, f"could not build the digest: {message}", retryable=True)
        outcome.status, outcome.detail = "failed", f"could not build the digest: {message}"
        return outcome
    if digest.skip:
        store.mark_skipped(
            claim,
            "quiet: nothing new and no country watched",
            data_version=digest.data_version,
            snapshot=digest.snapshot,
        )
        outcome.status, outcome.detail = "skipped", "quiet: nothing new and no country watched"
        return outcome
    try:
        if claim.is_retry:  # an earlier attempt may have posted before it died: look before posting again
            found = find_in_history(
                client, sub.channel_id, (due - timedelta(hours=1)).timestamp(), is_digest_message(sub.id, key)
            ).get("ts")
            if found:
                store.mark_sent(
                    claim,
                    message_ts=found,
                    data_version=digest.data_version,
                    snapshot=digest.snapshot,
                    note="found already posted by an earlier attempt",
                )
                outcome.status, outcome.detail = "recovered", f"already posted (ts {found}); not posted again"
                return outcome
        ts = _post(client, sub, claim, digest, pacer)
    except Exception as error:  # noqa: BLE001
        problem = _classify(error)
        store.mark_failed(claim, problem.code, retryable=problem.retryable)
        told = _tell_subscriber(client, sub, problem.code, key) if problem.tell_subscriber else ""
        outcome.status = "failed"
        outcome.detail = (
            problem.code + told + (" (will retry)" if problem.retryable and claim.attempts < rules.max_attempts else "")
        )
        return outcome
    after_step("post")
    note = _upload_chart(client, sub, claim, digest)
    if not store.mark_sent(
        claim, message_ts=ts, data_version=digest.data_version, snapshot=digest.snapshot, note=note or None
    ):
        log.warning("digest #%s %s: claim was taken over before it could be marked sent", sub.id, key)
    late = now - due > LATE_AFTER
    outcome.status = "sent"
    outcome.detail = f"ts {ts}" + (" (late)" if late else "") + (f"; {note}" if note else "")
    return outcome


def run_due(
    now: datetime | None = None,
    *,
    store: Store,
    client: Any,
    db: Any = None,
    pacer: Pacer | None = None,
    rules: DeliveryRules = DeliveryRules(),
    after_step: AfterStep = _no_step,
) -> RunReport:
    """Deliver everything due at `now`, once; log periods missed beyond the grace period as skipped.

    `now` (the real time unless given, e.g. by `--now`) decides only what is due and whether it is
    late. Claims, their leases and `sent_at` follow the store's real clock (Store.clock), so a claim
    made an hour into a long run, or by a run for a past moment, is not already stale when written.
    """
    now = (now or utcnow()).astimezone(UTC)
    pacer = pacer or Pacer()
    report = RunReport(now)
    for stale in store.abandon_stale(lease=rules.lease, max_attempts=rules.max_attempts):
        owner = store.subscription(stale.subscription_id)
        report.outcomes.append(
            Outcome(
                "failed",
                stale.subscription_id,
                stale.period_key,
                owner.channel_id if owner else "?",
                stale.error or "gave up",
            )
        )
    for sub in store.subscriptions(active=True):
        try:
            report.outcomes += _run_subscription(
                sub, now=now, store=store, client=client, db=db, pacer=pacer, rules=rules, after_step=after_step
            )
        except Exception as error:  # noqa: BLE001 - one bad subscription must not stop the others
            log.exception("digest #%s failed", sub.id)
            report.outcomes.append(Outcome("failed", sub.id, "?", sub.channel_id, f"{type(error).__name__}: {error}"))
    return report


def _run_subscription(
    sub: Subscription,
    *,
    now: datetime,
    store: Store,
    client: Any,
    db: Any,
    pacer: Pacer,
    rules: DeliveryRules,
    after_step: AfterStep,
) -> list[Outcome]:
    try:
        ZoneInfo(sub.tz)
    except (ZoneInfoNotFoundError, ValueError):
        return [Outcome("failed", sub.id, "?", sub.channel_id, f"unknown time zone {sub.tz}")]
    times = fire_times(sub, max(sub.created_at, now - LOOKBACK), now)
    if not times:
        return []
    outcomes = []
    known = store.period_keys(sub.id, since_key=period_key(sub, times[0]))
    latest = times[-1]
    due_now = now - latest <= rules.grace
    for moment in times if not due_now else times[:-1]:
        key = period_key(sub, moment)
        if key in known:
            continue
        note = f"missed: the worker did not run within {rules.grace.total_seconds() / 3600:g} h of the scheduled time"
        if store.record_skipped(sub.id, key, note):
            outcomes.append(
                Outcome("missed", sub.id, key, sub.channel_id, "more than the grace period late; not posted")
            )
    if due_now:
        key = period_key(sub, latest)
        if key in known:
            last = store.last_delivery(sub.id)
            if last is not None and last.period_key == key and not _may_retry(last, store.clock(), rules):
                return outcomes
        outcomes.append(
            deliver(
                sub,
                latest,
                now=now,
                store=store,
                client=client,
                pacer=pacer,
                db=db,
                rules=rules,
                after_step=after_step,
            )
        )
    return outcomes


def _may_retry(delivery: Delivery, clock_now: datetime, rules: DeliveryRules) -> bool:
    """Whether the next run may take this period over; a claim's lease is judged by the real clock."""
    if delivery.attempts >= rules.max_attempts:
        return False
    if delivery.status == "claimed":
        return clock_now - delivery.claimed_at > rules.lease
    return delivery.status == "failed" and delivery.retryable


def parse_now(text: str) -> datetime:
    """An ISO-8601 moment; without a zone it is UTC."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ParseError(
            f"--now must be an ISO-8601 time such as 2026-11-30T09:00:00+00:00, not '{text[:40]}'."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def run_due_command(now_iso: str | None, settings: Settings, after_step: AfterStep = _no_step) -> int:
    """`collab digest run-due [--now ISO]`: deliver what is due once, print it, exit 1 if any failed."""
    from bot.engine.db import Database

    now = parse_now(now_iso) if now_iso else utcnow()
    client = web_client(settings.slack_bot_token, settings.slack_api_url)
    store = Store.from_settings(settings)
    db = Database.from_settings(settings)
    try:
        report = run_due(
            now,
            store=store,
            client=client,
            db=db,
            pacer=Pacer(settings.digest_pace_seconds),
            rules=DeliveryRules.from_settings(settings),
            after_step=after_step,
        )
    finally:
        store.dispose()
        db.close()
    for outcome in report.outcomes:
        print(outcome.line(), flush=True)
    if not report.outcomes:
        print(f"nothing due at {now.isoformat(timespec='seconds')}", flush=True)
    return 1 if report.failed else 0


def run_worker(settings: Settings) -> None:
    """`collab worker`: run_due every minute (coalesced, one at a time) until SIGTERM or Ctrl-C."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    from bot.engine.db import Database

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    client = web_client(settings.slack_bot_token, settings.slack_api_url)
    store = Store.from_settings(settings)
    db = Database.from_settings(settings)  # reopens by itself when a rebuild replaces the file
    pacer = Pacer(settings.digest_pace_seconds)
    rules = DeliveryRules.from_settings(settings)

    def tick() -> None:
        try:
            report = run_due(store=store, client=client, db=db, pacer=pacer, rules=rules)
        except Exception:  # noqa: BLE001 - keep the scheduler alive; the next minute retries
            log.exception("run_due failed")
            return
        for outcome in report.outcomes:
            log.info("%s", outcome.line())

    scheduler = BlockingScheduler(timezone=UTC)
    scheduler.add_job(
        tick,
        "cron",
        second=0,
        id="digest-run-due",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=50,
        next_run_time=datetime.now(UTC),
    )

    def stop(signum: int, _frame: Any) -> None:
        log.info("signal %s: finishing the current run, then stopping", signum)
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("collab worker started: digests every minute")
    try:
        scheduler.start()
    finally:
        store.dispose()
        db.close()
    log.info("collab worker stopped")
