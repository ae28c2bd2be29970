"""The real server (gunicorn + bolt) end to end, with only Slack's Web API replaced by the stand-in.

Each test uses its own channel, user and response_url, so the recorded calls of one test never
mix with another's, even while a previous answer's upload is still finishing.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest
from conftest_slack import SlackServer, http, new_id, sign
from slack_bolt import BoltRequest
from slack_standin import Call, SlackStandIn

from bot.engine.validate import readable
from bot.render.mrkdwn import escape
from bot.slack.middleware import ARRIVAL_HEADER, arrival

AI_CSV = Path(__file__).resolve().parents[1] / "data" / "eto" / "cross-border" / "Artificial intelligence.csv"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def top_partner_from_csv(country: str) -> tuple[str, int]:
    """The country's first partner by joint articles, computed straight from ETO's file.

    Pairs appear as (A,B) and (B,A); each unordered pair-year is counted once.
    """
    pair_years: dict[tuple[frozenset[str], str], int] = {}
    with AI_CSV.open(newline="") as f:
        for row in csv.DictReader(f):
            if country in (row["country1"], row["country2"]):
                pair_years[(frozenset((row["country1"], row["country2"])), row["year"])] = int(row["num_articles"])
    totals: dict[str, int] = defaultdict(int)
    for (pair, _year), articles in pair_years.items():
        (partner,) = pair - {country}
        totals[partner] += articles
    return max(totals.items(), key=lambda item: item[1])


def answer_posted(standin: SlackStandIn, key: str, **kwargs) -> Call:
    """The first message the server sent to the response_url `key`."""
    return standin.wait_for("response", where={"key": key}, **kwargs)[0]


def blocks_of(call: Call, kind: str) -> list[dict]:
    return [b for b in call.json_field("blocks") or [] if b["type"] == kind]


def all_text(call: Call) -> str:
    return json.dumps(call.body, ensure_ascii=False)


def uploaded_to(standin: SlackStandIn, channel: str, timeout: float = 15) -> tuple[Call, dict, bytes]:
    """The completed upload into `channel`: its completeUploadExternal call, upload request and bytes."""
    complete = standin.wait_for(
        "files.completeUploadExternal", where={"channel_id": channel}, timeout=timeout, test=lambda c: c.reply.get("ok")
    )[0]
    file_id = json.loads(complete.body["files"])[0]["id"]
    return complete, standin.upload_requests[file_id], standin.uploads[file_id]


# ---------------------------------------------------------------- health


def test_healthz_reports_the_data_version(server: SlackServer) -> None:
    reply = http("GET", server.url + "/healthz")
    assert reply.status == 200 and reply.json()["status"] == "ok"
    assert len(reply.json()["data_version"]) >= 6


def test_healthz_is_503_with_the_reason_when_the_database_is_missing_or_corrupt(
    standin: SlackStandIn, tmp_path: Path
) -> None:
    db_path = tmp_path / "missing.duckdb"
    broken = SlackServer(standin, db_path, workers=1)
    try:
        broken.wait_until_up()  # starts anyway
        reply = http("GET", broken.url + "/healthz")
        assert reply.status == 503
        assert reply.json()["status"] == "unavailable" and "missing" in reply.json()["reason"]
        db_path.write_bytes(b"this is not a DuckDB file" * 100)
        reply = http("GET", broken.url + "/healthz")
        assert reply.status == 503 and "rebuild" in reply.json()["reason"]
    finally:
        broken.stop()


# ---------------------------------------------------------------- /collab: the answer in the ack


def image_file(call_body: dict) -> str:
    (image,) = [b for b in call_body.get("blocks") or [] if b["type"] == "image"]
    return image["slack_file"]["id"]


def nothing_reached(standin: SlackStandIn, channel: str) -> None:
    """Private means private: no post, no file share, no join in the conversation."""
    assert not standin.history.get(channel), standin.history.get(channel)
    assert not standin.calls_to("chat.postMessage", where={"channel": channel})
    assert not standin.calls_to("conversations.join", where={"channel": channel})
    assert not standin.calls_to("files.completeUploadExternal", where={"channel_id": channel})


def test_slash_command_acks_with_the_answer_then_shows_the_chart_to_the_asker_alone(
    server: SlackServer, standin: SlackStandIn
) -> None:
    channel = new_id("C")
    ack, sent = server.slash_command("partners Malaysia", channel=channel)
    assert ack.status == 200 and ack.seconds < 3
    answered = ack.json()  # the answer itself, not a "working on it" placeholder
    assert answered["response_type"] == "ephemeral" and "Malaysia" in answered["text"]
    header = [b for b in answered["blocks"] if b["type"] == "header"][0]
    assert header["text"]["text"].startswith("Malaysia's top 10 AI research partners")
    partner, articles = top_partner_from_csv("Malaysia")
    (table,) = [b for b in answered["blocks"] if b["type"] == "table"]
    assert [c["text"] for c in table["rows"][0]][:2] == ["partner", "joint articles"]
    assert [c["text"] for c in table["rows"][1]][:2] == [partner, f"{articles:,}"]
    assert len(table["rows"]) == 11
    notes = " ".join(e["text"] for b in answered["blocks"] if b["type"] == "context" for e in b["elements"])
    assert "Source: ETO" in notes and "incomplete" in notes and "25 joint articles" in notes
    assert "chart follows, for your eyes only" in notes
    (actions,) = [b for b in answered["blocks"] if b["type"] == "actions"]
    assert [(e["action_id"], e["value"]) for e in actions["elements"]] == [
        ("collab_share", "partners Malaysia"),
        ("collab_csv", "partners Malaysia"),
        ("collab_sql", "partners Malaysia"),
    ]

    charted = answer_posted(standin, sent["key"])  # the only thing that follows: the chart
    assert charted.body["response_type"] == "ephemeral" and charted.body["replace_original"] is False
    file_id = image_file(charted.body)
    request, png = standin.upload_requests[file_id], standin.uploads[file_id]
    assert png.startswith(PNG_SIGNATURE) and len(png) > 10_000
    assert (
        request["alt_txt"].startswith("Chart: Malaysia's top 10 AI research partners") and partner in request["alt_txt"]
    )
    completed = standin.wait_for("files.completeUploadExternal", test=lambda c: file_id in c.body["files"])[0]
    assert "channel_id" not in completed.body  # uploaded, shared in no conversation
    time.sleep(0.5)
    assert len(standin.calls_to("response", where={"key": sent["key"]})) == 1  # nothing else, no placeholder
    nothing_reached(standin, channel)


@pytest.mark.parametrize("channel_kind", ["public", "private", "im", "mpim"])
def test_a_private_answer_puts_nothing_in_the_conversation_wherever_it_is_asked(
    server: SlackServer, standin: SlackStandIn, channel_kind: str
) -> None:
    channel = standin.conversation(
        new_id({"public": "C", "im": "D"}.get(channel_kind, "G")), channel_kind, member=False
    )
    ack, sent = server.slash_command("pair China Singapore", channel=channel)
    assert blocks_of_payload(ack.json(), "table")
    assert image_file(answer_posted(standin, sent["key"]).body)
    time.sleep(0.5)
    nothing_reached(standin, channel)


def blocks_of_payload(payload: dict, kind: str) -> list[dict]:
    return [b for b in payload.get("blocks") or [] if b["type"] == kind]


def test_a_chart_slack_wont_show_by_reference_goes_to_the_askers_direct_messages(
    server: SlackServer, standin: SlackStandIn
) -> None:
    channel, key = new_id("C"), new_id("k")
    for _ in range(3):  # Slack keeps refusing the image block (the file never finishes processing)
        standin.fail_response_url_once(key, "invalid_blocks")
    _, sent = server.slash_command("partners Indonesia", channel=channel, response_key=key)
    told = standin.wait_for("response", where={"key": key}, test=lambda c: "direct messages" in all_text(c))[0]
    assert told.body["response_type"] == "ephemeral"
    direct = "D" + sent["user"].lstrip("U")
    complete, request, png = uploaded_to(standin, direct)
    assert png.startswith(PNG_SIGNATURE)
    refused = [c for c in standin.calls_to("response", where={"key": key}) if c.status == 400]
    assert len(refused) == 3
    standin.wait_for("files.delete", where={"file": image_file(refused[0].body)})  # the unshown upload is removed
    nothing_reached(standin, channel)


def test_a_slow_answer_acks_empty_then_answers_once_at_the_response_url(standin: SlackStandIn, collab_db: Path) -> None:
    slow = SlackServer(standin, collab_db, workers=1, env={"COLLAB_ACK_SECONDS": "0"})
    try:
        slow.wait_until_up()
        channel = new_id("C")
        ack, sent = slow.slash_command("partners Malaysia", channel=channel)
        assert ack.status == 200 and ack.body == b""  # no placeholder to leave behind
        answered = standin.wait_for("response", where={"key": sent["key"]}, test=lambda c: "blocks" in c.body)
        first = answered[0].body
        assert first["response_type"] == "ephemeral" and blocks_of_payload(first, "table")
        assert first["replace_original"] is False
        standin.wait_for("response", where={"key": sent["key"]}, test=lambda c: '"image"' in all_text(c))
        time.sleep(0.5)
        responses = standin.calls_to("response", where={"key": sent["key"]})
        assert len(responses) == 2  # the answer, then its chart
        nothing_reached(standin, channel)
    finally:
        slow.stop()


def test_the_acks_deadline_counts_from_the_requests_arrival_which_no_sender_can_set(server: SlackServer) -> None:
    """The server stamps each request's arrival itself: a sender's own stamp (here one claiming the
    request arrived 5 s ago, past COLLAB_ACK_SECONDS) is overwritten, so the answer is still in the ack."""
    forged = {ARRIVAL_HEADER: repr(time.monotonic() - 5)}
    ack, _ = server.slash_command("partners Malaysia since 2016", headers=forged)
    assert ack.status == 200 and blocks_of_payload(ack.json(), "table"), ack.body[:200]
    arrived = time.monotonic() - 1.5
    request = BoltRequest(body="", headers={ARRIVAL_HEADER.lower(): repr(arrived)})
    assert arrival(request) == arrived  # what the middleware counts the ack's 2 s from


def test_a_question_in_plain_english_is_answered_in_the_ack_with_how_it_was_read(server: SlackServer) -> None:
    ack, _ = server.slash_command("who does Malaysia work with?")
    payload = ack.json()
    assert blocks_of_payload(payload, "header")[0]["text"]["text"].startswith("Malaysia's top 10 AI research partners")
    assert "Read as `partners Malaysia`" in json.dumps(payload, ensure_ascii=False)


def test_charts_are_drawn_outside_the_processes_that_acknowledge(server: SlackServer, standin: SlackStandIn) -> None:
    _, sent = server.slash_command("rising India")
    answer_posted(standin, sent["key"])  # the chart arrived
    drawn_by = {int(pid) for pid in re.findall(r"chart for \w+: .* by process (\d+)", server.log(tail=0))}
    assert drawn_by and not drawn_by & set(server.pids()), (drawn_by, server.pids())
    # and far below their CPU priority: while acks wait for a core, the charts wait for them
    ack_niceness = max(os.getpriority(os.PRIO_PROCESS, pid) for pid in server.pids())
    assert all(os.getpriority(os.PRIO_PROCESS, pid) >= ack_niceness + 10 for pid in drawn_by)


def test_markup_in_the_command_text_is_unescaped_before_parsing(server: SlackServer) -> None:
    ack, _ = server.slash_command("pair \u201cChina\u201d &amp;\u00a0USA")
    assert blocks_of_payload(ack.json(), "header")[0]["text"]["text"].startswith("China – the United States")


def test_a_typo_is_read_as_the_country_meant_and_says_so(server: SlackServer) -> None:
    ack, _ = server.slash_command("partners Malasia")
    payload = ack.json()
    assert blocks_of_payload(payload, "header")[0]["text"]["text"].startswith("Malaysia's top 10 AI research partners")
    assert "Read as `partners Malaysia`" in json.dumps(payload, ensure_ascii=False)


def test_what_cant_be_read_is_refused_in_the_ack_in_plain_words(server: SlackServer, standin: SlackStandIn) -> None:
    ack, sent = server.slash_command("partners Atlantis")
    assert ack.status == 200 and ack.seconds < 3
    assert "no country 'Atlantis'" in ack.json()["text"] and ack.json()["response_type"] == "ephemeral"
    time.sleep(0.5)
    assert not standin.calls_to("response", where={"key": sent["key"]})  # nothing more follows


@pytest.mark.parametrize("channel_kind", ["public", "im", "mpim", "private"])
def test_public_command_answers_in_the_conversation_through_the_ack(
    server: SlackServer, standin: SlackStandIn, channel_kind: str
) -> None:
    """`public` works in any conversation, the bot a member or not: the ack itself is posted in_channel."""
    channel = standin.conversation(
        new_id({"public": "C", "im": "D"}.get(channel_kind, "G")), channel_kind, member=False
    )
    ack, sent = server.slash_command("partners Malaysia public", channel=channel)
    payload = ack.json()
    assert payload["response_type"] == "in_channel"
    text = json.dumps(payload, ensure_ascii=False)
    assert f"Asked by <@{sent['user']}>" in text and "<!date^" in text
    assert "collab_share" not in text and "collab_csv" in text and blocks_of_payload(payload, "table")
    chart = standin.wait_for("response", where={"key": sent["key"]}, test=lambda c: '"image"' in all_text(c))[0]
    assert chart.body["response_type"] == "in_channel"
    seen = standin.history[channel]  # what everyone in the conversation sees: the answer, then its chart
    assert [bool(m["image_files"]) for m in seen] == [False, True]
    assert not standin.calls_to("conversations.join", where={"channel": channel})
    assert not standin.calls_to("chat.postMessage", where={"channel": channel})


# ---------------------------------------------------------------- size: one table, within 12,000 characters


def test_a_500_row_answer_is_one_table_of_the_first_rows_that_fit(server: SlackServer, standin: SlackStandIn) -> None:
    from bot.render.blocks import text_length

    ack, _ = server.slash_command("sql SELECT * FROM pairs ORDER BY year, country_a, country_b LIMIT 500")
    payload = ack.json()
    (table,) = blocks_of_payload(payload, "table")
    shown = len(table["rows"]) - 1
    assert 10 <= shown <= 99
    assert not [b for b in blocks_of_payload(payload, "section") if "```" in b["text"]["text"]]  # no code blocks
    notes = json.dumps(payload)
    assert f"First {shown:,} of 500 rows." in notes and "CSV" in notes
    assert text_length(payload["blocks"]) <= 12000


def test_sharing_500_rows_posts_one_table_and_the_csv_in_its_thread(server: SlackServer, standin: SlackStandIn) -> None:
    channel = standin.conversation(new_id("C"), "public", member=True)
    sql = "sql SELECT * FROM pairs ORDER BY year, country_a, country_b LIMIT 500"
    _, sent = server.click("collab_share", sql, channel=channel)
    post = standin.wait_for("chat.postMessage", where={"channel": channel})[0]
    assert post.reply.get("ok"), post.reply  # not msg_blocks_too_long
    (table,) = blocks_of(post, "table")
    assert f"First {len(table['rows']) - 1:,} of 500 rows." in all_text(post)
    complete, request, data = uploaded_to(standin, channel)
    assert complete.body["thread_ts"] == post.reply["ts"] and request["filename"].endswith(".csv")
    lines = data.decode().splitlines()
    assert len(lines) == 501 and lines[0].startswith("country_a")
    assert standin.wait_for("response", where={"key": sent["key"]})[0].body["delete_original"] is True


def test_invalid_blocks_is_retried_as_plain_text(server: SlackServer, standin: SlackStandIn) -> None:
    channel = standin.conversation(new_id("C"), "public", member=True)
    standin.fail_once("chat.postMessage", "invalid_blocks", where={"channel": channel})
    server.click("collab_share", "pair China USA", channel=channel)
    first, retry = standin.wait_for("chat.postMessage", count=2, where={"channel": channel})[:2]
    assert first.reply["error"] == "invalid_blocks" and "blocks" in first.body
    assert retry.reply["ok"] and "blocks" not in retry.body
    assert "China" in retry.body["text"] and "```" in retry.body["text"] and "2015" in retry.body["text"]


def test_rate_limited_post_is_retried_after_retry_after_and_posts_once(
    server: SlackServer, standin: SlackStandIn
) -> None:
    channel = standin.conversation(new_id("C"), "public", member=True)
    standin.rate_limit_once("chat.postMessage", retry_after=1, where={"channel": channel})
    server.click("collab_share", "top 10 non-western", channel=channel)
    attempts = standin.wait_for("chat.postMessage", count=2, where={"channel": channel})
    assert [a.status for a in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 1.0  # waited for Retry-After
    time.sleep(0.3)
    assert len([m for m in standin.history[channel] if not m["image_files"]]) == 1


# ---------------------------------------------------------------- Share, from every kind of conversation


def test_share_in_a_channel_the_bot_is_in_posts_the_answer_and_its_chart(
    server: SlackServer, standin: SlackStandIn
) -> None:
    channel = standin.conversation(new_id("C"), "public", member=True)
    reply, sent = server.click("collab_share", "partners Malaysia", channel=channel)
    assert reply.status == 200 and reply.seconds < 3
    post = standin.wait_for("chat.postMessage", where={"channel": channel})[0]
    assert f"Shared by <@{sent['user']}>" in all_text(post)
    assert blocks_of(post, "header")[0]["text"]["text"].startswith("Malaysia's top 10 AI research partners")
    assert standin.wait_for("response", where={"key": sent["key"]})[0].body["delete_original"] is True
    chart = standin.wait_for("chat.postMessage", count=2, where={"channel": channel})[1]
    png = standin.uploads[image_file(chart.body)]
    assert png.startswith(PNG_SIGNATURE)
    assert [bool(m["image_files"]) for m in standin.history[channel]] == [False, True]
    assert not standin.calls_to("conversations.join", where={"channel": channel})


@pytest.mark.parametrize(
    "kind, prefix", [("im", "D"), ("mpim", "G"), ("private", "G")], ids=["DM", "group DM", "private channel"]
)
def test_share_where_the_bot_is_not_a_member_goes_through_the_response_url(
    server: SlackServer, standin: SlackStandIn, kind: str, prefix: str
) -> None:
    channel = standin.conversation(new_id(prefix), kind, member=False)
    _, sent = server.click("collab_share", "partners Malaysia", channel=channel)
    refused = standin.wait_for("chat.postMessage", where={"channel": channel})[0]
    assert refused.reply["error"] == "channel_not_found"
    posted = standin.wait_for("response", where={"key": sent["key"]}, test=lambda c: "in_channel" in all_text(c))
    assert f"Shared by <@{sent['user']}>" in all_text(posted[0]) and blocks_of(posted[0], "table")
    deleted = standin.wait_for(
        "response", where={"key": sent["key"]}, test=lambda c: bool(c.body.get("delete_original"))
    )
    assert deleted
    standin.wait_for("response", where={"key": sent["key"]}, test=lambda c: '"image"' in all_text(c))
    seen = standin.history[channel]  # the answer, then its chart, for everyone in the conversation
    assert [bool(m["image_files"]) for m in seen] == [False, True]
    assert "invite" not in " ".join(all_text(c) for c in standin.calls_to("response", where={"key": sent["key"]}))
    assert not standin.calls_to("conversations.join", where={"channel": channel})


def test_share_that_slack_refuses_everywhere_keeps_the_private_answer_and_says_why(
    server: SlackServer, standin: SlackStandIn
) -> None:
    channel, key = standin.conversation(new_id("G"), "private", member=False), new_id("k")
    standin.fail_response_url_once(key, "channel_not_found")
    _, sent = server.click("collab_share", "partners Malaysia", channel=channel, response_key=key)
    told = standin.wait_for(
        "response", where={"key": key}, test=lambda c: "couldn't post this answer here" in all_text(c)
    )[0]
    assert told.body["response_type"] == "ephemeral"
    assert not any(c.body.get("delete_original") for c in standin.calls_to("response", where={"key": key}))
    assert not standin.history.get(channel)


# ---------------------------------------------------------------- buttons


def test_csv_button_uploads_every_column_of_the_result(server: SlackServer, standin: SlackStandIn, answer_for) -> None:
    _, sent = server.click("collab_csv", "partners Malaysia")
    complete, request, data = uploaded_to(standin, "D" + sent["user"].lstrip("U"))
    assert request["filename"].endswith(".csv")
    comment = complete.body.get("initial_comment", "")  # the CSV is plain data: its caveats ride in the message
    assert "fewer than 25 joint articles" in comment and "Source:" in comment and "2024–2025" in comment
    lines = data.decode().splitlines()
    expected = answer_for("partners Malaysia")
    assert lines[0].split(",") == expected.columns  # the JSON column names, *_code included
    assert len(lines) == len(expected.frame) + 1 and lines[1].startswith(top_partner_from_csv("Malaysia")[0])
    assert "CSV" in answer_posted(standin, sent["key"]).body["text"]


def test_csv_button_when_slack_opens_no_direct_message_says_so(server: SlackServer, standin: SlackStandIn) -> None:
    user = new_id("U")
    standin.reply_once("conversations.open", {"ok": True}, where={"users": user})  # no channel in the reply
    _, sent = server.click("collab_csv", "partners Malaysia", user=user)
    told = answer_posted(standin, sent["key"])
    assert "direct message" in told.body["text"] and "Something went wrong" not in told.body["text"]


def test_a_file_a_conversation_refuses_is_deleted_not_left_behind(server: SlackServer, standin: SlackStandIn) -> None:
    """A 500-row share in a private channel the bot isn't in goes through the response_url; the CSV can't follow."""
    channel = standin.conversation(new_id("G"), "private", member=False)
    _, sent = server.click("collab_share", "sql SELECT * FROM pairs LIMIT 500", channel=channel)
    refused = standin.wait_for(
        "files.completeUploadExternal", where={"channel_id": channel}, test=lambda c: not c.reply.get("ok")
    )[0]
    assert refused.reply["error"] == "channel_not_found"
    (file_id,) = [f["id"] for f in json.loads(refused.body["files"])]
    standin.wait_for("files.delete", where={"file": file_id})
    told = standin.wait_for("response", where={"key": sent["key"]}, test=lambda c: "attach files" in all_text(c))[0]
    assert told.body["response_type"] == "ephemeral"
    assert not standin.calls_to("conversations.join", where={"channel": channel})  # private: it can't


def test_a_cut_table_shared_in_a_public_channel_the_bot_isnt_in_gets_its_csv_after_joining(
    server: SlackServer, standin: SlackStandIn
) -> None:
    """chat:write.public posts the share; files are shared only where the bot is a member, so it joins."""
    channel = standin.conversation(new_id("C"), "public", member=False)
    _, sent = server.click("collab_share", "sql SELECT * FROM pairs LIMIT 500", channel=channel)
    answer = standin.wait_for("chat.postMessage", where={"channel": channel}, test=lambda c: c.status == 200)[0]
    refused = standin.wait_for(
        "files.completeUploadExternal", where={"channel_id": channel}, test=lambda c: not c.reply.get("ok")
    )[0]
    assert refused.reply["error"] == "not_in_channel"
    (refused_file,) = [f["id"] for f in json.loads(refused.body["files"])]
    standin.wait_for("files.delete", where={"file": refused_file})  # the refused upload isn't left behind
    (joined,) = standin.wait_for("conversations.join", where={"channel": channel})
    assert joined.reply["ok"]
    complete, request, data = uploaded_to(standin, channel)
    assert complete.body["thread_ts"] == answer.reply["ts"] and request["filename"].endswith(".csv")
    assert len(data.decode().splitlines()) == 501
    assert [m for m in standin.history[channel] if m.get("files")], "the CSV is in the channel for everyone"
    time.sleep(0.5)
    assert not standin.calls_to("response", where={"key": sent["key"]}, test=lambda c: "attach files" in all_text(c))


def test_show_sql_replies_with_the_validated_sql_and_its_parameters(
    server: SlackServer, standin: SlackStandIn, answer_for
) -> None:
    _, sent = server.click("collab_sql", "partners Malaysia")
    posted = answer_posted(standin, sent["key"])
    assert posted.body["response_type"] == "ephemeral" and posted.body["replace_original"] is False
    text = "\n".join(b["text"]["text"] for b in blocks_of(posted, "section"))
    expected = answer_for("partners Malaysia")
    assert escape(readable(expected.sql)[:300]) in text and "FROM link_years" in text
    assert '"subject": "MYS"' in text and '"limit": 10' in text
    code = text.split("```")[1]
    # laid out for reading: a clause per line, each comment on a line of its own
    assert "\nFROM (\n" in code and "\n  /* name: partners */\n" in code, code[:400]
    assert not [line for line in code.splitlines() if "*/" in line and not line.rstrip().endswith("*/")]


def test_show_sql_escapes_comparisons_in_the_sql_and_its_fallback(server: SlackServer, standin: SlackStandIn) -> None:
    sql = "sql SELECT year, joint_articles FROM pairs WHERE year < 2020 AND joint_articles > 100 LIMIT 5"
    _, sent = server.click("collab_sql", sql)
    posted = answer_posted(standin, sent["key"])
    assert "year &lt; 2020" in posted.body["text"] and "&gt; 100" in posted.body["text"]
    assert "year &lt; 2020" in all_text(posted)
    sections = "\n".join(b["text"]["text"] for b in blocks_of(posted, "section"))
    assert "\nWHERE\n  year &lt; 2020 AND joint_articles &gt; 100\n" in sections, sections


# ---------------------------------------------------------------- App Home


def test_app_home_publishes_how_to_ask_and_the_releases(server: SlackServer, standin: SlackStandIn) -> None:
    user = new_id("U")
    reply = server.event(
        {
            "type": "app_home_opened",
            "user": user,
            "channel": new_id("D"),
            "tab": "home",
            "event_ts": f"{time.time():.6f}",
        }
    )
    assert reply.status == 200
    view = standin.wait_for("views.publish", where={"user_id": user})[0].json_field("view")
    text = json.dumps(view, ensure_ascii=False)
    assert view["type"] == "home" and "/collab partners Malaysia" in text
    assert "Ask with `/collab &lt;command&gt;`" in text and "partners &lt;country" in text  # placeholders escaped
    assert "files dated 2026-04-13" in text  # the cross-border release, from `about`
    (activity,) = [line for line in text.split("\\n") if "*ETO Country AI Activity Metrics*:" in line]
    assert activity.count("2015") == 1, activity  # the years once, from the data
    assert "Channel digests" in text and "/collab digest" in text  # bot.digest is installed


def test_digest_commands_reach_the_digest_module(server: SlackServer, standin: SlackStandIn) -> None:
    channel, user = new_id("C"), new_id("U")
    standin.members[channel] = [user]
    ack, sent = server.slash_command("digest subscribe", channel=channel, user=user)
    assert ack.status == 200 and ack.body == b""  # answered at the response_url (it calls Slack first)
    subscribed = answer_posted(standin, sent["key"])
    assert subscribed.status == 200 and ":thinking_face:" not in all_text(subscribed)
    _, listed = server.slash_command("digest list", channel=channel, user=user)
    text = all_text(answer_posted(standin, listed["key"]))
    assert "Monday" in text and ":thinking_face:" not in text


@pytest.mark.parametrize(
    "conversation",
    [("D", "im", "directmessage"), ("G", "mpim", "mpdm-ana--ben--collab-1"), ("C", "mpim", "mpdm-ana--ben-1")],
)
def test_a_digest_subscribed_in_a_dm_or_group_dm_is_refused_with_where_digests_work(
    server: SlackServer, standin: SlackStandIn, conversation: tuple[str, str, str]
) -> None:
    prefix, kind, name = conversation
    channel, user = standin.conversation(new_id(prefix), kind, member=False), new_id("U")
    _, sent = server.slash_command("digest subscribe", channel=channel, user=user, channel_name=name)
    text = all_text(answer_posted(standin, sent["key"]))
    assert "Digests post in channels, not in direct messages" in text and "#research" in text
    assert not standin.calls_to("conversations.members", where={"channel": channel})  # refused before asking


def test_a_private_channel_collab_isnt_in_is_invisible_to_conversations_members(
    server: SlackServer, standin: SlackStandIn
) -> None:
    channel, user = standin.conversation(new_id("G"), "private", member=False), new_id("U")
    standin.members[channel] = [user]
    _, sent = server.slash_command("digest subscribe", channel=channel, user=user, channel_name="secret-room")
    text = all_text(answer_posted(standin, sent["key"]))
    assert "I can't see this channel" in text and "/invite @collab" in text
    (asked,) = standin.calls_to("conversations.members", where={"channel": channel})
    assert asked.reply["error"] == "channel_not_found"


# ---------------------------------------------------------------- request signatures


@pytest.mark.parametrize("forgery", ["bad signature", "six minutes old"])
def test_forged_or_stale_requests_get_401_and_do_nothing(
    server: SlackServer, standin: SlackStandIn, forgery: str
) -> None:
    channel, key = new_id("C"), new_id("k")
    if forgery == "bad signature":
        options = {"signature": sign("something else", int(time.time()))}
    else:
        old = int(time.time()) - 6 * 60
        options = {"timestamp": old}  # correctly signed, but outside the 5-minute replay window
    reply, _ = server.slash_command("partners Malaysia public", channel=channel, response_key=key, **options)
    assert reply.status == 401
    time.sleep(0.5)
    assert not standin.calls_to("response", where={"key": key})
    assert not [c for c in standin.calls if channel in json.dumps(c.body)]


def test_slacks_app_rate_limited_notice_is_acknowledged_and_logged(server: SlackServer) -> None:
    """Slack counts any non-2xx answer to an Events API callback as a failed delivery."""
    minute = int(time.time()) // 60 * 60
    notice = {
        "token": "legacy-verification-token",
        "type": "app_rate_limited",
        "team_id": "T0STANDIN",
        "minute_rate_limited": minute,
        "api_app_id": "A0COLLAB",
    }
    reply = server.post_signed(json.dumps(notice), content_type="application/json")
    assert reply.status == 200
    deadline = time.monotonic() + 5
    while f"minute {minute}" not in server.log() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert f"Slack rate-limited events for team T0STANDIN in minute {minute}" in server.log()


# ---------------------------------------------------------------- Socket Mode


@pytest.mark.slow
def test_socket_mode_opens_its_connection_with_the_app_token(standin: SlackStandIn, collab_db: Path) -> None:
    """`collab serve --socket` asks Slack (here the stand-in) for a websocket URL with SLACK_APP_TOKEN.

    The stand-in speaks no websocket, so it refuses the token; the call itself shows the wiring.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.update(
        SLACK_BOT_TOKEN=standin.token,
        SLACK_APP_TOKEN="xapp-1-test",
        SLACK_API_URL=standin.api_url,
        COLLAB_DB=str(collab_db),
        DATABASE_URL=f"sqlite:///{collab_db.parent / 'socket-mode-state.sqlite'}",  # not the checkout's default
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--socket"],
        env=env,
        cwd=Path(__file__).resolve().parents[1],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        opened = standin.wait_for("apps.connections.open", timeout=30)[0]
        assert opened.headers["authorization"] == "Bearer xapp-1-test"
    finally:
        process.kill()
        process.wait()
