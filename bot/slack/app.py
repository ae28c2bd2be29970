"""The Slack app: bolt wired to collab's listeners. bot/slack is the only package importing slack_bolt.

- bot/slack/middleware.py: every request handled once (Slack's retries are dropped), Web API and
  response_url clients that retry only what can't show twice.
- bot/slack/listeners.py: `/collab` (the answer in the acknowledgement), its buttons, App Home.
- bot/slack/conversation.py: mentions, DMs and thread follow-ups; bot/slack/assistant.py: the
  assistant pane (bolt's Assistant middleware) on top of them.
- bot/slack/delivery.py: what a private or shared answer shows to whom; `post_answer` puts an
  answer (table, chart, buttons) in any conversation or thread.
- bot/slack/chart_pool.py: charts drawn in other processes, so acknowledgements stay fast.
- bot/slack/web.py: the Web API client shared with the digests; bot/slack/server.py: gunicorn.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.middleware.authorization import SingleTeamAuthorization
from slack_sdk import WebClient
from slack_sdk.web import SlackResponse

from bot.config import Settings
from bot.engine.db import Database
from bot.slack import assistant
from bot.slack.chart_pool import ChartPool
from bot.slack.conversation import Conversations
from bot.slack.delivery import Delivery
from bot.slack.listeners import CollabListeners
from bot.slack.middleware import LazyStore, RequestLog, acknowledge_rate_limit_notice
from bot.slack.web import describe, is_slack_failure, web_client

log = logging.getLogger("collab.slack")

LISTENER_THREADS = 64  # bolt's executor runs every listener: enough threads that none waits for another
ANSWER_THREADS = 16  # engine runs (DuckDB releases the interpreter while it queries)
FOLLOW_UP_THREADS = 16  # uploads and the messages after an answer: waiting on Slack, not on the CPU


def create_app(
    settings: Settings,
    database: Database | None = None,
    *,
    process_before_response: bool = False,
    socket_mode: bool = False,
    state_store: Callable[[], Any] | None = None,
) -> App:
    """The bolt App with collab's listeners, configured by `settings` (SLACK_*, DATABASE_URL, COLLAB_*).

    state_store: returns the Store for handled requests and digests (default: DATABASE_URL's, opened on first use).
    """
    from bot.state.store import Store

    client = web_client(settings.slack_bot_token, settings.slack_api_url or None)
    if not settings.slack_signing_secret and not socket_mode:  # over HTTP, every request's signature is checked
        raise ValueError("SLACK_SIGNING_SECRET is required to serve Slack over HTTP")
    state = state_store or LazyStore(lambda: Store.from_settings(settings))
    app = App(
        client=client,
        signing_secret=settings.slack_signing_secret,  # Socket Mode needs none: Slack's websocket is authenticated
        process_before_response=process_before_response,
        # Verified below instead, so an unreachable Slack can't stop the server from starting; bolt then
        # looks up the bot's identity (its user id, to ignore its own messages) on the first request.
        token_verification_enabled=False,
        listener_executor=ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="collab-slack"),
    )
    app.use(acknowledge_rate_limit_notice)
    identity = verify_token(client)
    for middleware in app._middleware_list:  # bolt's own look-up would make the first request wait for auth.test
        if isinstance(middleware, SingleTeamAuthorization) and identity is not None:
            middleware.auth_test_result = identity
    warm_up_state(state)
    app.use(RequestLog(state).middleware)
    charts = ChartPool(settings.chart_processes)
    charts.warm_up()
    delivery = Delivery(charts, ThreadPoolExecutor(max_workers=FOLLOW_UP_THREADS, thread_name_prefix="collab-follow"))
    answers = ThreadPoolExecutor(max_workers=ANSWER_THREADS, thread_name_prefix="collab-answer")
    database = database or Database.from_settings(settings)
    warm_up_engine(database)
    CollabListeners(database, delivery, answers, state_store=state, settings=settings).register(app)
    conversations = Conversations(database, delivery, state, memory=timedelta(hours=settings.thread_hours))
    conversations.register(app)
    assistant.register(app, conversations, state)
    return app


def verify_token(client: WebClient) -> SlackResponse | None:
    """Check the bot token with auth.test once, and say in the log when it couldn't be checked;
    the bot's identity, None when unknown."""
    try:
        identity = client.auth_test()
    except Exception as error:  # noqa: BLE001 - any failure to reach or convince Slack: start anyway
        if not is_slack_failure(error):
            raise
        log.warning(
            "the Slack bot token couldn't be verified (%s); serving anyway, and the bot's identity is "
            "looked up when the first request needs it",
            describe(error),
        )
        return None
    log.info("Slack bot token verified: bot user %s in team %s", identity.get("user_id"), identity.get("team_id"))
    return identity


def warm_up_state(state: Callable[[], Any]) -> None:
    """Open the state database before serving: every first request records itself there before its ack."""
    try:
        state()
    except Exception as error:  # noqa: BLE001 - down at start: each request says so and is handled anyway
        log.warning("state database not reachable at start (%s: %s)", type(error).__name__, error)


# One question per kind of answer, in plain English where it can be: a first answer pays for the
# interpreter's name tables, each verb's SQL on a cold database, pandas' string arrays and the
# Block Kit rendering, so they are paid here, before the worker takes requests.
WARM_UP_QUESTIONS = (
    "who does Malaysia work with in computer vision since 2019?",
    "pair China USA",
    "compare China India",
    "top 10 asean",
    "what is rising for Brazil?",
    "fields Malaysia",
    "profile Singapore",
    "pairs among eu",
)


def warm_up_engine(database: Database) -> None:
    """Read, answer and render each kind of question once before serving, so the first person's answer
    fits in its acknowledgement as easily as any later one."""
    from bot.engine.answer import answer
    from bot.engine.interpret import read
    from bot.errors import UserError
    from bot.render import blocks

    started = time.perf_counter()
    for question in WARM_UP_QUESTIONS:
        try:
            read(question)
            blocks.answer_message(answer(question, database), question)
        except UserError as error:  # no database yet: /healthz and every answer say so
            log.warning("engine warm-up skipped: %s", error.message)
            return
    log.info("engine warmed up in %.0f ms", 1000 * (time.perf_counter() - started))


def wsgi_handler(app: App) -> Callable:
    """A WSGI callable serving POST /slack/events (bolt checks each request's signature)."""
    return SlackRequestHandler(app, path="/slack/events")


def run_socket_mode(app: App, app_token: str) -> None:
    """Serve over Socket Mode (no public URL needed); blocks until interrupted."""
    SocketModeHandler(app, app_token).start()  # type: ignore[no-untyped-call]  # slack_bolt leaves it unannotated
