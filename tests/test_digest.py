"""Channel digests: the commands, the schedule, the content and exactly-once delivery.

Everything that touches state runs against SQLite and PostgreSQL (`backend`). Slack is replaced by
`FakeSlack`, a small HTTP stand-in defined here (it answers the GET methods the digests need:
conversations.members / history / list, users.info with a tz). Exactly-once is tested with real
`collab digest run-due` processes started together, and with processes that crash (os._exit) or
hang and are killed with SIGKILL right after claiming a digest.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from bot import digest
from bot.config import Settings
from bot.digest import (
    Pacer,
    fire_times,
    handle_digest_command,
    next_run,
    parse_subscribe,
    period_key,
    run_due,
    web_client,
)
from bot.errors import ParseError, UnknownName, UserError
from bot.state.store import Store, Subscription, deliveries

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "xoxb-digest-test"
UTC = UTC


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# ---------------------------------------------------------------- a stand-in for Slack's Web API


class FakeSlack:
    """Records calls and answers like Slack; channels, members, time zones and failures are scriptable."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.messages: dict[str, list[dict[str, Any]]] = defaultdict(list)  # channel -> messages, oldest first
        self.members: dict[str, list[str]] = defaultdict(list)
        self.tz: dict[str, str] = {}
        self.names: dict[str, str] = {}  # channel id -> name
        self.private: set[str] = set()  # channels the bot can't join
        self.outside: set[str] = set()  # channels the bot is not in
        self.page_size = 100
        self.scripted: dict[str, list[tuple[int, dict[str, Any], dict[str, str]]]] = defaultdict(list)
        self.drops: dict[str, int] = defaultdict(int)  # method -> calls to act on, then close without answering
        self.uploads: dict[str, bytes] = {}
        self.responses: list[dict[str, Any]] = []
        self._n = itertools.count(1)
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> FakeSlack:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                url = urllib.parse.urlparse(self.path)
                self._answer(url.path, dict(urllib.parse.parse_qsl(url.query)), b"")

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                url = urllib.parse.urlparse(self.path)
                kind = self.headers.get("Content-Type", "")
                if url.path.startswith("/upload/"):
                    params = {}
                elif "json" in kind:
                    params = json.loads(raw or b"{}")
                elif "form" in kind:
                    params = dict(urllib.parse.parse_qsl(raw.decode(), keep_blank_values=True))
                else:
                    params = {}
                params.update(dict(urllib.parse.parse_qsl(url.query)))
                self._answer(url.path, params, raw)

            def _answer(self, path: str, params: dict[str, Any], raw: bytes) -> None:
                status, body, headers = fake.handle(path, params, raw)
                if status == 0:  # acted on, but the answer is lost: the connection closes without one
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                    return
                data = json.dumps(body).encode() if isinstance(body, dict) else str(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json" if isinstance(body, dict) else "text/plain")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    def response_url(self, key: str) -> str:
        return f"{self.url}/response/{key}"

    # scripting and reading

    def fail_once(self, method: str, error: str, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.scripted[method].append((status, {"ok": False, "error": error}, headers or {}))

    def drop_after_acting_once(self, method: str) -> None:
        """The next call to `method` is carried out (a message posted), then its connection closed unanswered."""
        with self.cond:
            self.drops[method] += 1

    def called(self, method: str, **where: Any) -> list[dict[str, Any]]:
        with self.cond:
            return [p for m, p in self.calls if m == method and all(str(p.get(k)) == str(v) for k, v in where.items())]

    def posts(self, channel: str | None = None) -> list[dict[str, Any]]:
        with self.cond:
            return [m for c, ms in self.messages.items() if channel in (None, c) for m in ms]

    def wait_for(self, test, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not test():
                if not self.cond.wait(max(0.01, deadline - time.monotonic())) and time.monotonic() > deadline:
                    raise AssertionError(f"timed out; calls: {[m for m, _ in self.calls][-20:]}")

    # Slack's answers

    def handle(self, path: str, params: dict[str, Any], raw: bytes) -> tuple[int, Any, dict[str, str]]:
        if path.startswith("/upload/"):
            self.uploads[path.rsplit("/", 1)[-1]] = raw
            return 200, "OK", {}
        if path.startswith("/response/"):
            with self.cond:
                self.responses.append({**params, "key": path.rsplit("/", 1)[-1]})
                self.cond.notify_all()
            return 200, "ok", {}
        method = path[len("/api/") :]
        with self.cond:
            self.calls.append((method, params))
            self.cond.notify_all()
            if self.scripted.get(method):
                return self.scripted[method].pop(0)
            if self.drops.get(method):
                self.drops[method] -= 1
                self._api(method, params)
                return 0, None, {}
            return 200, self._api(method, params), {}

    def _api(self, method: str, p: dict[str, Any]) -> dict[str, Any]:
        channel = str(p.get("channel") or p.get("channel_id") or "")
        n = next(self._n)
        if method == "chat.postMessage":
            if channel in self.outside:
                return {"ok": False, "error": "not_in_channel"}
            ts = f"{1790000000 + n}.{n:06d}"
            message = {
                "type": "message",
                "ts": ts,
                "text": p.get("text", ""),
                "blocks": p.get("blocks"),
                "metadata": p.get("metadata"),
            }
            self.messages[channel].append(message)
            return {"ok": True, "channel": channel, "ts": ts, "message": message}
        if method == "conversations.history":
            with_metadata = str(p.get("include_all_metadata")).lower() in ("1", "true")
            found = [
                {k: v for k, v in m.items() if k != "metadata" or with_metadata}
                for m in reversed(self.messages.get(channel, []))
            ]
            return {"ok": True, "messages": found, "has_more": False}
        if method == "conversations.members":
            if channel in self.private and channel in self.outside:
                return {"ok": False, "error": "channel_not_found"}
            members, start = self.members.get(channel, []), int(p.get("cursor") or 0)
            size = min(int(p.get("limit") or 100), self.page_size)
            rest = start + size < len(members)
            return {
                "ok": True,
                "members": members[start : start + size],
                "response_metadata": {"next_cursor": str(start + size) if rest else ""},
            }
        if method == "conversations.list":
            return {
                "ok": True,
                "channels": [{"id": c, "name": name} for c, name in self.names.items()],
                "response_metadata": {"next_cursor": ""},
            }
        if method == "conversations.join":
            if channel in self.private:
                return {"ok": False, "error": "method_not_supported_for_channel_type"}
            self.outside.discard(channel)
            return {"ok": True, "channel": {"id": channel}}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(p.get("users", ""))}}
        if method == "users.info":
            user = p.get("user")
            return {"ok": True, "user": {"id": user, "tz": self.tz.get(user, "Asia/Kuala_Lumpur")}}
        if method == "files.getUploadURLExternal":
            return {"ok": True, "upload_url": f"{self.url}/upload/F{n}", "file_id": f"F{n}"}
        if method == "files.completeUploadExternal":
            files = json.loads(p.get("files") or "[]")
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title", "")} for f in files]}
        if method in ("auth.test", "chat.postEphemeral", "views.publish"):
            return {"ok": True, "user_id": "U0BOT", "team_id": "T0", "message_ts": "1.0"}
        return {"ok": False, "error": "unknown_method"}


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def analytics(request) -> Path:
    """The analytics database (the shared conftest's `db_path` when there is one), as the default for answer()."""
    try:
        path = request.getfixturevalue("db_path")
    except pytest.FixtureLookupError:  # pragma: no cover - without the shared conftest
        from bot.data.build import build

        path = build(
            request.getfixturevalue("tmp_path_factory").mktemp("digest-db") / "collab.duckdb", log=lambda line: None
        )
    import bot.engine.answer
    from bot.engine.db import Database

    patch = pytest.MonkeyPatch()
    patch.setenv("COLLAB_DB", str(path))
    patch.setattr(bot.engine.answer, "_default_db", Database(path))
    yield path
    patch.undo()


@pytest.fixture
def slack(monkeypatch):
    fake = FakeSlack().start()
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SLACK_API_URL", fake.api_url)
    monkeypatch.delenv("COLLAB_ADMINS", raising=False)
    yield fake
    fake.stop()


@pytest.fixture
def client(slack):
    return web_client(TOKEN, slack.api_url)


def _subscribe(
    store: Store,
    channel: str = "C0DIGEST",
    *,
    tz: str = "Europe/London",
    weekday: int = 0,
    at: str = "09:00",
    countries=("MYS",),
    field: str = "ai",
    quiet: bool = False,
    created: datetime = datetime(2026, 11, 25, tzinfo=UTC),
) -> Subscription:
    return store.add_subscription(
        channel_id=channel,
        created_by="U0OWNER",
        weekday=weekday,
        time=at,
        tz=tz,
        countries=countries,
        field=field,
        quiet=quiet,
        now=created,
    )


def _run(store, client, now, **kw):
    return run_due(now, store=store, client=client, pacer=Pacer(0), **kw)


def _env(slack: FakeSlack, state_url: str, analytics: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "COLLAB_DIGEST_"))}
    env.update(
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_API_URL=slack.api_url,
        DATABASE_URL=state_url,
        COLLAB_DB=str(analytics),
        COLLAB_DIGEST_PACE_SECONDS="0",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


def _run_due_process(env: dict[str, str], now: str, stop: str = "") -> subprocess.Popen:
    """`collab digest run-due`, or with `stop` (e.g. "exit-after-post") the same run stopping at that step."""
    command = [sys.executable, "-m", "bot.cli", "digest", "run-due", "--now", now]
    if stop:
        command = [sys.executable, str(ROOT / "tests" / "run_due_and_stop.py"), stop, now]
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _age_claim(store: Store, sub_id: int, by: timedelta = timedelta(minutes=11)) -> None:
    """As if the worker holding the claim had stopped `by` ago: leases are measured by the real clock."""
    [row] = store.deliveries(sub_id)
    with store.engine.begin() as conn:
        conn.execute(
            sa.update(deliveries)
            .where(deliveries.c.id == row.id)
            .values(claimed_at=(row.claimed_at - by).replace(tzinfo=None))
        )


def _text(payload: dict[str, Any]) -> str:
    return payload["text"] + "\n" + json.dumps(payload.get("blocks") or [], ensure_ascii=False)


# ---------------------------------------------------------------- parsing (no state, no Slack)


def _parse(text: str):
    words, channels = digest.split_command(text)
    return parse_subscribe(words, channels)


@pytest.mark.parametrize(
    "text, channel",
    [
        ("<#C0123ABCD|research>", "C0123ABCD"),
        ("<#C0123ABCD>", "C0123ABCD"),
        ("C0123ABCD", "C0123ABCD"),
        ("#C0123ABCD", "C0123ABCD"),
        ("#ai-research", "#ai-research"),
    ],
)
def test_channel_reference_forms(text, channel):
    assert _parse(f"{text} every friday").channel == channel


def test_subscribe_options_in_any_order():
    request = _parse(
        "quiet in computer vision for South Korea and Trinidad and Tobago, Japan at 5:30pm america/new_york every Tue"
    )
    assert (request.weekday, request.time, request.tz, request.field, request.quiet) == (
        1,
        "17:30",
        "America/New_York",
        "cv",
        True,
    )
    assert request.countries == ["KOR", "TTO", "JPN"]  # "and" joins names, and is not Andorra
    assert _parse("").weekday is None and _parse("at 9am").time == "09:00" and _parse("at 12 am").time == "00:00"


@pytest.mark.parametrize(
    "text, error, says",
    [
        ("every funday", ParseError, "day of the week"),
        ("every day", ParseError, "weekly"),
        ("at 25:00", ParseError, "09:00"),
        ("Europe/Londn", ParseError, "Europe/London"),
        ("for Atlantis", UnknownName, "no country 'Atlantis'"),
        ("for Sout Korea", UnknownName, "South Korea"),
        ("in cooking", UnknownName, "no field 'cooking'"),
        ("for USA CHN IND JPN KOR SGP", ParseError, "at most 5"),
        ("bananas", ParseError, "digest subscribe [#channel]"),
        ("#one #two", ParseError, "one channel"),
    ],
)
def test_subscribe_errors_say_what_works(text, error, says):
    with pytest.raises(error) as raised:
        _parse(text)
    assert says in raised.value.message


def test_is_digest_command():
    assert digest.is_digest_command("digest list") and digest.is_digest_command("  Digest")
    assert not digest.is_digest_command("partners Malaysia") and not digest.is_digest_command(None)


# ---------------------------------------------------------------- schedules (pure)


def _sub(tz: str, weekday: int = 0, at: str = "09:00") -> Subscription:
    return Subscription(1, "", "C1", "U1", weekday, at, tz, (), "ai", False, utc(2026, 1, 1))


@pytest.mark.parametrize(
    "tz, before, after",
    [
        # (zone, the Monday 09:00 before the autumn change in UTC, the Monday 09:00 after it in UTC)
        ("Europe/London", utc(2026, 10, 19, 8), utc(2026, 10, 26, 9)),  # BST ends Sun 25 Oct
        ("America/New_York", utc(2026, 10, 26, 13), utc(2026, 11, 2, 14)),  # EDT ends Sun 1 Nov
        ("Australia/Sydney", utc(2026, 9, 27, 23), utc(2026, 10, 4, 22)),  # AEDT starts Sun 4 Oct
        ("Asia/Kuala_Lumpur", utc(2026, 10, 19, 1), utc(2026, 10, 26, 1)),  # no DST
    ],
)
def test_monday_nine_is_nine_local_across_dst(tz, before, after):
    sub = _sub(tz)
    assert next_run(sub, before - timedelta(days=1)) == before
    assert next_run(sub, before + timedelta(seconds=1)) == after
    for moment in (before, after):
        local = moment.astimezone(ZoneInfo(tz))
        assert (local.weekday(), local.hour, local.minute) == (0, 9, 0)
        assert period_key(sub, moment) == local.strftime("%Y-%m-%dT09:00")


def test_spring_forward_week_and_fire_times():
    sub = _sub("America/New_York")
    times = fire_times(sub, utc(2026, 3, 1), utc(2026, 3, 17))  # EST -> EDT on Sun 8 Mar
    assert [t.astimezone(UTC) for t in times] == [utc(2026, 3, 2, 14), utc(2026, 3, 9, 13), utc(2026, 3, 16, 13)]
    assert {period_key(sub, t)[-5:] for t in times} == {"09:00"}


# ---------------------------------------------------------------- the commands


def test_subscribe_list_unsubscribe(store, slack, client, analytics, state_url):
    slack.members["C0HERE"] = ["U0ME"]
    slack.tz["U0ME"] = "Australia/Sydney"
    now = utc(2026, 11, 25, 17)
    reply = handle_digest_command(
        "digest subscribe", user_id="U0ME", channel_id="C0HERE", client=client, store=store, now=now
    )
    sub = store.subscriptions("C0HERE")[0]
    assert (sub.weekday, sub.time, sub.tz, sub.countries, sub.field, sub.quiet) == (
        0,
        "09:00",
        "Australia/Sydney",
        (),
        "ai",
        False,
    )
    nxt = utc(2026, 11, 29, 22)  # Monday 30 Nov 09:00 AEDT
    assert (
        f"<!date^{int(nxt.timestamp())}^{{date_long_pretty}} at {{time}}|Monday 30 November 2026 at 09:00"
        in reply["text"]
    )
    assert "every Monday at 09:00 (Australia/Sydney)" in reply["text"] and reply["blocks"]

    # Another channel, named as Slack escapes it, with the member list on a second page.
    slack.members["C0OTHER"] = ["U0A", "U0B", "U0ME"]
    slack.page_size = 2
    reply = handle_digest_command(
        "subscribe <#C0OTHER|research> every fri at 16:30 America/New_York for Malaysia "
        "Singapore in computer vision quiet",
        user_id="U0ME",
        channel_id="C0HERE",
        client=client,
        store=store,
        team_id="T0",
        now=now,
    )
    other = store.subscriptions("C0OTHER")[0]
    assert (other.weekday, other.time, other.tz, other.countries, other.field, other.quiet, other.team_id) == (
        4,
        "16:30",
        "America/New_York",
        ("MYS", "SGP"),
        "cv",
        True,
        "T0",
    )
    assert "watching Malaysia and Singapore in computer vision" in reply["text"]
    assert len(slack.called("conversations.members", channel="C0OTHER")) == 2  # paginated

    listed = _text(
        handle_digest_command("digest list", user_id="U0ME", channel_id="C0HERE", client=client, store=store, now=now)
    )
    assert f"#{sub.id}" in listed and "Last: none yet." in listed and f"#{other.id}" not in listed
    assert f"<!date^{int(nxt.timestamp())}^" in listed

    # A restart (a new Store on the same URL) keeps both subscriptions.
    again = Store(state_url)
    assert [s.id for s in again.subscriptions()] == [sub.id, other.id]
    again.dispose()

    reply = handle_digest_command(
        f"digest unsubscribe {sub.id}", user_id="U0ME", channel_id="C0HERE", client=client, store=store, now=now
    )
    assert "Unsubscribed" in reply["text"] and store.subscriptions("C0HERE") == []
    assert (
        "No digests"
        in handle_digest_command(
            "digest list", user_id="U0ME", channel_id="C0HERE", client=client, store=store, now=now
        )["text"]
    )
    with pytest.raises(UserError, match="no active digest #999"):
        handle_digest_command("digest unsubscribe 999", user_id="U0ME", channel_id="C0HERE", client=client, store=store)
    with pytest.raises(ParseError, match="digest bogus"):
        handle_digest_command("digest bogus", user_id="U0ME", channel_id="C0HERE", client=client, store=store)


def test_only_members_or_admins_manage_a_channel(store, slack, client, analytics):
    slack.members["C0TEAM"] = ["U0IN"]
    slack.names["C0TEAM"] = "team-room"
    with pytest.raises(UserError, match="Only members of #team-room"):
        handle_digest_command("subscribe #team-room", user_id="U0OUT", channel_id="C0HERE", client=client, store=store)
    assert store.subscriptions() == []
    admins = Settings.from_env({"COLLAB_ADMINS": "U0X, U0OUT"}).admin_ids
    handle_digest_command(
        "subscribe #team-room", user_id="U0OUT", channel_id="C0HERE", client=client, store=store, admins=admins
    )
    sub = store.subscriptions("C0TEAM")[0]  # "#team-room" was found with conversations.list
    with pytest.raises(UserError, match="Only members"):
        handle_digest_command(f"unsubscribe {sub.id}", user_id="U0OUT", channel_id="C0HERE", client=client, store=store)
    slack.private.add("C0SECRET")
    slack.outside.add("C0SECRET")
    with pytest.raises(UserError, match="(?i)invite me"):
        handle_digest_command("subscribe <#C0SECRET>", user_id="U0IN", channel_id="C0HERE", client=client, store=store)


def test_preview_and_failed_delivery_in_list(store, slack, client, analytics):
    slack.members["C0PRIV"] = ["U0OWNER"]
    slack.private.add("C0PRIV")
    slack.outside.add("C0PRIV")  # the bot was never invited, and can't join a private channel
    sub = _subscribe(store, "C0PRIV")
    preview = handle_digest_command(
        "digest preview", user_id="U0OWNER", channel_id="C0PRIV", client=client, store=store, now=utc(2026, 11, 25)
    )
    text = _text(preview)
    assert "Preview of digest" in text and "Top partners" in text and "Malaysia" in text
    assert slack.posts() == []  # a preview posts nothing

    report = _run(store, client, utc(2026, 11, 30, 9, 0, 20))
    assert [o.status for o in report.outcomes] == ["failed"] and report.failed
    [row] = store.deliveries(sub.id)
    assert (row.status, row.error, row.retryable) == ("failed", "not_in_channel", False)
    dm = slack.called("chat.postMessage", channel="DU0OWNER")
    assert len(dm) == 1 and "not_in_channel" in dm[0]["text"] and slack.called("conversations.open")
    listed = _text(
        handle_digest_command(
            "digest list", user_id="U0OWNER", channel_id="C0PRIV", client=client, store=store, now=utc(2026, 11, 30, 10)
        )
    )
    assert ":x: failed" in listed and "not_in_channel" in listed
    assert _run(store, client, utc(2026, 11, 30, 9, 5)).outcomes == []  # not retried: it needs an invitation


# ---------------------------------------------------------------- what a digest says


def test_watched_digest_content_chart_and_movers(store, slack, client, analytics):
    sub = _subscribe(store, countries=("MYS",))
    report = _run(store, client, utc(2026, 11, 30, 9, 0, 30))
    assert [o.status for o in report.outcomes] == ["sent"]
    [post] = slack.posts("C0DIGEST")
    text = json.dumps(post["blocks"], ensure_ascii=False)
    marker = post["metadata"]["event_payload"].pop("collab_post")  # CollabWebClient's mark of this one post
    assert len(marker) == 32 and post["metadata"] == {
        "event_type": "collab_digest",
        "event_payload": {"subscription_id": sub.id, "period": "2026-11-30T09:00"},
    }
    assert "first collab digest" in text and "Top partners" in text and "China 2,218" in text
    assert "Fastest-rising partner: China" in text and "cross-border links per article" in text
    assert "Source: ETO" in text and "2024–2025 are incomplete" in text and "late" not in post["text"]
    uploads = slack.called("files.completeUploadExternal")
    assert len(uploads) == 1 and uploads[0]["channel_id"] == "C0DIGEST"
    assert any(data.startswith(b"\x89PNG") for data in slack.uploads.values())
    [row] = store.deliveries(sub.id)
    assert row.status == "sent" and row.message_ts == post["ts"] and row.snapshot["partners"]["MYS"]["CHN"] == 2218

    # A week later, same data: says so, still spotlights the watched country.
    _run(store, client, utc(2026, 12, 7, 9, 0, 30))
    second = json.dumps(slack.posts("C0DIGEST")[1]["blocks"], ensure_ascii=False)
    assert "Nothing new" in second and "Top partners" in second

    # Pretend the last digest saw an older release with other numbers: the next one names the movers.
    with store.engine.begin() as conn:
        last = conn.execute(
            sa.select(deliveries.c.id, deliveries.c.snapshot).where(deliveries.c.period_key == "2026-12-07T09:00")
        ).one()
        snapshot = dict(last.snapshot)
        snapshot["top"] = {**snapshot["top"], "USA": 200000, "CHN": 174000}
        snapshot["partners"] = {"MYS": {**snapshot["partners"]["MYS"], "CHN": 2000}}
        conn.execute(
            sa.update(deliveries)
            .where(deliveries.c.id == last.id)
            .values(data_version="0ld0ld0ld0ld", snapshot=snapshot)
        )
    _run(store, client, utc(2026, 12, 14, 9, 0, 30))
    third = json.dumps(slack.posts("C0DIGEST")[2]["blocks"], ensure_ascii=False)
    assert "New data since the last digest" in third and "was `0ld0ld0ld0ld`" in third
    assert "United States +5,902 (200,000 → 205,902)" in third
    assert "Malaysia: with China +218 joint articles (2,000 → 2,218)" in third


def test_unwatched_digest_rotates_then_one_line_or_quiet(store, slack, client, analytics):
    loud = _subscribe(store, "C0LOUD", countries=())
    quiet = _subscribe(store, "C0QUIET", countries=(), quiet=True)
    due = utc(2026, 11, 30, 9)
    _run(store, client, due + timedelta(seconds=30))
    spotlight = digest.spotlight_country(loud, due)
    assert spotlight == digest.NOTABLE[(2026 * 53 + 49) % len(digest.NOTABLE)]
    name = digest.country_names([spotlight])[0]
    for channel in ("C0LOUD", "C0QUIET"):
        [post] = slack.posts(channel)
        assert f"spotlight on {name}" in post["text"] and "Spotlight of the week" in json.dumps(post["blocks"])
    assert digest.spotlight_country(loud, due + timedelta(days=7)) != spotlight  # it rotates weekly

    report = _run(store, client, due + timedelta(days=7, seconds=30))
    assert sorted(o.status for o in report.outcomes) == ["sent", "skipped"]
    [_, one_line] = slack.posts("C0LOUD")
    assert len(one_line["blocks"]) == 2 and "Nothing new" in one_line["blocks"][0]["text"]["text"]
    assert "Source: ETO" in one_line["blocks"][1]["elements"][0]["text"]  # the caveat line, always
    assert len(slack.posts("C0QUIET")) == 1
    assert store.last_delivery(quiet.id).status == "skipped"


# ---------------------------------------------------------------- when digests are due


def test_due_in_several_zones_across_the_us_dst_change(store, slack, client, analytics):
    created = utc(2026, 10, 28)
    subs = {
        tz: _subscribe(store, "C0" + tz.split("/")[1].upper()[:6], tz=tz, created=created)
        for tz in ("Australia/Sydney", "Asia/Kuala_Lumpur", "Europe/London", "America/New_York")
    }
    # Monday 2 November 2026 09:00 local, in UTC; New York has just left EDT, London left BST a week ago.
    runs = [
        ("Australia/Sydney", utc(2026, 11, 1, 22)),
        ("Asia/Kuala_Lumpur", utc(2026, 11, 2, 1)),
        ("Europe/London", utc(2026, 11, 2, 9)),
        ("America/New_York", utc(2026, 11, 2, 14)),
    ]
    for tz, moment in runs:
        assert _run(store, client, moment - timedelta(minutes=1)).outcomes == []  # not yet
        report = _run(store, client, moment)
        assert [(o.status, o.subscription_id, o.period) for o in report.outcomes] == [
            ("sent", subs[tz].id, "2026-11-02T09:00")
        ]
    assert len(slack.posts()) == 4 and _run(store, client, utc(2026, 11, 2, 15)).outcomes == []


def test_catch_up_within_grace_says_late_and_beyond_grace_skips(store, slack, client, analytics):
    sub = _subscribe(store, created=utc(2026, 11, 1))
    report = _run(store, client, utc(2026, 11, 9, 20))  # 11 h after Monday 09:00 London
    assert [(o.status, o.period) for o in report.outcomes] == [
        ("missed", "2026-11-02T09:00"),
        ("sent", "2026-11-09T09:00"),
    ]
    [post] = slack.posts()
    assert "This digest is late: it was due <!date^" in json.dumps(post["blocks"]) and "late" in post["text"]
    assert _run(store, client, utc(2026, 11, 9, 21)).outcomes == []  # once

    report = _run(store, client, utc(2026, 11, 25, 12))  # the worker was down for over two weeks
    assert [(o.status, o.period) for o in report.outcomes] == [
        ("missed", "2026-11-16T09:00"),
        ("missed", "2026-11-23T09:00"),
    ]
    assert len(slack.posts()) == 1
    rows = {d.period_key: d for d in store.deliveries(sub.id)}
    assert {k: d.status for k, d in rows.items()} == {
        "2026-11-02T09:00": "skipped",
        "2026-11-09T09:00": "sent",
        "2026-11-16T09:00": "skipped",
        "2026-11-23T09:00": "skipped",
    }
    assert "missed" in rows["2026-11-23T09:00"].note
    assert _run(store, client, utc(2026, 11, 25, 13)).outcomes == []


def test_rate_limit_retry_pacing_and_joining(store, slack, client, analytics):
    slack.outside.add("C0PUBLIC")  # public, but the bot is not in it yet: it joins
    first = _subscribe(store, "C0PUBLIC", countries=("SGP",))
    second = _subscribe(store, "C0PUBLIC", countries=("JPN",), at="09:00")
    slack.fail_once("chat.postMessage", "ratelimited", status=429, headers={"Retry-After": "0"})
    sleeps: list[float] = []
    report = run_due(utc(2026, 11, 30, 9, 1), store=store, client=client, pacer=Pacer(30, sleep=sleeps.append))
    assert [o.status for o in report.outcomes] == ["sent", "sent"]
    assert slack.called("conversations.join", channel="C0PUBLIC")
    assert len(slack.posts("C0PUBLIC")) == 2  # the 429 was retried, nothing posted twice
    assert len(sleeps) == 1 and 20 < sleeps[0] <= 30  # the second post in the channel waited its turn
    assert {store.last_delivery(s.id).status for s in (first, second)} == {"sent"}


def test_run_due_command_exit_codes(store, slack, analytics, state_url, capsys):
    settings = Settings(
        slack_bot_token=TOKEN,
        slack_api_url=slack.api_url,
        database_url=state_url,
        collab_db=str(analytics),
        digest_pace_seconds=0,
    )
    _subscribe(store, "C0OK")
    assert digest.run_due_command("2026-11-30T09:00:10+00:00", settings) == 0
    assert "sent" in capsys.readouterr().out
    assert digest.run_due_command("2026-11-30T09:01:00Z", settings) == 0
    assert "nothing due" in capsys.readouterr().out
    slack.private.add("C0GONE")
    slack.outside.add("C0GONE")
    _subscribe(store, "C0GONE", created=utc(2026, 11, 30, 9, 30))
    assert digest.run_due_command("2026-12-07T09:00:10", settings) == 1
    out = capsys.readouterr().out
    assert "failed" in out and "not_in_channel" in out and "subscriber told by DM" in out
    with pytest.raises(ParseError, match="ISO-8601"):
        digest.run_due_command("next monday", settings)
    with pytest.raises(UserError, match="SLACK_BOT_TOKEN is not set"):
        digest.run_due_command(None, Settings(database_url=state_url, collab_db=str(analytics)))


# ---------------------------------------------------------------- exactly once, across processes


@pytest.mark.slow
def test_two_run_due_processes_at_once_post_once(store, slack, analytics, state_url):
    subs = [_subscribe(store, f"C0RACE{i}", countries=(c,)) for i, c in enumerate(("MYS", "SGP", "KOR"))]
    env = _env(slack, state_url, analytics)
    processes = [_run_due_process(env, "2026-11-30T09:00:05Z") for _ in range(3)]
    outputs = [p.communicate(timeout=60)[0] for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0], outputs
    for sub in subs:
        assert len(slack.posts(sub.channel_id)) == 1, outputs
        assert store.last_delivery(sub.id).status == "sent"
    assert sum(out.count("sent ") for out in outputs) == 3, outputs


@pytest.mark.slow
def test_crash_after_claim_is_retried_once_after_the_lease(store, slack, analytics, state_url):
    sub = _subscribe(store)
    env = _env(slack, state_url, analytics)
    process = _run_due_process(env, "2026-11-30T09:00:05Z", stop="sleep-after-claim")
    lines = [process.stdout.readline() for _ in range(1)]
    while "hook: sleeping after claim" not in lines[-1] and lines[-1] and len(lines) < 50:
        lines.append(process.stdout.readline())
    assert "hook: sleeping after claim" in lines[-1], lines
    process.kill()  # SIGKILL: no cleanup, the claim stays
    process.wait(timeout=10)
    [row] = store.deliveries(sub.id)
    assert (row.status, row.attempts) == ("claimed", 1) and slack.posts() == []

    client = web_client(TOKEN, slack.api_url)
    assert _run(store, client, utc(2026, 11, 30, 9, 5)).outcomes == []  # the lease (10 min) still holds
    assert _run(store, client, utc(2026, 11, 30, 9, 30)).outcomes == []  # whatever moment a run is for
    _age_claim(store, sub.id)  # 11 minutes pass
    retry = _run_due_process(_env(slack, state_url, analytics), "2026-11-30T09:10:30Z")
    output = retry.communicate(timeout=60)[0]
    assert retry.returncode == 0 and "sent" in output, output
    assert slack.called("conversations.history", channel="C0DIGEST")  # looked before posting again
    [row] = store.deliveries(sub.id)
    assert (row.status, row.attempts) == ("sent", 2)
    assert _run(store, client, utc(2026, 11, 30, 9, 30)).outcomes == []
    assert len(slack.posts()) == 1


@pytest.mark.slow
def test_crash_after_the_post_reached_slack_does_not_post_again(store, slack, analytics, state_url):
    sub = _subscribe(store)
    env = _env(slack, state_url, analytics)
    process = _run_due_process(env, "2026-11-30T09:00:05Z", stop="exit-after-post")
    process.communicate(timeout=60)
    assert process.returncode == 70  # os._exit right after chat.postMessage succeeded
    [posted] = slack.posts()
    assert store.deliveries(sub.id)[0].status == "claimed"

    client = web_client(TOKEN, slack.api_url)
    _age_claim(store, sub.id)  # 11 minutes pass: the lease is over
    report = _run(store, client, utc(2026, 11, 30, 9, 11))
    assert [o.status for o in report.outcomes] == ["recovered"]
    assert len(slack.posts()) == 1
    [row] = store.deliveries(sub.id)
    assert (row.status, row.attempts, row.message_ts) == ("sent", 2, posted["ts"])


def test_connection_dropped_after_the_post_reached_slack_posts_once(store, slack, client, analytics):
    """chat.postMessage is carried out, then the connection drops: the digest is found in the channel, not re-sent."""
    sub = _subscribe(store)
    slack.drop_after_acting_once("chat.postMessage")
    report = _run(store, client, utc(2026, 11, 30, 9, 0, 30))
    assert [o.status for o in report.outcomes] == ["sent"], report.outcomes
    [post] = slack.posts("C0DIGEST")
    assert len(slack.called("chat.postMessage", channel="C0DIGEST")) == 1  # not repeated blindly
    assert slack.called("conversations.history", channel="C0DIGEST")  # looked for it instead
    payload = post["metadata"]["event_payload"]
    assert (post["metadata"]["event_type"], payload["subscription_id"], payload["period"]) == (
        digest.EVENT_TYPE,
        sub.id,
        "2026-11-30T09:00",
    )
    [row] = store.deliveries(sub.id)
    assert (row.status, row.attempts, row.message_ts) == ("sent", 1, post["ts"])


def test_connection_dropped_before_the_post_is_retried_once_checked(store, slack, client, analytics):
    """A 5xx where Slack did not post: the channel is checked, the digest is not there, so it is posted once."""
    sub = _subscribe(store)
    slack.fail_once("chat.postMessage", "internal_error", status=500)
    report = _run(store, client, utc(2026, 11, 30, 9, 0, 30))
    assert [o.status for o in report.outcomes] == ["sent"], report.outcomes
    assert len(slack.posts("C0DIGEST")) == 1 and len(slack.called("chat.postMessage", channel="C0DIGEST")) == 2
    assert store.last_delivery(sub.id).status == "sent"


def test_claims_are_stamped_with_the_real_clock_not_the_run_time(store, slack, client, analytics, monkeypatch):
    """A run for a moment an hour ago claims at the real time, so a concurrent run can't take the claim over."""
    real = datetime.now(UTC)
    due = (real - timedelta(hours=1)).replace(second=0, microsecond=0)
    sub = _subscribe(
        store, "C0CLOCK", tz="UTC", weekday=due.weekday(), at=due.strftime("%H:%M"), created=due - timedelta(days=1)
    )
    build, meanwhile = digest.build_digest, []

    def build_while_another_run_starts(*args: Any, **kwargs: Any):
        if not meanwhile:  # while the first run holds its claim, a worker on the real clock runs
            [row] = store.deliveries(sub.id)
            meanwhile.append(row)
            meanwhile.append(_run(store, client, datetime.now(UTC)))
        return build(*args, **kwargs)

    monkeypatch.setattr(digest.deliver, "build_digest", build_while_another_run_starts)
    report = _run(store, client, due + timedelta(seconds=5))
    claimed, other = meanwhile
    assert abs(claimed.claimed_at - real) < timedelta(minutes=1), claimed.claimed_at  # not due + 5 s
    assert other.outcomes == [], [o.line() for o in other.outcomes]  # the claim was not taken over
    assert [o.status for o in report.outcomes] == ["sent"], [o.line() for o in report.outcomes]
    assert len(slack.posts("C0CLOCK")) == 1
    [row] = store.deliveries(sub.id)
    assert (row.status, row.attempts) == ("sent", 1)
    assert abs(row.sent_at - datetime.now(UTC)) < timedelta(minutes=1)  # the real time it was posted


@pytest.mark.slow
def test_worker_posts_what_is_due_and_stops_on_sigterm(store, slack, analytics, state_url):
    now = datetime.now(UTC)
    due = (now - timedelta(minutes=2)).replace(second=0, microsecond=0)
    sub = _subscribe(
        store, "C0WORKER", tz="UTC", weekday=due.weekday(), at=due.strftime("%H:%M"), created=now - timedelta(hours=1)
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "worker"],
        cwd=ROOT,
        env=_env(slack, state_url, analytics),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        slack.wait_for(lambda: slack.posts("C0WORKER") and slack.called("files.completeUploadExternal"), timeout=30)
        deadline = time.monotonic() + 10
        while store.last_delivery(sub.id).status != "sent" and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        worker.send_signal(signal.SIGTERM)
        output = worker.communicate(timeout=20)[0]
    assert worker.returncode == 0, output
    assert "collab worker stopped" in output
    assert len(slack.posts("C0WORKER")) == 1 and store.last_delivery(sub.id).status == "sent"


# ---------------------------------------------------------------- through Slack: signed slash commands

SIGNING_SECRET = "digest-test-signing-secret"


class Served:
    """`collab serve` as a subprocess, and slash commands sent to it signed as Slack signs them."""

    def __init__(self, slack: FakeSlack, analytics: Path, state_url: str, log_path: Path):
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        env = _env(
            slack, state_url, analytics, SLACK_SIGNING_SECRET=SIGNING_SECRET, WEB_CONCURRENCY="1", COLLAB_ACCESS_LOG=""
        )
        self.slack_url, self.log_path, self.log = slack.url, log_path, open(log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--port", str(self.port)],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2).read()
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log = log_path.read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"collab serve did not start:\n{log}") from None
                time.sleep(0.1)

    def command(self, text: str, *, channel: str, user: str) -> tuple[int, float, str]:
        import hashlib
        import hmac

        key = uuid.uuid4().hex
        body = urllib.parse.urlencode(
            {
                "token": "x",
                "team_id": "T0SERVED",
                "channel_id": channel,
                "user_id": user,
                "command": "/collab",
                "text": text,
                "response_url": f"{self.slack_url}/response/{key}",
                "trigger_id": "1.2.3",
                "api_app_id": "A0",
                "channel_name": "research",
                "user_name": "person",
            }
        )
        stamp = str(int(time.time()))
        signature = "v0=" + hmac.new(SIGNING_SECRET.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/slack/events",
            data=body.encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": signature,
            },
        )
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=10) as reply:
            reply.read()
            return reply.status, time.perf_counter() - started, key

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=25)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


@pytest.mark.slow
def test_digest_commands_through_signed_requests(slack, analytics, tmp_path):
    url = f"sqlite:///{tmp_path / 'served-state.sqlite'}"
    slack.members["C0SERVED"] = ["U0SERVED"]
    slack.tz["U0SERVED"] = "Europe/London"

    def replied(key: str, says: str) -> None:
        slack.wait_for(lambda: any(r["key"] == key and says in str(r.get("text")) for r in slack.responses))

    server = Served(slack, analytics, url, tmp_path / "serve.log")
    try:
        status, seconds, key = server.command(
            "digest subscribe every friday at 16:30 for Malaysia", channel="C0SERVED", user="U0SERVED"
        )
        assert status == 200 and seconds < 3  # acked at once; the work happens after
        replied(key, "Subscribed <#C0SERVED> to collab digest")
        _, _, key = server.command("digest list", channel="C0SERVED", user="U0SERVED")
        replied(key, "every Friday at 16:30 (Europe/London)")
        _, _, key = server.command("digest subscribe <#C0ELSEWHERE|secret-room>", channel="C0SERVED", user="U0SERVED")
        replied(key, "Only members of #secret-room")
    finally:
        server.stop()
    state = Store(url)
    [sub] = state.subscriptions("C0SERVED")
    assert (sub.weekday, sub.time, sub.tz, sub.countries, sub.team_id) == (
        4,
        "16:30",
        "Europe/London",
        ("MYS",),
        "T0SERVED",
    )
    state.dispose()


def test_missing_analytics_database_is_a_retryable_failure(store, slack, client, analytics, tmp_path):
    from bot.engine.db import Database

    sub = _subscribe(store)
    report = _run(store, client, utc(2026, 11, 30, 9, 0, 30), db=Database(tmp_path / "nowhere.duckdb"))
    assert [o.status for o in report.outcomes] == ["failed"] and "collab build" in report.outcomes[0].detail
    row = store.last_delivery(sub.id)
    assert row.status == "failed" and row.retryable and slack.posts() == []
    _run(store, client, utc(2026, 11, 30, 9, 1, 30))  # the data is back: the next run posts it
    assert store.last_delivery(sub.id).status == "sent" and len(slack.posts()) == 1
