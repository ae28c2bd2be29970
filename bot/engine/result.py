"""The answer every command produces, before it is rendered for a terminal, JSON, CSV, a chart or Slack."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas is imported lazily: `collab ask` must start fast
    import pandas as pd


@dataclass(frozen=True)
class ChartSpec:
    """What to draw: a ranking (bars) or a trend over years (lines, incomplete years drawn apart)."""

    kind: str  # "bar" or "line"
    x: str  # column for bar labels or for the year axis
    y: str  # value column
    series: str | None = None  # column naming each line in a trend
    x_label: str = ""
    y_label: str = ""
    complete_column: str | None = None  # bool column marking complete years, for line charts
    x2: str | None = None  # a second label column: bars read "x – x2" (a pair of countries)


@dataclass
class Result:
    command: str  # the verb, e.g. "partners"
    title: str
    summary: str  # one sentence in plain words
    frame: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    sql: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    data_version: str = ""
    incomplete_years: list[int] = field(default_factory=list)
    truncated: bool = False
    chart: ChartSpec | None = None
    source_line: str = ""  # short attribution printed under a chart
    details: list[str] = field(default_factory=list)  # extra paragraphs (help, the table catalogue)
    machine_columns: tuple[str, ...] = ()  # kept in JSON and CSV, left out of tables for people
    read_as: str = ""  # "Read as `partners Malaysia`" when the question was plain English

    def notes_text(self) -> str:
        """The notes as plain text, one per line: what travels beside a CSV (stderr, a file's message)."""
        return "\n".join(f"* {note}" for note in self.notes)

    def to_dict(self) -> dict[str, Any]:
        """The answer as plain values: what `ask --format json` prints."""
        return {
            "command": self.command,
            "title": self.title,
            "summary": self.summary,
            "columns": self.columns,
            "rows": self.rows(),
            "notes": list(self.notes),
            "sql": self.sql,
            "params": dict(self.params),
            "data_version": self.data_version,
            "incomplete_years": list(self.incomplete_years),
            "truncated": self.truncated,
        }

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.frame.columns]

    def rows(self) -> list[list[Any]]:
        """Rows as plain Python values (None for missing, lists for list columns), ready for JSON."""
        return [[_plain(value) for value in record] for record in self.frame.itertuples(index=False, name=None)]


def _plain(value: Any) -> Any:
    """A numpy/pandas scalar or array as the plain Python value JSON and CSV writers expect."""
    import math

    if hasattr(value, "tolist"):  # numpy arrays and scalars alike
        value = value.tolist()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    if type(value).__name__ in ("NAType", "NaTType"):
        return None
    return value
