"""Talking to collab in Slack: mentions, direct messages and follow-ups in threads.

- A mention (`@collab who does Malaysia work with?`) is answered in a thread under the question; the
  question was public, so the answer is too.
- A direct message is answered in the DM (in its thread, when it was written in one).
- A reply in a thread where collab answered, with or without a mention, and in a DM the next
  message, is read against that conversation's last question: "and in computer vision?" changes one
  slot of it. The last question lives in the state database (`conversation_threads`), so any web
  process can take the follow-up; it is forgotten after a day (COLLAB_THREAD_HOURS). A channel
  thread reply without a mention that reads as nothing (people talking among themselves) is left
  alone.
- Ignored: collab's own messages and other bots', edits, deletions and other message subtypes, and
  channel messages that neither mention collab nor reply in one of its threads. A repeated Events API
  delivery (the same event_id) is dropped before it gets here, by the request log in bot/slack/app.py.

Plain English is read by bot/engine/interpret.py; the answer opens with the command it was read as.
When a question is read only in part, the reply says what was understood and offers commands as
buttons; pressing one answers it in the same conversation.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Protocol

from slack_bolt import App, BoltContext, Respond
from slack_sdk import WebClient

from bot.engine.answer import run
from bot.engine.commands import parse
from bot.engine.db import Database
from bot.engine.interpret import canonical, read, read_as_line
from bot.engine.question import Query
from bot.errors import UserError
from bot.render import blocks
from bot.render.mrkdwn import unescape_command
from bot.slack.delivery import Conversation, Delivery, post_message
from bot.slack.listeners import acknowledge
from bot.slack.web import describe, is_slack_failure
from bot.state.store import ConversationThread, Store

log = logging.getLogger("collab.slack.conversation")

PRUNE_SECONDS = 600  # how often a process drops expired conversations
CHOICE_PATTERN = re.compile(rf"^{blocks.CHOICE_ACTION}_\d+$")
# Message subtypes that are a person writing something new; the rest (edits, deletions, joins…) are not.
NEW_MESSAGE_SUBTYPES = (None, "file_share", "thread_broadcast")
CHANNEL_TYPES = ("channel", "group", "mpim")
ANSWER_ACTIONS = (blocks.SHARE_ACTION, blocks.CSV_ACTION, blocks.SQL_ACTION)  # buttons carrying the command


@dataclass(frozen=True)
class Place:
    """Where a question was asked: where its answer goes and which conversation's memory it uses."""

    channel: str
    reply_ts: str | None  # the thread to answer in; None: the DM itself
    memory_ts: str  # the conversation's key with the channel: the thread's ts, or "" for a DM's own stream
    team: str = ""
    user: str = ""

    @property
    def conversation(self) -> Conversation:
        """Where delivery posts the answer."""
        return Conversation(self.channel, self.user, self.reply_ts)


class AssistantThread(Protocol):
    """What Slack's assistant pane adds to a conversation (bolt's set_status and set_title)."""

    def status(self, text: str) -> None: ...

    def title(self, text: str) -> None: ...


def ignored(event: dict[str, Any], bot_user_id: str | None) -> str:
    """Why a message event is not a question for collab ("" when it is one)."""
    if event.get("subtype") not in NEW_MESSAGE_SUBTYPES:
        return f"a {event.get('subtype')} event"
    if event.get("bot_id") or event.get("bot_profile") or event.get("subtype") == "bot_message":
        return "a bot's message"
    if not event.get("user") or (bot_user_id and event.get("user") == bot_user_id):
        return "not written by a person"
    if event.get("edited"):
        return "an edited message"
    return ""


def mentions(text: str, bot_user_id: str | None) -> bool:
    return bool(bot_user_id) and f"<@{bot_user_id}" in (text or "")


def question_text(text: str, bot_user_id: str | None) -> str:
    """The question as typed: collab's own mention removed, Slack's markup and entities turned back."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(\|[^>]*)?>", " ", text or "")
    return " ".join(unescape_command(text).split())


def mention_place(event: dict[str, Any], team: str) -> Place:
    thread = event.get("thread_ts") or event["ts"]  # a mention at the top starts a thread under itself
    return Place(event["channel"], thread, thread, team, event.get("user", ""))


def direct_place(event: dict[str, Any], team: str) -> Place:
    thread = event.get("thread_ts")
    return Place(event["channel"], thread, thread or "", team, event.get("user", ""))


class Conversations:
    """The listeners for mentions, messages and choice buttons, sharing one conversation memory."""

    def __init__(self, database: Database, delivery: Delivery, store: Callable[[], Store], *, memory: timedelta):
        self.database = database
        self.delivery = delivery
        self._store = store  # the process's state Store, opened on first use
        self.memory = memory
        self._pruned = 0.0
        self._prune_lock = threading.Lock()

    def register(self, app: App) -> None:
        app.event("app_mention")(self.on_mention)
        app.event("message")(self.on_message)
        app.action(CHOICE_PATTERN)(ack=acknowledge, lazy=[self.on_choice])

    # ------------------------------------------------------------ events

    def on_mention(self, event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        reason = ignored(event, context.bot_user_id)
        if reason:
            log.debug("mention ignored: %s", reason)
            return
        place = mention_place(event, context.team_id or "")
        self.converse(place, event.get("text", ""), client, context, self.recall(place, event, client, context))

    def on_message(self, event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        """DMs, and replies in channel threads collab answered in; everything else is left alone."""
        if ignored(event, context.bot_user_id):
            return
        kind = event.get("channel_type")
        if kind == "im":
            place = direct_place(event, context.team_id or "")
            self.converse(place, event.get("text", ""), client, context, self.recall(place, event, client, context))
            return
        if kind not in CHANNEL_TYPES or not event.get("thread_ts"):
            return  # a channel message at the top: only a mention (its own event) is for collab
        if mentions(event.get("text", ""), context.bot_user_id):
            return  # the app_mention event for this same message answers it
        place = Place(event["channel"], event["thread_ts"], event["thread_ts"], context.team_id or "", event["user"])
        remembered = self.recall(place, event, client, context)
        if remembered is None or remembered.command is None:
            return  # someone else's thread, or collab's answer there was forgotten
        # Not addressed to collab: people may be talking among themselves, so only a reply that reads
        # as a change to the question (or offers commands) gets an answer; chatter gets no "I couldn't tell".
        self.converse(place, event.get("text", ""), client, context, remembered, quiet_unless_read=True)

    def on_choice(self, body: dict[str, Any], action: dict[str, Any], respond: Respond, client: WebClient) -> None:
        """A command picked from the choices offered for a question: answer it where the choices were."""
        command = action.get("value", "")
        if not command:
            return
        message = body.get("message") or {}
        channel = str((body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id"))
        thread = message.get("thread_ts") or (body.get("container") or {}).get("thread_ts")
        user = (body.get("user") or {}).get("id", "")
        place = Place(channel, thread, thread or "", (body.get("team") or {}).get("id", ""), user)
        with contextlib.suppress(Exception):  # the choices become a note of what was picked
            respond(replace_original=True, text=f"<@{user}> picked `{blocks.escape(command)}`.")
        with self.replying_on_failure(client, place):
            try:
                query = parse(command)
            except UserError as error:
                self.post(client, place, blocks.error_message(error))
                return
            self.answer(client, place, query, command, read_as="")

    # ------------------------------------------------------------ one turn of a conversation

    def converse(
        self,
        place: Place,
        raw_text: str,
        client: WebClient,
        context: BoltContext,
        remembered: ConversationThread | None,
        *,
        assistant: AssistantThread | None = None,
        in_assistant_pane: bool = False,
        quiet_unless_read: bool = False,
    ) -> None:
        """Read the question (against the conversation's last one, `remembered`), answer it, and remember it.

        assistant: the pane's status and title calls, used in assistant threads (`in_assistant_pane`,
        or a thread remembered as one). quiet_unless_read: say nothing when the text reads as nothing.
        """
        text = question_text(raw_text, context.bot_user_id)
        previous = self.previous_query(remembered)
        in_pane = in_assistant_pane or (remembered is not None and remembered.assistant)
        pane = assistant if in_pane else None
        with self.replying_on_failure(client, place, pane):
            reading = read(text, previous)
            if reading.query is None:
                if quiet_unless_read and not reading.choices:
                    log.debug("thread reply in %s read as nothing: left alone", place.channel)
                    return
                self.post(client, place, blocks.choices_message(reading.understood, reading.choices))
                return
            if pane is not None:
                if previous is None:  # the first question names the thread in the assistant pane
                    call_quietly(pane.title, blocks.cut(text, 120))
                call_quietly(pane.status, "is looking through the data…")
            self.answer(client, place, reading.query, reading.command, read_as=read_as_line(reading), pane=pane)

    def answer(
        self,
        client: WebClient,
        place: Place,
        query: Query,
        command: str,
        *,
        read_as: str,
        pane: AssistantThread | None = None,
    ) -> None:
        """Run the query, post the answer (table, buttons) and its chart, and remember the command.

        Raises the UserError of a query that can't be answered (replying_on_failure tells the person).
        """
        result = run(query, self.database)
        # Remembered before it is posted: a reply to the answer may arrive as soon as it shows.
        self.remember(place, command)
        result.read_as = read_as
        try:  # the table and buttons now; the chart (and the CSV, when the table is cut) follow in the thread
            posted = self.delivery.post_answer(client, result, command, place.conversation)
        except Exception as error:  # noqa: BLE001 - not a member, Slack down: logged; no one else to tell
            log.warning(
                "could not answer in %s: %s", place.channel, describe(error), exc_info=not is_slack_failure(error)
            )
            if pane is not None:
                call_quietly(pane.status, "")  # a posted reply clears the status by itself
            return
        if place.reply_ts is None and posted.ts:  # an answer at the top of a DM: a thread under it follows it up
            self.remember(Place(place.channel, posted.ts, posted.ts, place.team, place.user), command)

    # ------------------------------------------------------------ Slack and the memory

    @contextlib.contextmanager
    def replying_on_failure(
        self, client: WebClient, place: Place, pane: AssistantThread | None = None
    ) -> Iterator[None]:
        """A friendly error for input that can't be answered; for a failure of ours, say so rather than go quiet."""
        try:
            yield
            return
        except UserError as error:
            message = blocks.error_message(error)
        except Exception:
            log.exception("answering in %s failed", place.channel)
            message = blocks.failure_message()
        self.post(client, place, message)
        if pane is not None:
            call_quietly(pane.status, "")  # a posted answer would have cleared it

    def post(self, client: WebClient, place: Place, message: dict[str, Any]) -> None:
        """A short reply in the conversation (what was understood, an error); logged when Slack refuses it."""
        try:
            post_message(client, place.conversation, message, {"text": message["text"]})
        except Exception as error:  # noqa: BLE001 - not a member, Slack down: logged; no one else to tell
            log.warning(
                "could not reply in %s: %s", place.channel, describe(error), exc_info=not is_slack_failure(error)
            )

    def recall(
        self, place: Place, event: dict[str, Any], client: WebClient, context: BoltContext
    ) -> ConversationThread | None:
        """The conversation's record; for a reply under an answer collab posted elsewhere, that answer's command.

        `/collab … public` and Share put answers in channels outside any conversation here: a reply
        in their thread (Slack names collab as the thread's parent_user_id) is read against the
        command their buttons carry, which is then remembered like any other.
        """
        remembered = self.remembered(place)
        if remembered is not None and remembered.command is not None:
            return remembered
        thread = event.get("thread_ts")
        if not thread or not context.bot_user_id or event.get("parent_user_id") != context.bot_user_id:
            return remembered
        try:
            page = client.conversations_replies(channel=place.channel, ts=thread, limit=1)
        except Exception as error:  # noqa: BLE001 - no history scope here, Slack down: the question stands alone
            log.info("could not read the answer above %s/%s: %s", place.channel, thread, describe(error))
            return remembered
        parent = next((m for m in page.get("messages") or [] if m.get("ts") == thread), None)
        query = read(command_on(parent)).query if parent is not None and command_on(parent) else None
        if query is None:
            return remembered  # collab's message above is no answer (a digest, choices, a greeting)
        self.remember(place, canonical(replace(query, public=False)))
        return self.remembered(place)

    def remembered(self, place: Place) -> ConversationThread | None:
        """The conversation's record (last command, assistant pane), or None; None too if the database is down."""
        try:
            return self._store().thread(place.channel, place.memory_ts, max_age=self.memory)
        except Exception as error:  # noqa: BLE001 - without memory the question is still answered on its own
            log.warning("could not read conversation %s/%s: %s", place.channel, place.memory_ts, error)
            return None

    def remember(self, place: Place, command: str) -> None:
        try:
            store = self._store()
            store.remember_thread(place.channel, place.memory_ts, team_id=place.team, command=command)
            self._prune(store)
        except Exception as error:  # noqa: BLE001 - the answer is posted; only follow-ups lose their context
            log.warning("could not remember conversation %s/%s: %s", place.channel, place.memory_ts, error)

    def _prune(self, store: Store) -> None:
        with self._prune_lock:
            if time.monotonic() - self._pruned < PRUNE_SECONDS:
                return
            self._pruned = time.monotonic()
        store.forget_threads(before=store.clock() - self.memory)

    @staticmethod
    def previous_query(remembered: ConversationThread | None) -> Query | None:
        """The conversation's last Query, re-read from its canonical command (None if there is none)."""
        if remembered is None or not remembered.command:
            return None
        try:
            return parse(remembered.command)
        except UserError:  # a command an older collab wrote that this one reads differently
            return None


def command_on(message: dict[str, Any]) -> str:
    """The command an answer's buttons carry (they recompute it), "" for a message without them."""
    actions = [block for block in message.get("blocks") or [] if block.get("type") == "actions"]
    for element in (element for block in actions for element in block.get("elements") or []):
        if element.get("action_id") in ANSWER_ACTIONS and element.get("value"):
            return str(element["value"])
    return ""


def call_quietly(function: Callable[[str], Any], text: str) -> None:
    """An assistant-pane call (status, title): where the workspace lacks the feature, it fails; go on."""
    try:
        function(text)
    except Exception as error:  # noqa: BLE001 - cosmetic: the answer matters, not the status line
        log.info("assistant pane call failed: %s", describe(error))
