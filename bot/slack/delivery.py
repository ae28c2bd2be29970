"""Delivering a Result in Slack: the answer at once, its chart after, and nothing where it shouldn't be.

What people see:
- A private answer (the default): the asker sees the table and buttons in the slash command's
  acknowledgement (ephemeral), then the chart as a second ephemeral message, an image block
  showing a file uploaded to Slack but shared in no conversation. Nobody else sees anything:
  no upload into the channel, no join, no post. If Slack will not show that file (an image block
  referencing it is refused after a few tries), the chart goes to the asker's direct messages
  with collab instead; still only theirs.
- A public answer (`public`, Share to channel, and answers in threads): the answer is posted
  where everyone in the conversation sees it, attributed, then the chart the same way. Where
  chat.postMessage can't reach (a DM, a group DM or a private channel the bot isn't in), the
  command's or button's response_url posts it `in_channel`, which works in any conversation.
  When the table shows only the first rows, the CSV with every row follows in the answer's thread.

`post_answer` is the one way to put an answer in a conversation or thread; `show_private_chart`
the one way to show a chart to one person. Charts are drawn by the ChartPool (other processes)
and uploaded on background threads, so a request thread only ever acknowledges.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookResponse

from bot.engine.result import Result
from bot.render import blocks
from bot.render.data import to_csv
from bot.render.mrkdwn import escape
from bot.slack.chart_pool import ChartPool
from bot.slack.web import api_error, describe, is_slack_failure

log = logging.getLogger("collab.slack")

# Errors meaning the bot may not post or upload in a conversation (it is not a member).
NOT_A_MEMBER = {"not_in_channel", "channel_not_found", "method_not_supported_for_channel_type"}
CHART_SECONDS = 30.0  # longest wait for a drawing process before telling the person
IMAGE_TRIES = 3  # Slack processes an upload asynchronously: an image block can be refused for a moment
IMAGE_RETRY_SECONDS = 1.0
# An answer in an ack reaches Slack a few milliseconds after ack(); a chart drawn before (or kept
# from before) waits this long, so that it never shows up above its answer.
ACK_HEAD_START = 0.25
CHARTS_KEPT = 64  # PNGs (about 80 KB each) remembered per web process


class NotAMember(Exception):
    """The bot may not post in the conversation, and there is no response_url to post through."""


class ResponseRefused(Exception):
    """A response_url post that Slack answered with an error status."""

    def __init__(self, response: WebhookResponse):
        super().__init__(f"response_url answered {response.status_code}: {response.body}")
        self.status = response.status_code


def reason(error: BaseException) -> str:
    """Why a step failed, in words fit to show a person."""
    if isinstance(error, ResponseRefused):
        return f"Slack answered with an error, HTTP {error.status}"
    if isinstance(error, NoDirectMessage):
        return "Slack didn't open a direct message between us"
    return describe(error)


class NoDirectMessage(Exception):
    """Slack did not open (or name) the bot's direct-message conversation with a person."""


@dataclass(frozen=True)
class Conversation:
    """Where an answer goes: a conversation, optionally a thread in it, and who asked."""

    channel: str
    user: str = ""
    thread_ts: str | None = None


@dataclass(frozen=True)
class Posted:
    """Where a public answer landed: through the Web API (with its ts) or through a response_url."""

    conversation: Conversation
    ts: str | None  # None when posted through a response_url (Slack returns no ts for it)

    @property
    def thread(self) -> str | None:
        return self.conversation.thread_ts or self.ts


def attribution(verb: str, user: str, text: str, now: float | None = None) -> str:
    """`Shared by @someone · date · /collab text`, for answers others see."""
    now = time.time() if now is None else now
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d %H:%M UTC")
    who = f" <@{user}>" if re.fullmatch(r"[UW][A-Z0-9]{2,}", user or "") else ""
    return f"{verb}{who} · {blocks.slack_date(now, stamp)} · `/collab {escape(blocks.cut(text, 200))}`"


def file_stem(result: Result) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", result.title.lower()).strip("-")
    return f"collab-{slug[:80] or result.command}"


def permalink_suffix(upload: Any) -> str:
    link = (upload.get("file") or {}).get("permalink") if upload is not None else None
    return f" (<{link}|open>)" if link else ""


def refused_blocks(response: WebhookResponse) -> bool:
    return response.status_code != 200 and "invalid_blocks" in (response.body or "")


class Delivery:
    """Answers, charts and CSV files into Slack; slow steps run on `background` threads."""

    def __init__(self, charts: ChartPool, background: Executor):
        self.charts = charts
        self.background = background
        self._direct_channels: dict[str, str] = {}  # user id -> the bot's DM with them
        # A Result's chart, drawn once: a repeated question and its Share reuse the same Result
        # (bot/slack/listeners.py's Answers). Keyed by identity; the Result is kept with it.
        self._drawn: OrderedDict[int, tuple[Result, Future[bytes]]] = OrderedDict()
        self._drawn_lock = threading.Lock()

    def draw(self, result: Result) -> Future[bytes]:
        """The chart's PNG: drawn in the ChartPool, or the one already drawn for this Result."""
        with self._drawn_lock:
            kept = self._drawn.get(id(result))
            if kept is not None and kept[0] is result and not (kept[1].done() and kept[1].exception()):
                self._drawn.move_to_end(id(result))
                return kept[1]
            png = self.charts.draw(result)
            self._drawn[id(result)] = (result, png)
            while len(self._drawn) > CHARTS_KEPT:
                self._drawn.popitem(last=False)
            return png

    # ------------------------------------------------------------ to one person

    def respond_privately(
        self, respond: Respond, message: dict[str, Any], *, plain: dict[str, Any] | None = None
    ) -> None:
        """An ephemeral message at the response_url; its text-only form if Slack refuses the blocks."""
        response = respond(response_type="ephemeral", replace_original=False, **message)
        if response.status_code == 200:
            return
        log.warning("response_url refused a message: %s %s", response.status_code, response.body)
        if plain is not None and refused_blocks(response):
            respond(response_type="ephemeral", replace_original=False, **plain)

    def show_private_chart(self, client: WebClient, respond: Respond, result: Result, user: str) -> Future[None]:
        """Draw the chart and show it to `user` alone, after the answer (returns at once)."""
        png = self.draw(result)
        after = time.monotonic() + ACK_HEAD_START
        return self.background.submit(self._show_private_chart, client, respond, result, user, png, after)

    def _show_private_chart(
        self, client: WebClient, respond: Respond, result: Result, user: str, png: Future[bytes], after: float
    ) -> None:
        with telling_on_failure(respond, "chart", "the table above has the numbers"):
            data = png.result(timeout=CHART_SECONDS)
            wait_until(after)
            file_id = upload_unshared(client, result, data)
            message = blocks.chart_message(result, file_id)
            if show_image(lambda: respond(response_type="ephemeral", replace_original=False, **message)):
                return
            # Slack won't show the unshared file to the asker: their DM with collab is private too.
            delete_file(client, file_id)
            direct = self.direct_channel(client, user)
            upload = client.files_upload_v2(
                channel=direct,
                file=data,
                filename=f"{file_stem(result)}.png",
                title=result.title,
                alt_txt=blocks.cut(blocks.chart_alt_text(result), 1000),
            )
            respond(
                response_type="ephemeral",
                replace_original=False,
                text=f":bar_chart: The chart is in your direct messages with collab{permalink_suffix(upload)}.",
            )

    def send_csv(self, client: WebClient, result: Result, text: str, user: str) -> tuple[str, Any]:
        """The full result as a CSV file in the person's DM with collab: (the DM's id, the upload)."""
        direct = self.direct_channel(client, user)
        upload = client.files_upload_v2(
            channel=direct,
            content=to_csv(result),
            filename=f"{file_stem(result)}.csv",
            title=f"{result.title} (CSV)",
            initial_comment=blocks.csv_comment(result, f"CSV for `{escape(blocks.cut(text, 200))}`"),
        )
        return direct, upload

    def direct_channel(self, client: WebClient, user: str) -> str:
        """The bot's DM with a person (opened once, then remembered)."""
        if user not in self._direct_channels:
            opened = client.conversations_open(users=user)
            channel = (opened.get("channel") or {}).get("id") if opened is not None else None
            if not channel:
                raise NoDirectMessage(f"conversations.open named no conversation for {user}")
            self._direct_channels[user] = channel
        return self._direct_channels[user]

    # ------------------------------------------------------------ to everyone in a conversation

    def post_answer(
        self,
        client: WebClient,
        result: Result,
        text: str,
        where: Conversation,
        *,
        attribution: str = "",
        respond: Respond | None = None,
        after: Callable[[Posted], None] | None = None,
    ) -> Posted:
        """Post the answer (table, notes, CSV and SQL buttons) in a conversation or thread, then its chart.

        Uses chat.postMessage; where the bot can't post (not a member), the response_url `in_channel`
        when there is one, else raises NotAMember. The chart (and, when the table is cut, the CSV in
        the answer's thread) follow on a background thread; `after` runs once the answer is posted.
        Other Slack failures are raised for the caller to explain.
        """
        message = blocks.answer_message(result, text, shareable=False, attribution=attribution)
        plain = blocks.plain_message(result, attribution=attribution)
        try:
            ts = post_message(client, where, message, plain)
            posted = Posted(where, ts)
        except NotAMember:
            if respond is None:
                raise
            response = respond(response_type="in_channel", replace_original=False, **message)
            if refused_blocks(response):
                response = respond(response_type="in_channel", replace_original=False, **plain)
            if response.status_code != 200:
                raise NotAMember(f"response_url refused the post: {response.status_code} {response.body}") from None
            posted = Posted(where, None)
        if after is not None:
            after(posted)
        self.follow_public_answer(client, result, text, posted, message, respond)
        return posted

    def follow_public_answer(
        self,
        client: WebClient,
        result: Result,
        text: str,
        posted: Posted,
        message: dict[str, Any],
        respond: Respond | None,
    ) -> None:
        """After a public answer (`message`, already posted): its chart, and the CSV when the table is cut."""
        png = self.draw(result) if result.chart is not None else None
        cut_rows = bool(blocks.rows_note(result, shown_rows(message)))
        if png is not None or cut_rows:
            after = time.monotonic() + ACK_HEAD_START
            self.background.submit(
                self._follow_public_answer, client, result, text, posted, png, cut_rows, respond, after
            )

    def _follow_public_answer(
        self,
        client: WebClient,
        result: Result,
        text: str,
        posted: Posted,
        png: Future[bytes] | None,
        cut_rows: bool,
        respond: Respond | None,
        after: float,
    ) -> None:
        wait_until(after)
        if png is not None:
            with telling_on_failure(respond, "chart", "the answer is posted"):
                self._post_chart(client, result, posted, png.result(timeout=CHART_SECONDS), respond)
        if cut_rows:
            with telling_on_failure(respond, "CSV file", "the CSV button gives every row"):
                self._post_csv(client, result, text, posted, respond)

    def _post_chart(
        self, client: WebClient, result: Result, posted: Posted, png: bytes, respond: Respond | None
    ) -> None:
        file_id = upload_unshared(client, result, png)
        message = blocks.chart_message(result, file_id)
        where = posted.conversation

        def post() -> Any:  # where the answer went: the Web API, or the response_url in_channel
            if posted.ts is not None:
                return client.chat_postMessage(
                    channel=where.channel, thread_ts=where.thread_ts, unfurl_links=False, **message
                )
            if respond is None:
                raise AssertionError("an answer posted at a response_url, but no response_url")
            return respond(response_type="in_channel", replace_original=False, **message)

        if show_image(post):
            return
        delete_file(client, file_id)
        # Slack won't show the file by reference: share it into the conversation itself where the bot can.
        client.files_upload_v2(
            channel=where.channel,
            thread_ts=where.thread_ts,
            file=png,
            filename=f"{file_stem(result)}.png",
            title=result.title,
            alt_txt=blocks.cut(blocks.chart_alt_text(result), 1000),
        )

    def _post_csv(self, client: WebClient, result: Result, text: str, posted: Posted, respond: Respond | None) -> None:
        """Every row, as a CSV file in the answer's thread (the table showed only the first rows)."""
        channel = posted.conversation.channel

        def upload() -> None:
            client.files_upload_v2(
                channel=channel,
                thread_ts=posted.thread,
                content=to_csv(result),
                filename=f"{file_stem(result)}.csv",
                title=f"{result.title} (CSV)",
                initial_comment=blocks.csv_comment(
                    result, f"All {len(result.frame):,} rows of `/collab {escape(blocks.cut(text, 200))}`."
                ),
            )

        try:
            upload()
            return
        except SlackApiError as error:
            if api_error(error) not in NOT_A_MEMBER:
                raise
            code = api_error(error)
        if code == "not_in_channel":
            # chat:write.public posted the answer in a public channel the bot isn't in, but files are
            # shared only where it is a member: join (channels:join), then attach the CSV after all.
            try:
                client.conversations_join(channel=channel)
                upload()
                return
            except SlackApiError as error:
                if api_error(error) not in NOT_A_MEMBER | {"is_archived", "restricted_action"}:
                    raise
                log.info("could not join %s for the CSV: %s", channel, api_error(error))
        # A response_url post reached a conversation the bot can't upload to (a DM, a private channel).
        if respond is not None:
            respond(
                response_type="ephemeral",
                replace_original=False,
                text=":page_facing_up: I can't attach files in this conversation because I'm not a member; "
                "the *CSV* button on the answer sends every row to whoever presses it.",
            )


# ---------------------------------------------------------------- Web API steps


def wait_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.monotonic()))


def shown_rows(message: dict[str, Any]) -> int:
    """Rows under the headings of the message's table block (0 without one)."""
    for block in message.get("blocks") or []:
        if block.get("type") == "table":
            return len(block["rows"]) - 1
    return 0


def post_message(client: WebClient, where: Conversation, message: dict[str, Any], plain: dict[str, Any]) -> str:
    """chat.postMessage with the blocks, or as text if Slack refuses them; the message's ts."""
    try:
        response = client.chat_postMessage(
            channel=where.channel, thread_ts=where.thread_ts, unfurl_links=False, **message
        )
    except SlackApiError as error:
        if api_error(error) in NOT_A_MEMBER:
            raise NotAMember(api_error(error)) from error
        if api_error(error) != "invalid_blocks":
            raise
        log.warning("chat.postMessage refused the blocks: %s", error.response.get("errors"))
        response = client.chat_postMessage(
            channel=where.channel, thread_ts=where.thread_ts, unfurl_links=False, **plain
        )
    return str(response.get("ts") or "")


def upload_unshared(client: WebClient, result: Result, png: bytes) -> str:
    """Upload the chart to Slack without sharing it in any conversation; its file id."""
    upload = client.files_upload_v2(
        file=png,
        filename=f"{file_stem(result)}.png",
        title=result.title,
        alt_txt=blocks.cut(blocks.chart_alt_text(result), 1000),
    )
    return str(upload["file"]["id"])


def show_image(post: Callable[[], Any]) -> bool:
    """Post a message with an image block; True once Slack accepts it, False if it keeps refusing the file.

    Slack processes an upload asynchronously, and refuses an image block naming a file it hasn't
    finished (`invalid_blocks`, "invalid slack file"); a refused post shows nothing, so it may repeat.
    """
    for attempt in range(1, IMAGE_TRIES + 1):
        try:
            reply = post()
        except SlackApiError as error:
            if api_error(error) != "invalid_blocks":
                raise
            reason = str(error.response.get("errors") or "invalid_blocks")
        else:
            if not isinstance(reply, WebhookResponse) or reply.status_code == 200:
                return True
            if not refused_blocks(reply):
                raise ResponseRefused(reply)
            reason = reply.body
        log.info("Slack refused the chart's image block (try %d): %s", attempt, reason)
        if attempt < IMAGE_TRIES:
            time.sleep(IMAGE_RETRY_SECONDS * attempt)
    return False


def delete_file(client: WebClient, file_id: str) -> None:
    """Remove an upload nobody will see (best effort: it is shared nowhere either way)."""
    try:
        client.files_delete(file=file_id)
    except Exception as error:  # noqa: BLE001 - an unshared file left behind is harmless
        log.info("could not delete unshared file %s: %s", file_id, describe(error))


@contextlib.contextmanager
def telling_on_failure(respond: Respond | None, what: str, meanwhile: str) -> Iterator[None]:
    """After the answer is delivered: a failed chart or CSV is logged and explained, never raised."""
    try:
        yield
    except Exception as error:  # noqa: BLE001 - the answer stands; say why its chart or file doesn't
        expected = is_slack_failure(error) or isinstance(error, (ResponseRefused, NoDirectMessage))
        log.warning("%s failed: %s", what, reason(error), exc_info=not expected)
        if respond is not None:
            with contextlib.suppress(Exception):
                respond(
                    response_type="ephemeral",
                    replace_original=False,
                    text=f":warning: I couldn't add the {what} ({escape(reason(error))}); {meanwhile}.",
                )
