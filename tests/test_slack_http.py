"""The real server (gunicorn + bolt) end to end, with only Slack's Web API replaced by the stand-in.

Each test uses its own channel, user and response_url, so the recorded calls of one test never
mix with another's, even while a previous answer's upload is still finishing.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest_slack import (  # noqa: E402,F401  (fixtures)
    SlackServer,
    answer_for,
    collab_db,
    http,
    new_id,
    server,
    sign,
    standin,
)
from slack_standin import Call, SlackStandIn  # noqa: E402

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


# ---------------------------------------------------------------- /collab


def test_slash_command_acks_fast_then_answers_with_table_and_chart(server: SlackServer, standin: SlackStandIn) -> None:
    ack, sent = server.slash_command("partners Malaysia")
    assert ack.status == 200 and ack.seconds < 3
    assert ack.json() == {
        "text": ":hourglass_flowing_sand: Working on `partners Malaysia`…",
        "response_type": "ephemeral",
    }

    posted = answer_posted(standin, sent["key"])
    assert posted.body["response_type"] == "ephemeral" and posted.body["replace_original"] is True
    assert "Malaysia" in posted.body["text"]  # the text fallback
    header, summary = blocks_of(posted, "header")[0], blocks_of(posted, "section")[0]
    assert header["text"]["text"].startswith("Malaysia's top AI research partners")
    partner, articles = top_partner_from_csv("Malaysia")
    assert partner in summary["text"]["text"]
    (table,) = blocks_of(posted, "table")
    assert [c["text"] for c in table["rows"][0]][:2] == ["partner", "joint articles"]
    assert [c["text"] for c in table["rows"][1]][:2] == [partner, f"{articles:,}"]
    assert len(table["rows"]) == 11
    notes = " ".join(e["text"] for b in blocks_of(posted, "context") for e in b["elements"])
    assert "Source: ETO" in notes and "incomplete" in notes and "25 joint articles" in notes
    assert "chart follows in this channel" in notes  # where the chart went
    (actions,) = blocks_of(posted, "actions")
    assert [(e["action_id"], e["value"]) for e in actions["elements"]] == [
        ("collab_share", "partners Malaysia"),
        ("collab_csv", "partners Malaysia"),
        ("collab_sql", "partners Malaysia"),
    ]

    complete, request, png = uploaded_to(standin, sent["channel"])  # the chart goes to the command's channel
    assert png.startswith(PNG_SIGNATURE) and len(png) > 10_000
    assert request["filename"].endswith(".png") and int(request["length"]) == len(png)
    assert request["alt_txt"].startswith("Chart: Malaysia's top AI research partners") and partner in request["alt_txt"]
    assert json.loads(complete.body["files"])[0]["title"] == header["text"]["text"]
    assert not standin.calls_to("files.completeUploadExternal", where={"channel_id": "D" + sent["user"].lstrip("U")})
    assert not standin.calls_to("chat.postMessage", where={"channel": sent["channel"]})  # the answer stays private


def test_markup_in_the_command_text_is_unescaped_before_parsing(server: SlackServer, standin: SlackStandIn) -> None:
    ack, sent = server.slash_command("pair \u201cChina\u201d &amp;\u00a0USA")
    assert "Working on" in ack.json()["text"]
    posted = answer_posted(standin, sent["key"])
    assert blocks_of(posted, "header")[0]["text"]["text"].startswith("China – the United States")


def test_typo_is_answered_in_the_ack_with_a_suggestion(server: SlackServer, standin: SlackStandIn) -> None:
    ack, sent = server.slash_command("partners Malasia")
    assert ack.status == 200 and ack.seconds < 3
    assert "did you mean malaysia" in ack.json()["text"].lower()
    assert ack.json()["response_type"] == "ephemeral"
    time.sleep(0.5)
    assert not standin.calls_to("response", where={"key": sent["key"]})  # nothing more follows


def test_public_command_posts_in_the_channel_attributed(server: SlackServer, standin: SlackStandIn) -> None:
    ack, sent = server.slash_command("partners Malaysia public")
    assert ack.status == 200
    post = standin.wait_for("chat.postMessage", where={"channel": sent["channel"]})[0]
    text = all_text(post)
    assert f"Asked by <@{sent['user']}>" in text and "<!date^" in text
    assert "collab_share" not in text and "collab_csv" in text
    assert blocks_of(post, "table")
    assert answer_posted(standin, sent["key"]).body["delete_original"] is True  # "working on it" goes away
    complete, request, png = uploaded_to(standin, sent["channel"])
    assert png.startswith(PNG_SIGNATURE)


def test_large_result_falls_back_to_a_preformatted_table(server: SlackServer, standin: SlackStandIn) -> None:
    _, sent = server.slash_command("sql SELECT * FROM pairs ORDER BY year, country_a, country_b LIMIT 150")
    posted = answer_posted(standin, sent["key"])
    assert not blocks_of(posted, "table")
    code = [b["text"]["text"] for b in blocks_of(posted, "section") if b["text"]["text"].startswith("```")]
    assert code and all(len(text) <= 3000 for text in code)
    assert "country a" in code[0] and len(posted.json_field("blocks")) <= 50


def test_invalid_blocks_is_retried_as_plain_text(server: SlackServer, standin: SlackStandIn) -> None:
    key = new_id("k")
    standin.fail_response_url_once(key, "invalid_blocks")
    server.slash_command("pair China USA", response_key=key)
    first, retry = standin.wait_for("response", count=2, where={"key": key})[:2]
    assert first.status == 400 and "blocks" in first.body
    assert retry.status == 200 and "blocks" not in retry.body
    assert "China" in retry.body["text"] and "```" in retry.body["text"] and "2015" in retry.body["text"]


def test_rate_limited_post_is_retried_after_retry_after_and_posts_once(
    server: SlackServer, standin: SlackStandIn
) -> None:
    channel = new_id("C")
    standin.rate_limit_once("chat.postMessage", retry_after=1, where={"channel": channel})
    server.slash_command("top 10 non-western public", channel=channel)
    attempts = standin.wait_for("chat.postMessage", count=2, where={"channel": channel})
    assert [a.status for a in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 1.0  # waited for Retry-After
    time.sleep(0.3)
    assert len(standin.calls_to("chat.postMessage", where={"channel": channel}, test=lambda c: c.status == 200)) == 1


def test_chart_upload_not_in_channel_joins_the_public_channel_and_retries(
    server: SlackServer, standin: SlackStandIn
) -> None:
    channel = new_id("C")
    standin.fail_once("files.completeUploadExternal", "not_in_channel", where={"channel_id": channel})
    server.slash_command("partners Malaysia public", channel=channel)
    standin.wait_for("conversations.join", where={"channel": channel})
    uploaded_to(standin, channel)
    attempts = standin.calls_to("files.completeUploadExternal", where={"channel_id": channel})
    assert [a.reply.get("error") for a in attempts] == ["not_in_channel", None]


def test_private_answer_chart_not_in_channel_joins_the_public_channel_and_retries(
    server: SlackServer, standin: SlackStandIn
) -> None:
    channel = new_id("C")
    standin.fail_once("files.completeUploadExternal", "not_in_channel", where={"channel_id": channel})
    _, sent = server.slash_command("partners Malaysia", channel=channel)
    assert blocks_of(answer_posted(standin, sent["key"]), "table")  # the private answer
    standin.wait_for("conversations.join", where={"channel": channel})
    _, request, png = uploaded_to(standin, channel)
    assert png.startswith(PNG_SIGNATURE) and request["alt_txt"].startswith("Chart: Malaysia's top AI research partners")
    attempts = standin.calls_to("files.completeUploadExternal", where={"channel_id": channel})
    assert [a.reply.get("error") for a in attempts] == ["not_in_channel", None]
    time.sleep(0.3)
    assert len(standin.calls_to("response", where={"key": sent["key"]})) == 1  # no "couldn't add the chart" note


def test_private_answer_in_a_private_channel_explains_how_to_invite_and_keeps_the_table(
    server: SlackServer, standin: SlackStandIn
) -> None:
    channel = new_id("G")
    standin.fail_once("files.completeUploadExternal", "not_in_channel", where={"channel_id": channel})
    standin.fail_once("conversations.join", "method_not_supported_for_channel_type", where={"channel": channel})
    _, sent = server.slash_command("partners Malaysia", channel=channel)
    responses = standin.wait_for("response", count=2, where={"key": sent["key"]})
    answered, explained = responses[0], responses[1]
    assert answered.body["replace_original"] is True and blocks_of(answered, "table")  # the table was delivered
    assert explained.body["response_type"] == "ephemeral" and explained.body["replace_original"] is False
    assert "/invite @collab" in explained.body["text"] and "table above" in explained.body["text"]
    assert standin.calls_to("conversations.join", where={"channel": channel})
    assert not standin.calls_to(
        "files.completeUploadExternal", where={"channel_id": channel}, test=lambda c: c.reply.get("ok")
    )
    assert not standin.calls_to("chat.postMessage", where={"channel": channel})  # nothing public


def test_private_channel_gets_the_table_and_how_to_invite_the_bot(server: SlackServer, standin: SlackStandIn) -> None:
    channel = new_id("G")
    standin.fail_once("chat.postMessage", "not_in_channel", where={"channel": channel})
    _, sent = server.slash_command("partners Malaysia public", channel=channel)
    posted = answer_posted(standin, sent["key"])
    assert "/invite @collab" in all_text(posted)
    assert blocks_of(posted, "table")  # still gives the table

    channel = new_id("G")
    standin.fail_once("files.completeUploadExternal", "not_in_channel", where={"channel_id": channel})
    standin.fail_once("conversations.join", "method_not_supported_for_channel_type", where={"channel": channel})
    _, sent = server.slash_command("partners Malaysia public", channel=channel)
    explained = standin.wait_for("response", where={"key": sent["key"]}, test=lambda c: "invite" in all_text(c))
    assert "/invite @collab" in explained[0].body["text"]
    assert standin.calls_to("chat.postMessage", where={"channel": channel})  # the table is in the channel


# ---------------------------------------------------------------- buttons


def test_share_posts_attributed_reuploads_the_chart_and_deletes_the_ephemeral(
    server: SlackServer, standin: SlackStandIn
) -> None:
    reply, sent = server.click("collab_share", "partners Malaysia")
    assert reply.status == 200 and reply.seconds < 3
    post = standin.wait_for("chat.postMessage", where={"channel": sent["channel"]})[0]
    assert f"Shared by <@{sent['user']}>" in all_text(post)
    assert blocks_of(post, "header")[0]["text"]["text"].startswith("Malaysia's top AI research partners")
    assert standin.wait_for("response", where={"key": sent["key"]})[0].body["delete_original"] is True
    _, request, png = uploaded_to(standin, sent["channel"])
    assert png.startswith(PNG_SIGNATURE) and request["alt_txt"].startswith("Chart:")


def test_share_where_the_bot_may_not_post_keeps_the_private_answer(server: SlackServer, standin: SlackStandIn) -> None:
    channel = new_id("G")
    standin.fail_once("chat.postMessage", "channel_not_found", where={"channel": channel})
    _, sent = server.click("collab_share", "partners Malaysia", channel=channel)
    reply = answer_posted(standin, sent["key"])
    assert "/invite @collab" in reply.body["text"] and not reply.body.get("delete_original")
    assert reply.body["replace_original"] is False  # the private answer stays


def test_csv_button_uploads_every_column_of_the_result(server: SlackServer, standin: SlackStandIn, answer_for) -> None:
    _, sent = server.click("collab_csv", "partners Malaysia")
    _, request, data = uploaded_to(standin, "D" + sent["user"].lstrip("U"))
    assert request["filename"].endswith(".csv")
    lines = data.decode().splitlines()
    expected = answer_for("partners Malaysia")
    assert lines[0].split(",") == expected.columns  # the JSON column names, *_code included
    assert len(lines) == len(expected.frame) + 1 and lines[1].startswith(top_partner_from_csv("Malaysia")[0])
    assert "CSV" in answer_posted(standin, sent["key"]).body["text"]


def test_show_sql_replies_with_the_validated_sql_and_its_parameters(
    server: SlackServer, standin: SlackStandIn, answer_for
) -> None:
    _, sent = server.click("collab_sql", "partners Malaysia")
    posted = answer_posted(standin, sent["key"])
    assert posted.body["response_type"] == "ephemeral" and posted.body["replace_original"] is False
    text = "\n".join(b["text"]["text"] for b in blocks_of(posted, "section"))
    expected = answer_for("partners Malaysia")
    assert expected.sql.strip().splitlines()[0] in text and "FROM partner_links" in text
    assert '"country": "MYS"' in text and '"limit": 10' in text


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
    assert "files dated 2026-04-13" in text  # the cross-border release, from `about`
    assert "Channel digests" in text and "/collab digest" in text  # bot.digest is installed


def test_digest_commands_reach_the_digest_module(server: SlackServer, standin: SlackStandIn) -> None:
    channel, user = new_id("C"), new_id("U")
    standin.members[channel] = [user]
    ack, sent = server.slash_command("digest subscribe", channel=channel, user=user)
    assert "Working on" in ack.json()["text"]
    subscribed = answer_posted(standin, sent["key"])
    assert subscribed.status == 200 and ":thinking_face:" not in all_text(subscribed)
    _, listed = server.slash_command("digest list", channel=channel, user=user)
    text = all_text(answer_posted(standin, listed["key"]))
    assert "Monday" in text and ":thinking_face:" not in text


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


# ---------------------------------------------------------------- Socket Mode


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
