"""A local stand-in for Slack's Web API, response_url and file-upload endpoints.

A real ThreadingHTTPServer on 127.0.0.1 (random port) that records every call and answers the way
Slack does, so the real server can be tested end to end with only Slack itself replaced. It keeps
each channel's history (posted messages with their metadata, file shares) for conversations.history.

It refuses what Slack refuses: chat.postMessage with more than 12,000 characters of text across
its blocks (`msg_blocks_too_long`); posts, uploads and history in conversations the bot is not a
member of (`channel_not_found`, or `not_in_channel` for public channels, where chat:write.public
still lets it post); conversations.members in a private channel it isn't in (`channel_not_found`)
or in a DM or group DM (`missing_scope`: collab has no im:read or mpim:read); joining anything but a public channel
(`method_not_supported_for_channel_type`); image blocks naming a file that was never uploaded
(`invalid_blocks`). Conversations are public channels (ids starting with C), private channels (G),
DMs (D) or group DMs, as declared with `conversation(...)`; the bot is a member of what it joined,
opened or was declared in. It also records every acknowledgement the server sent (method "ack"),
and response_url posts `in_channel` land in their conversation's history, so `history` is what
everyone there sees.

It can be scripted to fail, per endpoint (a Web API method, "upload" for the upload URLs,
"response" for response_urls), once per script: an API error, HTTP 429 with Retry-After, HTTP 500,
or the connection closed without a response. A 500 or a drop can come before Slack acted
(`processed=False`: nothing happened) or after (`processed=True`: the message is posted, the file
shared, and only the reply is lost), the case that makes a blind retry post twice.

    standin = SlackStandIn(token="xoxb-test").start()
    env["SLACK_API_URL"] = standin.api_url          # http://127.0.0.1:PORT/api/
    response_url = standin.response_url("abc")      # http://127.0.0.1:PORT/response/abc
    standin.fail_once("files.completeUploadExternal", "not_in_channel", where={"channel_id": "C1"})
    standin.server_error_once("chat.postMessage", where={"channel": "C1"}, processed=True)
    standin.drop_once("upload", where={"filename": "collab-x.png"})
    calls = standin.wait_for("chat.postMessage", where={"channel": "C1"})
    standin.history["C1"]                           # what people in C1 would see, threads included
    standin.conversation("G1", "mpim", member=False)  # a group DM the bot isn't in
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse

BOT_USER = "U0COLLAB"
MAX_BLOCK_TEXT = 12000  # characters of text across a message's blocks (bolt-js#2509)
KINDS = ("public", "private", "im", "mpim")


def block_text_length(value: Any) -> int:
    """Every `text` string in a block tree, counted."""
    if isinstance(value, list):
        return sum(block_text_length(v) for v in value)
    if isinstance(value, dict):
        return sum(len(v) if k == "text" and isinstance(v, str) else block_text_length(v) for k, v in value.items())
    return 0


def image_files(blocks: Any) -> list[str]:
    """The file ids that image blocks show by reference (slack_file)."""
    if not isinstance(blocks, list):
        return []
    return [
        str((b.get("slack_file") or {}).get("id"))
        for b in blocks
        if isinstance(b, dict) and b.get("type") == "image" and b.get("slack_file")
    ]


@dataclass
class Call:
    """One request the stand-in received."""

    method: str  # Web API method ("chat.postMessage"), "upload" or "response"
    path: str
    headers: dict[str, str]
    body: dict[str, Any]  # parsed JSON or form fields; {} for raw uploads
    raw: bytes
    status: int = 200  # what the stand-in answered; 0: the connection was closed without an answer
    reply: dict[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)

    def json_field(self, name: str) -> Any:
        """A field that Slack clients send either as JSON or as a JSON-encoded form value."""
        value = self.body.get(name)
        return json.loads(value) if isinstance(value, str) and value[:1] in "[{" else value


@dataclass
class _Scripted:
    method: str
    where: dict[str, str]
    status: int
    body: Any
    headers: dict[str, str]
    drop: bool = False  # close the connection instead of answering
    processed: bool = False  # act on the request (post, share, store) before failing


class SlackStandIn:
    def __init__(self, token: str = "xoxb-standin"):
        self.token = token
        self.calls: list[Call] = []
        self.uploads: dict[str, bytes] = {}  # file id -> bytes received at its upload URL
        self.upload_requests: dict[str, dict[str, Any]] = {}  # file id -> files.getUploadURLExternal fields
        self.joined: set[str] = set()
        self.kinds: dict[str, str] = {}  # conversation -> public | private | im | mpim (else from its id)
        self.bot_member: set[str] = set()  # conversations the bot is in (declared, joined or opened)
        self.response_channels: dict[str, str] = {}  # response_url key -> its conversation
        self.completed: set[str] = set()  # file ids whose upload was completed
        self.deleted: set[str] = set()
        self.members: dict[str, list[str]] = {}  # channel -> user ids, for conversations.members
        # channel -> messages people see there (threads included), oldest first. Like Slack,
        # conversations.history leaves thread replies out (unless also sent to the channel), and
        # conversations.replies lists a thread.
        self.history: dict[str, list[dict[str, Any]]] = {}
        self._scripted: list[_Scripted] = []
        self._condition = threading.Condition()
        self._ids = itertools.count(1)
        self._last_ts = 0.0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ lifecycle

    def start(self) -> SlackStandIn:
        standin = self

        class Handler(_Handler):
            owner = standin

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="slack-standin", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the stand-in first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, key: str, channel: str | None = None) -> str:
        """A response_url; with `channel`, its `in_channel` posts land in that conversation's history."""
        if channel:
            self.response_channels[key] = channel
        return f"{self.url}/response/{key}"

    # ------------------------------------------------------------ conversations

    def conversation(self, channel: str, kind: str, *, member: bool) -> str:
        """Declare a conversation's kind and whether the bot is in it."""
        assert kind in KINDS, kind
        with self._condition:
            self.kinds[channel] = kind
            (self.bot_member.add if member else self.bot_member.discard)(channel)
        return channel

    def kind(self, channel: str) -> str:
        return self.kinds.get(channel) or {"C": "public", "G": "private", "D": "im"}.get(channel[:1], "public")

    def is_member(self, channel: str) -> bool:
        return channel in self.bot_member or channel in self.joined

    def _refusal(self, channel: str, *, posting: bool) -> str | None:
        """Slack's error for posting (chat.postMessage) or sharing a file in `channel`, None when allowed."""
        if self.is_member(channel):
            return None
        if self.kind(channel) == "public":
            return None if posting else "not_in_channel"  # chat:write.public posts without joining
        return "channel_not_found"  # private conversations are invisible to non-members

    def record_ack(self, channel: str, status: int, body: bytes) -> None:
        """An acknowledgement the server sent for a request in `channel` (an in_channel one is seen there).

        Refused requests (401, 4xx) are not messages and are not recorded.
        """
        if status != 200:
            return
        try:
            payload = json.loads(body) if body else {}
        except ValueError:
            payload = {"text": body.decode(errors="replace")}
        if not isinstance(payload, dict):
            payload = {"value": payload}
        if payload.get("response_type") == "in_channel":
            self._add_to_history(channel, self._visible(payload))
        self._record(Call("ack", "/slack/events", {}, {**payload, "channel": channel}, body, status))

    def _visible(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "message",
            "user": BOT_USER,
            "ts": self._new_ts(),
            "text": payload.get("text", ""),
            "blocks": payload.get("blocks") or [],
            "image_files": image_files(payload.get("blocks")),
        }

    # ------------------------------------------------------------ scripting failures

    def reply_once(self, method: str, reply: dict[str, Any], where: dict[str, str] | None = None) -> None:
        """The next matching call to `method` answers `reply` as it is (e.g. an "ok" without a channel)."""
        self._script(method, where, 200, reply, {})

    def fail_once(self, method: str, error: str, where: dict[str, str] | None = None) -> None:
        """The next matching call to `method` answers {"ok": false, "error": error}."""
        self._script(method, where, 200, {"ok": False, "error": error}, {})

    def rate_limit_once(self, method: str, retry_after: int = 1, where: dict[str, str] | None = None) -> None:
        """The next matching call to `method` answers HTTP 429 with Retry-After (Slack did not act on it)."""
        self._script(method, where, 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)})

    def fail_response_url_once(self, key: str, error: str = "invalid_blocks") -> None:
        """The next post to response_url(key) is refused the way Slack refuses bad blocks."""
        self._script("response", {"key": key}, 400, error, {})

    def server_error_once(
        self, method: str, where: dict[str, str] | None = None, *, processed: bool = False, status: int = 500
    ) -> None:
        """The next matching call answers HTTP 500 (after acting on it when `processed`)."""
        self._script(method, where, status, "Internal Server Error", {}, processed=processed)

    def drop_once(self, method: str, where: dict[str, str] | None = None, *, processed: bool = False) -> None:
        """The next matching call gets its connection closed without an answer (after acting on it when `processed`)."""
        self._script(method, where, 0, "", {}, drop=True, processed=processed)

    def clear_scripts(self) -> None:
        with self._condition:
            self._scripted.clear()

    def _script(
        self,
        method: str,
        where: dict[str, str] | None,
        status: int,
        body: Any,
        headers: dict[str, str],
        drop: bool = False,
        processed: bool = False,
    ) -> None:
        """method: a Web API method, "upload" (where: file_id or filename) or "response" (where: key)."""
        with self._condition:
            self._scripted.append(_Scripted(method, dict(where or {}), status, body, headers, drop, processed))

    def _take_script(self, method: str, fields: dict[str, Any]) -> _Scripted | None:
        with self._condition:
            for scripted in self._scripted:
                if scripted.method == method and all(str(fields.get(k)) == v for k, v in scripted.where.items()):
                    self._scripted.remove(scripted)
                    return scripted
        return None

    # ------------------------------------------------------------ reading what happened

    def calls_to(
        self, method: str, where: dict[str, str] | None = None, test: Callable[[Call], bool] | None = None
    ) -> list[Call]:
        with self._condition:
            return [c for c in self.calls if c.method == method and _matches(c, where) and (test is None or test(c))]

    def wait_for(
        self,
        method: str,
        count: int = 1,
        where: dict[str, str] | None = None,
        test: Callable[[Call], bool] | None = None,
        timeout: float = 15,
    ) -> list[Call]:
        """Block until `count` matching calls arrived; AssertionError with what did arrive otherwise."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                found = [
                    c for c in self.calls if c.method == method and _matches(c, where) and (test is None or test(c))
                ]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [(c.method, {k: str(v)[:60] for k, v in c.body.items()}) for c in self.calls[-15:]]
                    raise AssertionError(f"waited {timeout}s for {count} x {method} {where or ''}; last calls: {seen}")
                self._condition.wait(remaining)

    def _record(self, call: Call) -> None:
        with self._condition:
            self.calls.append(call)
            self._condition.notify_all()

    # ------------------------------------------------------------ Slack's answers

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    def api_reply(self, method: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if headers.get("authorization") != f"Bearer {self.token}" and body.get("token") != self.token:
            return 200, {"ok": False, "error": "not_authed" if "authorization" not in headers else "invalid_auth"}
        answer = _ANSWERS.get(method)
        if answer is None:
            return 404, {"ok": False, "error": "unknown_method"}
        return 200, answer(self, body)

    def _new_ts(self) -> str:
        with self._condition:  # unique and increasing, like Slack's
            ts = max(time.time(), self._last_ts + 0.000001)
            self._last_ts = ts
        return f"{ts:.6f}"

    def _add_to_history(self, channel: str, message: dict[str, Any]) -> None:
        with self._condition:
            self.history.setdefault(channel, []).append(message)

    def _post_message(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = str(body.get("channel"))
        blocks = body.get("blocks")
        if isinstance(blocks, str) and blocks[:1] == "[":
            blocks = json.loads(blocks)
        refused = self._refusal(channel, posting=True)
        if refused:
            return {"ok": False, "error": refused}
        if block_text_length(blocks) > MAX_BLOCK_TEXT:
            return {"ok": False, "error": "msg_blocks_too_long"}
        unknown = [f for f in image_files(blocks) if f not in self.completed or f in self.deleted]
        if unknown:
            return {"ok": False, "error": "invalid_blocks", "errors": [f"invalid slack file {unknown[0]}"]}
        ts = self._new_ts()
        metadata = body.get("metadata")
        if isinstance(metadata, str) and metadata[:1] == "{":
            metadata = json.loads(metadata)
        message = {
            "type": "message",
            "user": BOT_USER,
            "ts": ts,
            "text": body.get("text", ""),
            "blocks": blocks or [],
            "image_files": image_files(blocks),
        }
        if body.get("thread_ts"):
            message["thread_ts"] = str(body["thread_ts"])
            if str(body.get("reply_broadcast")).lower() in ("true", "1"):
                message["reply_broadcast"] = True
        if metadata:
            message["metadata"] = metadata
        self._add_to_history(str(body.get("channel")), message)
        return {"ok": True, "channel": body.get("channel"), "ts": ts, "message": message}

    def _history(self, body: dict[str, Any]) -> dict[str, Any]:
        if not self.is_member(str(body.get("channel"))):
            return {
                "ok": False,
                "error": "not_in_channel" if self.kind(str(body.get("channel"))) == "public" else "channel_not_found",
            }
        oldest = float(body.get("oldest") or 0)
        with self._condition:
            messages = [
                dict(m)
                for m in self.history.get(str(body.get("channel")), [])
                if float(m["ts"]) > oldest and not is_thread_reply(m)
            ]
        if str(body.get("include_all_metadata")).lower() not in ("true", "1"):
            for message in messages:
                message.pop("metadata", None)
        limit = int(body.get("limit") or 100)
        return {
            "ok": True,
            "messages": messages[::-1][:limit],
            "has_more": len(messages) > limit,
            "response_metadata": {"next_cursor": ""},
        }

    def _replies(self, body: dict[str, Any]) -> dict[str, Any]:
        """conversations.replies: a thread (its parent, when the stand-in saw it, then the replies), oldest first."""
        channel, thread = str(body.get("channel")), str(body.get("ts"))
        if not self.is_member(channel):
            return {"ok": False, "error": "not_in_channel" if self.kind(channel) == "public" else "channel_not_found"}
        oldest = float(body.get("oldest") or 0)
        with self._condition:
            in_thread = [dict(m) for m in self.history.get(channel, []) if thread in (m["ts"], m.get("thread_ts"))]
        if not in_thread:
            return {"ok": False, "error": "thread_not_found"}
        messages = [m for m in in_thread if float(m["ts"]) >= oldest]
        if str(body.get("include_all_metadata")).lower() not in ("true", "1"):
            for message in messages:
                message.pop("metadata", None)
        limit = int(body.get("limit") or 1000)
        return {
            "ok": True,
            "messages": messages[:limit],
            "has_more": len(messages) > limit,
            "response_metadata": {"next_cursor": ""},
        }

    def _get_upload_url(self, body: dict[str, Any]) -> dict[str, Any]:
        file_id = self._next_id("F")
        self.upload_requests[file_id] = dict(body)
        return {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}

    def _complete_upload(self, body: dict[str, Any]) -> dict[str, Any]:
        files = json.loads(body.get("files", "[]"))
        missing = [f["id"] for f in files if f.get("id") not in self.uploads]
        if not files or missing:
            return {"ok": False, "error": "file_upload_not_found" if missing else "invalid_arguments"}
        refused = self._refusal(str(body["channel_id"]), posting=False) if body.get("channel_id") else None
        if refused:
            return {"ok": False, "error": refused}
        self.completed.update(f["id"] for f in files)
        if body.get("channel_id"):  # shared: people in the channel see it
            self._add_to_history(
                str(body["channel_id"]),
                {
                    "type": "message",
                    "user": BOT_USER,
                    "ts": self._new_ts(),
                    "text": body.get("initial_comment", ""),
                    "upload": True,
                    **({"thread_ts": str(body["thread_ts"])} if body.get("thread_ts") else {}),
                    "files": [{"id": f["id"], "title": f.get("title", "")} for f in files],
                },
            )
        return {
            "ok": True,
            "files": [
                {
                    "id": f["id"],
                    "title": f.get("title", ""),
                    "name": self.upload_requests[f["id"]].get("filename"),
                    "permalink": f"{self.url}/files/{f['id']}",
                    "size": len(self.uploads[f["id"]]),
                }
                for f in files
            ],
        }

    def _join(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = str(body.get("channel"))
        if self.kind(channel) != "public":
            return {"ok": False, "error": "method_not_supported_for_channel_type"}
        self.joined.add(channel)
        return {"ok": True, "channel": {"id": channel, "is_member": True}}

    def _members(self, body: dict[str, Any]) -> dict[str, Any]:
        """conversations.members: DMs and group DMs need im:read / mpim:read, which collab doesn't ask for;
        a private channel the bot isn't in is invisible to it."""
        channel = str(body.get("channel"))
        kind = self.kind(channel)
        if kind in ("im", "mpim"):
            return {"ok": False, "error": "missing_scope", "needed": f"{kind}:read"}
        if kind == "private" and not self.is_member(channel):
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "members": self.members.get(channel, []), "response_metadata": {"next_cursor": ""}}

    def _open(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = "D" + str(body.get("users", "")).lstrip("U")
        self.conversation(channel, "im", member=True)
        return {"ok": True, "channel": {"id": channel}}

    def _delete_file(self, body: dict[str, Any]) -> dict[str, Any]:
        file_id = str(body.get("file"))
        if file_id not in self.upload_requests or file_id in self.deleted:
            return {"ok": False, "error": "file_not_found"}
        self.deleted.add(file_id)
        return {"ok": True}


_ANSWERS: dict[str, Callable[[SlackStandIn, dict[str, Any]], dict[str, Any]]] = {
    "auth.test": lambda s, b: {
        "ok": True,
        "url": "https://standin.slack.com/",
        "team": "Stand-in",
        "user": "collab",
        "team_id": "T0STANDIN",
        "user_id": BOT_USER,
        "bot_id": "B0COLLAB",
    },
    "chat.postMessage": SlackStandIn._post_message,
    "chat.postEphemeral": lambda s, b: {"ok": True, "message_ts": f"{time.time():.6f}"},
    "views.publish": lambda s, b: {"ok": True, "view": {"id": s._next_id("V"), "type": "home"}},
    "conversations.join": SlackStandIn._join,
    "conversations.open": SlackStandIn._open,
    "files.delete": SlackStandIn._delete_file,
    "conversations.members": SlackStandIn._members,
    "conversations.list": lambda s, b: {"ok": True, "channels": [], "response_metadata": {"next_cursor": ""}},
    "conversations.history": SlackStandIn._history,
    "conversations.replies": SlackStandIn._replies,
    # The assistant pane: Slack answers ok and shows the status, prompts or title to the person.
    "assistant.threads.setStatus": lambda s, b: {"ok": True},
    "assistant.threads.setSuggestedPrompts": lambda s, b: {"ok": True},
    "assistant.threads.setTitle": lambda s, b: {"ok": True},
    "users.info": lambda s, b: {
        "ok": True,
        "user": {"id": b.get("user"), "name": "person", "real_name": "A Person", "tz": "Europe/London"},
    },
    "files.getUploadURLExternal": SlackStandIn._get_upload_url,
    "files.completeUploadExternal": SlackStandIn._complete_upload,
}


def is_thread_reply(message: dict[str, Any]) -> bool:
    """A reply inside a thread, which Slack leaves out of conversations.history (unless also sent to the channel)."""
    thread = message.get("thread_ts")
    return bool(thread) and thread != message["ts"] and not message.get("reply_broadcast")


def _matches(call: Call, where: dict[str, str] | None) -> bool:
    return all(str(call.body.get(k)) == v for k, v in (where or {}).items())


class _Handler(BaseHTTPRequestHandler):
    owner: SlackStandIn
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        path = urlparse(self.path).path
        if path.startswith("/api/"):
            self._api(path, path[len("/api/") :], headers, raw)
        elif path.startswith("/upload/"):
            file_id = path.rsplit("/", 1)[-1]
            fields = {"file_id": file_id, **self.owner.upload_requests.get(file_id, {})}
            scripted = self.owner._take_script("upload", fields)
            if scripted is None or scripted.processed:
                self.owner.uploads[file_id] = raw
            call = Call("upload", path, headers, fields, raw)
            if scripted is not None:
                self._fail(call, scripted)
            else:
                self._record_and_send(call, 200, f"OK - {len(raw)}")
        elif path.startswith("/response/"):
            self._response_url(path, headers, raw)
        else:
            self._send(404, "not_found")

    def _api(self, path: str, method: str, headers: dict[str, str], raw: bytes) -> None:
        body = _parse_body(headers, raw)
        fields = dict(body)
        if method == "files.completeUploadExternal":  # scripts can name the file by its name
            with contextlib.suppress(ValueError, TypeError, IndexError, KeyError):
                first = json.loads(body.get("files", "[]"))[0]["id"]
                fields["filename"] = self.owner.upload_requests[first].get("filename")
        scripted = self.owner._take_script(method, fields)
        if scripted is not None and (scripted.drop or scripted.status >= 500):
            if scripted.processed:
                self.owner.api_reply(method, body, headers)  # Slack acted; only its answer is lost
            self._fail(Call(method, path, headers, body, raw), scripted)
            return
        if scripted is not None:
            status, reply, extra = scripted.status, scripted.body, scripted.headers
        else:
            (status, reply), extra = self.owner.api_reply(method, body, headers), {}
        self._record_and_send(Call(method, path, headers, body, raw, status, reply), status, reply, extra)

    def _response_url(self, path: str, headers: dict[str, str], raw: bytes) -> None:
        key = path.rsplit("/", 1)[-1]
        body = _parse_body(headers, raw)
        scripted = self.owner._take_script("response", {"key": key})
        if scripted is not None and (scripted.drop or scripted.status >= 500):
            self._fail(Call("response", path, headers, {**body, "key": key}, raw), scripted)
            return
        status, reply = (scripted.status, scripted.body) if scripted else (200, "ok")
        if scripted is None and not (body.get("text") or body.get("blocks") or body.get("delete_original")):
            status, reply = 400, "no_text"
        elif scripted is None and any(
            f not in self.owner.completed or f in self.owner.deleted for f in image_files(body.get("blocks"))
        ):
            status, reply = 400, "invalid_blocks"
        elif scripted is None and body.get("response_type") == "in_channel":
            channel = self.owner.response_channels.get(key)
            if channel:
                self.owner._add_to_history(channel, self.owner._visible(body))
        self._record_and_send(
            Call("response", path, headers, {**body, "key": key}, raw, status),
            status,
            reply,
            scripted.headers if scripted else None,
        )

    def _fail(self, call: Call, scripted: _Scripted) -> None:
        """A scripted 5xx, or the connection closed with no response at all."""
        if scripted.drop:
            call.status = 0
            self.owner._record(call)
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        call.status = scripted.status
        self._record_and_send(call, scripted.status, scripted.body, scripted.headers)

    def _record_and_send(self, call: Call, status: int, reply: Any, headers: dict[str, str] | None = None) -> None:
        if isinstance(reply, dict):
            call.reply = reply
        self.owner._record(call)
        self._send(status, reply, headers)

    def _send(self, status: int, reply: Any, headers: dict[str, str] | None = None) -> None:
        is_json = isinstance(reply, dict)
        data = json.dumps(reply).encode() if is_json else str(reply).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8" if is_json else "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def _parse_body(headers: dict[str, str], raw: bytes) -> dict[str, Any]:
    content_type = headers.get("content-type", "")
    if "json" in content_type:
        return json.loads(raw or b"{}")
    if "form-urlencoded" in content_type:
        return dict(parse_qsl(raw.decode(), keep_blank_values=True))
    return {}


# ---------------------------------------------------------------- mrkdwn that Slack would misread

_SLACK_MARKUP = re.compile(r"<(?:[@#][A-Z0-9]+|![^<>]+|(?:https?|mailto):[^<>|\s]+)(?:\|[^<>]*)?>")
_BARE = re.compile(r"[<>]|&(?!amp;|lt;|gt;)")


def unescaped_markup(payload: Any) -> list[str]:
    """mrkdwn strings in a payload where `&`, `<` or `>` is not escaped and not Slack's own markup.

    Walks mrkdwn text objects, a message's fallback `text` and a file's `initial_comment`; plain_text
    (headers, buttons), table cells and alt text are shown as written and are skipped.
    """
    found: list[str] = []

    def check(text: Any) -> None:
        if isinstance(text, str) and _BARE.search(_SLACK_MARKUP.sub("", text)):
            found.append(text)

    def walk(value: Any) -> None:
        if isinstance(value, str) and value[:1] in "[{":
            with contextlib.suppress(ValueError):
                walk(json.loads(value))
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            if value.get("type") == "mrkdwn":
                check(value.get("text"))
            for key, item in value.items():
                if key not in ("text", "alt_text", "alt_txt", "title", "value"):
                    walk(item)
                elif isinstance(item, (dict, list)):
                    walk(item)

    if isinstance(payload, dict):
        for key in ("text", "initial_comment"):
            check(payload.get(key))
    walk(payload)
    return found
