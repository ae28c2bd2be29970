"""Render a Result's ChartSpec as a PNG sized for Slack.

matplotlib is imported inside the functions so that commands without a chart
start fast. Figures are built with the object-oriented API (Figure +
FigureCanvasAgg, no pyplot): no global state, so several threads can render at once.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.engine.result import ChartSpec, Result

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# 1280 px wide at 100 dpi; Slack shrinks previews to ~360 px, hence the large type.
WIDTH_IN, HEIGHT_IN, DPI = 12.8, 7.2, 100
TITLE_PT, LABEL_PT, TICK_PT, VALUE_PT, CAPTION_PT = 22, 16, 14, 13, 12
MAX_BARS, MAX_SERIES = 25, 8
BAR_COLOUR = "#1f77b4"  # tab10 blue
BAND_GREY = "0.9"
CAPTION_GREY = "0.3"


def render_png(result: Result) -> bytes:
    """Draw result.chart and return the PNG bytes."""
    spec = result.chart
    if spec is None:
        raise ValueError(f"{result.command or 'this'} result has no chart")
    if spec.kind not in ("bar", "line"):
        raise ValueError(f"unknown chart kind {spec.kind!r}")

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    frame = result.frame
    has_data = len(frame) > 0 and _numbers(frame[spec.y]).notna().any()
    if has_data and spec.kind == "line":
        has_data = _numbers(frame[spec.x]).notna().any()
    caption: list[str] = []
    height = HEIGHT_IN
    if has_data and spec.kind == "bar":
        # Grow taller with the number of bars so 25 labels never collide.
        height = max(HEIGHT_IN, 2.8 + 0.38 * min(len(frame), MAX_BARS))

    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
    FigureCanvasAgg(fig)
    fig.suptitle(_wrap(result.title, 70), x=0.01, ha="left", fontsize=TITLE_PT, fontweight="bold")

    if not has_data:
        fig.text(0.5, 0.5, "No data to chart", ha="center", va="center", fontsize=LABEL_PT + 4, color=CAPTION_GREY)
    else:
        ax = fig.add_subplot()
        if spec.kind == "bar":
            caption += _draw_bars(ax, result, spec)
        else:
            caption += _draw_lines(ax, result, spec)
        ax.tick_params(labelsize=TICK_PT)
        ax.spines[["top", "right"]].set_visible(False)

    if result.incomplete_years:
        caption.append(f"{_year_ranges(result.incomplete_years)} incomplete (publication lag)")
    if result.source_line:
        caption.append(result.source_line)
    caption_in = _add_caption(fig, caption, height)
    title_lines = _wrap(result.title, 70).count("\n") + 1
    if has_data:
        _fit_margins(fig, ax, height, title_lines, caption_in)

    buf = io.BytesIO()
    fig.savefig(
        buf, format="png", dpi=DPI, pil_kwargs={"compress_level": 3}
    )  # 6 costs 2x the time for ~10% smaller files
    return buf.getvalue()


def write_png(result: Result, path: str | Path) -> None:
    """Draw result.chart into the PNG file at path."""
    Path(path).write_bytes(render_png(result))


def _draw_bars(ax: Axes, result: Result, spec: ChartSpec) -> list[str]:
    """Horizontal ranking, first row on top, value printed at each bar end."""
    frame = result.frame.head(MAX_BARS)
    values = _numbers(frame[spec.y])
    if spec.x2:  # a pair of countries: "A – B"
        labels = [_short(f"{a} – {b}", 40) for a, b in zip(frame[spec.x], frame[spec.x2], strict=True)]
    else:
        labels = [_short("n/a" if _missing(v) else str(v), 32) for v in frame[spec.x]]
    fmt = _value_format(spec.y)

    positions = range(len(frame))
    ax.barh(positions, values.fillna(0), color=BAR_COLOUR, height=0.7)
    ax.set_yticks(positions, labels)
    ax.invert_yaxis()  # first row of the frame at the top
    for pos, value in zip(positions, values, strict=True):
        text = "n/a" if _missing(value) else fmt(value)
        ax.annotate(
            text,
            (0 if _missing(value) else value, pos),
            xytext=(5, 0),
            textcoords="offset points",
            ha="left",
            va="center",
            fontsize=VALUE_PT,
        )
    # Headroom on the right so the value labels stay inside the axes.
    low, high = min(0.0, values.min()), max(0.0, values.max())
    ax.set_xlim(low, high * 1.15 if high > 0 else 1)
    ax.xaxis.set_major_formatter(_axis_formatter(spec.y, values))
    ax.grid(axis="x", color="0.85")
    ax.set_axisbelow(True)
    ax.set_xlabel(spec.y_label, fontsize=LABEL_PT)
    ax.set_ylabel(spec.x_label, fontsize=LABEL_PT)

    total = len(result.frame)
    return [f"first {MAX_BARS} of {total:,} shown"] if total > MAX_BARS else []


def _draw_lines(ax: Axes, result: Result, spec: ChartSpec) -> list[str]:
    """Trend per series: complete years solid, incomplete years dashed and hollow on a grey band."""
    import matplotlib
    from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator

    frame = result.frame.copy()
    frame["_x"] = _numbers(frame[spec.x])
    frame["_y"] = _numbers(frame[spec.y])
    frame = frame.dropna(subset=["_x"]).sort_values("_x")
    incomplete = frame["_x"].isin(result.incomplete_years)
    if spec.complete_column and spec.complete_column in frame.columns:
        incomplete |= frame[spec.complete_column].eq(False)
    frame["_incomplete"] = incomplete

    notes: list[str] = []
    if spec.series and spec.series in frame.columns:
        frame["_series"] = frame[spec.series].map(lambda v: "n/a" if _missing(v) else str(v))
        names = list(dict.fromkeys(frame["_series"]))  # order of first appearance
        if len(names) > MAX_SERIES:
            notes.append(f"first {MAX_SERIES} of {len(names)} series shown")
            names = names[:MAX_SERIES]
            frame = frame[frame["_series"].isin(names)]  # axis limits from the lines drawn only
    else:
        frame["_series"], names = "", [""]

    colours = matplotlib.colormaps["tab10"].colors  # type: ignore[attr-defined]  # a ListedColormap: colour-blind-safe
    for colour, name in zip(colours, names, strict=False):  # at most 10 series
        rows = frame[frame["_series"] == name]
        x, y, inc = rows["_x"], rows["_y"], rows["_incomplete"]
        # The dashed line runs through every point; the solid line drawn on top hides it
        # wherever both ends are complete, leaving dashes only into incomplete years.
        ax.plot(x, y, color=colour, linewidth=2.5, linestyle=(0, (4, 3)))
        ax.plot(x, y.where(~inc), color=colour, linewidth=2.5, marker="o", markersize=7, label=name or None)
        ax.plot(
            x[inc],
            y[inc],
            linestyle="none",
            marker="o",
            markersize=7,
            markerfacecolor="white",
            markeredgecolor=colour,
            markeredgewidth=2,
        )

    years = frame["_x"]
    ax.set_xlim(years.min() - 0.5, years.max() + 0.5)
    inc_years = frame.loc[frame["_incomplete"], "_x"]
    if len(inc_years):
        ax.axvspan(inc_years.min() - 0.5, inc_years.max() + 0.5, color=BAND_GREY, zorder=0)
        ax.text(
            (inc_years.min() + inc_years.max()) / 2,
            0.98,
            "incomplete",
            transform=ax.get_xaxis_transform(),
            ha="center",
            va="top",
            fontsize=VALUE_PT,
            color=CAPTION_GREY,
        )
    # Headroom at the top for the band label; counts start at zero.
    top = frame["_y"].max()
    bottom = min(0.0, frame["_y"].min())
    ax.set_ylim(bottom, top * 1.15 if top > 0 else 1)

    span = int(years.max() - years.min())
    if span <= 15:  # label every year while they fit
        ax.xaxis.set_major_locator(FixedLocator(range(int(years.min()), int(years.max()) + 1)))
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: str(int(v))))
    ax.yaxis.set_major_formatter(_axis_formatter(spec.y, frame["_y"]))
    ax.grid(axis="y", color="0.85")
    ax.set_axisbelow(True)
    ax.set_xlabel(spec.x_label, fontsize=LABEL_PT)
    ax.set_ylabel(spec.y_label, fontsize=LABEL_PT)
    if names != [""]:
        # Legend in the order the lines end, top to bottom, so it reads like the chart.
        handles, labels = ax.get_legend_handles_labels()
        last = frame.dropna(subset=["_y"]).groupby("_series")["_y"].last()
        order = sorted(range(len(labels)), key=lambda i: -last.get(labels[i], -math.inf))
        ax.legend(
            [handles[i] for i in order],
            [labels[i] for i in order],
            fontsize=TICK_PT,
            frameon=False,
            loc="center left",
            bbox_to_anchor=(1.01, 0.5),
        )
    return notes


def _add_caption(fig: Figure, lines: list[str], height_in: float) -> float:
    """Left-aligned small print at the bottom; returns the height it takes, in inches."""
    text = "\n".join(_wrap(line, 150) for line in lines)
    if not text:
        return 0.0
    fig.text(
        0.01, 0.1 / height_in, text, ha="left", va="bottom", fontsize=CAPTION_PT, color=CAPTION_GREY, linespacing=1.35
    )
    return (text.count("\n") + 1) * CAPTION_PT * 1.35 / 72 + 0.15


def _text_inches(chars: int, points: float) -> float:
    """Approximate width of a line of text: about 0.6 em a character in the default sans-serif."""
    return chars * points * 0.6 / 72


def _fit_margins(fig: Figure, ax: Axes, height_in: float, title_lines: int, caption_in: float) -> None:
    """Margins measured from the labels' lengths: one drawing pass instead of a layout engine's two."""
    values = list(ax.get_yticks())
    ticks = [t.get_text() for t in ax.get_yticklabels()] or ax.yaxis.get_major_formatter().format_ticks(values)
    if not any(ticks):
        ticks = ax.yaxis.get_major_formatter().format_ticks(values)
    left = _text_inches(max((len(t) for t in ticks), default=4), TICK_PT) + 0.35
    if ax.get_ylabel():
        left += LABEL_PT * 1.5 / 72
    right = 0.35
    legend = ax.get_legend()
    if legend is not None:
        right += _text_inches(max(len(t.get_text()) for t in legend.get_texts()), TICK_PT) + 0.8
    top = title_lines * TITLE_PT * 1.35 / 72 + 0.3
    bottom = caption_in + TICK_PT * 1.6 / 72 + (LABEL_PT * 1.6 / 72 if ax.get_xlabel() else 0) + 0.25
    fig.subplots_adjust(
        left=left / WIDTH_IN, right=1 - right / WIDTH_IN, top=1 - top / height_in, bottom=bottom / height_in
    )


def _is_percent(column: str) -> bool:
    """Shares and growth rates are fractions drawn as percentages."""
    return "share" in column or column == "cagr"


def _value_format(column: str) -> Callable[[float], str]:
    """How to print one value of the column: shares as %, affinity with 2 decimals, else thousands separators."""
    name = column.lower()
    if _is_percent(name):
        return lambda v: f"{v:.1%}"
    if "affinity" in name:
        return lambda v: f"{v:.2f}"

    def number(v: float) -> str:
        if float(v).is_integer():
            return f"{v:,.0f}"
        return f"{v:,.1f}" if abs(v) >= 10 else f"{v:,.2f}"

    return number


def _axis_formatter(column: str, values: Any) -> Any:
    """Percent ticks for shares, thousands separators for large numbers, matplotlib's default otherwise."""
    from matplotlib.ticker import FuncFormatter, ScalarFormatter

    if _is_percent(column.lower()):
        return FuncFormatter(lambda v, _: f"{round(v * 100, 6):g}%")
    if values.abs().max() >= 1000:
        return FuncFormatter(lambda v, _: f"{v:,.0f}")
    return ScalarFormatter(useOffset=False)


def _numbers(column: Any) -> Any:
    """The column as floats (pandas Series), anything unreadable as NaN."""
    import pandas as pd

    return pd.to_numeric(column, errors="coerce").astype(float)


def _missing(value: object) -> bool:
    import pandas as pd

    return value is None or bool(pd.isna(value))


def _year_ranges(years: list[int]) -> str:
    """[2019, 2024, 2025] -> '2019, 2024–2025'."""
    out: list[str] = []
    for year in sorted(set(int(y) for y in years)):
        if out and out[-1].split("–")[-1] == str(year - 1):
            out[-1] = f"{out[-1].split('–')[0]}–{year}"
        else:
            out.append(str(year))
    return ", ".join(out)


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width)) if text else ""


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
