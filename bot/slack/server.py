"""`collab serve`: the Slack app on gunicorn (HTTP) or over Socket Mode.

HTTP: gunicorn's gthread workers run bolt's WSGI adapter at POST /slack/events, next to
GET /healthz. Each worker builds its own app and database connection after the fork (no
preloading: DuckDB connections and thread pools must not cross a fork). All state lives in the
databases, so workers and machines can run side by side.

Before bolt sees a request, `guard_requests` checks what can be checked without trusting it: a
declared length under the cap (413 otherwise, before a byte of the body is read), well-formed
signature headers, the signature itself, UTF-8, and a JSON object where JSON is expected. Every
malformed request gets a 4xx and one log line; no body is ever logged, and every log line is one
JSON record with control characters escaped, so a request can't forge or split a log line.
"""

from __future__ import annotations

import io
import json
import logging
import re
import time
import urllib.parse
from collections.abc import Callable, Iterable
from typing import Any

from gunicorn import glogging
from gunicorn.app.base import BaseApplication
from slack_sdk.signature import SignatureVerifier

from bot.config import Settings
from bot.engine.db import Database
from bot.errors import DataUnavailable

log = logging.getLogger("collab.server")


def serve(settings: Settings, port: int | None = None, socket_mode: bool = False) -> None:
    """Run until stopped: gunicorn on `port` (else PORT), or Socket Mode with SLACK_APP_TOKEN."""
    _configure_logging()
    needed = {
        "SLACK_BOT_TOKEN": settings.slack_bot_token,
        "SLACK_APP_TOKEN" if socket_mode else "SLACK_SIGNING_SECRET": (
            settings.slack_app_token if socket_mode else settings.slack_signing_secret
        ),
    }
    missing = [name for name, value in needed.items() if not value]
    if missing:
        raise SystemExit(
            f"collab serve needs {' and '.join(missing)} in the environment (see README, 'Run it in your workspace')."
        )
    if socket_mode:
        from bot.slack import app as slack_app

        database = Database.from_settings(settings)
        _warm_up(database)
        slack_app.run_socket_mode(slack_app.create_app(settings, database, socket_mode=True), settings.slack_app_token)
        return
    CollabServer(
        settings,
        {
            "bind": f"0.0.0.0:{port or settings.port}",
            "workers": settings.web_concurrency,
            "worker_class": "gthread",
            "threads": settings.web_threads,
            "timeout": 30,
            "graceful_timeout": 20,  # lets lazy listeners finish answering on a restart
            "keepalive": 5,
            "accesslog": settings.access_log or None,  # empty: no access log
            "errorlog": "-",
            "loglevel": settings.log_level,
            "proc_name": "collab",
            "control_socket_disable": True,  # one fixed socket path would clash between instances on a host
            "logger_class": "bot.slack.server.OneLineGunicornLogger",
        },
    ).run()


class CollabServer(BaseApplication):  # type: ignore[misc]  # gunicorn has no type information
    """gunicorn configured in code, so `collab serve` needs no config file."""

    def __init__(self, settings: Settings, options: dict[str, Any]):
        self.settings = settings  # read by the master; each forked worker builds its app from it
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Callable:
        _configure_logging()
        return create_wsgi_app(self.settings)


def create_wsgi_app(settings: Settings, database: Database | None = None) -> Callable:
    """The WSGI app: GET /healthz here, POST /slack/events through the guard to bolt."""
    from bot.slack import app as slack_app

    database = database or Database.from_settings(settings)
    slack = guard_requests(settings, slack_app.wsgi_handler(slack_app.create_app(settings, database)))
    _warm_up(database)

    from bot.slack.middleware import ARRIVAL_ENVIRON

    def collab_wsgi(environ: dict, start_response: Callable) -> Iterable[bytes]:
        environ[ARRIVAL_ENVIRON] = repr(time.monotonic())  # the ack's deadline starts here, not in bolt
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if path == "/healthz" and method in ("GET", "HEAD"):
            status, payload = health(database)
            return _reply(start_response, status, payload, head=method == "HEAD")
        if path == "/slack/events":
            return slack(environ, start_response)
        return _reply(start_response, 404, {"error": "not found"})

    return collab_wsgi


def health(database: Database) -> tuple[int, dict[str, Any]]:
    """200 with the data version when the database answers, else 503 with the reason; never a path."""
    try:
        version = database.data_version
    except DataUnavailable as error:
        return 503, {"status": "unavailable", "reason": error.message}
    return 200, {"status": "ok", "data_version": version}


_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    411: "Length Required",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    503: "Service Unavailable",
}
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


class Rejected(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


def _reply(start_response: Callable, status: int, payload: dict[str, Any], head: bool = False) -> list[bytes]:
    body = json.dumps(payload).encode()
    start_response(
        f"{status} {_REASONS.get(status, 'Error')}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body))), ("Cache-Control", "no-store")],
    )
    return [b""] if head else [body]


def guard_requests(settings: Settings, slack: Callable) -> Callable:
    """Wrap bolt's WSGI handler: only well-formed, signed requests within the size cap reach it."""
    verifier = SignatureVerifier(settings.slack_signing_secret)

    def guarded(environ: dict, start_response: Callable) -> Iterable[bytes]:
        try:
            body = _checked_body(environ, settings.max_body_bytes, verifier)
        except Rejected as rejected:
            log.warning(
                "rejected %s %s: %d %s (declared length %s)",
                environ.get("REQUEST_METHOD"),
                environ.get("PATH_INFO"),
                rejected.status,
                rejected.reason,
                environ.get("CONTENT_LENGTH") or "none",
            )
            return _reply(start_response, rejected.status, {"error": rejected.reason})
        environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
        return slack(environ, start_response)

    return guarded


def _checked_body(environ: dict, cap: int, verifier: SignatureVerifier) -> bytes:
    """The request body, once it is known to be small, signed, UTF-8 and well-formed; else Rejected."""
    if environ.get("REQUEST_METHOD") != "POST":
        raise Rejected(405, "only POST is accepted here")
    declared = environ.get("CONTENT_LENGTH") or ""
    if not declared:
        raise Rejected(411, "a Content-Length is required")
    if not declared.isdigit():
        raise Rejected(400, "the Content-Length is not a number")
    length = int(declared)
    if length > cap:
        raise Rejected(413, f"the body is larger than {cap:,} bytes")
    timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP") or ""
    signature = environ.get("HTTP_X_SLACK_SIGNATURE") or ""
    if not _TIMESTAMP.fullmatch(timestamp):
        raise Rejected(400, "X-Slack-Request-Timestamp is missing or not a Unix time")
    if not _SIGNATURE.fullmatch(signature):
        raise Rejected(401, "X-Slack-Signature is missing or malformed")
    if abs(time.time() - int(timestamp)) > 5 * 60:
        raise Rejected(401, "the request is older than five minutes")
    body = _read(environ["wsgi.input"], length)
    try:
        text = body.decode("utf-8")  # before the signature check, which decodes it too
    except UnicodeDecodeError:
        raise Rejected(400, "the body is not UTF-8") from None
    if not verifier.is_valid(text, timestamp, signature):
        raise Rejected(401, "the signature does not match")
    kind = (environ.get("CONTENT_TYPE") or "").split(";", 1)[0].strip().lower()
    if kind == "application/json":
        _json_object(text)
    elif kind == "application/x-www-form-urlencoded":
        try:
            fields = urllib.parse.parse_qs(text, keep_blank_values=True, errors="strict")
        except (ValueError, UnicodeDecodeError):
            raise Rejected(400, "the form is malformed") from None
        if any(len(values) > 1 for values in fields.values()):
            raise Rejected(400, "a form field is repeated")
        if "payload" in fields:
            _json_object(fields["payload"][0])
    else:
        raise Rejected(415, "the body must be JSON or a form")
    return body


def _read(stream: Any, length: int) -> bytes:
    chunks, left = [], length
    while left:
        chunk = stream.read(min(left, 1 << 16))
        if not chunk:
            raise Rejected(400, "the body is shorter than its Content-Length")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


# Parts of Slack's envelopes that bolt reads as objects (or lists of objects) without checking.
_OBJECT_FIELDS = ("event", "user", "channel", "container", "view", "message", "state", "team", "enterprise")
# Fields bolt and the listeners read as text, where present: (object, its fields).
_TEXT_FIELDS = (
    ("event", ("type", "user", "channel", "ts", "thread_ts", "text", "channel_type", "subtype", "bot_id", "tab")),
    ("user", ("id",)),
    ("channel", ("id",)),
    ("team", ("id",)),
    ("container", ("channel_id", "thread_ts", "message_ts")),
    ("message", ("ts", "thread_ts", "text")),
)


def _json_object(text: str) -> None:
    """A JSON object shaped like Slack's envelopes where bolt relies on the shape; else Rejected."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: arrays or objects nested thousands deep
        raise Rejected(400, "the body is not valid JSON") from None
    if not isinstance(value, dict):
        raise Rejected(400, "the JSON body is not an object")
    if not isinstance(value.get("type", ""), str):
        raise Rejected(400, "the type is not a string")
    for name in _OBJECT_FIELDS:
        if value.get(name) is not None and not isinstance(value[name], dict):
            raise Rejected(400, f"{name} is not an object")
    for name, fields in _TEXT_FIELDS:
        inner = value.get(name) or {}
        for field in fields:
            if inner.get(field) is not None and not isinstance(inner[field], str):
                raise Rejected(400, f"{name}.{field} is not a string")
    event = value.get("event") or {}
    if value.get("type") == "event_callback" and not event.get("type"):
        raise Rejected(400, "the event has no type")
    if event.get("type") in ("message", "app_mention") and not (event.get("channel") and event.get("ts")):
        raise Rejected(400, "a message without its channel or time")
    thread = event.get("assistant_thread")
    if thread is not None and not isinstance(thread, dict):
        raise Rejected(400, "the assistant thread is not an object")
    if str(event.get("type", "")).startswith("assistant_thread_") and not all(
        isinstance((thread or {}).get(key), str) for key in ("channel_id", "thread_ts")
    ):
        raise Rejected(400, "the assistant thread has no channel or thread")
    actions = value.get("actions", [])
    if not isinstance(actions, list) or not all(isinstance(action, dict) for action in actions):
        raise Rejected(400, "actions is not a list of objects")
    for action in actions:
        if not isinstance(action.get("action_id"), str) or not isinstance(action.get("value", ""), str):
            raise Rejected(400, "an action has no action_id, or a value that is not a string")
    if actions and not (value.get("user") or {}).get("id"):
        raise Rejected(400, "actions without the user who acted")


def _warm_up(database: Database) -> None:
    """Load what the first answers would otherwise wait for: SQL files, reference tables, matplotlib."""
    from bot.engine import queryfiles
    from bot.reference import countries

    for name in queryfiles.names():
        queryfiles.load(name)
    countries.all_countries()
    import matplotlib.backends.backend_agg  # noqa: F401  (charts render with Agg)
    import matplotlib.font_manager

    matplotlib.font_manager.fontManager.findfont("DejaVu Sans")
    try:
        _ = database.data_version  # opens the connection; /healthz reports any problem
    except DataUnavailable as error:
        log.warning("database unavailable at start: %s", error.message)
    database.sql_pool.start()  # warm workers, so the first typed `sql` does not wait for one


class OneLineFormatter(logging.Formatter):
    """Each record as one line of JSON (control and non-ASCII characters escaped), traceback included."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=True, default=str)


class OneLineGunicornLogger(glogging.Logger):  # type: ignore[misc]  # gunicorn has no type information
    """gunicorn's error and access logs, written as OneLineFormatter records."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            for handler in logger.handlers:
                handler.setFormatter(OneLineFormatter())


def _configure_logging() -> None:
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(OneLineFormatter())
        root.addHandler(handler)
        root.setLevel(logging.INFO)
