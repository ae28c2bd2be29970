"""`/collab digest subscribe | list | unsubscribe | preview | help`: the replies, and the Slack look-ups
they need (channel names, membership, the person's time zone).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.digest.content import LATE_AFTER, build_digest, country_names, slack_date
from bot.digest.deliver import DeliveryRules
from bot.digest.grammar import EXAMPLE, SUBCOMMANDS, USAGE, SubscribeRequest, parse_id, parse_subscribe, split_command
from bot.digest.schedule import DEFAULT_TIME, DEFAULT_WEEKDAY, next_run, period_moment, schedule_text
from bot.engine.answer import run
from bot.engine.question import Query
from bot.errors import ParseError, UserError
from bot.reference.wording import field_words, joined
from bot.render import blocks as kit
from bot.slack.web import api_error
from bot.state.store import Delivery, Store, Subscription, utcnow

MAX_PER_CHANNEL = 10
_DIRECT_CONVERSATION = (
    "Digests post in channels, not in direct messages: run `/collab digest subscribe` in a public or "
    "private channel, or name one (`/collab digest subscribe #research`)."
)


def _is_direct_conversation(channel_id: str, channel_name: str = "") -> bool:
    """A DM (ids start with D) or a group DM (Slack names it `mpdm-…` in a slash command; its id may
    start with G or C): people talking to each other, where a digest has nobody to serve."""
    return channel_id.startswith("D") or channel_name == "directmessage" or channel_name.startswith("mpdm-")


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


def handle_digest_command(
    text: str,
    *,
    user_id: str,
    channel_id: str,
    client: Any,
    store: Store,
    db: Any = None,
    team_id: str = "",
    channel_name: str = "",
    now: datetime | None = None,
    admins: frozenset[str] = frozenset(),
    rules: DeliveryRules = DeliveryRules(),
) -> dict[str, Any]:
    """Answer `/collab digest …` (raw slash-command text, Slack markup and all) with a message payload.

    `channel_name` is the slash command's (it tells a group DM from a channel); `db` is the analytics
    Database (default: the engine's); `admins` (COLLAB_ADMINS) may manage every
    channel's digests. Raises a UserError (ParseError, UnknownName, …) whose message says what would work.
    """
    labels: dict[str, str] = {channel_id: "this channel"}
    words, channels = split_command(text, labels)
    if words and words[0].lower() in ("digest", "digests"):
        words = words[1:]
    verb = SUBCOMMANDS.get(words[0].lower()) if words else "help"
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
            channel_name=channel_name,
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
        number = parse_id(args, "unsubscribe")
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
        number = parse_id(args, "preview")
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
    channel_name: str = "",
) -> dict[str, Any]:
    from bot.reference.fields import DEFAULT_FIELD

    target = _channel_id(client, request.channel, labels) if request.channel else channel_id
    if _is_direct_conversation(target, channel_name if target == channel_id else ""):
        raise UserError(_DIRECT_CONVERSATION)
    label = labels.get(target, f"channel {target}")
    _check_may_manage(client, target, user_id, label, admins)
    if len(store.subscriptions(target)) >= MAX_PER_CHANNEL:
        raise UserError(
            f"{label[:1].upper() + label[1:]} already has {MAX_PER_CHANNEL} digests; unsubscribe one first "
            "(`/collab digest list` shows them)."
        )
    field = request.field or DEFAULT_FIELD
    run(Query(verb="top", field=field, limit=1), db)  # raises DataUnavailable when the field has no data
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


def _watching(sub: Subscription) -> str:
    field = field_words(sub.field)
    if sub.countries:
        return f"watching {joined(country_names(sub.countries))} in {field}"
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
