"""Delivering digests exactly once, across any number of workers and crashes.

claim (a unique row per subscription and scheduled local time) → post (with the period in the
message metadata) → mark sent. A claim whose worker died is taken over after a lease (measured by
the real clock, whatever moment the run is for), and the rescuer first looks in the channel's
history for a message carrying the period, so a post that reached Slack is never repeated. Posts go
through bot/slack/web.py's CollabWebClient, which never repeats a chat.postMessage that may have
reached Slack without first checking the channel for it.
"""

from __future__ import annotations

import logging
import time as _time
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config import Settings
from bot.digest.content import LATE_AFTER, Digest, build_digest
from bot.digest.schedule import fire_times, period_key
from bot.errors import UserError
from bot.render import blocks as kit
from bot.slack.web import CollabWebClient, api_error, find_in_history
from bot.slack.web import web_client as slack_web_client
from bot.state.store import Claim, Delivery, Store, Subscription, utcnow

log = logging.getLogger("collab.digest")

DEFAULTS = Settings()
LOOKBACK = timedelta(days=35)  # how far back missed periods are looked for (and logged as skipped)
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


# Slack errors that mean the bot may not post in the channel: the subscriber is told by DM.
CHANNEL_ERRORS = {
    "not_in_channel",
    "channel_not_found",
    "is_archived",
    "method_not_supported_for_channel_type",
    "restricted_action",
}
TRANSIENT_ERRORS = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}


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
        self.sleep = sleep
        self.last: dict[str, float] = {}  # channel -> when its last post went out (monotonic)

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


def no_step(point: str) -> None:
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


def deliver_period(
    sub: Subscription,
    due: datetime,
    *,
    now: datetime,
    store: Store,
    client: Any,
    pacer: Pacer,
    db: Any = None,
    rules: DeliveryRules = DeliveryRules(),
    after_step: AfterStep = no_step,
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
    after_step: AfterStep = no_step,
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
            deliver_period(
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
