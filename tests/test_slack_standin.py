"""The Slack stand-in refuses what Slack refuses, so the server tests can't pass on what Slack would reject.

Driven with the real slack_sdk WebClient and WebhookClient, as the server drives it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from slack_standin import MAX_BLOCK_TEXT, SlackStandIn  # noqa: E402

TOKEN = "xoxb-standin-test"


@pytest.fixture(scope="module")
def slack() -> SlackStandIn:
    fake = SlackStandIn(token=TOKEN).start()
    yield fake
    fake.stop()


@pytest.fixture
def client(slack: SlackStandIn) -> WebClient:
    return WebClient(token=TOKEN, base_url=slack.api_url)


def error_of(call) -> str:
    with pytest.raises(SlackApiError) as raised:
        call()
    return raised.value.response["error"]


def sections(characters: int) -> list[dict]:
    per = 3000
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": "x" * min(per, characters - i)}}
        for i in range(0, characters, per)
    ]


def test_more_than_12000_characters_of_block_text_is_msg_blocks_too_long(
    slack: SlackStandIn, client: WebClient
) -> None:
    channel = slack.conversation("C0LIMITS", "public", member=True)
    assert client.chat_postMessage(channel=channel, text="ok", blocks=sections(MAX_BLOCK_TEXT))["ok"]
    too_long = lambda: client.chat_postMessage(channel=channel, text="no", blocks=sections(MAX_BLOCK_TEXT + 1))  # noqa: E731
    assert error_of(too_long) == "msg_blocks_too_long"
    assert len(slack.history[channel]) == 1  # the refused one shows nothing


@pytest.mark.parametrize("kind, channel", [("im", "D0OTHER"), ("mpim", "G0GROUP"), ("private", "G0SECRET")])
def test_conversations_the_bot_is_not_in_are_channel_not_found(
    slack: SlackStandIn, client: WebClient, kind: str, channel: str
) -> None:
    slack.conversation(channel, kind, member=False)
    assert error_of(lambda: client.chat_postMessage(channel=channel, text="hello")) == "channel_not_found"
    assert error_of(lambda: client.conversations_history(channel=channel)) == "channel_not_found"
    assert error_of(lambda: client.files_upload_v2(channel=channel, content="a,b", filename="x.csv")) == (
        "channel_not_found"
    )
    assert not slack.history.get(channel)


def test_a_public_channel_takes_posts_but_not_files_until_joined(slack: SlackStandIn, client: WebClient) -> None:
    channel = slack.conversation("C0OPEN", "public", member=False)
    assert client.chat_postMessage(channel=channel, text="chat:write.public")["ok"]
    assert error_of(lambda: client.files_upload_v2(channel=channel, content="a", filename="a.csv")) == "not_in_channel"
    assert client.conversations_join(channel=channel)["ok"]
    assert client.files_upload_v2(channel=channel, content="a", filename="a.csv")["ok"]


@pytest.mark.parametrize("kind, channel", [("im", "D0JOIN"), ("mpim", "G0JOINGROUP"), ("private", "G0JOINPRIV")])
def test_joining_anything_but_a_public_channel_is_method_not_supported(
    slack: SlackStandIn, client: WebClient, kind: str, channel: str
) -> None:
    slack.conversation(channel, kind, member=False)
    assert error_of(lambda: client.conversations_join(channel=channel)) == "method_not_supported_for_channel_type"


def test_an_image_block_must_name_a_completed_upload(slack: SlackStandIn, client: WebClient) -> None:
    channel = slack.conversation("C0IMAGES", "public", member=True)
    image = lambda file_id: [{"type": "image", "slack_file": {"id": file_id}, "alt_text": "chart"}]  # noqa: E731
    assert error_of(lambda: client.chat_postMessage(channel=channel, text="x", blocks=image("F0NEVER"))) == (
        "invalid_blocks"
    )
    upload = client.files_upload_v2(content=b"\x89PNG...", filename="chart.png")  # shared nowhere
    file_id = upload["file"]["id"]
    assert client.chat_postMessage(channel=channel, text="chart", blocks=image(file_id))["ok"]
    refused = WebhookClient(slack.response_url("k-images")).send(text="chart", blocks=image("F0NEVER"))
    assert refused.status_code == 400 and refused.body == "invalid_blocks"
    assert client.files_delete(file=file_id)["ok"]
    assert error_of(lambda: client.chat_postMessage(channel=channel, text="x", blocks=image(file_id))) == (
        "invalid_blocks"
    )


def test_in_channel_responses_are_seen_in_their_conversation(slack: SlackStandIn) -> None:
    url = slack.response_url("k-seen", channel="D0SEEN")
    WebhookClient(url).send(text="only you", response_type="ephemeral")
    WebhookClient(url).send(text="everyone", response_type="in_channel")
    assert [m["text"] for m in slack.history["D0SEEN"]] == ["everyone"]
