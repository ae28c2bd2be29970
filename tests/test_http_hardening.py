"""The real `collab serve` under hostile HTTP: oversized, unsigned and malformed requests, and SQL bombs.

Each test talks to a gunicorn server started as `collab serve` would be (see conftest_slack.py),
and checks the server from outside: status codes, its log file and its processes' memory.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http import client as http_client
from pathlib import Path

import pytest
from conftest_slack import SIGNING_SECRET, SlackServer, http, new_id, sign

from bot.engine.isolation import NEEDED_MORE_MEMORY

pytestmark = pytest.mark.slow
FORM = "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def served(standin, collab_db: Path) -> Iterator[SlackServer]:
    running = SlackServer(standin, collab_db, workers=1)
    try:
        running.wait_until_up()
        # until its SQL workers have started, so memory is measured on a settled tree
        deadline, last = time.monotonic() + 30, -1
        while time.monotonic() < deadline:
            now = tree_rss(running.process.pid)
            if len(descendants(running.process.pid)) >= 4 and abs(now - last) < 2_000_000:
                break
            last = now
            time.sleep(1)
        yield running
    finally:
        running.stop()


def descendants(root: int) -> list[int]:
    """root and every process below it (gunicorn's master, its workers, their SQL workers)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                parents.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [root]
    while queue:
        pid = queue.pop()
        found.append(pid)
        queue.extend(parents.get(pid, []))
    return found


def tree_rss(root: int) -> int:
    total = 0
    for pid in descendants(root):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
    return total


def post_raw(server: SlackServer, body: bytes, headers: dict[str, str]) -> int:
    connection = http_client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("POST", "/slack/events", body=body, headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


def signed_headers(body: bytes, content_type: str) -> dict[str, str]:
    timestamp = str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256)
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": "v0=" + digest.hexdigest(),
    }


# ---------------------------------------------------------------- size


def test_unsigned_200_mb_body_gets_413_unread_and_memory_and_log_stay_flat(served: SlackServer) -> None:
    size = 200 * 1024 * 1024
    log_before, rss_before = served.log_path.stat().st_size, tree_rss(served.process.pid)
    connection = http_client.HTTPConnection("127.0.0.1", served.port, timeout=30)
    connection.putrequest("POST", "/slack/events")
    for name, value in {
        "Content-Type": "application/x-www-form-urlencoded",
        "Content-Length": str(size),
        "X-Slack-Request-Timestamp": str(int(time.time())),
        "X-Slack-Signature": "v0=" + "0" * 64,
    }.items():
        connection.putheader(name, value)
    connection.endheaders()
    chunk, sent = b"text=" + b"A" * (1 << 20), 0
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        while sent < size:
            connection.send(chunk)
            sent += len(chunk)
    status = connection.getresponse().status
    connection.close()
    assert status == 413
    time.sleep(0.5)
    assert served.log_path.stat().st_size - log_before < 2_000
    assert tree_rss(served.process.pid) - rss_before < 50_000_000
    assert http("GET", served.url + "/healthz").status == 200


def test_a_body_without_a_length_gets_411(served: SlackServer) -> None:
    connection = http_client.HTTPConnection("127.0.0.1", served.port, timeout=10)
    connection.request("POST", "/slack/events", body=iter([b"text=hi"]), headers={"Content-Type": "text/plain"})
    assert connection.getresponse().status == 411
    connection.close()


def test_a_real_slack_payload_is_far_under_the_cap(served: SlackServer, standin) -> None:
    """The largest message collab posts (a 100-row table) clicked on: Slack sends it back whole."""
    from bot.config import Settings

    reply, sent = served.slash_command("top 100")
    message = reply.json()
    if not any(block.get("type") == "table" for block in message.get("blocks", [])):
        message = standin.wait_for("response", where={"key": sent["key"]}, timeout=20)[0].body
    assert len(json.dumps(message)) > 10_000  # the table is there
    payload = {"type": "block_actions", "message": message, "actions": [{"action_id": "x", "value": "top 100"}]}
    size = len(urllib.parse.urlencode({"payload": json.dumps(payload)}))
    assert size * 10 < Settings().max_body_bytes, size


# ---------------------------------------------------------------- malformed requests


@pytest.mark.parametrize(
    "headers,status",
    [
        ({"X-Slack-Request-Timestamp": ""}, 400),
        ({"X-Slack-Request-Timestamp": "abc"}, 400),
        ({"X-Slack-Request-Timestamp": "1e9"}, 400),
        ({"X-Slack-Request-Timestamp": "-1"}, 400),
        ({"X-Slack-Request-Timestamp": None}, 400),
        ({"X-Slack-Signature": None}, 401),
        ({"X-Slack-Signature": "v1=abc"}, 401),
        ({"X-Slack-Signature": "v0=" + "g" * 64}, 401),
        ({"Content-Length": "12x"}, 400),
    ],
)
def test_bad_or_missing_headers_get_a_4xx_and_no_traceback(served: SlackServer, headers: dict, status: int) -> None:
    body = b"text=hello"
    sent = signed_headers(body, "application/x-www-form-urlencoded")
    for name, value in headers.items():
        if value is None:
            sent.pop(name, None)
        else:
            sent[name] = value
    log_before = served.log_path.stat().st_size
    if "Content-Length" in headers:  # http.client writes its own: send the request by hand
        with contextlib.closing(http_client.HTTPConnection("127.0.0.1", served.port, timeout=10)) as connection:
            connection.putrequest("POST", "/slack/events")
            for name, value in sent.items():
                connection.putheader(name, value)
            connection.endheaders(body)
            assert connection.getresponse().status == status
    else:
        assert post_raw(served, body, sent) == status
    time.sleep(0.2)
    assert "Traceback" not in served.log_path.read_text(errors="replace")[log_before:]


@pytest.mark.parametrize(
    "body,content_type",
    [
        (b"[1,2,3]", "application/json"),
        (b"null", "application/json"),
        (b"{not json", "application/json"),
        (b"\xff\xfe\xfd", "application/json"),
        (b"text=\xff\xfe", "application/x-www-form-urlencoded"),
        (b"payload=%5B1%2C2%5D", "application/x-www-form-urlencoded"),
        (b"payload=null", "application/x-www-form-urlencoded"),
        (b"payload=%7Bnot", "application/x-www-form-urlencoded"),
        (b"payload=%FF%FE", "application/x-www-form-urlencoded"),
        (b"<xml/>", "text/xml"),
        (b'{"type": "event_callback", "event": []}', "application/json"),
        (b'{"type": 5}', "application/json"),
        (
            b"payload=%7B%22type%22%3A%22block_actions%22%2C%22actions%22%3A%22x%22%2C%22user%22%3A5%7D",
            "application/x-www-form-urlencoded",
        ),
        (b"a=1&a=2&payload=%7B%7D&payload=%5B%5D", "application/x-www-form-urlencoded"),
        (b"[" * 100_000, "application/json"),
        (b"payload=" + b"[" * 100_000, "application/x-www-form-urlencoded"),
        (b'{"a": ' + b'{"a": ' * 5_000 + b"1" + b"}" * 5_001, "application/json"),
        (b'{"type": "event_callback", "event": "x"}', "application/json"),
        (b'{"type": "event_callback", "event": [1, 2]}', "application/json"),
        (b'{"type": "event_callback", "event": {}}', "application/json"),
        (b'{"type": "event_callback", "event": {"type": "app_home_opened", "user": 1}}', "application/json"),
        (b'{"type": "event_callback", "event": {"type": "message", "channel": ["C1"]}}', "application/json"),
        (b'{"type": "event_callback", "event": {"type": "app_mention", "text": {"a": 1}}}', "application/json"),
        (
            b'{"type": "event_callback", "event": {"type": "app_mention", "user": "U1", "text": "hi"}}',
            "application/json",
        ),
        (b'{"type": "event_callback", "event": {"type": "assistant_thread_started"}}', "application/json"),
        (b"payload=" + urllib.parse.quote(json.dumps({"type": "block_actions", "actions": [{}]})).encode(), FORM),
        (b"payload=" + urllib.parse.quote(json.dumps({"type": "block_actions", "actions": "x"})).encode(), FORM),
        (
            b"payload="
            + urllib.parse.quote(
                json.dumps({"type": "block_actions", "user": {"id": "U1"}, "actions": [{"action_id": 5}]})
            ).encode(),
            FORM,
        ),
        (
            b"payload="
            + urllib.parse.quote(
                json.dumps({"type": "block_actions", "actions": [{"action_id": "share_answer", "value": "x"}]})
            ).encode(),
            FORM,
        ),
        (
            b"payload="
            + urllib.parse.quote(
                json.dumps(
                    {"type": "block_actions", "user": {"id": "U1"}, "actions": [{"action_id": "a", "value": ["x"]}]}
                )
            ).encode(),
            FORM,
        ),
    ],
)
def test_signed_but_malformed_bodies_get_a_4xx_and_no_traceback(
    served: SlackServer, body: bytes, content_type: str
) -> None:
    log_before = served.log_path.stat().st_size
    status = post_raw(served, body, signed_headers(body, content_type))
    assert 400 <= status < 500, status
    time.sleep(0.2)
    assert "Traceback" not in served.log_path.read_text(errors="replace")[log_before:]


def test_a_body_cannot_forge_a_log_line(served: SlackServer) -> None:
    marker = new_id("FORGED")
    forged = f"text=x\n2026-12-01 00:00:00 [1] ERROR collab.server: {marker}\r\n".encode()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(int(time.time())),
        "X-Slack-Signature": sign("something else", int(time.time())),
    }
    log_before = served.log_path.stat().st_size
    assert post_raw(served, forged, headers) == 401
    # and a path with an encoded line break, which gunicorn decodes before the app sees it
    assert http("POST", served.url + "/slack/events%0AERROR%20" + marker, b"x", headers).status in (401, 404)
    time.sleep(0.3)
    written = served.log_path.read_text(errors="replace")[log_before:]
    assert marker not in written or all(json.loads(line) for line in written.splitlines() if marker in line)
    rejected = [line for line in written.splitlines() if "rejected" in line]
    assert rejected and all(json.loads(line)["level"] == "WARNING" for line in rejected)


def test_healthz_tells_status_and_data_version_never_paths(served: SlackServer, collab_db: Path) -> None:
    reply = http("GET", served.url + "/healthz")
    assert reply.status == 200
    assert set(reply.json()) == {"status", "data_version"}
    assert str(collab_db.parent) not in reply.body.decode() and "/" not in reply.body.decode()


def test_other_paths_and_methods_get_4xx(served: SlackServer) -> None:
    assert http("GET", served.url + "/slack/events").status == 405
    assert http("GET", served.url + "/etc/passwd").status == 404


# ---------------------------------------------------------------- a bomb over Slack


def test_a_sql_bomb_over_slack_is_bounded_and_the_server_keeps_answering(served: SlackServer, standin) -> None:
    bomb = (
        "sql WITH RECURSIVE t(s, n) AS (SELECT 'x', 0 UNION ALL SELECT s || s, n + 1 FROM t WHERE n < 40) "
        "SELECT max(length(s)) FROM t"
    )
    peak, done = [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss(served.process.pid))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.monotonic()
    try:
        reply, sent = served.slash_command(bomb)
        body = reply.json()
        if NEEDED_MORE_MEMORY not in json.dumps(body):
            body = standin.wait_for("response", where={"key": sent["key"]}, timeout=20)[0].body
    finally:
        done.set()
        sampler.join()
    assert "needed more memory than allowed" in json.dumps(body)
    assert time.monotonic() - started < 10
    assert peak[0] < 1_500_000_000, peak[0]
    reply, sent = served.slash_command("sql SELECT count(*) AS n FROM countries")
    answered = json.dumps(reply.json())
    if "250" not in answered:
        answered = json.dumps(standin.wait_for("response", where={"key": sent["key"]}, timeout=20)[0].body)
    assert "250" in answered
