"""Block Kit rendering and Slack-markup unescaping: pure functions, no server.

Blocks are checked against Slack's limits directly and through slack_sdk's own Block Kit models
(which validate lengths and counts). `python tests/test_slack_blocks.py` rewrites docs/blockkit/.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from slack_standin import MAX_BLOCK_TEXT, block_text_length, unescaped_markup

from bot.engine.question import VERBS
from bot.engine.result import ChartSpec, Result
from bot.errors import UserError
from bot.render import blocks
from bot.render.mrkdwn import escape, unescape_command

ROOT = Path(__file__).resolve().parents[1]
BLOCKKIT_DIR = ROOT / "docs" / "blockkit"
BLOCKKIT_EXAMPLES = {
    "partners-malaysia": "partners Malaysia",
    "pair-china-usa": "pair China USA",
    "top-10-non-western": "top 10 non-western",
}


def hand_built(
    rows: int = 3, columns: int = 3, *, summary: str = "Malaysia works most with China.", notes: list[str] | None = None
) -> Result:
    frame = pd.DataFrame({f"col_{c}": [r * 10 + c for r in range(rows)] for c in range(columns)})
    frame.insert(0, "partner", [f"Country {r}" for r in range(rows)])
    frame["partner_code"] = [f"C{r:02d}" for r in range(rows)]
    return Result(
        command="partners",
        title="Malaysia's top 10 AI research partners, 2015–2025",
        summary=summary,
        frame=frame,
        notes=notes if notes is not None else ["Source: ETO.", "2024–2025 are incomplete."],
        sql="SELECT 1",
        params={"country": "MYS"},
        data_version="abc123",
        chart=ChartSpec(kind="bar", x="partner", y="col_0"),
    )


def assert_within_slack_limits(message: dict, max_blocks: int = blocks.MAX_BLOCKS) -> None:
    assert message["text"].strip(), "every message needs a text fallback"
    assert len(message["blocks"]) <= max_blocks
    assert block_text_length(message["blocks"]) <= MAX_BLOCK_TEXT, "chat.postMessage: msg_blocks_too_long"
    assert not unescaped_markup(message), unescaped_markup(message)
    assert sum(b["type"] == "table" for b in message["blocks"]) <= 1
    for block in message["blocks"]:
        Block.parse(block).validate_json()  # slack_sdk's checks: lengths, counts, required fields
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
        if block["type"] == "context":
            assert len(block["elements"]) <= 10
            assert all(len(e["text"]) <= 3000 for e in block["elements"])
        if block["type"] == "table":
            assert len(block["rows"]) <= 100 and all(len(row) <= 20 for row in block["rows"])
            assert all(cell["text"] for row in block["rows"] for cell in row), "table cells must not be empty"


def block_types(message: dict) -> list[str]:
    return [b["type"] for b in message["blocks"]]


def buttons(message: dict) -> dict[str, dict]:
    return {e["action_id"]: e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]}


# ---------------------------------------------------------------- unescape_command


@pytest.mark.parametrize(
    "typed, plain",
    [
        ("partners <#C123|malaysia>", "partners #malaysia"),
        ("ask <@U123|bob> and <@U456>", "ask @bob and @U456"),
        ("mail <mailto:a@b.c|a@b.c>", "mail a@b.c"),
        ("see <https://eto.tech/x|the tracker> or <https://eto.tech>", "see the tracker or https://eto.tech"),
        ("pair China &amp; USA", "pair China & USA"),
        (
            "sql SELECT * FROM pairs WHERE year &lt; 2020 AND year &gt; 2015",
            "sql SELECT * FROM pairs WHERE year < 2020 AND year > 2015",
        ),
        ("fields \u201cSaudi Arabia\u201d \u2018UK\u2019", "fields \"Saudi Arabia\" 'UK'"),
        ("partners\u00a0Malaysia\u202ffrom 2016", "partners Malaysia from 2016"),
        ("top 5 <!subteam^S1|@analysts> <!here>", "top 5 @analysts @here"),
        ("&amp;lt; stays typed", "&lt; stays typed"),
        ("", ""),
    ],
)
def test_unescape_command_gives_back_what_was_typed(typed: str, plain: str) -> None:
    assert unescape_command(typed) == plain


# ---------------------------------------------------------------- answers


def test_answer_has_header_summary_table_notes_and_buttons() -> None:
    result = hand_built()
    message = blocks.answer_message(result, "partners Malaysia")
    assert_within_slack_limits(message)
    assert block_types(message) == ["header", "section", "table", "context", "actions"]
    assert message["blocks"][0]["text"]["text"] == result.title
    assert message["blocks"][1]["text"]["text"] == result.summary
    table = message["blocks"][2]
    assert [c["text"] for c in table["rows"][0]] == ["partner", "col 0", "col 1", "col 2"]  # no *_code column
    assert [c["text"] for c in table["rows"][1]] == ["Country 0", "0", "1", "2"]
    assert table["column_settings"][1] == {"align": "right"}
    assert "Source: ETO." in message["blocks"][3]["elements"][0]["text"]
    assert result.summary in message["text"]
    assert {a: b["value"] for a, b in buttons(message).items()} == {
        "collab_share": "partners Malaysia",
        "collab_csv": "partners Malaysia",
        "collab_sql": "partners Malaysia",
    }


def test_a_plain_english_answer_opens_with_how_it_was_read() -> None:
    result = hand_built()
    result.read_as = "Read as `partners Malaysia in cv`"
    message = blocks.answer_message(result, "partners Malaysia in cv")
    assert_within_slack_limits(message)
    assert block_types(message)[:2] == ["context", "header"]
    assert message["blocks"][0]["elements"][0]["text"] == "Read as `partners Malaysia in cv`"
    assert message["text"].startswith("Read as `partners Malaysia in cv`\n")  # notifications say it too
    assert blocks.plain_message(result)["text"].startswith("Read as `partners Malaysia in cv`\n")


def test_choices_offer_up_to_three_commands_as_buttons() -> None:
    choices = ("top in cv", "rising in cv", "pairs in cv", "fields China")
    message = blocks.choices_message("I understood: computer vision & <nothing else>.", choices)
    assert_within_slack_limits(message)
    assert "computer vision &amp; &lt;nothing else&gt;" in message["text"]
    assert [(a, b["value"]) for a, b in buttons(message).items()] == [
        ("collab_choice_0", "top in cv"),
        ("collab_choice_1", "rising in cv"),
        ("collab_choice_2", "pairs in cv"),
    ]
    nothing = blocks.choices_message("I couldn't tell what you're asking.", ())
    assert_within_slack_limits(nothing)
    assert not buttons(nothing) and "Did you mean" not in nothing["text"]


def test_posted_answer_has_attribution_and_no_share_button() -> None:
    message = blocks.answer_message(
        hand_built(), "partners Malaysia public", shareable=False, attribution="Shared by <@U1>"
    )
    assert "collab_share" not in buttons(message)
    assert {"collab_csv", "collab_sql"} <= set(buttons(message))
    assert any(b["type"] == "context" and b["elements"][0]["text"] == "Shared by <@U1>" for b in message["blocks"])


def test_text_from_data_is_escaped_for_mrkdwn() -> None:
    result = hand_built(summary="Trinidad & Tobago <3 <!channel>")
    message = blocks.answer_message(result, "x")
    assert message["blocks"][1]["text"]["text"] == "Trinidad &amp; Tobago &lt;3 &lt;!channel&gt;"


@pytest.mark.parametrize("rows, columns", [(150, 3), (500, 8), (5, 25)])
def test_a_result_too_big_for_one_table_shows_its_first_rows_in_one_table(rows: int, columns: int) -> None:
    message = blocks.answer_message(hand_built(rows=rows, columns=columns), "sql SELECT * FROM pairs LIMIT 500")
    assert_within_slack_limits(message)
    (table,) = [b for b in message["blocks"] if b["type"] == "table"]  # one table, never code blocks
    assert not [b for b in message["blocks"] if b["type"] == "section" and "```" in b["text"]["text"]]
    shown = len(table["rows"]) - 1
    assert [c["text"] for c in table["rows"][1]][0] == "Country 0"
    assert [c["text"] for c in table["rows"][shown]][0] == f"Country {shown - 1}"  # the first rows, in order
    assert all(len(row) <= 20 for row in table["rows"])
    notes = json.dumps(message["blocks"])
    if shown < rows:
        assert f"First {shown:,} of {rows:,} rows." in notes and "CSV" in notes
    if columns + 1 > 20:
        assert "First 20 of 26 columns." in notes


def test_long_cells_are_cut_visibly() -> None:
    result = hand_built(rows=3)
    result.frame["partner"] = ["x" * 5000, "short", "y" * 250]
    message = blocks.answer_message(result, "x")
    assert_within_slack_limits(message)
    (table,) = [b for b in message["blocks"] if b["type"] == "table"]
    first = table["rows"][1][0]["text"]
    assert first.endswith("…") and len(first) == blocks.MAX_CELL
    assert table["rows"][2][0]["text"] == "short" and len(table["rows"]) == 4


def test_messages_never_exceed_slacks_block_text_limit() -> None:
    wide = hand_built(rows=99, columns=19)
    wide.frame["partner"] = [f"Country {r} " + "with a long name " * 8 for r in range(99)]
    message = blocks.answer_message(wide, "x", attribution="Shared by <@U1>")
    assert_within_slack_limits(message)
    assert block_text_length(message["blocks"]) > 8000  # it is full, not empty
    assert blocks.text_length(message["blocks"]) == block_text_length(message["blocks"])


def test_one_escape_function_serves_text_and_fallbacks() -> None:
    assert blocks.escape is escape  # the Block Kit helpers re-export the one function
    assert escape("a & <b> > c") == "a &amp; &lt;b&gt; &gt; c"
    result = hand_built(summary="Use <country> & more")
    result.title = "A <title> & more"
    message = blocks.answer_message(result, "x")
    assert message["text"] == "A &lt;title&gt; &amp; more: Use &lt;country&gt; &amp; more"
    assert message["blocks"][0]["text"]["text"] == "A <title> & more"  # plain_text stays as written
    sql = blocks.sql_message(hand_built(), "sql SELECT 1 WHERE 2 > 1")
    assert "&gt;" in sql["text"] and not unescaped_markup(sql)


def test_unescaped_markup_is_caught_by_the_payload_check() -> None:
    assert unescaped_markup({"text": "digest subscribe [every <weekday>]"}) == ["digest subscribe [every <weekday>]"]
    assert unescaped_markup({"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "a & b"}}]})
    assert not unescaped_markup({"text": "<@U1> <#C1> <!here> <https://x.org|x> &lt;id&gt; &amp;"})


def test_digest_help_and_its_home_lines_are_escaped() -> None:
    digest = pytest.importorskip("bot.digest")
    lines = digest.home_lines()
    assert not unescaped_markup({"text": "\n".join(lines)}), lines
    assert "&lt;weekday&gt;" in "\n".join(lines) and "&lt;time zone&gt;" in "\n".join(lines)
    view = blocks.home_view(VERBS, None, "The database is missing.", list(lines))
    assert not unescaped_markup(view)


def test_chart_message_shows_the_uploaded_file_by_id() -> None:
    message = blocks.chart_message(hand_built(), "F0123ABCDE")
    assert_within_slack_limits(message)
    (image,) = message["blocks"]
    assert image["type"] == "image" and image["slack_file"] == {"id": "F0123ABCDE"}
    assert image["alt_text"].startswith("Chart: Malaysia's top 10 AI research partners")


def test_table_block_holds_99_rows_and_20_columns() -> None:
    message = blocks.answer_message(hand_built(rows=99, columns=19), "x")  # partner + 19 shown, code hidden
    table = [b for b in message["blocks"] if b["type"] == "table"]
    assert table and len(table[0]["rows"]) == 100
    assert_within_slack_limits(message)


def test_huge_summary_and_notes_stay_within_slack_limits() -> None:
    summary = "A very long summary sentence about research links. " * 400  # ~20,000 characters
    notes = [f"Note {i}: " + "caveat " * 300 for i in range(60)]  # ~125,000 characters
    message = blocks.answer_message(hand_built(rows=150, columns=8, summary=summary, notes=notes), "partners Malaysia")
    assert_within_slack_limits(message)
    assert len(message["text"]) <= 3000
    texts = json.dumps(message["blocks"])
    assert "left out" in texts  # shortened with a note, never silently
    assert message["blocks"][-1]["type"] == "actions"  # the buttons survive the shortening


def test_button_value_is_dropped_rather_than_cut_when_too_long() -> None:
    message = blocks.answer_message(hand_built(), "sql SELECT " + "x, " * 900)
    assert not buttons(message)
    assert blocks.button_value("  partners Malaysia  ") == "partners Malaysia"


def test_button_value_keeps_sql_as_typed() -> None:
    # Joining the lines would let the `--` comment swallow the WHERE: the Share button would post
    # the count of every field instead of the one asked about.
    typed = "sql SELECT count(*) AS n FROM pairs -- AI only\nWHERE field = 'ai' AND 'a  b' <> ''"
    assert blocks.button_value(typed) == typed


def test_plain_message_carries_the_whole_answer_as_text() -> None:
    result = hand_built(rows=4)
    plain = blocks.plain_message(result, warning="Invite me.")
    assert set(plain) == {"text"}
    assert result.title in plain["text"] and "Country 3" in plain["text"] and "Source: ETO." in plain["text"]
    assert "Invite me." in plain["text"]


def test_plain_message_of_a_huge_table_is_shortened_with_its_fence_closed() -> None:
    plain = blocks.plain_message(hand_built(rows=3000, columns=6))["text"]
    assert len(plain) <= 40_000 and plain.count("```") % 2 == 0
    assert plain.endswith("the CSV button gives every row.")


def test_error_message_names_what_would_work() -> None:
    error = UserError("no country 'Malasia' — did you mean Malaysia?", ("Malaysia",))
    message = blocks.error_message(error)
    assert "did you mean Malaysia" in message["text"]
    assert "Perhaps" not in message["text"]  # the suggestion is already in the sentence
    other = blocks.error_message(UserError("I don't know the command 'partnrs'.", ("partners",)))
    assert "`partners`" in other["text"]
    assert_within_slack_limits(message)


def test_sql_message_shows_sql_and_bound_parameters() -> None:
    result = hand_built()
    result.sql = "SELECT partner FROM partner_links WHERE country = $country\n" * 120  # > 3,000 characters
    message = blocks.sql_message(result, "partners Malaysia")
    assert_within_slack_limits(message)
    text = json.dumps(message["blocks"])
    assert "partner_links WHERE country = $country" in text and '\\"country\\": \\"MYS\\"' in text
    assert sum("```" in b.get("text", {}).get("text", "") for b in message["blocks"]) >= 3


def test_home_view_lists_verbs_and_releases_and_no_digest_section_without_digests(answer_for) -> None:
    view = blocks.home_view(VERBS, answer_for("about"))
    View(**view).validate_json()
    text = json.dumps(view)
    assert view["type"] == "home" and len(view["blocks"]) <= blocks.MAX_HOME_BLOCKS
    assert "/collab partners Malaysia" in text and "ETO Cross-Border Tech Research Metrics" in text
    assert "`/collab &lt;command&gt;`" in text and not unescaped_markup(view)
    assert "digest" not in text.lower()
    with_digests = json.dumps(blocks.home_view(VERBS, None, "The database is missing.", ["• #research: weekly"]))
    assert "Channel digests" in with_digests and "#research: weekly" in with_digests
    assert "The database is missing." in with_digests


# ---------------------------------------------------------------- real answers, and the Block Kit Builder examples


@pytest.mark.parametrize("name, text", BLOCKKIT_EXAMPLES.items())
def test_real_answers_render_within_limits_and_match_the_docs_examples(answer_for, name: str, text: str) -> None:
    result = answer_for(text)
    message = blocks.answer_message(result, text)
    assert_within_slack_limits(message)
    assert "table" in block_types(message)
    example = json.loads((BLOCKKIT_DIR / f"{name}.json").read_text())
    assert set(example) == {"blocks"}, "Block Kit Builder's format"
    assert example["blocks"][0] == message["blocks"][0], f"regenerate with `python {Path(__file__).relative_to(ROOT)}`"
    assert_within_slack_limits({"text": "example", "blocks": example["blocks"]})


def write_blockkit_examples() -> None:
    from bot.engine.answer import answer

    BLOCKKIT_DIR.mkdir(parents=True, exist_ok=True)
    for name, text in BLOCKKIT_EXAMPLES.items():
        message = blocks.answer_message(answer(text), text)
        (BLOCKKIT_DIR / f"{name}.json").write_text(
            json.dumps({"blocks": message["blocks"]}, ensure_ascii=False, indent=2) + "\n"
        )
        print(f"wrote docs/blockkit/{name}.json")


if __name__ == "__main__":
    write_blockkit_examples()
