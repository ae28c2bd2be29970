"""Fixtures and helpers for the Slack tests: a built database, the stand-in, the real server.

The server runs as a subprocess (`python -m bot.cli serve`, gunicorn and all), talking to the
stand-in for Slack's Web API; tests send it real signed requests. tests/conftest.py loads this
module as a pytest plugin, so its fixtures (`collab_db`, `standin`, `server`, `answer_for`) are
there for every test without an import; import only the helpers a module uses:

    from conftest_slack import SlackServer, new_id
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from slack_standin import BOT_USER, SlackStandIn, unescaped_markup

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


def http(
    method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None, timeout: float = 10
) -> Reply:
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


def new_trigger_id() -> str:
    """A trigger_id shaped like Slack's (unique per invocation)."""
    return f"{int(time.time() * 1000)}.738474920.{uuid.uuid4().hex[:32]}"


class SlackServer:
    """The real `collab serve` subprocess, and signed requests to it as Slack would send them."""

    def __init__(
        self,
        standin: SlackStandIn,
        db_path: Path,
        workers: int = 2,
        env: dict[str, str] | None = None,
        state_url: str | None = None,
    ):
        """state_url: the state database (default: a SQLite file of its own); env: more environment variables."""
        self.standin = standin
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.state_url = state_url or f"sqlite:///{db_path.parent / f'state-{self.port}.sqlite'}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
        self.env.update(
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_API_URL=standin.api_url,
            COLLAB_DB=str(db_path),
            WEB_CONCURRENCY=str(workers),
            COLLAB_ACCESS_LOG="",
            DATABASE_URL=self.state_url,
            PYTHONUNBUFFERED="1",
        )
        self.env.update(env or {})
        self.log_path = db_path.parent / f"server-{self.port}.log"
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--port", str(self.port)],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_until_up(self, timeout: float = 60) -> SlackServer:
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

    def log(self, tail: int = 6000) -> str:
        if not self._log.closed:
            self._log.flush()
        text = self.log_path.read_text(errors="replace")
        return text[-tail:] if tail else text

    # ------------------------------------------------------------ the processes, from /proc

    def pids(self) -> list[int]:
        """gunicorn's master and its workers."""
        master = self.process.pid
        children: list[int] = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == master:  # field 4: the parent's pid
                    children.append(int(entry.name))
        return [master, *sorted(children)]

    def rss_bytes(self) -> int:
        """Resident memory of the master and workers together."""
        total = 0
        for pid in self.pids():
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        return total

    def open_files(self) -> int:
        """Open file descriptors of the master and workers together."""
        total = 0
        for pid in self.pids():
            with contextlib.suppress(OSError):
                total += len(os.listdir(f"/proc/{pid}/fd"))
        return total

    # ------------------------------------------------------------ requests as Slack sends them

    def post_signed(
        self,
        body: str,
        content_type: str = "application/x-www-form-urlencoded",
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 10,
    ) -> Reply:
        timestamp = int(time.time()) if timestamp is None else timestamp
        sent = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": signature or sign(body, timestamp),
            **(headers or {}),
        }
        return http("POST", self.url + "/slack/events", body.encode(), sent, timeout=timeout)

    def slash_command(
        self,
        text: str,
        *,
        channel: str | None = None,
        user: str | None = None,
        response_key: str | None = None,
        trigger_id: str | None = None,
        channel_name: str = "research",
        **sign_options: Any,
    ) -> tuple[Reply, dict[str, str]]:
        """POST /collab as Slack does; returns the ack and the fields sent (channel, user, response key, trigger).

        channel_name: what Slack sends for the conversation ("directmessage" in a DM, "mpdm-…" in a group DM).
        Each invocation gets its own trigger_id, as in Slack; pass the same one (and a response_key)
        with headers={"X-Slack-Retry-Num": "1", ...} to play a repeated delivery.
        """
        fields = {
            "token": "legacy-verification-token",
            "team_id": TEAM,
            "team_domain": "standin",
            "channel_id": channel or new_id("C"),
            "channel_name": channel_name,
            "user_id": user or new_id("U"),
            "user_name": "person",
            "command": "/collab",
            "text": text,
            "api_app_id": "A0COLLAB",
            "is_enterprise_install": "false",
            "trigger_id": trigger_id or new_trigger_id(),
        }
        key = response_key or uuid.uuid4().hex
        fields["response_url"] = self.standin.response_url(key, channel=fields["channel_id"])
        reply = self.post_signed(urllib.parse.urlencode(fields), **sign_options)
        self.standin.record_ack(fields["channel_id"], reply.status, reply.body)
        return reply, {
            "channel": fields["channel_id"],
            "user": fields["user_id"],
            "key": key,
            "trigger_id": fields["trigger_id"],
        }

    def click(
        self,
        action_id: str,
        value: str,
        *,
        channel: str | None = None,
        user: str | None = None,
        ephemeral: bool = True,
        response_key: str | None = None,
        trigger_id: str | None = None,
        headers: dict[str, str] | None = None,
        thread_ts: str | None = None,
    ) -> tuple[Reply, dict[str, str]]:
        """A button press (block_actions) on one of collab's messages (thread_ts: the thread it is in)."""
        channel, user, key = channel or new_id("C"), user or new_id("U"), response_key or uuid.uuid4().hex
        trigger_id = trigger_id or new_trigger_id()
        message_ts = f"{time.time():.6f}"
        payload: dict[str, Any] = {
            "type": "block_actions",
            "api_app_id": "A0COLLAB",
            "token": "legacy-verification-token",
            "team": {"id": TEAM, "domain": "standin"},
            "user": {"id": user, "username": "person", "name": "person", "team_id": TEAM},
            "container": {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel,
                "is_ephemeral": ephemeral,
                **({"thread_ts": thread_ts} if thread_ts else {}),
            },
            "channel": {"id": channel, "name": "research"},
            "trigger_id": trigger_id,
            "response_url": self.standin.response_url(key, channel=channel),
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "collab_actions",
                    "text": {"type": "plain_text", "text": action_id},
                    "value": value,
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        if not ephemeral:  # Slack sends the message the button is on (ephemeral ones it can't)
            payload["message"] = {
                "type": "message",
                "user": BOT_USER,
                "ts": message_ts,
                **({"thread_ts": thread_ts} if thread_ts else {}),
            }
        reply = self.post_signed(urllib.parse.urlencode({"payload": json.dumps(payload)}), headers=headers)
        self.standin.record_ack(channel, reply.status, reply.body)
        return reply, {"channel": channel, "user": user, "key": key, "trigger_id": trigger_id}

    def event(
        self, event: dict[str, Any], *, event_id: str | None = None, headers: dict[str, str] | None = None
    ) -> Reply:
        envelope = {
            "token": "legacy-verification-token",
            "team_id": TEAM,
            "api_app_id": "A0COLLAB",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or new_id("Ev"),
            "event_time": int(time.time()),
        }
        return self.post_signed(json.dumps(envelope), content_type="application/json", headers=headers)


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def collab_db(db_path: Path) -> Path:
    """The session's database (tests/conftest.py builds it once from the shipped data), read only."""
    return db_path


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


PAYLOAD_METHODS = ("ack", "response", "chat.postMessage", "chat.postEphemeral", "chat.update", "views.publish")


@pytest.fixture(autouse=True)
def payloads_are_escaped(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test that talks to the stand-in: every message sent meanwhile has its `&`, `<`, `>`
    escaped in mrkdwn. Late arrivals from one test are checked with the next."""
    if "standin" not in request.fixturenames:  # not a Slack test: nothing to check
        yield
        return
    standin: SlackStandIn = request.getfixturevalue("standin")
    first = len(standin.calls)
    yield
    with standin._condition:
        sent = [c for c in standin.calls[first:] if c.method in PAYLOAD_METHODS or c.body.get("initial_comment")]
    problems = [(c.method, text[:160]) for c in sent for text in unescaped_markup(c.body)]
    assert not problems, f"unescaped mrkdwn in what the server sent: {problems}"


@pytest.fixture
def answer_for(collab_db: Path):
    """The real answer() on the session database, computed in the test process for comparison."""
    from bot.engine.answer import answer
    from bot.engine.db import Database

    database = Database(collab_db)
    yield lambda text: answer(text, database)
    database.close()


# ---------------------------------------------------------------- load: many commands in flight at once

LOAD_COMMANDS = [
    "partners Malaysia",
    "partners Saudi Arabia",
    "pair China USA",
    "top 10 non-western",
    "partners India",
    "compare China India Japan",
    "rising China",
    "fields Malaysia China",
    "partners Brazil",
    "pair China Singapore",
    "top 20",
    "partners Pakistan",
    "pair China Saudi Arabia",
    "partners Japan in computer vision",
    "rising India",
    "compare USA China",
    "partners Germany from 2018",
    "top 10 asean",
    "partners Indonesia",
    "fields Saudi Arabia",
    "profile Malaysia",
    "about",
    "help partners",
    "sql SELECT * FROM datasets",
    "partners Atlantis",
]


RANGED_VERBS = ("partners", "pair", "top", "compare", "rising", "fields")


def fresh_text(text: str, n: int) -> str:
    """The same kind of question over other years (`… to 2019`), so the n-th variant is not a repeat.

    The server keeps answers and charts it already made; fresh variants measure the full path
    (query, table, chart) instead. Verbs without a year range are returned as they are.
    """
    if n <= 0 or text.split(" ", 1)[0] not in RANGED_VERBS:
        return text
    return f"{text} to {2025 - (n - 1) % 9}"


def percentile(values: list[float], p: float) -> float:
    """The nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, -(-len(ordered) * p // 100) - 1))] if ordered else float("nan")


def is_answer(payload: dict[str, Any]) -> bool:
    """An answer message (its header block), as opposed to a chart, a notice or an error."""
    return any(b.get("type") == "header" for b in payload.get("blocks") or [])


def is_chart(payload: dict[str, Any]) -> bool:
    return any(b.get("type") == "image" for b in payload.get("blocks") or [])


def ack_payload(reply: Reply) -> dict[str, Any]:
    return reply.json() if reply.body else {}


def answer_to(standin: SlackStandIn, reply: Reply, key: str, timeout: float = 30) -> dict[str, Any]:
    """The answer (or refusal) to a command: its ack, or after an empty ack (slow) the response_url's first message."""
    if reply.body:
        return reply.json()
    return standin.wait_for("response", where={"key": key}, test=lambda c: "blocks" in c.body, timeout=timeout)[0].body


def answers_to(standin: SlackStandIn, reply: Reply, key: str) -> int:
    """How many times a command was answered: in its ack and at its response_url."""
    posted = standin.calls_to("response", where={"key": key}, test=lambda c: c.status == 200 and is_answer(c.body))
    return is_answer(ack_payload(reply)) + len(posted)


@dataclass
class Burst:
    """What a burst of simultaneous commands gave: per command, seconds to ack, to the answer and to the chart."""

    texts: list[str]
    acks: list[Reply]
    keys: list[str]
    ack_seconds: list[float]
    answer_seconds: list[float | None]  # None: no answer (refused in the ack, e.g. a typo)
    chart_seconds: list[float | None]  # None: the answer has no chart
    answers: list[int]  # answer messages per command, in the ack and at the response_url (must be 1)
    charts: list[int]  # chart messages per command (1 when the answer promised one, else 0)
    peak_rss: int  # bytes, master + workers, sampled during the burst
    wall: float

    def summary(self) -> dict[str, float]:
        answered = [s for s in self.answer_seconds if s is not None]
        charted = [s for s in self.chart_seconds if s is not None]
        return {
            "n": len(self.texts),
            "answered": len(answered),
            **{f"ack_p{p}": percentile(self.ack_seconds, p) for p in (50, 95, 99, 100)},
            **{f"answer_p{p}": percentile(answered, p) for p in (50, 95, 99)},
            **{f"chart_p{p}": percentile(charted, p) for p in (50, 95, 99)},
            "peak_rss_mb": self.peak_rss / 2**20,
            "wall": self.wall,
        }

    def not_once(self) -> list[tuple[str, int, int]]:
        """Commands whose answer or chart did not arrive exactly once: (text, answers, charts)."""
        problems = []
        for text, reply, answers, charts, chart in zip(
            self.texts, self.acks, self.answers, self.charts, self.chart_seconds, strict=True
        ):
            refused = b":thinking_face:" in reply.body
            if (answers, charts) != ((0 if refused else 1), (0 if chart is None else 1)):
                problems.append((text, answers, charts))
        return problems


def burst(server: SlackServer, standin: SlackStandIn, texts: list[str], timeout: float = 120) -> Burst:
    """Send every command at the same moment (one thread each); wait for every answer and chart; count them.

    An answer comes in the ack itself, or (when it was slow) at the response_url after an empty ack;
    an answer that says "the chart follows" gets exactly one chart message at the response_url.
    """
    start = threading.Barrier(len(texts) + 1)
    acks: list[Reply | None] = [None] * len(texts)
    sent: list[dict[str, Any]] = [{} for _ in texts]
    began: list[float] = [0.0] * len(texts)
    peak, sampling = [server.rss_bytes()], threading.Event()

    def send(i: int, text: str) -> None:
        start.wait()
        began[i] = time.monotonic()
        acks[i], sent[i] = server.slash_command(text)

    def sample() -> None:
        while not sampling.is_set():
            peak[0] = max(peak[0], server.rss_bytes())
            sampling.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    threads = [threading.Thread(target=send, args=(i, t)) for i, t in enumerate(texts)]
    for thread in threads:
        thread.start()
    start.wait()
    t0 = time.monotonic()
    for thread in threads:
        thread.join()
    answer_seconds: list[float | None] = []
    chart_seconds: list[float | None] = []
    for i, reply in enumerate(acks):
        assert reply is not None
        key, payload = sent[i]["key"], ack_payload(reply)
        if is_answer(payload):
            answer_seconds.append(reply.seconds)
        elif not reply.body:  # slow: the answer follows at the response_url
            call = standin.wait_for("response", where={"key": key}, test=lambda c: is_answer(c.body), timeout=timeout)
            answer_seconds.append(call[0].at - began[i])
            payload = call[0].body
        else:
            answer_seconds.append(None)
        if "chart follows" in json.dumps(payload):
            call = standin.wait_for("response", where={"key": key}, test=lambda c: is_chart(c.body), timeout=timeout)
            chart_seconds.append(call[0].at - began[i])
        else:
            chart_seconds.append(None)
    wall = time.monotonic() - t0
    time.sleep(1.0)  # a second answer or chart to any command would arrive by now
    sampling.set()
    sampler.join()
    answers, charts = [], []
    for i, reply in enumerate(acks):
        assert reply is not None
        posted = [c.body for c in standin.calls_to("response", where={"key": sent[i]["key"]})]
        answers.append(is_answer(ack_payload(reply)) + sum(is_answer(p) for p in posted))
        charts.append(sum(is_chart(p) for p in posted))
    return Burst(
        list(texts),
        [a for a in acks if a is not None],
        [s["key"] for s in sent],
        [a.seconds for a in acks if a is not None],
        answer_seconds,
        chart_seconds,
        answers,
        charts,
        peak[0],
        wall,
    )
