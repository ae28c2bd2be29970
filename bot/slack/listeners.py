"""`/collab`, its buttons and the App Home tab.

The engine answers in milliseconds, so a slash command's acknowledgement *is* the answer: the
table, notes and buttons go back in the HTTP response itself, and only the chart follows (drawn in
another process, see bot/slack/chart_pool.py). An answer that isn't ready within
COLLAB_ACK_SECONDS (a slow `sql`) is acknowledged with a one-line "working on it" and sent to the
response_url when it is. Buttons are acknowledged empty at once and answered
through their response_url. What private and shared answers show to whom: bot/slack/delivery.py.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, TimeoutError
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.config import Settings
from bot.engine.answer import NotUnderstood, answer, run
from bot.engine.db import Database
from bot.engine.interpret import read
from bot.engine.question import VERBS, Query
from bot.engine.result import Result
from bot.errors import UserError
from bot.render import blocks
from bot.render.mrkdwn import escape, unescape_command
from bot.slack.delivery import (
    Conversation,
    Delivery,
    NoDirectMessage,
    NotAMember,
    Posted,
    attribution,
    permalink_suffix,
)
from bot.slack.middleware import RECEIVED_AT
from bot.slack.web import describe, is_slack_failure

log = logging.getLogger("collab.slack")

COMMAND = "/collab"
ANSWERS_KEPT = 256  # Results remembered per web process (most are a few dozen rows)
CANNOT_POST = (
    "I couldn't post this answer here: Slack refused both of my ways in (a message from me, and one "
    "through this button). Your private answer stays; `/collab … public` posts straight from a command."
)


class Answers:
    """The engine's answers, remembered per data version (a new build changes every key).

    A question asked again, and the Share, CSV and Show SQL buttons (which carry the question, not
    the answer), reuse the Result instead of querying again; the same question asked by several
    people at once is answered once. Renderers never modify a Result. Failures are not kept.
    """

    def __init__(self, database: Database, size: int = ANSWERS_KEPT):
        self.database = database
        self.size = size
        self._kept: OrderedDict[tuple[str, str], Future[Result]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, text: str) -> Result:
        key = (text, self.database.data_version)  # raises the friendly DataUnavailable when there is no data
        with self._lock:
            kept = self._kept.get(key)
            first = kept is None
            if kept is None:
                kept = self._kept[key] = Future()
                while len(self._kept) > self.size:
                    self._kept.popitem(last=False)
            else:
                self._kept.move_to_end(key)
        if first:  # this thread answers; the others asking the same meanwhile wait for it
            try:
                kept.set_result(answer(text, self.database))
            except BaseException as error:
                with self._lock:
                    self._kept.pop(key, None)
                kept.set_exception(error)
        return kept.result()


class CollabListeners:
    """The listeners; `answers` runs the engine (with a deadline), `delivery` sends what follows."""

    def __init__(
        self,
        database: Database,
        delivery: Delivery,
        answers: Executor,
        *,
        state_store: Callable[[], Any],
        settings: Settings,
    ):
        self.database = database
        self.delivery = delivery
        self.answers = answers
        self.state_store = state_store
        self.settings = settings
        self.answer = Answers(database)

    def register(self, app: App) -> None:
        app.command(COMMAND)(self.answer_command)
        app.action(blocks.SHARE_ACTION)(ack=acknowledge, lazy=[self.share_answer])
        app.action(blocks.CSV_ACTION)(ack=acknowledge, lazy=[self.send_csv])
        app.action(blocks.SQL_ACTION)(ack=acknowledge, lazy=[self.show_sql])
        app.event("app_home_opened")(self.publish_home)
        app.error(log_listener_error)

    # ------------------------------------------------------------ /collab

    def answer_command(
        self, ack: Ack, command: dict, respond: Respond, client: WebClient, context: BoltContext
    ) -> None:
        """Acknowledge with the answer itself (or a friendly error); then the chart, privately or not."""
        text = unescape_command(command.get("text"))
        user, channel = command.get("user_id", ""), command.get("channel_id", "")
        if is_digest_command(text):
            ack()  # digest commands call Slack (members, time zones): answered at the response_url
            self.answer_digest_command(command, respond, client)
            return
        # Reading and answering both run under the ack's deadline: whatever the text, the ack goes in time.
        pending = self.answers.submit(self.read_and_answer, text)
        try:
            waited = time.monotonic() - context.get(RECEIVED_AT, time.monotonic())  # e.g. behind other requests
            public, result = pending.result(timeout=max(0.0, self.settings.ack_seconds - waited))
        except TimeoutError:
            ack()  # an empty ack leaves nothing behind; the answer follows at the response_url
            with replying_on_failure(respond):
                answered = self.finish(pending, respond)
                if answered is not None:
                    self.deliver_command_answer(
                        client, respond, answered[1], text, answered[0], user=user, channel=channel, in_ack=None
                    )
            return
        except UserError as error:  # what can't be read or answered is refused in the ack itself
            ack(response_type="ephemeral", **blocks.error_message(error))
            return
        except Exception:
            log.exception("answering %r failed", text[:80])
            ack(response_type="ephemeral", **blocks.failure_message())
            return
        self.deliver_command_answer(client, respond, result, text, public, user=user, channel=channel, in_ack=ack)

    def read_and_answer(self, text: str) -> tuple[bool, Result]:
        """(whether the answer is public, the answer); commands and plain English alike."""
        reading = read(text)
        if reading.query is None:
            raise NotUnderstood(reading)
        return reading.query.public, self.answer(text)

    def finish(self, pending: Future[tuple[bool, Result]], respond: Respond) -> tuple[bool, Result] | None:
        """A slow answer, once ready; None after telling the person why there is none."""
        try:
            return pending.result()
        except UserError as error:
            self.delivery.respond_privately(respond, blocks.error_message(error))
            return None

    def deliver_command_answer(
        self,
        client: WebClient,
        respond: Respond,
        result: Result | None,
        text: str,
        public: bool,
        *,
        user: str,
        channel: str,
        in_ack: Ack | None,
    ) -> None:
        """The answer in the acknowledgement (`in_ack`) or at the response_url, then its chart."""
        if result is None:
            return
        if public:
            message = blocks.answer_message(
                result, text, shareable=False, attribution=attribution("Asked by", user, text)
            )
            kind = "in_channel"
        else:
            message = blocks.answer_message(result, text, chart_note=chart_note(result))
            kind = "ephemeral"
        if in_ack is not None:
            in_ack(response_type=kind, **message)
        else:
            response = respond(response_type=kind, replace_original=False, **message)
            if response.status_code != 200:
                log.warning("response_url refused the answer: %s %s", response.status_code, response.body)
                respond(response_type=kind, replace_original=False, **blocks.plain_message(result))
        if public:
            posted = Posted(Conversation(channel, user), ts=None)
            self.delivery.follow_public_answer(client, result, text, posted, message, respond)
        elif result.chart is not None:
            self.delivery.show_private_chart(client, respond, result, user)

    def answer_digest_command(self, command: dict, respond: Respond, client: WebClient) -> None:
        """`/collab digest …`: bot.digest reads the raw text itself (it needs the channel links)."""
        digest = _digest_module()
        with replying_on_failure(respond):
            try:
                message = digest.handle_digest_command(
                    command.get("text") or "",
                    user_id=command["user_id"],
                    channel_id=command["channel_id"],
                    client=client,
                    store=self.state_store(),
                    team_id=command.get("team_id", ""),
                    channel_name=command.get("channel_name", ""),
                    db=self.database,
                    admins=self.settings.admin_ids,
                    rules=digest.DeliveryRules.from_settings(self.settings),
                )
            except UserError as error:
                message = blocks.error_message(error)
            respond(response_type="ephemeral", replace_original=False, **message)

    # ------------------------------------------------------------ buttons

    def share_answer(self, body: dict, action: dict, respond: Respond, client: WebClient) -> None:
        """Post the answer and its chart for everyone in the conversation; the private copy goes away."""
        text, user = action.get("value", ""), body["user"]["id"]  # the server's guard checked user.id
        where = Conversation((body.get("channel") or {}).get("id", ""), user)
        with replying_on_failure(respond):
            result = self.answer_or_explain(text, respond)
            if result is None:
                return
            try:
                self.delivery.post_answer(
                    client,
                    result,
                    text,
                    where,
                    attribution=attribution("Shared by", user, text),
                    respond=respond,
                    after=lambda posted: remove_private_copy(respond, posted),
                )
            except NotAMember:
                respond(response_type="ephemeral", replace_original=False, text=f":warning: {CANNOT_POST}")
            except Exception as error:  # noqa: BLE001 - e.g. an archived channel, one where only admins may post
                if not is_slack_failure(error):
                    raise
                log.warning("sharing in %s failed: %s", where.channel, describe(error))
                respond(
                    response_type="ephemeral",
                    replace_original=False,
                    text=f":warning: I couldn't post in this conversation ({escape(describe(error))}). "
                    "Your answer is still here; please try again in a minute.",
                )

    def send_csv(self, body: dict, action: dict, respond: Respond, client: WebClient) -> None:
        """The full result as a CSV file, in the person's direct messages (private, like the answer)."""
        text, user = action.get("value", ""), body["user"]["id"]
        with replying_on_failure(respond):
            result = self.answer_or_explain(text, respond)
            if result is None:
                return
            try:
                direct, upload = self.delivery.send_csv(client, result, text, user)
            except NoDirectMessage:
                log.warning("conversations.open gave no channel for %s", user)
                respond(
                    response_type="ephemeral",
                    replace_original=False,
                    text=":page_facing_up: Slack didn't open a direct message between us, so I couldn't send the "
                    "CSV. Open collab's Messages tab once and try again.",
                )
                return
            except Exception as error:  # noqa: BLE001 - say what failed rather than "something went wrong"
                if not is_slack_failure(error):
                    raise
                log.warning("CSV upload failed: %s", describe(error))
                respond(
                    response_type="ephemeral",
                    replace_original=False,
                    text=f":page_facing_up: I couldn't send the CSV ({escape(describe(error))}). "
                    "Please try again in a minute.",
                )
                return
            where = "below" if direct == body.get("channel", {}).get("id") else "in your direct messages with collab"
            respond(
                response_type="ephemeral",
                replace_original=False,
                text=f":page_facing_up: The CSV ({len(result.frame):,} rows) is {where}{permalink_suffix(upload)}.",
            )

    def show_sql(self, action: dict, respond: Respond) -> None:
        text = action.get("value", "")
        with replying_on_failure(respond):
            result = self.answer_or_explain(text, respond)
            if result is not None:
                respond(response_type="ephemeral", replace_original=False, **blocks.sql_message(result, text))

    # ------------------------------------------------------------ App Home

    def publish_home(self, event: dict, client: WebClient) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        about, problem = None, ""
        try:
            about = run(Query(verb="about"), self.database)
        except UserError as error:
            problem = error.message
        view = blocks.home_view(VERBS, about, problem, digest_lines())
        client.views_publish(user_id=event["user"], view=view)

    # ------------------------------------------------------------ shared steps

    def answer_or_explain(self, text: str, respond: Respond) -> Result | None:
        """The Result for the text, or None after telling the person why there is none."""
        try:
            return self.answer(text)
        except UserError as error:
            self.delivery.respond_privately(respond, blocks.error_message(error))
            return None


def chart_note(result: Result) -> str:
    return ":bar_chart: The chart follows, for your eyes only." if result.chart is not None else ""


def remove_private_copy(respond: Respond, posted: Posted) -> None:
    """Once the answer is in the conversation, the asker's private copy (with its Share button) goes."""
    respond(delete_original=True)


def acknowledge(ack: Ack) -> None:
    ack()


@contextlib.contextmanager
def replying_on_failure(respond: Respond) -> Iterator[None]:
    """Log an unexpected failure and tell the person, instead of leaving them without an answer."""
    try:
        yield
    except Exception:
        log.exception("listener failed")
        with contextlib.suppress(Exception):
            respond(response_type="ephemeral", replace_original=False, **blocks.failure_message())


def log_listener_error(error: Exception, body: dict) -> None:
    log.error("unhandled error for %s: %s", body.get("type") or body.get("command"), error, exc_info=error)


def _digest_module() -> Any:
    """bot.digest when this deployment has it (channel digests are optional), else None."""
    try:
        from bot import digest
    except ImportError:
        return None
    return digest


def is_digest_command(text: str) -> bool:
    digest = _digest_module()
    return digest is not None and digest.is_digest_command(text)


def digest_lines() -> list[str] | None:
    """How channel digests work, for the Home tab, when the digests module exists; else None."""
    digest = _digest_module()
    return list(digest.home_lines()) if digest is not None else None
