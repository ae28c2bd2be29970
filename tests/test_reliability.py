"""Nothing lost, nothing twice: Slack's retries, faults on every call the app makes, a missing database.

The real server (gunicorn, two workers) talks to the Slack stand-in, which is scripted to fail the
way Slack and networks do: HTTP 429 with Retry-After, HTTP 500, and connections closed without a
response, each either before Slack acted on the request or after (the message was posted, and only
the answer got lost). Every case must end in exactly one delivered answer, or in a failure the
person is told about; never a double post, never silence.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conftest_slack import ROOT, SlackServer, ack_payload, answer_to, answers_to, http, is_answer, is_chart, new_id
from slack_standin import Call, SlackStandIn

FAILURE_TEXTS = ("Something went wrong on my side", "Traceback")


def all_text(call: Call) -> str:
    return json.dumps(call.body, ensure_ascii=False)


def answers(standin: SlackStandIn, key: str) -> list[Call]:
    """Answers delivered to a response_url (accepted posts with the answer's header)."""
    return standin.calls_to("response", where={"key": key}, test=lambda c: c.status == 200 and is_answer(c.body))


def charts(standin: SlackStandIn, key: str) -> list[Call]:
    """Charts delivered to a response_url (accepted posts with an image block)."""
    return standin.calls_to("response", where={"key": key}, test=lambda c: c.status == 200 and is_chart(c.body))


def posts(standin: SlackStandIn, channel: str) -> list[dict]:
    """Answers people see in the conversation (not charts, not files)."""
    return [m for m in standin.history.get(channel, []) if not m.get("files") and not m.get("image_files")]


def shown_charts(standin: SlackStandIn, channel: str) -> list[dict]:
    """Charts people see in the conversation (image blocks, or a file shared there)."""
    return [m for m in standin.history.get(channel, []) if m.get("image_files") or m.get("files")]


def settle(condition: Callable[[], bool], timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


# ---------------------------------------------------------------- Slack's own retries


def retry_headers(number: int = 1, reason: str = "http_timeout") -> dict[str, str]:
    return {"X-Slack-Retry-Num": str(number), "X-Slack-Retry-Reason": reason}


def test_a_repeated_slash_command_is_acknowledged_and_answered_once(server: SlackServer, standin: SlackStandIn) -> None:
    channel, user, key = new_id("C"), new_id("U"), uuid.uuid4().hex
    first, sent = server.slash_command("pair China Singapore", channel=channel, user=user, response_key=key)
    assert first.status == 200 and is_answer(answer_to(standin, first, key))  # in the ack (or after, when slow)
    for number in (1, 2):  # Slack's retries: same request, same trigger_id
        again, _ = server.slash_command(
            "pair China Singapore",
            channel=channel,
            user=user,
            response_key=key,
            trigger_id=sent["trigger_id"],
            headers=retry_headers(number),
        )
        assert again.status == 200 and again.body == b""  # acknowledged, nothing more
    assert settle(lambda: len(charts(standin, key)) >= 1)
    time.sleep(1.0)
    assert len(charts(standin, key)) == 1 and answers_to(standin, first, key) == 1

    # a new invocation of the same text is a new request (its own trigger_id), and is answered
    again, _ = server.slash_command("pair China Singapore", channel=channel, user=user, response_key=new_id("k"))
    assert is_answer(again.json())


def test_simultaneous_deliveries_to_both_workers_are_answered_once(server: SlackServer, standin: SlackStandIn) -> None:
    """Eight copies of one command at the same moment: one insert wins, in whichever worker."""
    channel, user, key = new_id("C"), new_id("U"), uuid.uuid4().hex
    trigger = f"{int(time.time())}.738474920.{uuid.uuid4().hex}"
    start, replies = threading.Barrier(8), []

    def deliver(number: int) -> None:
        start.wait()
        reply, _ = server.slash_command(
            "partners Indonesia public",
            channel=channel,
            user=user,
            response_key=key,
            trigger_id=trigger,
            headers=retry_headers(number) if number else None,
        )
        replies.append(reply)

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status for r in replies] == [200] * 8
    assert sum(is_answer(ack_payload(r)) for r in replies) + len(answers(standin, key)) == 1
    assert settle(lambda: len(shown_charts(standin, channel)) >= 1)
    time.sleep(1.0)
    assert len(posts(standin, channel)) == 1 and len(shown_charts(standin, channel)) == 1


def test_a_repeated_event_and_button_press_are_handled_once(server: SlackServer, standin: SlackStandIn) -> None:
    user, event_id = new_id("U"), new_id("Ev")
    event = {
        "type": "app_home_opened",
        "user": user,
        "channel": new_id("D"),
        "tab": "home",
        "event_ts": f"{time.time():.6f}",
    }
    assert server.event(event, event_id=event_id).status == 200
    assert server.event(event, event_id=event_id, headers=retry_headers(1, "http_error")).status == 200
    standin.wait_for("views.publish", where={"user_id": user})

    channel, key = new_id("C"), uuid.uuid4().hex
    _, sent = server.click("collab_share", "pair China Saudi Arabia", channel=channel, user=user, response_key=key)
    reply, _ = server.click(
        "collab_share",
        "pair China Saudi Arabia",
        channel=channel,
        user=user,
        response_key=key,
        trigger_id=sent["trigger_id"],
        headers=retry_headers(1),
    )
    assert reply.status == 200
    assert settle(lambda: len(shown_charts(standin, channel)) >= 1)
    time.sleep(1.0)
    assert len(standin.calls_to("views.publish", where={"user_id": user})) == 1
    assert len(posts(standin, channel)) == 1 and len(shown_charts(standin, channel)) == 1

    from bot.state.store import Store, slack_requests  # the keys are in the state database, by kind

    store = Store(server.state_url)
    try:
        with store.engine.connect() as conn:
            kinds = {row.kind for row in conn.execute(slack_requests.select())}
        assert kinds >= {"event", "action"}
    finally:
        store.dispose()


# ---------------------------------------------------------------- faults on every call

COUNTRIES = [
    "Kenya",
    "Nigeria",
    "Egypt",
    "Pakistan",
    "Japan",
    "Brazil",
    "Germany",
    "France",
    "Italy",
    "Spain",
    "Canada",
    "Australia",
    "Mexico",
    "Turkey",
    "Iran",
    "Vietnam",
    "Thailand",
    "Singapore",
    "South Korea",
    "Chile",
    "Argentina",
    "Netherlands",
    "Sweden",
    "Switzerland",
    "Poland",
    "Qatar",
    "Israel",
    "Bangladesh",
    "Portugal",
    "Greece",
    "Norway",
    "Denmark",
    "Finland",
    "Austria",
    "Belgium",
    "Ireland",
]


@dataclass
class Case:
    """One fault on one endpoint, with the command or button press that crosses it."""

    endpoint: str  # a Web API method, "upload" or "response"
    fault: str  # "429" | "500" | "drop"
    processed: bool = False  # Slack acted before the failure (the answer got lost on the way back)
    way: str = "private"  # "private" (a command), "share" (the button, bot in the channel) or "public" (a command)
    text: str = ""
    channel: str = field(default_factory=lambda: new_id("C"))
    key: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def name(self) -> str:
        return f"{self.way} {self.endpoint} {self.fault}{' after acting' if self.processed else ''}"

    @property
    def explained(self) -> bool:
        """An in_channel chart whose post failed after it may have reached Slack: told, never repeated blind."""
        return self.way == "public" and self.endpoint == "response" and self.fault != "429"


def fault_cases() -> list[Case]:
    cases = []
    for fault in ("429", "500", "drop"):
        for processed in (False, True) if fault != "429" else (False,):
            cases.append(Case("chat.postMessage", fault, processed, way="share"))
            cases.append(Case("files.completeUploadExternal", fault, processed))
        for endpoint in ("response", "files.getUploadURLExternal", "upload"):
            cases.append(Case(endpoint, fault))
        cases.append(Case("response", fault, way="public"))
    for case, country in zip(cases, COUNTRIES, strict=False):
        case.text = f"partners {country}{' public' if case.way == 'public' else ''}"
    return cases


def script(standin: SlackStandIn, case: Case, filename: str) -> None:
    where = {
        "response": {"key": case.key},
        "upload": {"filename": filename},
        "files.getUploadURLExternal": {"filename": filename},
        "files.completeUploadExternal": {"filename": filename},
    }.get(case.endpoint, {"channel": case.channel})
    if case.fault == "429":
        standin.rate_limit_once(case.endpoint, retry_after=1, where=where)
    elif case.fault == "500":
        standin.server_error_once(case.endpoint, where=where, processed=case.processed)
    else:
        standin.drop_once(case.endpoint, where=where, processed=case.processed)


def check(standin: SlackStandIn, case: Case, ack: Any) -> list[str]:
    """What went wrong in one case (empty: one answer and one chart, delivered once)."""
    problems = []
    responses = standin.calls_to("response", where={"key": case.key})
    if any(t in all_text(c) for c in responses for t in FAILURE_TEXTS):
        problems.append("a failure message was sent")
    faulted = [
        c
        for c in standin.calls
        if c.status in (0, 429, 500)
        and (
            case.key in c.path
            or case.channel in json.dumps(c.body)
            or c.method in ("upload", "files.getUploadURLExternal", "files.completeUploadExternal")
        )
    ]
    if not any(c.method == case.endpoint for c in faulted):
        problems.append("the fault was never hit")
    if case.way == "private":
        if answers_to(standin, ack, case.key) != 1:
            problems.append(f"answered {answers_to(standin, ack, case.key)} times")
        if len(charts(standin, case.key)) != 1:
            problems.append(f"{len(charts(standin, case.key))} charts at the response_url")
        if standin.history.get(case.channel):
            problems.append("a private answer put something in the channel")
        return problems
    if len(posts(standin, case.channel)) != 1:
        problems.append(f"{len(posts(standin, case.channel))} answers in the channel")
    told = [c for c in responses if "couldn't add the chart" in all_text(c)]
    expected_charts = 0 if case.explained and told else 1
    if len(shown_charts(standin, case.channel)) != expected_charts:
        problems.append(f"{len(shown_charts(standin, case.channel))} charts in the channel")
    if case.way == "share" and not any(c.status == 200 and c.body.get("delete_original") for c in responses):
        problems.append("the private copy was not removed")
    return problems


def test_every_fault_on_every_call_ends_in_one_delivered_answer(
    server: SlackServer, standin: SlackStandIn, answer_for
) -> None:
    from bot.slack.delivery import file_stem

    cases = fault_cases()
    for case in cases:
        if case.way == "share":
            standin.conversation(case.channel, "public", member=True)  # so its history can be checked
        script(standin, case, f"{file_stem(answer_for(case.text))}.png")
    started, acks = time.monotonic(), {}
    for case in cases:  # all at once: each case has its own channel, response_url and file name
        if case.way == "share":
            ack, _ = server.click("collab_share", case.text, channel=case.channel, response_key=case.key)
        else:
            ack, _ = server.slash_command(case.text, channel=case.channel, response_key=case.key)
        assert ack.status == 200 and ack.seconds < 3, (case.name, ack)
        acks[case.key] = ack

    def done(case: Case) -> bool:
        if case.way == "private":
            return bool(charts(standin, case.key))
        told = any(
            "couldn't add the chart" in all_text(c) for c in standin.calls_to("response", where={"key": case.key})
        )
        return bool(posts(standin, case.channel)) and (bool(shown_charts(standin, case.channel)) or told)

    settle(lambda: all(done(c) for c in cases), timeout=60)
    time.sleep(1.5)  # anything arriving twice would arrive by now
    failures = "\n".join(
        f"{case.name}: {problems}" for case in cases if (problems := check(standin, case, acks[case.key]))
    )
    assert not failures, f"{failures}\n{server.log()}"
    print(f"\n{len(cases)} fault cases, all delivered once, in {time.monotonic() - started:.1f} s")


def test_a_post_that_cannot_be_confirmed_is_reported_not_repeated(server: SlackServer, standin: SlackStandIn) -> None:
    """A 5xx after Slack may have posted, and no history to check: tell the person, never post blind."""
    channel, key = standin.conversation(new_id("C"), "public", member=True), uuid.uuid4().hex
    standin.server_error_once("chat.postMessage", where={"channel": channel}, processed=True)
    standin.fail_once("conversations.history", "missing_scope", where={"channel": channel})
    server.click("collab_share", "partners Morocco", channel=channel, response_key=key)
    told = standin.wait_for("response", where={"key": key}, test=lambda c: "couldn't post" in all_text(c))[0]
    assert "HTTP 500" in told.body["text"] and told.body["response_type"] == "ephemeral"
    time.sleep(0.5)
    assert len(standin.calls_to("chat.postMessage", where={"channel": channel})) == 1  # not repeated blind
    assert len(posts(standin, channel)) == 1  # the one Slack made before failing


def test_a_chart_that_keeps_failing_is_explained_and_the_answer_stays(
    server: SlackServer, standin: SlackStandIn, answer_for
) -> None:
    from bot.slack.delivery import file_stem

    channel, key = new_id("C"), uuid.uuid4().hex
    filename = f"{file_stem(answer_for('partners Peru'))}.png"
    for _ in range(3):  # an upload that fails more often than it is retried
        standin.drop_once("upload", where={"filename": filename})
    ack, _ = server.slash_command("partners Peru", channel=channel, response_key=key)
    assert is_answer(answer_to(standin, ack, key))
    told = standin.wait_for("response", where={"key": key}, test=lambda c: "couldn't add the chart" in all_text(c))[0]
    assert "Slack did not answer" in told.body["text"] and "table above" in told.body["text"]
    assert not any(t in all_text(c) for c in standin.calls_to("response", where={"key": key}) for t in FAILURE_TEXTS)
    assert not standin.history.get(channel)


# ---------------------------------------------------------------- the analytics database


def collab_build(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "build", "--db", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def ask(server: SlackServer, standin: SlackStandIn, text: str) -> dict[str, Any]:
    """The answer or refusal: in the ack, or at the response_url after an empty ack."""
    ack, sent = server.slash_command(text)
    if ack.body:
        return ack.json()
    return standin.wait_for("response", where={"key": sent["key"]}, test=lambda c: "blocks" in c.body, timeout=20)[
        0
    ].body


def test_missing_or_corrupt_database_is_reported_then_answered_after_a_build_and_during_rebuilds(
    standin: SlackStandIn, tmp_path: Path
) -> None:
    """The server starts without data, says so, answers once `collab build` ran, and keeps answering through rebuilds.

    (A file overwritten in place while a worker has it open is a different story: bot/engine/db.py reopens
    through DuckDB's per-path instance cache, see the xfail in test_ingest.py.)
    """
    db_path = tmp_path / "collab.duckdb"
    served = SlackServer(standin, db_path, workers=2)
    try:
        served.wait_until_up()
        health = http("GET", served.url + "/healthz")
        assert health.status == 503 and "missing" in health.json()["reason"]
        reply = ask(served, standin, "partners Malaysia")
        assert "The collaboration database is missing" in reply["text"] and "collab build" in reply["text"]

        db_path.write_bytes(b"not a DuckDB file " * 500)  # corrupt, as by a bad copy
        health = http("GET", served.url + "/healthz")
        assert health.status == 503 and "rebuild" in health.json()["reason"]
        reply = ask(served, standin, "partners Malaysia")
        assert "can't be read" in reply["text"] and "collab build" in reply["text"]

        assert collab_build(db_path).returncode == 0  # the same server answers, no restart
        assert http("GET", served.url + "/healthz").status == 200
        for _ in range(4):  # both workers
            assert blocks_named(ask(served, standin, "partners Malaysia"), "table")

        # rebuilds while serving: every command asked meanwhile gets its answer
        stop, keys, replies = threading.Event(), [], []

        def keep_asking() -> None:
            texts = ["partners Malaysia", "pair China USA", "top 10 non-western", "rising China", "profile India"]
            while not stop.is_set():
                reply, sent = served.slash_command(texts[len(keys) % len(texts)])
                assert reply.status == 200 and reply.seconds < 3
                keys.append(sent["key"])
                replies.append(reply)
                time.sleep(0.05)

        askers = [threading.Thread(target=keep_asking) for _ in range(2)]
        for thread in askers:
            thread.start()
        try:
            for _ in range(3):
                result = collab_build(db_path)
                assert result.returncode == 0, result.stderr
        finally:
            time.sleep(0.3)
            stop.set()
            for thread in askers:
                thread.join()
        assert len(keys) >= 10
        answered = [answer_to(standin, r, k) for r, k in zip(replies, keys, strict=True)]
        bad = [
            json.dumps(a, ensure_ascii=False)[:300]
            for a in answered
            if not (
                is_answer(a)
                and ":thinking_face:" not in json.dumps(a)
                and not any(t in json.dumps(a) for t in FAILURE_TEXTS)
            )
        ]
        log = served.log(tail=0)
        assert not bad, f"{bad}\n{log[log.find('Traceback') - 300 :][:4000]}"
        assert "Traceback" not in log, log[log.find("Traceback") - 300 :][:4000]
    finally:
        served.stop()


def blocks_named(payload: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [b for b in payload.get("blocks") or [] if b["type"] == kind]
