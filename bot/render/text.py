"""A Result for people: formatted values, and a plain fixed-width table for terminals and Slack."""

from __future__ import annotations

import math
import re
import textwrap
from typing import Any

from bot.engine.result import Result

MISSING = "–"


def _is_missing(value: Any) -> bool:
    return (
        value is None
        or (isinstance(value, float) and math.isnan(value))
        or type(value).__name__ in ("NAType", "NaTType")
    )


def format_value(column: str, value: Any) -> str:
    """One cell as a person reads it: 12,345 · 7.9% · 5.79 · yes/no."""
    if hasattr(value, "tolist"):  # numpy scalars and arrays become plain values
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) if value else MISSING
    if _is_missing(value):
        return MISSING
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        if column == "complete":
            return "yes" if value else "no (incomplete)"
        return "yes" if value else "no"
    if isinstance(value, (int, float)) or hasattr(value, "item"):
        number = value.item() if hasattr(value, "item") else value
        if isinstance(number, bool):
            return "yes" if number else "no"
        if not math.isfinite(number):
            return str(number)  # a typed query's inf: no year or count to format
        if column == "year" or column.endswith("_year"):
            return str(int(number))
        if "share" in column or column == "cagr":
            return f"{number:.1%}"
        if column in ("affinity", "links_per_article") or (isinstance(number, float) and not number.is_integer()):
            return f"{number:,.2f}"
        return f"{int(number):,}"
    return str(value)


def display_columns(result: Result) -> list[str]:
    """Columns shown to people: codes (`*_code`) and machine columns stay in JSON and CSV only, unless
    they are all there is (a typed `SELECT code AS country_code`)."""
    shown = [c for c in result.columns if not c.endswith("_code") and c not in result.machine_columns]
    return shown or result.columns


MAX_TEXT_CELL = 500  # a longer cell is cut with "…" (CSV and JSON keep it whole): wrapping is slow on big text


def display_rows(result: Result) -> list[list[str]]:
    columns = display_columns(result)
    return [
        [format_value(c, value) for c, value in zip(columns, row, strict=True)]
        for row in result.frame[columns].itertuples(index=False, name=None)
    ]


def heading(column: str) -> str:
    """A column's name as people read it: `joint_articles` → "joint articles"; a name that isn't a plain
    identifier (typed SQL's `count_star()`, `sum(x)`) is shown as DuckDB gave it."""
    return column.replace("_", " ") if re.fullmatch(r"[a-z][a-z0-9_]*", column) else column


def text_table(result: Result, max_width: int = 48) -> str:
    """A fixed-width table; a single wide row is shown as label: value lines instead.

    Cells longer than max_width wrap onto more lines at word boundaries, so no word is cut off.
    """
    columns = display_columns(result)
    rows = display_rows(result)
    if not rows:
        return "(no rows)"
    if len(rows) == 1 and len(columns) > 4:
        width = max(len(heading(c)) for c in columns)
        return "\n".join(f"{heading(c):<{width}}  {v}" for c, v in zip(columns, rows[0], strict=True))
    cells = [[heading(c) for c in columns]] + rows
    numeric = [all(_looks_numeric(r[i]) for r in cells[1:]) for i in range(len(columns))]
    cut = [[v if len(v) <= MAX_TEXT_CELL else v[: MAX_TEXT_CELL - 1] + "…" for v in row] for row in cells]
    wrapped = [[textwrap.wrap(v, max_width) or [""] for v in row] for row in cut]
    widths = [max(len(line) for r in wrapped for line in r[i]) for i in range(len(columns))]
    lines = []
    for n, row in enumerate(wrapped):
        for k in range(max(len(cell) for cell in row)):
            parts = [cell[k] if k < len(cell) else "" for cell in row]
            lines.append(
                "  ".join(
                    v.rjust(w) if numeric[i] else v.ljust(w) for i, (v, w) in enumerate(zip(parts, widths, strict=True))
                ).rstrip()
            )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _looks_numeric(text: str) -> bool:
    return text == MISSING or text.replace(",", "").replace(".", "").replace("%", "").replace("-", "").isdigit()


def render_text(result: Result) -> str:
    """The whole answer for a terminal: title, summary, table, details, notes."""
    parts = [result.title, "=" * min(len(result.title), 80), result.summary, "", text_table(result)]
    if result.read_as:
        parts = [result.read_as, ""] + parts
    if result.truncated:
        parts.append(f"(truncated: first {len(result.frame):,} rows shown)")
    if result.details:
        parts += [""] + result.details
    if result.notes:
        parts += [""] + [f"* {note}" for note in result.notes]
    return "\n".join(parts) + "\n"
