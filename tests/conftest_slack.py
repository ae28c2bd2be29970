"""Fixtures and helpers for the Slack tests: a built database, the stand-in, the real server.

The server runs as a subprocess (`python -m bot.cli serve`, gunicorn and all), talking to the
stand-in for Slack's Web API; tests send it real signed requests. Import what a test module uses:

    from conftest_slack import collab_db, standin, server, SlackServer  # noqa: F401  (fixtures)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from slack_standin import SlackStandIn  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
BOT_TOKEN = "xoxb-test-collab"
TEAM = "T0STANDIN"


@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict[str, str]
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body or b"null")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sign(body: str, timestamp: int, secret: str = SIGNING_SECRET) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def http(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None,
         timeout: float = 10) -> Reply:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data = response.read()
            status, reply_headers = response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        data, status, reply_headers = error.read(), error.code, dict(error.headers)
    return Reply(status, data, reply_headers, time.perf_counter() - started)


def new_id(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:10].upper()


class SlackServer:
    """The real `collab serve` subprocess, and signed requests to it as Slack would send them."""

    def __init__(self, standin: SlackStandIn, db_path: Path, workers: int = 2):
        self.standin = standin
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
        env.update(SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=standin.api_url,
                   COLLAB_DB=str(db_path), WEB_CONCURRENCY=str(workers), COLLAB_ACCESS_LOG="",
                   DATABASE_URL=f"sqlite:///{db_path.parent / f'state-{self.port}.sqlite'}",
                   PYTHONUNBUFFERED="1")
        self.log_path = db_path.parent / f"server-{self.port}.log"
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--port", str(self.port)],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def wait_until_up(self, timeout: float = 60) -> "SlackServer":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"collab serve exited ({self.process.returncode}):\n{self.log()}")
            try:
                http("GET", self.url + "/healthz", timeout=2)
                return self
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.1)
        raise RuntimeError(f"collab serve did not start in {timeout}s:\n{self.log()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # gunicorn's graceful stop
            try:
                self.process.wait(timeout=25)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")[-6000:]

    # ------------------------------------------------------------ requests as Slack sends them

    def post_signed(self, body: str, content_type: str = "application/x-www-form-urlencoded",
                    timestamp: int | None = None, signature: str | None = None) -> Reply:
        timestamp = int(time.time()) if timestamp is None else timestamp
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": signature or sign(body, timestamp),
        }
        return http("POST", self.url + "/slack/events", body.encode(), headers)

    def slash_command(self, text: str, *, channel: str | None = None, user: str | None = None,
                      response_key: str | None = None, **sign_options: Any) -> tuple[Reply, dict[str, str]]:
        """POST /collab as Slack does; returns the ack and the fields sent (channel, user, response key)."""
        fields = {
            "token": "legacy-verification-token", "team_id": TEAM, "team_domain": "standin",
            "channel_id": channel or new_id("C"), "channel_name": "research", "user_id": user or new_id("U"),
            "user_name": "person", "command": "/collab", "text": text, "api_app_id": "A0COLLAB",
            "is_enterprise_install": "false", "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        }
        key = response_key or uuid.uuid4().hex
        fields["response_url"] = self.standin.response_url(key)
        reply = self.post_signed(urllib.parse.urlencode(fields), **sign_options)
        return reply, {"channel": fields["channel_id"], "user": fields["user_id"], "key": key}

    def click(self, action_id: str, value: str, *, channel: str | None = None, user: str | None = None,
              ephemeral: bool = True) -> tuple[Reply, dict[str, str]]:
        """A button press (block_actions) on one of collab's messages."""
        channel, user, key = channel or new_id("C"), user or new_id("U"), uuid.uuid4().hex
        payload = {
            "type": "block_actions", "api_app_id": "A0COLLAB", "token": "legacy-verification-token",
            "team": {"id": TEAM, "domain": "standin"},
            "user": {"id": user, "username": "person", "name": "person", "team_id": TEAM},
            "container": {"type": "message", "message_ts": f"{time.time():.6f}", "channel_id": channel,
                          "is_ephemeral": ephemeral},
            "channel": {"id": channel, "name": "research"},
            "trigger_id": "13345224609.738474920.8088930838d88f008e0",
            "response_url": self.standin.response_url(key),
            "actions": [{"type": "button", "action_id": action_id, "block_id": "collab_actions",
                         "text": {"type": "plain_text", "text": action_id}, "value": value,
                         "action_ts": f"{time.time():.6f}"}],
        }
        reply = self.post_signed(urllib.parse.urlencode({"payload": json.dumps(payload)}))
        return reply, {"channel": channel, "user": user, "key": key}

    def event(self, event: dict[str, Any]) -> Reply:
        envelope = {"token": "legacy-verification-token", "team_id": TEAM, "api_app_id": "A0COLLAB",
                    "event": event, "type": "event_callback", "event_id": new_id("Ev"),
                    "event_time": int(time.time())}
        return self.post_signed(json.dumps(envelope), content_type="application/json")


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="session")
def collab_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database built once per session from the shipped data, outside the work tree."""
    from bot.build import build

    return build(tmp_path_factory.mktemp("slack-db") / "collab.duckdb", log=lambda message: None)


@pytest.fixture(scope="session")
def standin() -> Iterator[SlackStandIn]:
    fake = SlackStandIn(token=BOT_TOKEN).start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def server(standin: SlackStandIn, collab_db: Path) -> Iterator[SlackServer]:
    running = SlackServer(standin, collab_db)
    try:
        yield running.wait_until_up()
    finally:
        running.stop()


@pytest.fixture
def answer_for(collab_db: Path):
    """The real answer() on the session database, computed in the test process for comparison."""
    from bot.answer import answer
    from bot.db import Database

    database = Database(collab_db)
    yield lambda text: answer(text, database)
    database.close()
