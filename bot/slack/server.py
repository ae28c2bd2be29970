"""`collab serve`: the Slack app on gunicorn (HTTP) or over Socket Mode.

HTTP: gunicorn's gthread workers run bolt's WSGI adapter at POST /slack/events, next to
GET /healthz. Each worker builds its own app and database connection after the fork (no
preloading: DuckDB connections and thread pools must not cross a fork). All state lives in the
databases, so workers and machines can run side by side.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from gunicorn.app.base import BaseApplication

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
        },
    ).run()


class CollabServer(BaseApplication):
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
    """The WSGI app: GET /healthz here, everything else to bolt (which checks signatures)."""
    from bot.slack import app as slack_app

    database = database or Database.from_settings(settings)
    slack = slack_app.wsgi_handler(slack_app.create_app(settings, database))
    _warm_up(database)

    def collab_wsgi(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            status, payload = health(database)
            body = json.dumps(payload).encode()
            start_response(
                f"{status} {'OK' if status == 200 else 'Service Unavailable'}",
                [
                    ("Content-Type", "application/json"),
                    ("Content-Length", str(len(body))),
                    ("Cache-Control", "no-store"),
                ],
            )
            return [body] if environ["REQUEST_METHOD"] == "GET" else [b""]
        return slack(environ, start_response)

    return collab_wsgi


def health(database: Database) -> tuple[int, dict[str, Any]]:
    """200 with the data version when the database answers, else 503 with the reason."""
    try:
        version = database.data_version
    except DataUnavailable as error:
        return 503, {"status": "unavailable", "database": str(database.path), "reason": error.message}
    return 200, {"status": "ok", "database": str(database.path), "data_version": version}


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


def _configure_logging() -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s")
