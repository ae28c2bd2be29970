"""Charts drawn from the real ETO cross-border data, checked as PNG files."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bot.engine.result import ChartSpec, Result
from bot.render.charts import render_png, write_png

ROOT = Path(__file__).parents[1]
AI_CSV = ROOT / "data" / "eto" / "cross-border" / "Artificial intelligence.csv"
SOURCE = "Source: Georgetown CSET Emerging Technology Observatory, cross-border research collaboration data"
INCOMPLETE = [2024, 2025]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def pairs() -> pd.DataFrame:
    # Each pair appears in both directions, so filtering on country1 counts each article once.
    return pd.read_csv(AI_CSV)


def partners_result(pairs: pd.DataFrame, country: str = "Malaysia") -> Result:
    rows = pairs[pairs["country1"] == country]
    frame = (
        rows.groupby("country2", as_index=False)["num_articles"]
        .sum()
        .rename(columns={"country2": "partner", "num_articles": "joint_articles"})
        .sort_values("joint_articles", ascending=False, ignore_index=True)
    )
    frame["partner_share"] = frame["joint_articles"] / frame["joint_articles"].sum()
    return Result(
        command="partners",
        title=f"{country}'s AI research partners, joint articles 2015–2025",
        summary="",
        frame=frame,
        incomplete_years=INCOMPLETE,
        source_line=SOURCE,
        chart=ChartSpec("bar", x="partner", y="joint_articles", x_label="Partner country", y_label="Joint articles"),
    )


def pair_trend_result(pairs: pd.DataFrame) -> Result:
    rows = pairs[(pairs["country1"] == "China") & (pairs["country2"] == "United States")]
    frame = (
        rows[["year", "num_articles", "complete"]]
        .rename(columns={"num_articles": "joint_articles"})
        .sort_values("year", ignore_index=True)
    )
    return Result(
        command="trend",
        title="China–United States joint AI articles per year",
        summary="",
        frame=frame,
        incomplete_years=INCOMPLETE,
        source_line=SOURCE,
        chart=ChartSpec(
            "line", x="year", y="joint_articles", x_label="Year", y_label="Joint articles", complete_column="complete"
        ),
    )


def multi_trend_result(pairs: pd.DataFrame) -> Result:
    countries = ["United Kingdom", "Germany", "China", "India", "Japan"]
    rows = pairs[(pairs["country1"] == "United States") & pairs["country2"].isin(countries)]
    frame = (
        rows[["year", "country2", "num_articles", "complete"]]
        .rename(columns={"country2": "country", "num_articles": "joint_articles"})
        .sort_values(["country", "year"], ignore_index=True)
    )
    return Result(
        command="trend",
        title="United States: joint AI articles per year with its main partners in Europe and Asia",
        summary="",
        frame=frame,
        incomplete_years=INCOMPLETE,
        source_line=SOURCE,
        chart=ChartSpec(
            "line",
            x="year",
            y="joint_articles",
            series="country",
            x_label="Year",
            y_label="Joint articles",
            complete_column="complete",
        ),
    )


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which always follows the signature."""
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def distinct_colours(data: bytes) -> int:
    """Distinct RGBA colours: each pixel's four bytes read as one uint32, so numpy sorts integers
    (np.unique over float rows with axis=0 took about 10 s an image; this takes 0.1 s)."""
    from PIL import Image  # matplotlib's own PNG dependency

    rgba = np.ascontiguousarray(Image.open(io.BytesIO(data)).convert("RGBA"))
    return len(np.unique(rgba.reshape(-1, 4).view(np.uint32)))


def assert_chart(data: bytes) -> None:
    width, height = png_size(data)
    assert width >= 1200
    assert height >= 600
    assert distinct_colours(data) > 50  # text antialiasing, bars and lines: not a blank canvas


def test_bar_chart(pairs):
    result = partners_result(pairs)
    assert len(result.frame) > 25  # exercises the "first 25 of N" cut
    assert_chart(render_png(result))


def test_share_bar_chart(pairs):
    result = partners_result(pairs)
    result.chart = ChartSpec("bar", x="partner", y="partner_share", y_label="Share of joint articles")
    assert_chart(render_png(result))


def test_line_chart(pairs):
    result = pair_trend_result(pairs)
    assert result.frame["complete"].tolist().count(False) == 2
    assert_chart(render_png(result))


def test_multi_series_line_chart(pairs):
    result = multi_trend_result(pairs)
    assert result.frame["country"].nunique() == 5
    assert_chart(render_png(result))


def test_write_png(pairs, tmp_path):
    path = tmp_path / "chart.png"
    write_png(pair_trend_result(pairs), path)
    assert path.read_bytes().startswith(PNG_SIGNATURE)


@pytest.mark.parametrize("build", [partners_result, pair_trend_result, multi_trend_result])
def test_empty_frame_gives_png(pairs, build):
    result = build(pairs)
    result.frame = result.frame.iloc[0:0]
    width, _ = png_size(render_png(result))
    assert width >= 1200


def test_nan_values_do_not_crash(pairs):
    bars = partners_result(pairs)
    bars.frame["joint_articles"] = bars.frame["joint_articles"].astype(float)
    bars.frame.loc[[1, 3], "joint_articles"] = np.nan
    bars.frame["partner"] = bars.frame["partner"].astype(object)
    bars.frame.loc[2, "partner"] = None
    assert_chart(render_png(bars))

    line = multi_trend_result(pairs)
    line.frame["joint_articles"] = line.frame["joint_articles"].astype(float)
    line.frame.loc[[0, 7, 20], "joint_articles"] = np.nan
    line.frame["complete"] = line.frame["complete"].astype(object)
    line.frame.loc[5, "complete"] = None
    assert_chart(render_png(line))

    all_nan = pair_trend_result(pairs)
    all_nan.frame["joint_articles"] = np.nan
    png_size(render_png(all_nan))  # "No data to chart", not an exception


def test_no_chart_raises(pairs):
    result = pair_trend_result(pairs)
    result.chart = None
    with pytest.raises(ValueError):
        render_png(result)


@pytest.mark.slow
def test_renders_in_four_threads(pairs):
    builders = [partners_result, pair_trend_result, multi_trend_result, partners_result] * 2
    results = [build(pairs) for build in builders]
    with ThreadPoolExecutor(max_workers=4) as pool:
        images = list(pool.map(render_png, results))
    for image in images:
        assert_chart(image)
    # Same input, same picture: threads did not draw into each other's figures.
    assert images[0] == images[3]


@pytest.mark.slow
def test_importing_charts_does_not_import_matplotlib():
    code = "import sys, bot.render.charts; sys.exit('matplotlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0
