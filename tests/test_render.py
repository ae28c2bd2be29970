"""Renderers: the text table people read, and JSON/CSV that round-trip."""

from __future__ import annotations

import csv
import io
import json
import math
import time

import numpy as np
import pandas as pd
import pytest

from bot.engine.answer import answer
from bot.engine.result import Result
from bot.render.data import to_csv, to_json
from bot.render.text import MAX_TEXT_CELL, MISSING, display_columns, format_value, render_text, text_table

JSON_KEYS = [
    "command",
    "title",
    "summary",
    "columns",
    "rows",
    "notes",
    "sql",
    "params",
    "data_version",
    "incomplete_years",
    "truncated",
]


@pytest.mark.parametrize(
    "column,value,expected",
    [
        ("joint_articles", 12345, "12,345"),
        ("joint_articles", np.int64(1234567), "1,234,567"),
        ("joint_articles", 7, "7"),
        ("joint_articles", 3.0, "3"),
        ("cross_border_links", np.float64(205902.0), "205,902"),
        ("partner_share", 0.07947, "7.9%"),
        ("country_share", np.float64(0.25), "25.0%"),
        ("international_share", 1.0, "100.0%"),
        ("cagr", 0.4536, "45.4%"),
        ("cagr", -0.25, "-25.0%"),
        ("affinity", 5.7891, "5.79"),
        ("affinity", 12345.678, "12,345.68"),
        ("links_per_article", 1, "1.00"),
        ("year", 2020, "2020"),
        ("year", np.int64(2015), "2015"),
        ("first_year", 2015, "2015"),
        ("last_year", np.int32(2023), "2023"),
        ("complete", True, "yes"),
        ("complete", False, "no (incomplete)"),
        ("complete", np.bool_(False), "no (incomplete)"),
        ("other_flag", True, "yes"),
        ("incomplete_years", [2024, 2025], "2024, 2025"),
        ("incomplete_years", np.array([2024, 2025]), "2024, 2025"),
        ("incomplete_years", [], MISSING),
        ("partner", "Saudi Arabia", "Saudi Arabia"),
        ("joint_articles", None, MISSING),
        ("joint_articles", float("nan"), MISSING),
        ("joint_articles", np.nan, MISSING),
        ("joint_articles", pd.NA, MISSING),
        ("partner_share", None, MISSING),
        ("year", pd.NA, MISSING),
        ("complete", pd.NA, MISSING),
        ("top_partners", None, MISSING),
    ],
)
def test_format_value(column, value, expected):
    assert format_value(column, value) == expected


def _result(frame: pd.DataFrame, **kwargs) -> Result:
    return Result(command="partners", title="A title", summary="A summary.", frame=frame, **kwargs)


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "partner": ["China", "India", "Saudi Arabia"],
            "joint_articles": pd.array([2218, None, 1676], dtype="Int64"),
            "partner_share": [0.0795, np.nan, 0.06],
            "affinity": [0.349, 0.75, 5.79],
            "partner_code": ["CHN", "IND", "SAU"],
        }
    )


def test_text_table_formats_and_aligns():
    table = text_table(_result(_frame()))
    lines = table.splitlines()
    assert lines[0].split() == ["partner", "joint", "articles", "partner", "share", "affinity"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert "2,218" in lines[2] and "8.0%" in lines[2] and "0.35" in lines[2]
    assert MISSING in lines[3]
    # numbers are right-aligned: the last characters of each number column line up
    assert lines[2].index("2,218") + len("2,218") == lines[4].index("1,676") + len("1,676")
    assert lines[3].index(MISSING) + 1 == lines[2].index("2,218") + len("2,218")
    # machine codes are not shown to people
    assert "CHN" not in table and "partner_code" not in display_columns(_result(_frame()))


def test_text_table_single_wide_row_is_label_value_lines():
    frame = pd.DataFrame(
        [
            {
                "country": "Saudi Arabia",
                "articles": 29250,
                "citations": None,
                "cross_border_links": 34858,
                "links_per_article": 1.19,
                "top_partners": "Pakistan, India, Egypt",
            }
        ]
    )
    lines = text_table(_result(frame)).splitlines()
    assert len(lines) == 6
    assert [line.split()[0] for line in lines] == ["country", "articles", "citations", "cross", "links", "top"]
    assert lines[1].split()[-1] == "29,250" and lines[2].split()[-1] == MISSING
    assert lines[5].endswith("Pakistan, India, Egypt")
    # values start in one column
    assert len({line.index(value) for line, value in zip(lines, ["Saudi", "29,250", MISSING], strict=False)}) == 1


def test_text_table_empty_and_long_cells():
    assert text_table(_result(_frame().iloc[0:0])) == "(no rows)"
    frame = pd.DataFrame({"name": ["x" * 200, "y"], "n": [1, 2]})
    table = text_table(_result(frame), max_width=48)
    assert "x" * 48 in table and "x" * 49 not in table


def test_render_text_has_title_summary_table_and_notes():
    result = _result(_frame(), notes=["Source: somewhere.", "Years: 2015–2025."], truncated=True)
    text = render_text(result)
    lines = text.splitlines()
    assert lines[0] == "A title" and set(lines[1]) == {"="} and lines[2] == "A summary."
    assert "* Source: somewhere." in lines and "* Years: 2015–2025." in lines
    assert "truncated" in text
    assert text.endswith("\n")


def test_json_round_trip_of_missing_values_and_numpy_types():
    result = _result(
        _frame(),
        notes=["n"],
        sql="SELECT 1",
        params={"country": "MYS", "limit": 10},
        data_version="abc",
        incomplete_years=[2024, 2025],
    )
    data = json.loads(to_json(result))
    assert list(data) == JSON_KEYS
    assert data["columns"] == ["partner", "joint_articles", "partner_share", "affinity", "partner_code"]
    assert data["rows"][0] == ["China", 2218, 0.0795, 0.349, "CHN"]
    assert data["rows"][1][1] is None and data["rows"][1][2] is None  # NA and NaN become null
    assert isinstance(data["rows"][0][1], int)
    assert data["params"] == {"country": "MYS", "limit": 10}
    assert data["incomplete_years"] == [2024, 2025] and data["truncated"] is False
    assert "NaN" not in to_json(result)


def test_json_round_trip_of_a_real_answer(db):
    result = answer("pair China USA", db)
    data = json.loads(to_json(result))
    assert data["rows"] == result.rows()
    assert data["columns"] == result.columns
    frame = pd.DataFrame(data["rows"], columns=data["columns"])
    assert frame["joint_articles"].sum() == result.frame["joint_articles"].sum()
    assert all(isinstance(v, bool) for v in frame["complete"])
    for original, copy in zip(result.frame["country_share"], frame["country_share"], strict=True):
        assert (copy is None and math.isnan(original)) or copy == pytest.approx(original)


def test_json_of_list_columns(db):
    data = json.loads(to_json(answer("about", db)))
    column = data["columns"].index("incomplete_years")
    assert all(row[column] == [2024, 2025] for row in data["rows"])


def test_csv_header_and_values():
    text = to_csv(_result(_frame()))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["partner", "joint_articles", "partner_share", "affinity", "partner_code"]
    assert rows[1][:2] == ["China", "2218"]
    assert rows[2][1] == "" and rows[2][2] == ""  # missing values are empty cells
    assert len(rows) == 4
    assert "\r" not in text


def test_csv_of_a_real_answer_with_lists(db):
    rows = list(csv.reader(io.StringIO(to_csv(answer("about", db)))))
    column = rows[0].index("incomplete_years")
    assert rows[1][column] == "2024;2025"


def test_csv_quotes_commas_in_names(db):
    rows = list(csv.reader(io.StringIO(to_csv(answer("profile Saudi Arabia", db)))))
    assert rows[1][rows[0].index("top_partners")] == "Pakistan, India, Egypt"


@pytest.mark.parametrize(
    "text",
    [
        "partners Malaysia",
        "top 5",
        "pair China USA",
        "compare China India",
        "fields Malaysia",
        "rising China",
        "profile Saudi Arabia",
        "about",
        "help",
        "sql SELECT * FROM datasets",
        "partners Brunei in llm",  # listed, but with no published pair-year there
        "pair Brunei Qatar in llm",
        # all-numeric frames: iterrows() hands numpy scalars to format_value
        "sql SELECT count(*) AS n FROM pairs",
        "sql SELECT year, sum(joint_articles) AS s FROM pairs GROUP BY year ORDER BY year",
    ],
)
def test_every_answer_renders_in_every_format(db, text):
    result = answer(text, db)
    assert render_text(result).startswith(result.title)
    assert json.loads(to_json(result))["command"] == result.command
    assert to_csv(result).splitlines()[0].split(",")[0] == (result.columns[0] if result.columns else "")


def test_text_cuts_long_cells_so_a_large_result_renders_quickly():
    # 1,000 rows of 11,000 characters: 11 MB of cells, which wrapping whole took seconds
    frame = pd.DataFrame({"year": range(1000), "names": ["Malaysia China " * 733] * 1000})
    started = time.process_time()
    text = render_text(_result(frame))
    assert time.process_time() - started < 2.0
    assert len(text) < 1_000 * (MAX_TEXT_CELL + 200) and "…" in text
    assert "Malaysia China Malaysia" in text  # the start of each cell is kept


def test_headings_read_as_words_but_typed_sql_names_stay_as_duckdb_gave_them() -> None:
    from bot.render.text import heading

    assert heading("joint_articles") == "joint articles"
    assert heading("count_star()") == "count_star()"  # not "count star()"
    assert heading("sum(joint_articles)") == "sum(joint_articles)"
