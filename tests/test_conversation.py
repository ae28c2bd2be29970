"""Conversations in Slack, end to end: signed Events API deliveries to the real server, Slack's Web API
replaced by the stand-in. Mentions are answered in their thread, DMs in the DM, follow-ups in a
thread are read against its last question (kept in the state database), repeats are answered once,
and bots, edits and other people's threads are left alone.

Each test uses channels and users of its own, so the recorded calls of one test never mix with another's.
"""

from __future__ import annotations

import contextlib
import re
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from conftest_slack import SlackServer, new_id
from slack_standin import BOT_USER, Call, SlackStandIn

from bot.engine.commands import parse
from bot.render import blocks
from bot.slack.conversation import ignored, question_text

MENTION = f"<@{BOT_USER}>"
RETRY = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}


# ---------------------------------------------------------------- events as Slack sends them


class Clock:
    """Message timestamps as Slack makes them: unique and increasing."""

    last = 0.0

    @classmethod
    def ts(cls) -> str:
        cls.last = max(time.time(), cls.last + 0.001)
        return f"{cls.last:.6f}"


def channel_message(channel: str, user: str, text: str, *, thread_ts: str | None = None, **extra: Any) -> dict:
    """A message.channels event (a reply in a thread when thread_ts is given)."""
    ts = Clock.ts()
    event = {"type": "message", "channel": channel, "user": user, "text": text, "ts": ts, "event_ts": ts}
    event.update(channel_type="channel", **({"thread_ts": thread_ts} if thread_ts else {}), **extra)
    return event


def direct_message(channel: str, user: str, text: str, *, thread_ts: str | None = None, **extra: Any) -> dict:
    event = channel_message(channel, user, text, thread_ts=thread_ts, **extra)
    event["channel_type"] = "im"
    return event


def mention(channel: str, user: str, text: str, *, thread_ts: str | None = None) -> dict:
    """The app_mention event for `@collab <text>` (Slack writes the mention as <@BOTUSER>)."""
    ts = Clock.ts()
    event = {"type": "app_mention", "channel": channel, "user": user, "text": f"{MENTION} {text}", "ts": ts}
    event.update(event_ts=ts, **({"thread_ts": thread_ts} if thread_ts else {}))
    return event


def mention_both_ways(server: SlackServer, channel: str, user: str, text: str, thread_ts: str | None = None) -> str:
    """What Slack delivers for a mention when the app also reads channel messages: app_mention and message."""
    event = mention(channel, user, text, thread_ts=thread_ts)
    assert server.event(event).status == 200
    as_message = channel_message(channel, user, event["text"], thread_ts=thread_ts)
    as_message["ts"] = as_message["event_ts"] = event["ts"]
    assert server.event(as_message).status == 200
    return event["ts"]


def member_of(standin: SlackStandIn, prefix: str) -> str:
    """A new channel ("C") or DM ("D") with collab in it, as it is wherever Slack sends it a mention or a DM."""
    return standin.conversation(new_id(prefix), "public" if prefix == "C" else "im", member=True)


def is_chart(call: Call) -> bool:
    return any(b["type"] == "image" for b in call.json_field("blocks") or [])


def posts(standin: SlackStandIn, channel: str, thread_ts: str | None = None) -> list[Call]:
    """collab's messages (charts aside) in a channel: in one thread, or (thread_ts None) at the top of it."""
    return standin.calls_to(
        "chat.postMessage",
        where={"channel": channel},
        test=lambda c: c.body.get("thread_ts") == thread_ts and c.status == 200 and not is_chart(c),
    )


def wait_for_posts(standin: SlackStandIn, channel: str, thread_ts: str | None, count: int) -> list[Call]:
    return standin.wait_for(
        "chat.postMessage",
        count,
        where={"channel": channel},
        test=lambda c: c.body.get("thread_ts") == thread_ts and c.status == 200 and not is_chart(c),
    )


def read_as(call: Call) -> str | None:
    """The command an answer says it read the question as (its first line), None when it has none."""
    first = (call.json_field("blocks") or [{}])[0]
    if first.get("type") != "context":
        return None
    found = re.fullmatch(r"Read as `(.+?)`(?: \(.+\))?", first["elements"][0]["text"])
    return found and found.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def table_rows(call: Call) -> list[list[str]]:
    (table,) = [b for b in call.json_field("blocks") if b["type"] == "table"]
    return [[cell["text"] for cell in row] for row in table["rows"]]


def buttons(call: Call) -> list[tuple[str, str]]:
    return [
        (e["action_id"], e["value"]) for b in call.json_field("blocks") if b["type"] == "actions" for e in b["elements"]
    ]


def same_query(one: str, other: str) -> bool:
    """Two commands asking the same thing ("pair China USA" and "pair China United States")."""
    return replace(parse(one), text="") == replace(parse(other), text="")


def assert_answers(call: Call, command: str, answer_for) -> None:
    """The posted answer is the real answer to `command`: same title, same rows, CSV and SQL buttons."""
    expected = answer_for(command)
    header = [b for b in call.json_field("blocks") if b["type"] == "header"][0]
    assert header["text"]["text"] == expected.title
    rows = table_rows(call)
    assert len(rows) == len(expected.frame) + 1
    assert rows[1][0] == str(expected.frame.iloc[0, 0])
    assert [action for action, _ in buttons(call)] == [blocks.CSV_ACTION, blocks.SQL_ACTION]  # no Share: it is public
    assert all(same_query(value, command) for _, value in buttons(call))  # the buttons recompute this answer


# ---------------------------------------------------------------- what is a question for collab


def test_only_new_messages_from_people_are_questions() -> None:
    person = {"type": "message", "user": "U1", "text": "partners Malaysia", "ts": "1.0"}
    assert ignored(person, BOT_USER) == ""
    assert ignored({**person, "subtype": "file_share"}, BOT_USER) == ""
    assert ignored({**person, "user": BOT_USER}, BOT_USER)  # collab itself
    assert ignored({**person, "bot_id": "B0OTHER"}, BOT_USER)  # another app's bot user
    assert ignored({**person, "subtype": "bot_message", "user": None, "bot_id": "B1"}, BOT_USER)
    assert ignored({**person, "subtype": "message_changed"}, BOT_USER)
    assert ignored({**person, "subtype": "message_deleted"}, BOT_USER)
    assert ignored({**person, "subtype": "channel_join"}, BOT_USER)
    assert ignored({**person, "edited": {"user": "U1", "ts": "2.0"}}, BOT_USER)


def test_question_text_drops_collabs_mention_and_slacks_markup() -> None:
    assert question_text(f"{MENTION} who does Malaysia work with?", BOT_USER) == "who does Malaysia work with?"
    assert question_text(f"hey {MENTION}, pair China &amp; USA", BOT_USER) == "hey , pair China & USA"
    assert question_text("<@U0OTHER> partners Malaysia", BOT_USER) == "@U0OTHER partners Malaysia"


# ---------------------------------------------------------------- mentions, DMs, follow-ups


def test_mention_in_a_channel_is_answered_in_its_thread(server: SlackServer, standin: SlackStandIn, answer_for) -> None:
    channel, user = member_of(standin, "C"), new_id("U")
    asked = mention_both_ways(server, channel, user, "who does Malaysia work with?")

    (answer,) = wait_for_posts(standin, channel, asked, 1)
    assert read_as(answer) == "partners Malaysia"  # plain English: the answer opens with the command
    assert_answers(answer, "partners Malaysia", answer_for)
    chart = standin.wait_for("chat.postMessage", where={"channel": channel}, test=is_chart)[0]
    assert chart.body["thread_ts"] == asked  # the chart follows the answer in the thread
    (image,) = [b for b in chart.json_field("blocks") if b["type"] == "image"]
    assert standin.uploads[image["slack_file"]["id"]].startswith(b"\x89PNG")
    time.sleep(0.5)  # the message event for the same mention must not add a second answer
    assert len(posts(standin, channel, asked)) == 1 and posts(standin, channel) == []


def test_a_command_typed_as_a_mention_has_no_read_as_line(
    server: SlackServer, standin: SlackStandIn, answer_for
) -> None:
    channel = member_of(standin, "C")
    asked = mention_both_ways(server, channel, new_id("U"), "pair China USA")
    (answer,) = wait_for_posts(standin, channel, asked, 1)
    assert read_as(answer) is None
    assert_answers(answer, "pair China USA", answer_for)


def test_direct_message_is_answered_in_the_dm_and_the_next_one_follows_up(
    server: SlackServer, standin: SlackStandIn, answer_for
) -> None:
    dm, user = member_of(standin, "D"), new_id("U")
    assert server.event(direct_message(dm, user, "who does Malaysia work with?")).status == 200
    (first,) = wait_for_posts(standin, dm, None, 1)  # in the DM itself, not in a thread
    assert read_as(first) == "partners Malaysia"
    assert_answers(first, "partners Malaysia", answer_for)

    assert server.event(direct_message(dm, user, "and in computer vision?")).status == 200
    second = wait_for_posts(standin, dm, None, 2)[1]
    followed = parse(read_as(second))
    assert (followed.verb, followed.countries, followed.field) == ("partners", ("MYS",), "cv")
    assert_answers(second, read_as(second), answer_for)


def test_a_question_that_cant_be_answered_gets_the_reason_where_it_was_asked(
    server: SlackServer, standin: SlackStandIn
) -> None:
    dm = member_of(standin, "D")
    server.event(direct_message(dm, new_id("U"), "sql SELECT * FROM no_such_table"))
    (said,) = wait_for_posts(standin, dm, None, 1)
    assert said.body["text"].startswith(":thinking_face:") and "no_such_table" in said.body["text"]
    assert not any(b["type"] == "table" for b in said.json_field("blocks"))


def test_three_follow_ups_in_a_thread_each_change_one_slot(
    server: SlackServer, standin: SlackStandIn, answer_for
) -> None:
    channel, asker, colleague = member_of(standin, "C"), new_id("U"), new_id("U")
    thread = mention_both_ways(server, channel, asker, "who does Malaysia work with?")
    wait_for_posts(standin, channel, thread, 1)

    expected = [
        ("and in computer vision?", dict(verb="partners", countries=("MYS",), field="cv", year_from=None)),
        ("what about Indonesia?", dict(verb="partners", countries=("IDN",), field="cv", year_from=None)),
        ("since 2020 only", dict(verb="partners", countries=("IDN",), field="cv", year_from=2020)),
    ]
    for n, (reply, slots) in enumerate(expected, start=2):
        # replies without a mention, by someone else than the asker: the thread is the context
        assert server.event(channel_message(channel, colleague, reply, thread_ts=thread)).status == 200
        answer = wait_for_posts(standin, channel, thread, n)[-1]
        command = read_as(answer)
        query = parse(command)
        assert {name: getattr(query, name) for name in slots} == slots, (reply, command)
        assert_answers(answer, command, answer_for)
    assert posts(standin, channel) == []  # every answer stayed in the thread


def test_a_follow_up_changing_the_verb_drops_the_options_the_new_verb_cant_take(
    server: SlackServer, standin: SlackStandIn, answer_for
) -> None:
    """The README's thread: `compare` can't use the `top 20` said two replies before, so it is dropped,
    while the field and years carry over."""
    channel, user = member_of(standin, "C"), new_id("U")
    thread = mention_both_ways(server, channel, user, "who does Malaysia work with?")
    wait_for_posts(standin, channel, thread, 1)  # people reply to an answer they have seen
    replies = ["and in computer vision?", "what about Indonesia?", "since 2020 only", "top 20", "compare with India"]
    for n, reply in enumerate(replies, start=2):
        assert server.event(channel_message(channel, user, reply, thread_ts=thread)).status == 200
        wait_for_posts(standin, channel, thread, n)
    answer = posts(standin, channel, thread)[-1]
    command = read_as(answer)
    assert command is not None, answer.body["text"]
    query = parse(command)
    assert (query.verb, query.countries, query.field, query.year_from) == ("compare", ("IDN", "IND"), "cv", 2020)
    assert query.limit == parse("compare Indonesia India").limit
    header = [b for b in answer.json_field("blocks") if b["type"] == "header"][0]
    assert header["text"]["text"] == answer_for(command).title


def test_a_follow_up_is_refused_only_for_what_it_says_itself(server: SlackServer, standin: SlackStandIn) -> None:
    dm, user = member_of(standin, "D"), new_id("U")
    for n, text in enumerate(["who does Malaysia work with?", "top 20", "compare with India top 5"], start=1):
        assert server.event(direct_message(dm, user, text)).status == 200
        wait_for_posts(standin, dm, None, n)
    refused = posts(standin, dm)[-1]
    assert "`compare Malaysia India top 5`" in refused.body["text"]  # the limit typed this turn, not the carried one
    assert "can't use `top/limit &lt;n&gt;`" in refused.body["text"]


def test_a_mention_in_the_thread_follows_up_too(server: SlackServer, standin: SlackStandIn) -> None:
    channel, user = member_of(standin, "C"), new_id("U")
    thread = mention_both_ways(server, channel, user, "who does Malaysia work with?")
    wait_for_posts(standin, channel, thread, 1)
    mention_both_ways(server, channel, user, "and in computer vision?", thread_ts=thread)
    second = wait_for_posts(standin, channel, thread, 2)[1]
    assert parse(read_as(second)).field == "cv" and parse(read_as(second)).countries == ("MYS",)
    time.sleep(0.5)
    assert len(posts(standin, channel, thread)) == 2


def test_a_follow_up_reaching_another_server_reads_the_same_thread(
    standin: SlackStandIn, collab_db: Path, state_url: str
) -> None:
    """Two servers on one state database (SQLite, PostgreSQL), like web processes behind a load balancer."""
    with contextlib.ExitStack() as running:
        servers = []
        for _ in range(2):  # one after the other: the second picks its port once the first has bound its own
            started = SlackServer(standin, collab_db, workers=1, state_url=state_url)
            running.callback(started.stop)
            servers.append(started.wait_until_up())
        first, second = servers
        channel, user = member_of(standin, "C"), new_id("U")
        thread = mention_both_ways(first, channel, user, "who does Malaysia work with?")
        wait_for_posts(standin, channel, thread, 1)
        assert second.event(channel_message(channel, user, "and in computer vision?", thread_ts=thread)).status == 200
        answer = wait_for_posts(standin, channel, thread, 2)[1]
        assert parse(read_as(answer)).field == "cv" and parse(read_as(answer)).countries == ("MYS",)
        assert first.event(channel_message(channel, user, "since 2020 only", thread_ts=thread)).status == 200
        third = wait_for_posts(standin, channel, thread, 3)[2]
        assert (parse(read_as(third)).field, parse(read_as(third)).year_from) == ("cv", 2020)


def test_a_thread_forgets_its_question_after_collab_thread_hours(
    standin: SlackStandIn, collab_db: Path, tmp_path: Path
) -> None:
    """COLLAB_THREAD_HOURS (a day by default; 2 seconds here): after it, a reply starts afresh."""
    from bot.engine.interpret import read

    state = f"sqlite:///{tmp_path / 'state.sqlite'}"
    forgetful = SlackServer(standin, collab_db, workers=1, state_url=state, env={"COLLAB_THREAD_HOURS": str(2 / 3600)})
    try:
        forgetful.wait_until_up()
        channel, user = member_of(standin, "C"), new_id("U")
        thread = mention_both_ways(forgetful, channel, user, "who does Malaysia work with?")
        wait_for_posts(standin, channel, thread, 1)
        time.sleep(2.5)
        forgetful.event(channel_message(channel, user, "and in computer vision?", thread_ts=thread))
        mention_both_ways(forgetful, channel, user, "and in computer vision?", thread_ts=thread)
        (_, fresh) = wait_for_posts(standin, channel, thread, 2)  # only the mention is answered, read on its own:
        assert read_as(fresh) is None  # "and in computer vision?" alone: which question? collab offers some
        assert [command for _, command in buttons(fresh)] == list(read("and in computer vision?").choices)
        time.sleep(0.5)
        assert len(posts(standin, channel, thread)) == 2
    finally:
        forgetful.stop()


def test_chatter_in_a_thread_is_left_alone_unless_it_mentions_collab(
    server: SlackServer, standin: SlackStandIn
) -> None:
    channel, user = member_of(standin, "C"), new_id("U")
    thread = mention_both_ways(server, channel, user, "who does Malaysia work with?")
    wait_for_posts(standin, channel, thread, 1)
    server.event(channel_message(channel, new_id("U"), "thanks, interesting!", thread_ts=thread))
    mention_both_ways(server, channel, user, "thanks!", thread_ts=thread)  # addressed to collab: it answers
    (_, said) = wait_for_posts(standin, channel, thread, 2)
    assert "anything to change" in said.body["text"]
    time.sleep(0.5)
    assert len(posts(standin, channel, thread)) == 2  # the reply to the room got none


def test_a_reply_under_a_public_slash_command_answer_follows_it_up(server: SlackServer, standin: SlackStandIn) -> None:
    """`/collab … public` answers in the channel itself: a reply in its thread reads the command its buttons carry."""
    channel, user = member_of(standin, "C"), new_id("U")
    ack, _ = server.slash_command("who does Malaysia work with? public", channel=channel, user=user)
    assert ack.json()["response_type"] == "in_channel"
    (answer,) = [m for m in standin.history[channel] if m["blocks"] and not m["image_files"]]
    thread = answer["ts"]
    reply = channel_message(channel, user, "and in computer vision?", thread_ts=thread, parent_user_id=BOT_USER)
    assert server.event(reply).status == 200
    (followed,) = wait_for_posts(standin, channel, thread, 1)
    assert read_as(followed) == "partners Malaysia in cv"
    again = channel_message(channel, user, "since 2020 only", thread_ts=thread, parent_user_id=BOT_USER)
    assert server.event(again).status == 200
    second = wait_for_posts(standin, channel, thread, 2)[1]
    assert (parse(read_as(second)).field, parse(read_as(second)).year_from) == ("cv", 2020)
    assert len(standin.calls_to("conversations.replies", where={"channel": channel})) == 1  # then from memory
    # under someone else's message, collab stays out of it
    other = channel_message(channel, user, "and in computer vision?", thread_ts=Clock.ts(), parent_user_id=user)
    server.event(other)
    time.sleep(0.5)
    assert not posts(standin, channel, other["thread_ts"])


# ---------------------------------------------------------------- answered once, or not at all


def test_a_retried_event_is_answered_once(server: SlackServer, standin: SlackStandIn) -> None:
    channel, event_id = member_of(standin, "C"), new_id("Ev")
    event = mention(channel, new_id("U"), "who does Malaysia work with?")
    assert server.event(event, event_id=event_id).status == 200
    assert server.event(event, event_id=event_id, headers=RETRY).status == 200  # Slack's retry: acked
    wait_for_posts(standin, channel, event["ts"], 1)
    dm, user = member_of(standin, "D"), new_id("U")
    message = direct_message(dm, user, "partners Japan")
    for attempt in range(3):
        server.event(message, event_id=f"{event_id}dm", headers=RETRY if attempt else None)
    wait_for_posts(standin, dm, None, 1)
    time.sleep(1.0)  # a second answer to either would have arrived by now
    assert len(posts(standin, channel, event["ts"])) == 1
    assert len(posts(standin, dm)) == 1


def test_bots_edits_deletions_and_other_threads_are_ignored(server: SlackServer, standin: SlackStandIn) -> None:
    dm, channel, user = member_of(standin, "D"), member_of(standin, "C"), new_id("U")
    quiet = [
        direct_message(dm, BOT_USER, "partners Malaysia", bot_id="B0COLLAB"),  # collab's own message
        direct_message(dm, "U0HELPER", "partners Malaysia", bot_id="B0HELPER"),  # another app's bot
        {**direct_message(dm, "", "partners Malaysia", bot_id="B0OLD", subtype="bot_message"), "user": None},
        {  # an edit of a DM
            **direct_message(dm, user, "", subtype="message_changed"),
            "message": {"type": "message", "user": user, "text": "partners India", "ts": "1.0", "edited": {}},
            "previous_message": {"type": "message", "user": user, "text": "partners Inda", "ts": "1.0"},
        },
        {**direct_message(dm, user, "", subtype="message_deleted"), "deleted_ts": "1.0"},
        channel_message(channel, user, "partners Malaysia"),  # a channel message that doesn't mention collab
        channel_message(channel, user, "and in computer vision?", thread_ts=Clock.ts()),  # someone else's thread
    ]
    edited_mention = mention(channel, user, "partners India")
    edited_mention["edited"] = {"user": user, "ts": Clock.ts()}
    quiet.append(edited_mention)
    for event in quiet:
        assert server.event(event).status == 200

    sentinel = member_of(standin, "D")  # answered after the others were delivered: by then they'd have been answered
    server.event(direct_message(sentinel, user, "partners Japan"))
    wait_for_posts(standin, sentinel, None, 1)
    time.sleep(1.0)
    assert standin.calls_to("chat.postMessage", where={"channel": dm}) == []
    assert standin.calls_to("chat.postMessage", where={"channel": channel}) == []


# ---------------------------------------------------------------- partly understood: choices


def test_a_partly_understood_question_offers_commands_that_answer_when_pressed(
    server: SlackServer, standin: SlackStandIn, answer_for
) -> None:
    from bot.engine.interpret import read

    question = "computer vision"  # a field, but what about it? the interpreter offers commands
    assert read(question).query is None and read(question).choices, "pick a question the interpreter can't settle"
    channel, user = member_of(standin, "C"), new_id("U")
    thread = mention_both_ways(server, channel, user, question)
    (offer,) = wait_for_posts(standin, channel, thread, 1)
    choices = buttons(offer)
    assert [command for _, command in choices] == list(read(question).choices)
    assert 1 <= len(choices) <= 3 and all(a.startswith(blocks.CHOICE_ACTION) for a, _ in choices)
    assert all(parse(command) for _, command in choices)  # each one a canonical command
    assert "computer vision" in offer.body["text"]  # what was understood
    action_id, command = choices[0]

    reply, sent = server.click(action_id, command, channel=channel, user=user, ephemeral=False, thread_ts=thread)
    assert reply.status == 200
    answer = wait_for_posts(standin, channel, thread, 2)[1]
    assert_answers(answer, command, answer_for)
    picked = standin.wait_for("response", where={"key": sent["key"]})[0]
    assert picked.body["replace_original"] is True and command in picked.body["text"]
    # the picked command is now the thread's context
    server.event(channel_message(channel, user, "since 2020 only", thread_ts=thread))
    third = wait_for_posts(standin, channel, thread, 3)[2]
    assert parse(read_as(third)).year_from == 2020 and parse(read_as(third)).verb == parse(command).verb


# ---------------------------------------------------------------- the assistant pane


def test_assistant_thread_greets_suggests_then_answers_with_status_and_title(
    server: SlackServer, standin: SlackStandIn, answer_for
) -> None:
    from bot.state.store import Store

    dm, user, thread = member_of(standin, "D"), new_id("U"), Clock.ts()
    started = {
        "type": "assistant_thread_started",
        "assistant_thread": {
            "user_id": user,
            "context": {"channel_id": "C0VIEWED", "team_id": "T0STANDIN"},
            "channel_id": dm,
            "thread_ts": thread,
        },
        "event_ts": Clock.ts(),
    }
    assert server.event(started).status == 200
    (greeting,) = wait_for_posts(standin, dm, thread, 1)
    assert "Ask me" in greeting.body["text"]
    prompts = standin.wait_for("assistant.threads.setSuggestedPrompts", where={"channel_id": dm})[0]
    assert prompts.body["thread_ts"] == thread and len(prompts.json_field("prompts")) == 4

    question = "Who does Malaysia collaborate with most?"
    asked = direct_message(dm, user, question, thread_ts=thread, assistant_thread={"action_token": "10.20.abc"})
    assert server.event(asked).status == 200
    answer = wait_for_posts(standin, dm, thread, 2)[1]
    assert read_as(answer) == "partners Malaysia"
    assert_answers(answer, "partners Malaysia", answer_for)
    title = standin.wait_for("assistant.threads.setTitle", where={"channel_id": dm})[0]
    assert (title.body["thread_ts"], title.body["title"]) == (thread, question)
    status = standin.wait_for("assistant.threads.setStatus", where={"channel_id": dm})[0]
    assert status.body["thread_ts"] == thread and status.body["status"]
    assert status.at < answer.at  # the status shows while the answer is being worked out

    changed = {**started, "type": "assistant_thread_context_changed"}
    changed["assistant_thread"] = {**started["assistant_thread"], "context": {"channel_id": "C0OTHER"}}
    assert server.event(changed).status == 200
    state = Store(server.state_url)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        remembered = state.thread(dm, thread, max_age=timedelta(days=1))
        if remembered.assistant_context == {"channel_id": "C0OTHER"}:
            break
        time.sleep(0.1)
    assert (remembered.assistant, remembered.command, remembered.assistant_context) == (
        True,
        "partners Malaysia",
        {"channel_id": "C0OTHER"},
    )
    state.dispose()

    # a follow-up in the pane: read against the thread, and the title stays the first question
    server.event(direct_message(dm, user, "rank by affinity", thread_ts=thread, assistant_thread={"action_token": "x"}))
    third = wait_for_posts(standin, dm, thread, 3)[2]
    assert parse(read_as(third)).metric == "affinity" and parse(read_as(third)).countries == ("MYS",)
    assert len(standin.calls_to("assistant.threads.setTitle", where={"channel_id": dm})) == 1


def test_a_reply_under_a_dm_answer_follows_it_up_without_assistant_pane_calls(
    server: SlackServer, standin: SlackStandIn
) -> None:
    """Where the workspace has no assistant feature, DM threads are plain threads: answered, no pane calls."""
    dm, user = member_of(standin, "D"), new_id("U")
    server.event(direct_message(dm, user, "partners Malaysia"))
    (top,) = wait_for_posts(standin, dm, None, 1)
    server.event(direct_message(dm, user, "pair China USA"))  # the DM moves on…
    wait_for_posts(standin, dm, None, 2)
    parent = top.reply["ts"]
    server.event(direct_message(dm, user, "and in computer vision?", thread_ts=parent))  # …a reply under the first
    answer = wait_for_posts(standin, dm, parent, 1)[0]
    followed = parse(read_as(answer))
    assert (followed.verb, followed.countries, followed.field) == ("partners", ("MYS",), "cv")
    for method in ("setStatus", "setTitle", "setSuggestedPrompts"):
        assert standin.calls_to(f"assistant.threads.{method}", where={"channel_id": dm}) == []


def test_every_suggested_prompt_is_answered_from_the_data(collab_db: Path) -> None:
    from bot.engine.answer import run
    from bot.engine.db import Database
    from bot.engine.interpret import read
    from bot.slack.assistant import SUGGESTED_PROMPTS

    database = Database(collab_db)
    try:
        for prompt in SUGGESTED_PROMPTS:
            reading = read(prompt["message"])
            assert reading.query is not None, prompt
            result = run(reading.query, database)
            assert len(result.frame) > 0, prompt
    finally:
        database.close()


def test_serving_starts_when_slack_cant_be_reached(standin: SlackStandIn, collab_db: Path) -> None:
    from conftest_slack import free_port

    offline = SlackServer(standin, collab_db, workers=1, env={"SLACK_API_URL": f"http://127.0.0.1:{free_port()}/api/"})
    try:
        offline.wait_until_up()
        assert "token couldn't be verified" in offline.log(tail=0)
    finally:
        offline.stop()


def test_the_bots_identity_is_looked_up_when_the_token_couldnt_be_verified_at_start(
    standin: SlackStandIn, collab_db: Path
) -> None:
    standin.fail_once("auth.test", "service_unavailable")
    late = SlackServer(standin, collab_db, workers=1)
    try:
        late.wait_until_up()
        assert "token couldn't be verified" in late.log(tail=0)
        channel = member_of(standin, "C")
        event = mention(channel, new_id("U"), "partners Malaysia")
        assert late.event(event).status == 200
        wait_for_posts(standin, channel, event["ts"], 1)  # answered: bolt looked collab up on this request
        # collab's own message in its thread (as Slack echoes it back) is not a question
        own = channel_message(channel, BOT_USER, "partners India", thread_ts=event["ts"])
        assert late.event(own).status == 200
        time.sleep(1.0)
        assert len(posts(standin, channel, event["ts"])) == 1
    finally:
        late.stop()
