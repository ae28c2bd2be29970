"""The Slack transport: `/collab`, its buttons and the App Home tab. The only module importing slack_bolt.

Every listener acks at once (Slack gives 3 s) and leaves the slow work (the query, the chart, the
uploads) to a lazy listener that answers through the response_url. Answers are private by default:
the message is ephemeral (only its chart is uploaded to the channel, joining a public channel if
needed); the answer itself is posted in the channel, attributed, when someone presses "Share to
channel" or writes `public`.

Delivery is at most once and never silent:
- A global middleware records every command, button press and event in the state database
  (`slack_requests`, bot/state/store.py) under a stable key before anything runs. When Slack delivers
  the same request again (`X-Slack-Retry-Num`), the insert fails on the key in whichever gunicorn
  worker or machine gets it, and the copy is acknowledged (200) and dropped.
- Web API calls go through bot/slack/web.py's CollabWebClient (shared with the digest jobs): it
  waits out 429s and retries 5xx answers and dropped connections, except where a repeat could post
  twice: after a 5xx or a connection dropped once a chat.postMessage or files.completeUploadExternal
  was sent, the channel's history is checked for the message (by a marker in its metadata) or the
  file share first, and the call is repeated only if it is not there. When the history can't be
  read, the person is told the post failed instead. The upload POST itself is simply repeated.
- `respond` (the response_url) retries 429s, 5xx answers and dropped connections. The answer
  replaces the "working on it" message, so a repeat cannot show twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_bolt import Ack, App, BoltRequest, BoltResponse, Respond
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient, WebhookResponse

from bot.config import Settings
from bot.engine.answer import answer
from bot.engine.commands import VERBS, parse
from bot.engine.db import Database
from bot.engine.result import Result
from bot.errors import UserError
from bot.render import blocks
from bot.render.data import to_csv
from bot.render.mrkdwn import unescape_command
from bot.slack.web import CollabWebClient, api_error, describe, is_slack_failure, respond_retry_handlers, web_client

log = logging.getLogger("collab.slack")

COMMAND = "/collab"
LISTENER_THREADS = 64  # acks and lazy work share bolt's executor: enough threads that acks never queue
CHART_SLOTS = threading.BoundedSemaphore(2)  # charts are CPU-bound: more at once only slows each one
INVITE = "Invite me with `/invite @collab` and try again."
# Errors that mean the bot may not post in a conversation until someone invites it.
NOT_A_MEMBER = {"not_in_channel", "channel_not_found", "method_not_supported_for_channel_type"}


# ---------------------------------------------------------------- retries that never post twice

# The Web API client and its retry rules live in bot/slack/web.py (shared with the digest jobs).


class RetryingRespond(Respond):
    """bolt's `respond`, with retries on the response_url: 429 (Retry-After), 5xx and dropped connections."""

    def __call__(self, text: str | dict = "", **fields: Any) -> WebhookResponse:  # type: ignore[override]
        if self.response_url is None:
            raise ValueError("respond is unsupported here as there is no response_url")
        message = dict(text) if isinstance(text, dict) else {"text": text, **fields}
        message = {key: value for key, value in message.items() if value is not None}
        client = WebhookClient(
            url=self.response_url, proxy=self.proxy, ssl=self.ssl, retry_handlers=respond_retry_handlers()
        )
        return client.send_dict(message)


# ---------------------------------------------------------------- each request handled once

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
        listener_executor=ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="collab-slack"),
    )
    app.use(RequestLog(state).middleware)
    CollabListeners(database or Database.from_settings(settings), state, settings).register(app)
    return app


def wsgi_handler(app: App) -> Callable:
    """A WSGI callable serving POST /slack/events (bolt checks each request's signature)."""
    return SlackRequestHandler(app, path="/slack/events")


def run_socket_mode(app: App, app_token: str) -> None:
    """Serve over Socket Mode (no public URL needed); blocks until interrupted."""
    SocketModeHandler(app, app_token).start()


class NotAMember(Exception):
    """The bot may not post or upload in the conversation; someone has to invite it."""


class CollabListeners:
    def __init__(self, database: Database, state_store: Callable[[], Any], settings: Settings):
        self.database = database
        self.state_store = state_store
        self.settings = settings
        self._direct_channels: dict[str, str] = {}  # user id -> the bot's DM channel with them

    def register(self, app: App) -> None:
        app.command(COMMAND)(ack=self.acknowledge_command, lazy=[self.answer_command])
        app.action(blocks.SHARE_ACTION)(ack=acknowledge_action, lazy=[self.share_answer])
        app.action(blocks.CSV_ACTION)(ack=acknowledge_action, lazy=[self.send_csv])
        app.action(blocks.SQL_ACTION)(ack=acknowledge_action, lazy=[self.show_sql])
        app.event("app_home_opened")(self.publish_home)
        app.error(log_listener_error)

    # ------------------------------------------------------------ /collab

    def acknowledge_command(self, ack: Ack, command: dict) -> None:
        """Within 3 s: a friendly error for bad input (parsing is fast), else "working on it"."""
        text = unescape_command(command.get("text"))
        if not is_digest_command(text):
            try:
                parse(text)
            except UserError as error:
                ack(response_type="ephemeral", **blocks.error_message(error))
                return
        ack(response_type="ephemeral", **blocks.working_message(text))

    def answer_command(self, command: dict, respond: Respond, client: WebClient) -> None:
        text = unescape_command(command.get("text"))
        if is_digest_command(text):
            self.answer_digest_command(command, respond, client)
            return
        try:
            query = parse(text)
        except UserError:
            return  # the ack already said what would work
        with replying_on_failure(respond, replace_original=True):
            result = self.answer_or_explain(text, respond, replace_original=True)
            if result is None:
                return
            user, channel = command["user_id"], command["channel_id"]
            if query.public:
                self.post_in_channel(client, respond, result, text, channel=channel, user=user, shared=False)
            else:
                self.answer_privately(client, respond, result, text, channel=channel, user=user)

    def answer_digest_command(self, command: dict, respond: Respond, client: WebClient) -> None:
        """`/collab digest …`: bot.digest reads the raw text itself (it needs the channel links)."""
        digest = _digest_module()
        with replying_on_failure(respond, replace_original=True):
            try:
                message = digest.handle_digest_command(
                    command.get("text") or "",
                    user_id=command["user_id"],
                    channel_id=command["channel_id"],
                    client=client,
                    store=self.state_store(),
                    team_id=command.get("team_id", ""),
                    db=self.database,
                    admins=self.settings.admin_ids,
                    rules=digest.DeliveryRules.from_settings(self.settings),
                )
            except UserError as error:
                message = blocks.error_message(error)
            respond(response_type="ephemeral", replace_original=True, **message)

    # ------------------------------------------------------------ buttons

    def share_answer(self, body: dict, action: dict, respond: Respond, client: WebClient) -> None:
        text = action["value"]
        with replying_on_failure(respond):
            result = self.answer_or_explain(text, respond)
            if result is not None:
                self.post_in_channel(
                    client, respond, result, text, channel=body["channel"]["id"], user=body["user"]["id"], shared=True
                )

    def send_csv(self, body: dict, action: dict, respond: Respond, client: WebClient) -> None:
        """The full result as a CSV file, in the person's direct messages (private, like the answer)."""
        text = action["value"]
        with replying_on_failure(respond):
            result = self.answer_or_explain(text, respond)
            if result is None:
                return
            try:
                direct = self.direct_channel(client, body["user"]["id"])
                upload = client.files_upload_v2(
                    channel=direct,
                    content=to_csv(result),
                    filename=f"{file_stem(result)}.csv",
                    title=f"{result.title} (CSV)",
                    initial_comment=f"CSV for `{blocks.escape(text)}`",
                )
            except Exception as error:  # noqa: BLE001 - say what failed rather than "something went wrong"
                if not is_slack_failure(error):
                    raise
                log.warning("CSV upload failed: %s", describe(error))
                respond(
                    response_type="ephemeral",
                    replace_original=False,
                    text=f":page_facing_up: I couldn't send the CSV ({describe(error)}). Please try again in a minute.",
                )
                return
            where = "below" if direct == body.get("channel", {}).get("id") else "in your direct messages with collab"
            respond(
                response_type="ephemeral",
                replace_original=False,
                text=f":page_facing_up: The CSV ({len(result.frame):,} rows) is {where}{permalink_suffix(upload)}.",
            )

    def show_sql(self, action: dict, respond: Respond) -> None:
        text = action["value"]
        with replying_on_failure(respond):
            result = self.answer_or_explain(text, respond)
            if result is not None:
                respond(response_type="ephemeral", replace_original=False, **blocks.sql_message(result, text))

    # ------------------------------------------------------------ App Home

    def publish_home(self, event: dict, client: WebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        about, problem = None, ""
        try:
            about = answer("about", self.database)
        except UserError as error:
            problem = error.message
        view = blocks.home_view(VERBS, about, problem, digest_lines())
        client.views_publish(user_id=event["user"], view=view)

    # ------------------------------------------------------------ shared steps

    def answer_or_explain(self, text: str, respond: Respond, *, replace_original: bool = False) -> Result | None:
        """The Result for the text, or None after telling the person why there is none."""
        try:
            return answer(text, self.database)
        except UserError as error:
            respond(response_type="ephemeral", replace_original=replace_original, **blocks.error_message(error))
            return None

    def answer_privately(
        self,
        client: WebClient,
        respond: Respond,
        result: Result,
        text: str,
        *,
        channel: str,
        user: str,
        warning: str = "",
    ) -> None:
        """The ephemeral answer (replacing "working on it"), then its chart uploaded to the channel."""
        chart_note = (
            ":bar_chart: The chart follows in this channel." if result.chart is not None and not warning else ""
        )
        send_response(respond, result, text, replace_original=True, warning=warning, chart_note=chart_note)
        if result.chart is not None and not warning:  # a warning means the bot can't post here: the table must do
            add_chart(client, respond, result, channel, answer_is="the table above has the numbers")

    def post_in_channel(
        self, client: WebClient, respond: Respond, result: Result, text: str, *, channel: str, user: str, shared: bool
    ) -> None:
        """Post the answer in the channel, attributed; then remove the private copy and add the chart.

        shared: from the Share button (a private answer exists), else a `public` command.
        When the bot may not post there, the person keeps a private answer and learns how to invite it.
        """
        verb = "Shared by" if shared else "Asked by"
        now = time.time()
        stamp = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d %H:%M UTC")
        attribution = (
            f"{verb} <@{user}> · {blocks.slack_date(now, stamp)} · `/collab {blocks.escape(blocks.cut(text, 200))}`"
        )
        try:
            post_message(client, channel, result, text, attribution)
        except NotAMember:
            cannot_post = f"I can't post in this conversation because I'm not a member. {INVITE}"
            if shared:  # the private answer is still there: just say why it stays private
                respond(response_type="ephemeral", replace_original=False, text=f":warning: {cannot_post}")
            else:  # `public` command: answer privately instead of "working on it"
                self.answer_privately(client, respond, result, text, channel=channel, user=user, warning=cannot_post)
            return
        except Exception as error:  # noqa: BLE001 - e.g. an archived channel, one where only admins may post, Slack down
            log.warning("posting in %s failed: %s", channel, describe(error), exc_info=not is_slack_failure(error))
            respond(
                response_type="ephemeral",
                replace_original=not shared,
                text=f":warning: I couldn't post in this channel ({describe(error)}). Please try again in a minute.",
            )
            return
        respond(delete_original=True)
        if result.chart is not None:
            add_chart(client, respond, result, channel, answer_is="the answer is posted")

    def direct_channel(self, client: WebClient, user: str) -> str:
        """The bot's DM with a person (opened once, then remembered)."""
        if user not in self._direct_channels:
            self._direct_channels[user] = client.conversations_open(users=user)["channel"]["id"]
        return self._direct_channels[user]


# ---------------------------------------------------------------- Web API steps


def acknowledge_action(ack: Ack) -> None:
    ack()


def send_response(
    respond: Respond, result: Result, text: str, *, replace_original: bool, warning: str = "", chart_note: str = ""
) -> None:
    """Respond with the Block Kit answer; if Slack refuses the blocks, with the same answer as text."""
    message = blocks.answer_message(result, text, warning=warning, chart_note=chart_note)
    response = respond(response_type="ephemeral", replace_original=replace_original, **message)
    if response.status_code == 200:
        return
    log.warning("response_url refused the answer: %s %s", response.status_code, response.body)
    if "invalid_blocks" in (response.body or ""):
        plain = blocks.plain_message(result, warning=warning, chart_note=chart_note)
        response = respond(response_type="ephemeral", replace_original=replace_original, **plain)
        if response.status_code != 200:
            log.error("response_url refused the plain answer too: %s %s", response.status_code, response.body)


def post_message(client: WebClient, channel: str, result: Result, text: str, attribution: str) -> None:
    """chat.postMessage with the answer's blocks, or as text if Slack refuses the blocks."""
    message = blocks.answer_message(result, text, shareable=False, attribution=attribution)
    try:
        client.chat_postMessage(channel=channel, unfurl_links=False, **message)
    except SlackApiError as error:
        if api_error(error) in NOT_A_MEMBER:
            raise NotAMember(api_error(error)) from error
        if api_error(error) != "invalid_blocks":
            raise
        log.warning("chat.postMessage refused the blocks: %s", error.response.get("errors"))
        client.chat_postMessage(
            channel=channel, unfurl_links=False, **blocks.plain_message(result, attribution=attribution)
        )


def upload_chart(client: WebClient, result: Result, channel: str, *, join_if_needed: bool = False) -> None:
    from bot.render.charts import render_png  # matplotlib loads on first use

    waited = time.perf_counter()
    with CHART_SLOTS:
        started = time.perf_counter()
        png = render_png(result)
    log.info(
        "chart for %s: waited %.0f ms, drew %.0f ms",
        result.command,
        1000 * (started - waited),
        1000 * (time.perf_counter() - started),
    )
    upload = {
        "file": png,
        "filename": f"{file_stem(result)}.png",
        "title": result.title,
        "alt_txt": blocks.cut(chart_alt_text(result), 1000),
    }
    try:
        client.files_upload_v2(channel=channel, **upload)
        return
    except SlackApiError as error:
        if not join_if_needed or api_error(error) != "not_in_channel":
            raise
    try:
        client.conversations_join(channel=channel)  # public channels only; private ones need an invite
    except SlackApiError as error:
        raise NotAMember(api_error(error)) from error
    client.files_upload_v2(channel=channel, **upload)


def add_chart(client: WebClient, respond: Respond, result: Result, channel: str, *, answer_is: str) -> None:
    """Upload the answer's chart to the channel; if it can't go there, tell the person why (the answer stands)."""
    try:
        upload_chart(client, result, channel, join_if_needed=True)
    except NotAMember:
        respond(
            response_type="ephemeral",
            replace_original=False,
            text=f":bar_chart: I couldn't add the chart: I'm not a member of this channel and can't join it "
            f"myself. {INVITE} Meanwhile {answer_is}.",
        )
    except Exception as error:  # noqa: BLE001 - the answer is delivered; say why its chart is not
        log.warning("chart upload to %s failed: %s", channel, describe(error), exc_info=not is_slack_failure(error))
        respond(
            response_type="ephemeral",
            replace_original=False,
            text=f":bar_chart: I couldn't add the chart ({describe(error)}); {answer_is}.",
        )


def chart_alt_text(result: Result) -> str:
    years = f" Incomplete years: {', '.join(map(str, result.incomplete_years))}." if result.incomplete_years else ""
    return f"Chart: {result.title}. {result.summary}{years}"


def file_stem(result: Result) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", result.title.lower()).strip("-")
    return f"collab-{slug[:80] or result.command}"


def permalink_suffix(upload: Any) -> str:
    link = (upload.get("file") or {}).get("permalink") if upload is not None else None
    return f" (<{link}|open>)" if link else ""


@contextlib.contextmanager
def replying_on_failure(respond: Respond, *, replace_original: bool = False) -> Iterator[None]:
    """Log an unexpected failure and tell the person, instead of leaving "working on it" hanging."""
    try:
        yield
    except Exception:
        log.exception("listener failed")
        with contextlib.suppress(Exception):
            respond(response_type="ephemeral", replace_original=replace_original, **blocks.failure_message())


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
