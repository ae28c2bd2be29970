"""Setting the app up: the manifest an admin pastes, `collab serve`'s checks, and the module boundaries."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "manifest.yml"


@pytest.fixture(scope="module")
def manifest() -> dict:
    yaml = pytest.importorskip("yaml")  # PyYAML: a test-only dependency
    return yaml.safe_load(MANIFEST.read_text())


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    names |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    return names


def test_only_the_slack_package_imports_slack_bolt_and_rendering_imports_no_slack() -> None:
    importers = sorted(
        str(p.relative_to(ROOT))
        for p in (ROOT / "bot").rglob("*.py")
        if any(m.split(".")[0] == "slack_bolt" for m in imported_modules(p))
    )
    assert importers and all(path.startswith("bot/slack/") for path in importers), importers
    for pure in ("bot/render/blocks.py", "bot/render/mrkdwn.py"):
        assert not any(m.split(".")[0] in ("slack_bolt", "slack_sdk") for m in imported_modules(ROOT / pure)), pure


@pytest.mark.parametrize("socket_mode, needed", [(False, "SLACK_SIGNING_SECRET"), (True, "SLACK_APP_TOKEN")])
def test_serve_says_which_setting_is_missing(socket_mode: bool, needed: str) -> None:
    from bot.config import Settings
    from bot.slack.server import serve

    with pytest.raises(SystemExit, match=needed):
        serve(Settings(slack_bot_token="xoxb-test"), 0, socket_mode=socket_mode)


def test_manifest_routes_everything_to_slack_events(manifest: dict) -> None:
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == "/collab" and command["usage_hint"]
    urls = {
        command["url"],
        manifest["settings"]["interactivity"]["request_url"],
        manifest["settings"]["event_subscriptions"]["request_url"],
    }
    assert urls == {"https://YOUR-HOST/slack/events"}
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["event_subscriptions"]["bot_events"] == [
        "app_home_opened",
        "app_mention",
        "message.im",
        "message.channels",
        "message.groups",
        "message.mpim",
        "assistant_thread_started",
        "assistant_thread_context_changed",
    ]
    assert manifest["features"]["app_home"]["messages_tab_read_only_enabled"] is False  # people write DMs
    assert manifest["features"]["assistant_view"]["assistant_description"]
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["features"]["bot_user"]["display_name"] == "collab"
    assert manifest["settings"]["socket_mode_enabled"] is False


def test_manifest_asks_for_exactly_the_scopes_the_app_uses(manifest: dict) -> None:
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "commands",
        "chat:write",
        "chat:write.public",
        "files:write",
        "channels:join",
        "channels:read",
        "groups:read",
        "users:read",
        "im:write",
        "channels:history",
        "groups:history",
        "im:history",
        "mpim:history",
        "app_mentions:read",
        "assistant:write",
    }  # before repeating a post that may have landed, the bot reads the conversation; conversations read messages
