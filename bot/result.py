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


@dataclass
class Result:
    command: str  # the verb, e.g. "partners"
    title: str
    summary: str  # one sentence in plain words
    frame: "pd.DataFrame"
    notes: list[str] = field(default_factory=list)
    sql: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    data_version: str = ""
    incomplete_years: list[int] = field(default_factory=list)
    truncated: bool = False
    chart: ChartSpec | None = None
    source_line: str = ""  # short attribution printed under a chart
    details: list[str] = field(default_factory=list)  # extra paragraphs (help, the table catalogue)

    @property
    def columns(self) -> list[str]:
        return [str(c) for c in self.frame.columns]

    def rows(self) -> list[list[Any]]:
        """Rows as plain Python values (None for missing), ready for JSON."""
        import math

        out = []
        for record in self.frame.itertuples(index=False, name=None):
            row = []
            for value in record:
                if hasattr(value, "item"):
                    value = value.item()
                if isinstance(value, float) and math.isnan(value):
                    value = None
                elif value is not None and type(value).__name__ in ("NAType", "NaTType"):
                    value = None
                row.append(value)
            out.append(row)
        return out
