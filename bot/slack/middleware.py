"""Every Slack request handled once, with Web API and response_url clients that retry safely.

- A global middleware records every command, button press and event in the state database
  (`slack_requests`, bot/state/store.py) under a stable key before anything runs. When Slack delivers
  the same request again (`X-Slack-Retry-Num`), the insert fails on the key in whichever gunicorn
  worker or machine gets it, and the copy is acknowledged (200) and dropped.
- The same middleware swaps bolt's per-request WebClient for bot/slack/web.py's CollabWebClient
  (posts land once) and `respond` for RetryingRespond (429s, 5xx answers and dropped connections
  are retried: Slack refuses or accepts a response_url post as a whole).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_bolt import BoltRequest, BoltResponse, Respond
from slack_sdk.webhook import WebhookClient, WebhookResponse

from bot.slack.web import CollabWebClient, respond_retry_handlers

log = logging.getLogger("collab.slack")


class RetryingRespond(Respond):
    """bolt's `respond`, with retries on the response_url (bot/slack/web.py: what may repeat)."""

    def __call__(self, text: str | dict = "", **fields: Any) -> WebhookResponse:  # type: ignore[override]
        if self.response_url is None:
            raise ValueError("respond is unsupported here as there is no response_url")
        message = dict(text) if isinstance(text, dict) else {"text": text, **fields}
        message = {key: value for key, value in message.items() if value is not None}
        handlers = respond_retry_handlers(visible_to_others=message.get("response_type") == "in_channel")
        client = WebhookClient(url=self.response_url, proxy=self.proxy, ssl=self.ssl, retry_handlers=handlers)
        return client.send_dict(message)


RECEIVED_AT = "collab_received_at"  # context key: time.monotonic() when the request reached the app
# The header the WSGI app sets on every request as it arrives (time.monotonic(), overwriting any sent
# from outside), so the ack's deadline counts the time spent in the guard and waiting for bolt too.
ARRIVAL_HEADER = "X-Collab-Received-At"
ARRIVAL_ENVIRON = "HTTP_" + ARRIVAL_HEADER.upper().replace("-", "_")


def arrival(req: BoltRequest) -> float:
    """When the request reached the WSGI app (now, over Socket Mode or without the header)."""
    now = time.monotonic()
    values = req.headers.get(ARRIVAL_HEADER.lower()) if req.headers else None
    try:
        arrived = float(values[0]) if values else now
    except ValueError:
        return now
    return arrived if 0 <= now - arrived < 60 else now


REQUEST_LOG_DAYS = 1  # Slack retries within minutes; a day of keys is plenty


def request_key(body: dict) -> tuple[str, str] | None:
    """A key naming one Slack request across its deliveries, and its kind; None when there is none."""
    if body.get("type") == "event_callback" and body.get("event_id"):
        return f"event:{body['event_id']}", "event"
    if body.get("command"):
        if not body.get("trigger_id"):
            return None
        # trigger_id is unique per invocation; the response_url (also per invocation) and the text make
        # the key hold even where a client reuses trigger ids. A retry repeats all of them byte for byte.
        parts = [
            str(body.get(k) or "")
            for k in ("team_id", "user_id", "channel_id", "trigger_id", "command", "text", "response_url")
        ]
        return "command:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest(), "command"
    if body.get("type") == "block_actions":
        if body.get("trigger_id"):
            return "action:" + hashlib.sha256(str(body["trigger_id"]).encode()).hexdigest(), "action"
        actions = body.get("actions") or [{}]
        message_ts = (body.get("container") or {}).get("message_ts")
        if message_ts and actions[0].get("action_ts"):
            return "action:" + hashlib.sha256(
                f"{message_ts}\x1f{actions[0]['action_ts']}".encode()
            ).hexdigest(), "action"
    return None


def acknowledge_rate_limit_notice(req: BoltRequest, resp: BoltResponse, next: Callable[[], Any]) -> Any:  # noqa: A002
    """bolt global middleware: Slack's `app_rate_limited` callback (events for the app were dropped this
    minute) has no listener; any non-2xx answer would count as a failed delivery, so log it and say 200."""
    body = req.body if isinstance(req.body, dict) else {}
    if body.get("type") != "app_rate_limited":
        return next()
    log.warning(
        "Slack rate-limited events for team %s in minute %s", body.get("team_id"), body.get("minute_rate_limited")
    )
    return BoltResponse(status=200, body="")


class LazyStore:
    """The state database's Store, opened on first use (after gunicorn's fork), one per process."""

    def __init__(self, factory: Callable[[], Any]):
        self._factory = factory
        self._store: Any = None
        self._lock = threading.Lock()

    def __call__(self) -> Any:
        with self._lock:
            if self._store is None:
                self._store = self._factory()
            return self._store


class RequestLog:
    """Handled requests, in the state database."""

    def __init__(self, store: Callable[[], Any]):
        self.store = store
        self._pruned = 0.0

    def first_delivery(self, key: str, kind: str) -> bool:
        """True the first time a key is seen, by any process sharing the database."""
        store = self.store()
        first = store.claim_request(key, kind)
        if time.monotonic() - self._pruned > 600:
            self._pruned = time.monotonic()
            with contextlib.suppress(Exception):
                store.forget_requests(before=datetime.now(UTC) - timedelta(days=REQUEST_LOG_DAYS))
        return first

    def middleware(self, req: BoltRequest, resp: BoltResponse, next: Callable[[], Any]) -> Any:  # noqa: A002
        """bolt global middleware (after the signature check): our client and respond, then drop repeated deliveries."""
        req.context[RECEIVED_AT] = arrival(req)  # a slash command's answer must be in its ack by 3 s from here
        client = req.context.client
        if client is not None and not isinstance(client, CollabWebClient):  # bolt makes a plain one per request
            req.context["client"] = CollabWebClient(
                token=client.token,
                base_url=client.base_url,
                timeout=client.timeout,
                ssl=client.ssl,
                proxy=client.proxy,
                headers=client.headers,
                team_id=req.context.team_id,
                logger=client.logger,
                retry_handlers=client.retry_handlers,
            )
        if req.context.response_url:
            req.context["respond"] = RetryingRespond(response_url=req.context.response_url)
        if req.lazy_only:  # a lazy listener's own dispatch (FaaS adapters): the request was admitted already
            return next()
        found = request_key(req.body if isinstance(req.body, dict) else {})
        if found is None:
            return next()
        key, kind = found
        try:
            first = self.first_delivery(key, kind)
        except Exception as error:  # noqa: BLE001 - the state database is down: answer rather than stay silent
            log.warning(
                "could not record %s %s (%s: %s); handling it anyway", kind, key[:24], type(error).__name__, error
            )
            return next()
        if first:
            return next()
        retry = req.headers.get("x-slack-retry-num", [""])[0] if req.headers else ""
        reason = req.headers.get("x-slack-retry-reason", [""])[0] if req.headers else ""
        log.info(
            "%s %s delivered again (retry %s, %s): acknowledged, not handled twice",
            kind,
            key[:24],
            retry or "-",
            reason or "no reason given",
        )
        return BoltResponse(status=200, body="")
