"""Slack's assistant pane, through bolt's `Assistant` middleware.

A new assistant thread gets a greeting and suggested prompts (real questions, each answerable); a
question there shows a status while it is answered, and the first one titles the thread. The
answer itself is the same conversation turn as any DM (bot/slack/conversation.py).

Where the workspace has no assistant feature, Slack sends none of the assistant events and the DM
threads this middleware sees are answered as ordinary DM threads, with no status or title calls.
The channel the person is viewing (Slack's "thread context") is kept in the state database next to
the thread's last question, instead of bolt's default of rewriting collab's first reply.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from slack_bolt import (
    App,
    Assistant,
    AssistantThreadContext,
    AssistantThreadContextStore,
    BoltContext,
    Say,
    SetStatus,
    SetSuggestedPrompts,
    SetTitle,
)
from slack_sdk import WebClient

from bot.slack.conversation import Conversations, call_quietly, direct_place, ignored
from bot.state.store import Store

log = logging.getLogger("collab.slack.assistant")

GREETING = (
    "Hi! Ask me about cross-border AI research collaboration, in your own words or as a command, "
    'and reply in this thread to refine the answer ("and in computer vision?", "since 2020 only").'
)
PROMPTS_TITLE = "Try one of these"
# Shown when a thread opens: each one must be answerable (tests/test_conversation.py asks every one).
SUGGESTED_PROMPTS = (
    {"title": "Malaysia's main partners", "message": "Who does Malaysia collaborate with most?"},
    {"title": "China and Saudi Arabia over time", "message": "Is China–Saudi Arabia collaboration growing?"},
    {"title": "The most collaborative non-Western countries", "message": "top 10 non-western countries"},
    {"title": "Fields Malaysia and China share", "message": "What fields do Malaysia and China collaborate in?"},
)


class StateThreadContextStore(AssistantThreadContextStore):
    """bolt's assistant thread context (the channel being viewed), in the state database."""

    def __init__(self, store: Callable[[], Store], memory: timedelta):
        self._store = store
        self._memory = memory

    def save(self, *, channel_id: str, thread_ts: str, context: dict[str, str]) -> None:
        self._store().remember_thread(channel_id, thread_ts, assistant=True, assistant_context=dict(context))

    def find(self, *, channel_id: str, thread_ts: str) -> AssistantThreadContext | None:
        remembered = self._store().thread(channel_id, thread_ts, max_age=self._memory)
        if remembered is None or not remembered.assistant_context:
            return None
        return AssistantThreadContext(remembered.assistant_context)


class PaneCalls:
    """bolt's status and title calls for one assistant thread."""

    def __init__(self, set_status: SetStatus | None, set_title: SetTitle | None):
        self._set_status = set_status
        self._set_title = set_title

    def status(self, text: str) -> None:
        if self._set_status is not None:
            self._set_status(text)

    def title(self, text: str) -> None:
        if self._set_title is not None:
            self._set_title(text)


def register(app: App, conversations: Conversations, store: Callable[[], Store]) -> None:
    assistant = Assistant(thread_context_store=StateThreadContextStore(store, conversations.memory))

    @assistant.thread_started
    def greet(
        event: dict[str, Any], say: Say, set_suggested_prompts: SetSuggestedPrompts, context: BoltContext
    ) -> None:
        thread = event["assistant_thread"]
        try:
            store().remember_thread(
                thread["channel_id"],
                thread["thread_ts"],
                team_id=context.team_id or "",
                assistant=True,
                assistant_context=dict(thread.get("context") or {}) or None,
            )
        except Exception as error:  # noqa: BLE001 - the greeting still goes out; the thread is marked on its reply
            log.warning("could not record assistant thread %s: %s", thread.get("thread_ts"), error)
        say(text=GREETING)
        call_quietly(lambda title: set_suggested_prompts(prompts=list(SUGGESTED_PROMPTS), title=title), PROMPTS_TITLE)

    @assistant.user_message
    def ask(
        payload: dict[str, Any],
        client: WebClient,
        context: BoltContext,
        set_status: SetStatus | None = None,
        set_title: SetTitle | None = None,
    ) -> None:
        if ignored(payload, context.bot_user_id):
            return
        place = direct_place(payload, context.team_id or "")
        conversations.converse(
            place,
            payload.get("text", ""),
            client,
            context,
            conversations.recall(place, payload, client, context),
            assistant=PaneCalls(set_status, set_title),
            in_assistant_pane="assistant_thread" in payload,  # Slack marks messages written in the pane
        )

    app.assistant(assistant)
