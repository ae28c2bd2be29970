"""A Result as Slack Block Kit: pure functions returning plain dicts (no Slack imports).

Slack rejects a whole message that breaks one of its limits, so every builder here stays inside
them: 50 blocks a message (100 in a Home tab), 3,000 characters a section or context element,
150 in a header, one table block of at most 100 rows x 20 columns of non-empty cells, 2,000
characters in a button value, and about 12,000 characters of text across all of a message's
blocks (chat.postMessage refuses more with `msg_blocks_too_long`; undocumented, see
slackapi/bolt-js#2509). A long result keeps one table with the first rows that fit and says
"first N of M rows"; the CSV has them all. Cells too long for a table are cut with "…".

Text that comes from data or from people goes through `escape` (bot/render/mrkdwn.py) before it
lands in a mrkdwn field or a fallback `text`; plain_text fields are left as written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from bot.engine.result import Result
from bot.engine.validate import readable
from bot.errors import UserError
from bot.render.mrkdwn import escape
from bot.render.text import MISSING, display_columns, display_rows, heading, text_table

MAX_BLOCKS = 50
MAX_HOME_BLOCKS = 100
MAX_SECTION = 3000
MAX_HEADER = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_BUTTON_VALUE = 2000
MAX_FALLBACK_TEXT = 3000  # the notification / screen-reader text of a block message
MAX_PLAIN_TEXT = 39000  # a text-only message (Slack truncates at 40,000)
MAX_MESSAGE_TEXT = 12000  # text across all blocks of one message (msg_blocks_too_long above)
MAX_ALT_TEXT = 2000  # an image block's alt_text and title
TABLE_MAX_ROWS = 100  # including the header row
TABLE_MAX_COLUMNS = 20
TABLE_MAX_CHARS = 10000
MAX_CELL = 200  # a longer cell is cut with "…" so one long value can't crowd out the other rows
MAX_NOTE_BLOCKS = 2
MAX_NOTES_TEXT = 4000  # an answer's notes (sources, caveats): room enough, and the table keeps the rest

SHARE_ACTION = "collab_share"
CSV_ACTION = "collab_csv"
SQL_ACTION = "collab_sql"
CHOICE_ACTION = "collab_choice"  # prefix: one button per command offered for an ambiguous question
MAX_CHOICES = 3

_NUMBER = re.compile(r"^[-+−]?[\d,]*\.?\d+%?$")

__all__ = ["escape"]  # re-exported: callers of the Block Kit helpers escape with the same function


# ---------------------------------------------------------------- small pieces


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


MAX_FILE_COMMENT = 3000  # a file's message: Slack shows it like a section


def csv_comment(result: Result, heading: str) -> str:
    """The message a CSV file travels with: a heading, then the answer's notes (its caveats), in mrkdwn.

    The CSV itself stays plain data, so the source, years and floor have to ride along here.
    """
    lines = [heading] + [f"• {escape(note)}" for note in result.notes]
    return cut("\n".join(lines), MAX_FILE_COMMENT)


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
    """Text (SQL, JSON) in ``` fences, split across sections that each stay within 3,000 characters."""
    fence = 8  # "```\n" + "\n```"
    return [section(f"```\n{piece}\n```") for piece in chunks(escape(text), MAX_SECTION - fence)]


def notes_blocks(
    lines: Iterable[str], max_blocks: int = MAX_NOTE_BLOCKS, max_text: int = MAX_NOTES_TEXT
) -> list[dict[str, Any]]:
    """Notes as context blocks: one line each, in elements of at most 3,000 characters, `max_text` in all."""
    elements = chunks("\n".join(escape(line) for line in lines if line), MAX_SECTION)
    elements = [e for e in elements if e.strip()]
    room, used = max_blocks * MAX_CONTEXT_ELEMENTS, 0
    kept: list[str] = []
    for element in elements:
        if len(kept) == room - 1 or used + len(element) > max_text:
            break
        kept.append(element)
        used += len(element)
    if len(kept) < len(elements):
        if not kept:  # one huge note: its beginning, cut visibly
            kept = [cut(elements[0], max_text - 100)]
        kept.append(f"… {len(elements) - len(kept)} more part(s) of the notes left out to stay within Slack's limits.")
    return [context(*kept[i : i + MAX_CONTEXT_ELEMENTS]) for i in range(0, len(kept), MAX_CONTEXT_ELEMENTS)]


def button_value(command_text: str) -> str | None:
    """The command text a button carries to recompute the answer, or None when Slack can't hold it.

    Kept as typed: in `sql`, a line break ends a `--` comment and spaces inside strings matter.
    """
    value = command_text.strip()
    return value if 0 < len(value) <= MAX_BUTTON_VALUE else None


def slack_date(epoch_seconds: float, fallback: str) -> str:
    """A date every reader sees in their own time zone."""
    return f"<!date^{int(epoch_seconds)}^{{date_short_pretty}} at {{time}}|{escape(fallback)}>"


def text_length(blocks: Any) -> int:
    """Characters of text in blocks, counted the way Slack's ~12,000 limit counts: every `text` string."""
    if isinstance(blocks, list):
        return sum(text_length(item) for item in blocks)
    if isinstance(blocks, dict):
        return sum(len(v) if k == "text" and isinstance(v, str) else text_length(v) for k, v in blocks.items())
    return 0


def fit(
    head: list[dict],
    body: list[dict],
    tail: list[dict],
    limit: int = MAX_BLOCKS,
    max_text: int = MAX_MESSAGE_TEXT,
) -> list[dict]:
    """head + body + tail within `limit` blocks and `max_text` characters, shortening the body with a note."""
    if len(head) + len(body) + len(tail) <= limit and text_length(head + body + tail) <= max_text:
        return head + body + tail
    note_room = 200
    room_blocks = limit - len(head) - len(tail) - 1
    room_text = max_text - text_length(head + tail) - note_room
    kept: list[dict] = []
    for block in body:
        if len(kept) >= room_blocks or text_length(kept + [block]) > room_text:
            break
        kept.append(block)
    note = context(f"… {len(body) - len(kept)} more block(s) left out to stay within Slack's message limits.")
    return head + kept + [note] + tail


# ---------------------------------------------------------------- the table


def table_cells(result: Result) -> tuple[list[str], list[list[str]]]:
    """Column headings and formatted rows, as people read them (no *_code columns)."""
    columns = display_columns(result)
    return [heading(c) for c in columns], display_rows(result)


def table_block(result: Result, max_text: int = TABLE_MAX_CHARS) -> tuple[dict[str, Any] | None, int]:
    """Slack's table block with the first rows of the result that fit, and how many rows it shows.

    At most 99 rows under the headings, 20 columns and `max_text` characters; cells longer than
    MAX_CELL are cut with "…" and empty ones show "–" (Slack refuses empty cells).
    """
    headings, rows = table_cells(result)
    if not headings or not rows:
        return None, 0
    width = min(len(headings), TABLE_MAX_COLUMNS)
    grid = [[cut(h, MAX_CELL) for h in headings[:width]]]
    used = sum(len(cell) for cell in grid[0])
    for row in rows[: TABLE_MAX_ROWS - 1]:
        cells = [cut(cell, MAX_CELL) if cell.strip() else MISSING for cell in row[:width]]
        if used + sum(len(cell) for cell in cells) > max_text:
            break
        grid.append(cells)
        used += sum(len(cell) for cell in cells)
    if len(grid) == 1:  # not even one row fits at full width: show the first row, cut harder
        share = max(max_text - used, width) // width
        grid.append([cut(cell, max(share, 2)) if cell.strip() else MISSING for cell in rows[0][:width]])
    numeric = [all(_NUMBER.match(row[i]) or row[i] == MISSING for row in grid[1:]) for i in range(width)]
    block = {
        "type": "table",
        "column_settings": [{"align": "right"} if is_number else {"is_wrapped": True} for is_number in numeric],
        "rows": [[{"type": "raw_text", "text": cell} for cell in row] for row in grid],
    }
    return block, len(grid) - 1


def rows_note(result: Result, shown: int) -> str:
    """What part of the result the table shows, and where the rest is ("" when it shows everything)."""
    total = len(result.frame)
    hidden_columns = len(display_columns(result)) - TABLE_MAX_COLUMNS
    parts = []
    if shown < total:
        parts.append(f"First {shown:,} of {total:,} rows.")
    if hidden_columns > 0:
        parts.append(f"First {TABLE_MAX_COLUMNS} of {TABLE_MAX_COLUMNS + hidden_columns} columns.")
    if result.truncated:
        parts.append(f"The query stopped at {total:,} rows.")
    if not parts:
        return ""
    return " ".join(parts) + " The *CSV* button gives every row and column as a file."


# ---------------------------------------------------------------- messages

TABLE_RESERVE = 1500  # text kept for the table when the rest of a message is long (help, the catalogue)


def answer_message(
    result: Result,
    command_text: str,
    *,
    shareable: bool = True,
    attribution: str = "",
    chart_note: str = "",
    warning: str = "",
) -> dict[str, Any]:
    """The answer as a Block Kit message: {"text": fallback, "blocks": [...]}, within every Slack limit.

    shareable: offer "Share to channel" (the answer is private). attribution: who asked or shared,
    on messages others see. chart_note: what will happen with the chart. warning: something the
    person must know (e.g. why the answer stayed private). All three are mrkdwn, escaped by the caller.
    A plain-English question's answer opens with how it was read (result.read_as), to learn or correct.
    """
    head = [context(escape(result.read_as)), header(result.title)] if result.read_as else [header(result.title)]
    body = [section(escape(result.summary))]  # one sentence; a runaway one is cut visibly at 3,000
    if warning:
        body.append(section(f":warning: {warning}"))
    details = sections("\n".join(escape(d) for d in result.details)) if result.details else []
    tail: list[dict[str, Any]] = notes_blocks(_note_lines(result))
    if chart_note:
        tail.append(context(chart_note))
    if attribution:
        tail.append(context(attribution))
    actions = _buttons(result, command_text, shareable=shareable)
    if actions:
        tail.append(actions)
    has_table = bool(display_columns(result)) and len(result.frame) > 0
    reserve = TABLE_RESERVE + 300 if has_table else 0  # the table and its "first N of M rows" line
    if details:
        room = MAX_MESSAGE_TEXT - text_length(head + body + tail) - reserve
        details = fit([], details, [], limit=MAX_BLOCKS - len(head) - len(body) - len(tail) - 3, max_text=room)
    if has_table:
        room = MAX_MESSAGE_TEXT - text_length(head + body + details + tail) - 300
        table, shown = table_block(result, max_text=min(TABLE_MAX_CHARS, room))
        body += [table] if table is not None else []
        note = rows_note(result, shown)
        if note:
            tail.insert(0, context(note))
    return {"text": fallback_text(result), "blocks": fit(head, body + details, tail)}


def fallback_text(result: Result) -> str:
    first = f"{result.read_as}\n" if result.read_as else ""
    return cut(escape(f"{first}{result.title}: {result.summary}"), MAX_FALLBACK_TEXT)


def plain_message(result: Result, *, attribution: str = "", chart_note: str = "", warning: str = "") -> dict[str, Any]:
    """The answer as text only, for when Slack refuses the blocks (invalid_blocks)."""
    parts = [escape(result.read_as)] if result.read_as else []
    parts += [f"*{escape(result.title)}*", escape(result.summary)]
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


def chart_message(result: Result, file_id: str, *, attribution: str = "") -> dict[str, Any]:
    """An answer's chart: an image block showing an uploaded file (shared nowhere) by its id."""
    image = {
        "type": "image",
        "slack_file": {"id": file_id},
        "alt_text": cut(chart_alt_text(result), MAX_ALT_TEXT),
        "title": {"type": "plain_text", "text": cut(result.title, MAX_ALT_TEXT), "emoji": True},
    }
    blocks = [image] + ([context(attribution)] if attribution else [])
    return {"text": cut(escape(f"Chart: {result.title}"), MAX_FALLBACK_TEXT), "blocks": blocks}


def chart_alt_text(result: Result) -> str:
    years = f" Incomplete years: {', '.join(map(str, result.incomplete_years))}." if result.incomplete_years else ""
    return f"Chart: {result.title}. {result.summary}{years}"


def notice(text: str) -> dict[str, Any]:
    """A one-line message from mrkdwn the caller has escaped (what happened, what to do)."""
    return {"text": cut(text, MAX_FALLBACK_TEXT), "blocks": [section(text)]}


def error_message(error: UserError) -> dict[str, Any]:
    """A friendly reply for input that can't be answered, with what would work."""
    lines = [f":thinking_face: {escape(error.message)}"]
    missing = [s for s in error.suggestions if s.lower() not in error.message.lower()]
    if missing:
        lines.append("Perhaps: " + ", ".join(f"`{escape(s)}`" for s in missing[:5]))
    text = "\n".join(lines)
    blocks = sections(text) + [context("`/collab help` shows every command, with examples.")]
    return {"text": cut(text, MAX_FALLBACK_TEXT), "blocks": blocks}


def choices_message(understood: str, choices: Iterable[str]) -> dict[str, Any]:
    """For a question read only in part: what was understood, and up to three commands to pick from.

    Each button carries its command; pressing one answers it (action ids must differ within a block).
    """
    offered = [c for c in (button_value(choice) for choice in choices) if c][:MAX_CHOICES]
    said = (
        f":thinking_face: {escape(understood)}" if understood else ":thinking_face: I couldn't read that as a question."
    )
    if offered:
        said += "\nDid you mean one of these?"
    blocks = sections(said)
    if offered:
        blocks.append(
            {
                "type": "actions",
                "block_id": "collab_choices",
                "elements": [
                    _button(cut(choice, 75), f"{CHOICE_ACTION}_{i}", choice) for i, choice in enumerate(offered)
                ],
            }
        )
    blocks.append(context("`help` lists every command, with examples."))
    text = said + "".join(f"\n• `{escape(choice)}`" for choice in offered)
    return {"text": cut(text, MAX_FALLBACK_TEXT), "blocks": blocks}


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
    body = preformatted(readable(result.sql)) + [section("*Parameters* (bound by DuckDB, never pasted into the SQL)")]
    body += preformatted(params)
    tail = []
    if result.data_version:
        tail.append(context(f"Data version `{escape(result.data_version)}`. `about` lists the published tables."))
    return {
        "text": cut(escape(f"SQL behind {command_text}: {result.sql}"), MAX_FALLBACK_TEXT),
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
            f"Ask with `{escape('/collab <command>')}` in any conversation. Answers are private to you until "
            "you press *Share to channel*; add `public` to post one straight into the conversation."
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
        # digest_lines are mrkdwn already (bot.digest escapes its own placeholders)
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
