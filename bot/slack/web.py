"""Slack's Web API for every part of collab: a WebClient whose posts land once (slack_sdk only, no slack_bolt).

Used by the `/collab` listeners (bot/slack/listeners.py, bot/slack/delivery.py) and by the digest
jobs (bot/digest), so both post through the same rules:

- Web API calls wait out 429s (Retry-After) and retry 5xx answers and dropped connections, except
  where a repeat could post twice: chat.postMessage and files.completeUploadExternal are retried
  blindly only when the request never left this process (connection refused); after a 5xx or a
  connection dropped once the request was sent, the channel's history is checked for the message
  (by a marker in its metadata) or the file share first, and the call is repeated only if it is not
  there. When the history can't be read, the call fails instead of risking a second post.
- The upload POST to files.getUploadURLExternal's URL is repeated on 429, 5xx and dropped
  connections: nothing is shared until files.completeUploadExternal, so a repeat is harmless.
- `respond_retry_handlers()` (for response_urls) retries 429s always, and 5xx answers and dropped
  connections of ephemeral messages and deletes (a repeat shows the asker a duplicate at worst);
  an `in_channel` post is repeated only when it never reached Slack.
- A file that a conversation refuses (files.completeUploadExternal: `not_in_channel`,
  `channel_not_found`, …) is deleted, so an abandoned upload never lingers in the bot's files.
"""

from __future__ import annotations

import http.client
import logging
import re
import time
import urllib.error
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest as RetryRequest
from slack_sdk.http_retry.response import HttpResponse as RetryResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web import SlackResponse
from slack_sdk.web.file_upload_v2_result import FileUploadV2Result

log = logging.getLogger("collab.slack")

# Methods whose repeat could show people something twice. They are repeated only when Slack cannot
# have processed the first try (429, or a connection that failed before the request was sent);
# CollabWebClient checks the channel before repeating the two the app uses after anything else.
POSTING_METHODS = frozenset(
    {
        "chat.postMessage",
        "chat.postEphemeral",
        "chat.meMessage",
        "chat.scheduleMessage",
        "files.completeUploadExternal",
        "files.upload",
        "files.remote.share",
    }
)
# Raised once the request was sent (the reply never came): Slack may have processed it. Errors while
# connecting or sending reach us wrapped in URLError instead (urllib's do_open).
AFTER_SEND_ERRORS = (ConnectionError, http.client.HTTPException, TimeoutError)
POST_MARKER_EVENT = "collab_post"  # metadata event_type carrying the marker of each chat.postMessage
# files.completeUploadExternal errors meaning the conversation won't take the file: the upload is deleted.
REFUSED_CONVERSATION = frozenset(
    {"not_in_channel", "channel_not_found", "method_not_supported_for_channel_type", "is_archived"}
)
VERIFIED_TRIES = 3
UPLOAD_TRIES = 3
HISTORY_PAGES = 10  # conversations.history pages read when looking for a post (200 messages each)


def sent_before_failing(error: BaseException) -> bool:
    """True when a failed call may have reached Slack: a 5xx answer, or a connection dropped after sending."""
    if isinstance(error, SlackApiError):
        return error.response is not None and error.response.status_code >= 500
    if isinstance(error, urllib.error.HTTPError):
        return error.code >= 500
    if isinstance(error, urllib.error.URLError):
        return False  # failed while connecting or sending: nothing was processed
    return isinstance(error, AFTER_SEND_ERRORS)


def api_method(request: RetryRequest) -> str:
    return urlparse(request.url).path.rstrip("/").rsplit("/", 1)[-1]


class _RepeatableRetry(RetryHandler):
    """A retry handler told which calls may be repeated once Slack may have acted on them."""

    def __init__(self, max_retry_count: int = 2, repeatable: Callable[[RetryRequest], bool] = lambda _: True):
        super().__init__(max_retry_count=max_retry_count)
        self.repeatable = repeatable


class ConnectionRetry(_RepeatableRetry):
    """Retry dropped connections: always when nothing was sent, after sending only if the call may repeat."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: RetryRequest,
        response: RetryResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if error is None or isinstance(error, urllib.error.HTTPError) or response is not None:
            return False
        if isinstance(error, urllib.error.URLError):
            return True
        return isinstance(error, AFTER_SEND_ERRORS) and self.repeatable(request)


class ServerErrorRetry(_RepeatableRetry):
    """Retry 5xx answers (slack_sdk's ServerErrorRetryHandler knows only 500 and 503) of calls that may repeat."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: RetryRequest,
        response: RetryResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and 500 <= response.status_code <= 599 and self.repeatable(request)


def web_retry_handlers() -> list[RetryHandler]:
    repeatable = lambda request: api_method(request) not in POSTING_METHODS  # noqa: E731
    return [
        RateLimitErrorRetryHandler(max_retry_count=3),
        ConnectionRetry(2, repeatable),
        ServerErrorRetry(2, repeatable),
    ]


def respond_retry_handlers(*, visible_to_others: bool = False) -> list[RetryHandler]:
    """The response_url: 429s always; 5xx answers and dropped connections unless others would see a repeat.

    An ephemeral message or a delete repeated after Slack took it shows at most a duplicate to the
    asker; an `in_channel` post is repeated only when it never reached Slack.
    """
    if visible_to_others:
        never_after_send = lambda request: False  # noqa: E731
        return [
            RateLimitErrorRetryHandler(max_retry_count=3),
            ConnectionRetry(2, never_after_send),
            ServerErrorRetry(2, never_after_send),
        ]
    return [RateLimitErrorRetryHandler(max_retry_count=3), ConnectionRetry(2), ServerErrorRetry(2)]


def find_in_history(
    client: WebClient, channel: str, since: float, ours: Callable[[dict], bool], thread_ts: str | None = None
) -> dict:
    """The newest message in `channel` since `since` (epoch seconds) that `ours` recognises, {} when there is none.

    Reads the history with its metadata (so `ours` can match on it), up to HISTORY_PAGES pages; a
    thread's replies, which conversations.history leaves out, through conversations.replies.
    Raises whatever those methods raise when the history can't be read (no scope, not a member,
    Slack down): the caller decides what "can't tell" means.
    """
    cursor = None
    for _ in range(HISTORY_PAGES):
        window: dict[str, Any] = {
            "channel": channel,
            "oldest": f"{since:.6f}",
            "limit": 200,
            "include_all_metadata": True,
        }
        if thread_ts:
            page = client.conversations_replies(ts=thread_ts, cursor=cursor, **window)
        else:
            page = client.conversations_history(cursor=cursor, **window)
        for message in page.get("messages") or []:
            if ours(message):
                return message
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor or not page.get("has_more", True):
            break
    return {}


class CollabWebClient(WebClient):
    """A WebClient whose posts land once: see the module docstring for what is retried and how."""

    def chat_postMessage(self, **kwargs: Any) -> SlackResponse:
        marker = uuid.uuid4().hex
        metadata = kwargs.get("metadata")
        if metadata is None:
            kwargs["metadata"] = {"event_type": POST_MARKER_EVENT, "event_payload": {"collab_post": marker}}
        elif isinstance(metadata, dict):  # keep the caller's metadata, add the marker to its payload
            kwargs["metadata"] = {
                **metadata,
                "event_payload": {**(metadata.get("event_payload") or {}), "collab_post": marker},
            }
        else:
            marker = ""  # a Metadata object: no marker to look for, so never repeated after sending

        def ours(message: dict) -> bool:
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            return bool(marker) and payload.get("collab_post") == marker

        return self._post_once(
            "chat.postMessage",
            kwargs.get("channel"),
            ours,
            lambda: super(CollabWebClient, self).chat_postMessage(**kwargs),
            thread_ts=kwargs.get("thread_ts"),
        )

    def files_completeUploadExternal(self, **kwargs: Any) -> SlackResponse:
        ids = {str(f.get("id")) for f in kwargs.get("files") or [] if isinstance(f, dict)}

        def ours(message: dict) -> bool:
            return any(str(f.get("id")) in ids for f in message.get("files") or [] if isinstance(f, dict))

        call = lambda: super(CollabWebClient, self).files_completeUploadExternal(**kwargs)  # noqa: E731
        channel = kwargs.get("channel_id")
        if not channel:  # not shared anywhere: completing twice shows nothing twice
            return self._post_once("files.completeUploadExternal", None, None, call)
        try:
            return self._post_once(
                "files.completeUploadExternal", channel, ours, call, thread_ts=kwargs.get("thread_ts")
            )
        except SlackApiError as error:
            if api_error(error) in REFUSED_CONVERSATION:
                self._abandon(ids)
            raise

    def _abandon(self, file_ids: set[str]) -> None:
        """Delete uploads that a conversation refused, rather than leave them in the bot's files."""
        for file_id in file_ids:
            try:
                self.files_delete(file=file_id)
            except Exception as error:  # noqa: BLE001 - it is shared nowhere either way
                log.info("could not delete the refused upload %s: %s", file_id, describe(error))

    def _post_once(
        self,
        method: str,
        channel: str | None,
        ours: Callable[[dict], bool] | None,
        call: Callable[[], SlackResponse],
        *,
        thread_ts: str | None = None,
    ) -> SlackResponse:
        """Call; after a failure that Slack may have processed, repeat only if the post is not in the channel."""
        since = time.time() - 5
        for attempt in range(1, VERIFIED_TRIES + 1):
            try:
                return call()
            except Exception as error:  # noqa: BLE001 - classified below, re-raised unless retried
                if not sent_before_failing(error):
                    raise
                if ours is None:
                    if attempt == VERIFIED_TRIES:
                        raise
                    log.warning("%s failed (%s); trying again", method, describe(error))
                    time.sleep(0.5 * attempt)
                    continue
                found = self._look_for(channel, since, ours, thread_ts)
                if found is None:
                    log.warning(
                        "%s to %s failed (%s) and its history can't be read: not repeated",
                        method,
                        channel,
                        describe(error),
                    )
                    raise
                if found:
                    log.info(
                        "%s to %s failed (%s) but it is in the channel (ts %s): not repeated",
                        method,
                        channel,
                        describe(error),
                        found.get("ts"),
                    )
                    return SlackResponse(
                        client=self,
                        http_verb="POST",
                        api_url=f"{self.base_url}{method}",
                        req_args={},
                        headers={},
                        status_code=200,
                        data={
                            "ok": True,
                            "channel": channel,
                            "ts": found.get("ts"),
                            "message": found,
                            "files": found.get("files") or [],
                        },
                    )
                if attempt == VERIFIED_TRIES:
                    raise
                log.warning(
                    "%s to %s failed (%s) and is not in the channel: trying again", method, channel, describe(error)
                )
                time.sleep(0.5 * attempt)
        raise AssertionError("unreachable")

    def _look_for(
        self, channel: str | None, since: float, ours: Callable[[dict], bool], thread_ts: str | None = None
    ) -> dict | None:
        """find_in_history, with None when the history can't be read (the post is then not repeated)."""
        if not channel:
            return None
        try:
            return find_in_history(self, channel, since, ours, thread_ts)
        except Exception as error:  # noqa: BLE001 - no scope, not a member, Slack down: can't tell
            log.warning("conversations.history on %s failed: %s", channel, describe(error))
            return None

    def _upload_file(self, *, url: str, data: bytes, **kwargs: Any) -> FileUploadV2Result:
        """The upload POST: repeated on 429 (after Retry-After), 5xx and dropped connections.

        Nothing is shared until files.completeUploadExternal, so sending the bytes again is harmless.
        """
        for attempt in range(1, UPLOAD_TRIES + 1):
            try:
                return super()._upload_file(url=url, data=data, **kwargs)
            except urllib.error.HTTPError as error:
                if (error.code != 429 and error.code < 500) or attempt == UPLOAD_TRIES:
                    raise
                wait = float(error.headers.get("Retry-After") or 1) if error.code == 429 else 0.5 * attempt
            except (urllib.error.URLError, *AFTER_SEND_ERRORS):
                if attempt == UPLOAD_TRIES:
                    raise
                wait = 0.5 * attempt
            log.warning("file upload POST failed (attempt %d): retrying in %.1f s", attempt, wait)
            time.sleep(wait)
        raise AssertionError("unreachable")


def web_client(token: str, api_url: str | None = None) -> CollabWebClient:
    """A Web API client that waits out rate limits, retries what is safe to repeat and never posts twice."""
    base_url = api_url or WebClient.BASE_URL
    return CollabWebClient(
        token=token,
        base_url=base_url if base_url.endswith("/") else base_url + "/",
        retry_handlers=web_retry_handlers(),
    )


def api_error(error: BaseException) -> str:
    """Slack's error code for a failed Web API call ("not_in_channel"); for other failures, the error's type name."""
    response = getattr(error, "response", None)
    if response is not None:
        try:
            return str(response.get("error") or error)
        except Exception:  # noqa: BLE001 - odd response objects
            pass
    return type(error).__name__


def is_slack_failure(error: BaseException) -> bool:
    """An error from talking to Slack (an API error, an HTTP error, a dropped connection), not a bug."""
    return isinstance(error, (SlackApiError, urllib.error.URLError, *AFTER_SEND_ERRORS))


def describe(error: BaseException) -> str:
    """A short, plain reason for a failed Slack call, fit to show a person."""
    if isinstance(error, SlackApiError):
        status = error.response.status_code if error.response is not None else 200
        if status >= 500:
            return f"Slack answered with an error, HTTP {status}"
        if status == 429:
            return "Slack is rate-limiting me"
        code = api_error(error)
        return code if re.fullmatch(r"[a-z_]{1,60}", code or "") else "Slack refused the request"
    if isinstance(error, urllib.error.HTTPError):
        return f"Slack answered with an error, HTTP {error.code}"
    if isinstance(error, (urllib.error.URLError, *AFTER_SEND_ERRORS)):
        return "Slack did not answer"
    return "an unexpected problem"
