"""A Result as Slack Block Kit: pure functions returning plain dicts (no Slack imports).

Slack rejects a whole message that breaks one of its limits, so every builder here stays inside
them: 50 blocks a message (100 in a Home tab), 3,000 characters a section or context element,
150 in a header, one table block of at most 100 rows x 20 columns of non-empty cells (about
10,000 characters in all), 2,000 characters in a button value. What does not fit is shortened
with a note saying so, never dropped silently.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from bot.engine.result import Result
from bot.errors import UserError
from bot.render.text import MISSING, display_columns, display_rows, text_table

MAX_BLOCKS = 50
MAX_HOME_BLOCKS = 100
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_BUTTON_VALUE = 2000
MAX_FALLBACK_TEXT = 3000  # the notification / screen-reader text of a block message
MAX_PLAIN_TEXT = 39000  # a text-only message (Slack truncates at 40,000)
TABLE_MAX_ROWS = 100  # including the header row
TABLE_MAX_COLUMNS = 20
TABLE_MAX_CHARS = 10000
MAX_NOTE_BLOCKS = 2

SHARE_ACTION = "collab_share"
CSV_ACTION = "collab_csv"
SQL_ACTION = "collab_sql"

_NUMBER = re.compile(r"^[-+−]?[\d,]*\.?\d+%?$")


# ---------------------------------------------------------------- small pieces


def escape(text: str) -> str:
    """Text safe inside mrkdwn: Slack reads `&`, `<` and `>` as markup."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def header(text: str) -> dict[str, Any]:
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": cut(text.strip() or "collab", MAX_HEADER), "emoji": True},
    }


def section(mrkdwn: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": cut(mrkdwn, MAX_SECTION)}}


def context(*mrkdwn: str) -> dict[str, Any]:
    elements = [{"type": "mrkdwn", "text": cut(text, MAX_SECTION)} for text in mrkdwn if text]
    return {"type": "context", "elements": elements[:MAX_CONTEXT_ELEMENTS]}


def chunks(text: str, limit: int) -> list[str]:
    """Split text into pieces of at most `limit` characters, at line ends where possible."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:  # a single overlong line: hard split
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current or not pieces:
        pieces.append(current)
    return pieces


def sections(mrkdwn: str) -> list[dict[str, Any]]:
    return [section(piece) for piece in chunks(mrkdwn, MAX_SECTION) if piece.strip()]


def preformatted(text: str) -> list[dict[str, Any]]:
    """Text in ``` fences, split across sections that each stay within 3,000 characters."""
    fence = 8  # "```\n" + "\n```"
    return [section(f"```\n{piece}\n```") for piece in chunks(escape(text), MAX_SECTION - fence)]


def notes_blocks(lines: Iterable[str], max_blocks: int = MAX_NOTE_BLOCKS) -> list[dict[str, Any]]:
    """Notes as context blocks: one line each, grouped into elements of at most 3,000 characters."""
    elements = chunks("\n".join(escape(line) for line in lines if line), MAX_SECTION)
    elements = [e for e in elements if e.strip()]
    room = max_blocks * MAX_CONTEXT_ELEMENTS
    if len(elements) > room:
        left_out = len(elements) - room + 1
        elements = elements[: room - 1] + [
            f"… {left_out} more part(s) of the notes left out to stay within Slack's limits."
        ]
    return [context(*elements[i : i + MAX_CONTEXT_ELEMENTS]) for i in range(0, len(elements), MAX_CONTEXT_ELEMENTS)]


def button_value(command_text: str) -> str | None:
    """The command text a button carries to recompute the answer, or None when Slack can't hold it.

    Kept as typed: in `sql`, a line break ends a `--` comment and spaces inside strings matter.
    """
    value = command_text.strip()
    return value if 0 < len(value) <= MAX_BUTTON_VALUE else None


def slack_date(epoch_seconds: float, fallback: str) -> str:
    """A date every reader sees in their own time zone."""
    return f"<!date^{int(epoch_seconds)}^{{date_short_pretty}} at {{time}}|{escape(fallback)}>"


def fit(head: list[dict], body: list[dict], tail: list[dict], limit: int = MAX_BLOCKS) -> list[dict]:
    """head + body + tail within `limit` blocks, shortening the body with a note when needed."""
    room = limit - len(head) - len(tail)
    if len(body) <= room:
        return head + body + tail
    kept = body[: max(room - 1, 0)]
    note = context(
        f"… {len(body) - len(kept)} more block(s) left out to stay within Slack's {limit}-block limit; "
        "the CSV button gives every row."
    )
    return head + kept + [note] + tail


# ---------------------------------------------------------------- the table


def table_cells(result: Result) -> tuple[list[str], list[list[str]]]:
    """Column headings and formatted rows, as people read them (no *_code columns)."""
    columns = display_columns(result)
    return [c.replace("_", " ") for c in columns], display_rows(result)


def table_block(result: Result) -> dict[str, Any] | None:
    """Slack's table block for the result, or None when the table block cannot hold it."""
    headings, rows = table_cells(result)
    if not headings or not rows:
        return None
    if len(rows) + 1 > TABLE_MAX_ROWS or len(headings) > TABLE_MAX_COLUMNS:
        return None
    grid = [headings] + [[cell if cell.strip() else MISSING for cell in row] for row in rows]
    if sum(len(cell) for row in grid for cell in row) > TABLE_MAX_CHARS:
        return None
    numeric = [all(_NUMBER.match(row[i]) or row[i] == MISSING for row in grid[1:]) for i in range(len(headings))]
    return {
        "type": "table",
        "column_settings": [{"align": "right"} if is_number else {"is_wrapped": True} for is_number in numeric],
        "rows": [[{"type": "raw_text", "text": cell} for cell in row] for row in grid],
    }


def table_blocks(result: Result) -> list[dict[str, Any]]:
    """The table block, or the same table preformatted when the table block cannot hold it."""
    block = table_block(result)
    if block is not None:
        return [block]
    if result.frame is None or len(result.frame.columns) == 0:
        return []
    return preformatted(text_table(result))


# ---------------------------------------------------------------- messages


def answer_message(
    result: Result,
    command_text: str,
    *,
    shareable: bool = True,
    attribution: str = "",
    chart_note: str = "",
    warning: str = "",
) -> dict[str, Any]:
    """The answer as a Block Kit message: {"text": fallback, "blocks": [...]}.

    shareable: offer "Share to channel" (the answer is ephemeral). attribution: who asked or shared,
    shown on messages in a channel. chart_note: where the chart went or why it couldn't.
    warning: something the person must act on (e.g. invite the bot).
    """
    head = [header(result.title)]
    body = sections(escape(result.summary))
    if warning:
        body.append(section(f":warning: {warning}"))
    body += table_blocks(result)
    if result.details:
        body += sections("\n".join(escape(d) for d in result.details))
    tail: list[dict[str, Any]] = []
    if result.truncated:
        tail.append(
            context(f"Showing the first {len(result.frame):,} rows; the CSV button gives the same rows as a file.")
        )
    tail += notes_blocks(_note_lines(result))
    if chart_note:
        tail.append(context(chart_note))
    if attribution:
        tail.append(context(attribution))
    actions = _buttons(result, command_text, shareable=shareable)
    if actions:
        tail.append(actions)
    return {"text": fallback_text(result), "blocks": fit(head, body, tail)}


def fallback_text(result: Result) -> str:
    return cut(f"{result.title}: {result.summary}", MAX_FALLBACK_TEXT)


def plain_message(result: Result, *, attribution: str = "", chart_note: str = "", warning: str = "") -> dict[str, Any]:
    """The answer as text only, for when Slack refuses the blocks (invalid_blocks)."""
    parts = [f"*{escape(result.title)}*", escape(result.summary)]
    if warning:
        parts.append(f":warning: {warning}")
    if len(result.columns):
        parts.append(f"```\n{escape(text_table(result))}\n```")
    parts += [escape(d) for d in result.details]
    parts += [f"• {escape(n)}" for n in _note_lines(result)]
    parts += [p for p in (chart_note, attribution) if p]
    text = "\n".join(parts)
    if len(text) > MAX_PLAIN_TEXT:
        text = text[: MAX_PLAIN_TEXT - 80]
        fence = "\n```" if text.count("```") % 2 else ""  # close a table cut in the middle
        text += f"{fence}\n… shortened to fit Slack's message size; the CSV button gives every row."
    return {"text": text}


def error_message(error: UserError) -> dict[str, Any]:
    """A friendly reply for input that can't be answered, with what would work."""
    lines = [f":thinking_face: {escape(error.message)}"]
    missing = [s for s in error.suggestions if s.lower() not in error.message.lower()]
    if missing:
        lines.append("Perhaps: " + ", ".join(f"`{escape(s)}`" for s in missing[:5]))
    text = "\n".join(lines)
    blocks = sections(text) + [context("`/collab help` shows every command, with examples.")]
    return {"text": cut(text, MAX_FALLBACK_TEXT), "blocks": blocks}


def working_message(command_text: str) -> dict[str, Any]:
    return {"text": f":hourglass_flowing_sand: Working on `{escape(cut(' '.join(command_text.split()), 200))}`…"}


def failure_message() -> dict[str, Any]:
    return {
        "text": ":warning: Something went wrong on my side while answering. Please try again in a minute; "
        "if it keeps failing, tell the person who runs collab."
    }


def sql_message(result: Result, command_text: str) -> dict[str, Any]:
    """The exact validated SQL behind an answer and the values bound to its parameters."""
    title = f"SQL behind `{escape(cut(command_text, 200))}`"
    if not result.sql:
        text = f"{title}: this answer runs no SQL (it comes from the command reference)."
        return {"text": text, "blocks": [section(text)]}
    params = json.dumps(result.params, ensure_ascii=False, indent=2, default=str)
    body = preformatted(result.sql) + [section("*Parameters* (bound by DuckDB, never pasted into the SQL)")]
    body += preformatted(params)
    tail = []
    if result.data_version:
        tail.append(context(f"Data version `{escape(result.data_version)}`. `about` lists the published tables."))
    return {
        "text": cut(f"SQL behind {command_text}: {result.sql}", MAX_FALLBACK_TEXT),
        "blocks": fit([section(f"*{title}*")], body, tail),
    }


def _note_lines(result: Result) -> list[str]:
    notes = list(result.notes)
    if result.data_version:
        notes.append(f"Data version {result.data_version}.")
    return notes


def _buttons(result: Result, command_text: str, *, shareable: bool) -> dict[str, Any] | None:
    value = button_value(command_text)
    if value is None:
        return None
    buttons = []
    if shareable:
        buttons.append(_button("Share to channel", SHARE_ACTION, value, style="primary"))
    if len(result.columns) and len(result.frame):
        buttons.append(_button("CSV", CSV_ACTION, value))
    if result.sql:
        buttons.append(_button("Show SQL", SQL_ACTION, value))
    return {"type": "actions", "block_id": "collab_actions", "elements": buttons} if buttons else None


def _button(label: str, action_id: str, value: str, style: str = "") -> dict[str, Any]:
    button = {"type": "button", "text": {"type": "plain_text", "text": label}, "action_id": action_id, "value": value}
    if style:
        button["style"] = style
    return button


# ---------------------------------------------------------------- App Home


def home_view(
    verbs: Mapping[str, tuple[str, str, str]],
    about: Result | None,
    about_problem: str = "",
    digest_lines: list[str] | None = None,
) -> dict[str, Any]:
    """The App Home tab: how to ask, the data releases loaded, and (when digests exist) the digests."""
    head = [
        header("collab: cross-border AI research, one command away"),
        section(
            "Ask with `/collab <command>` in any channel. Answers are private to you until you press "
            "*Share to channel*; add `public` to post one straight into the channel."
        ),
    ]
    asking = "\n".join(
        f"• `/collab {escape(usage)}`: {escape(what)}. Try `/collab {escape(example)}`"
        for usage, what, example in verbs.values()
    )
    body = [header("How to ask")] + sections(asking)
    body.append(header("Data loaded"))
    if about is not None:
        releases = [
            f"• *{escape(row.get('title', ''))}*: {escape(row.get('release', ''))}, years "
            f"{row.get('first_year', '?')}–{row.get('last_year', '?')}"
            + (
                f" (incomplete: {escape(_years(row.get('incomplete_years')))})"
                if _years(row.get("incomplete_years"))
                else ""
            )
            for row in about.frame.to_dict("records")
        ]
        body += sections("\n".join(releases) or escape(about.summary))
        body += notes_blocks(about.notes, max_blocks=1)
    else:
        body.append(section(f":warning: {escape(about_problem or 'The data is not available right now.')}"))
    if digest_lines is not None:
        body.append(header("Channel digests"))
        body += sections("\n".join(digest_lines) if digest_lines else "No channel subscribes to a digest yet.")
    return {"type": "home", "blocks": fit(head, body, [], limit=MAX_HOME_BLOCKS)}


def _years(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)
