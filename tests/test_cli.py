"""`collab ask` as a person runs it: a subprocess, real database, real output formats and exit codes.

The invocations run concurrently once per module (each is a separate Python process), then the tests
look at what they printed.
"""

from __future__ import annotations

import csv
import io
import json
import os
import struct
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

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


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def _run(args: list[str], env: dict[str, str], cwd: Path) -> Run:
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120
    )
    return Run(done.returncode, done.stdout, done.stderr)


GOOD = {
    "text": ["ask", "partners Malaysia"],
    "words": ["ask", "partners", "Malaysia", "in", "cv"],
    "json-partners": ["ask", "partners Malaysia", "--format", "json"],
    "json-top": ["ask", "top 5 non-western", "--format", "json"],
    "json-pair": ["ask", "pair China USA", "--format", "json"],
    "json-rising": ["ask", "rising China", "--format", "json"],
    "json-sql": ["ask", "sql SELECT * FROM pairs", "--format", "json"],
    "csv": ["ask", "partners Malaysia", "--format", "csv"],
    "plain-english": ["ask", "who does Malasia work with most in computer vision?"],
    "plain-english-csv": ["ask", "who does Malaysia work with?", "--format", "csv"],
}
# Bad input: the first three run as subprocesses, every one also runs in-process through main().
BAD = {
    "unknown-country": (["ask", "partners Atlantis"], "Atlantis"),
    "not-understood": (["ask", "frobnicate"], "partners Malaysia"),
    "hostile-sql": (["ask", "sql DROP TABLE pairs"], "SELECT"),
    "file-sql": (["ask", "sql SELECT * FROM read_csv('/etc/passwd')"], "not allowed"),
    "reversed-years": (["ask", "partners Malaysia from 2020 to 2016"], "2016-2020"),
    "empty": (["ask", ""], "partners Malaysia"),
    "same-country": (["ask", "pair China China"], "twice"),
    "limit": (["ask", "partners Malaysia limit 500"], "1 to 100"),
    "no-data-years": (["ask", "partners Malaysia from 2050"], "2015"),
}


@pytest.fixture(scope="module")
def runs(db_path, tmp_path_factory):
    work = tmp_path_factory.mktemp("cli")
    env = {**os.environ, "COLLAB_DB": str(db_path)}
    jobs: dict[str, list[str]] = dict(GOOD)
    jobs["chart"] = ["ask", "pair China USA", "--chart", str(work / "pair.png")]
    jobs["bar-chart"] = ["ask", "partners Malaysia", "--chart", str(work / "bar.png"), "--format", "csv"]
    for name, (args, _) in list(BAD.items())[:3]:
        jobs[name] = list(args)
    jobs["bad-format"] = ["ask", "partners Malaysia", "--format", "xml"]
    missing = work / "fresh" / "collab.duckdb"
    results: dict[str, Run] = {}
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {name: pool.submit(_run, args, env, work) for name, args in jobs.items()}
        futures["build-on-demand"] = pool.submit(
            _run, ["ask", "partners Malaysia", "--format", "json"], {**env, "COLLAB_DB": str(missing)}, work
        )
        for name, future in futures.items():
            results[name] = future.result()
    return results, work, missing


def _json(run: Run) -> dict:
    assert run.code == 0, run.err
    return json.loads(run.out)


def test_text_output(runs, eto):
    run = runs[0]["text"]
    assert run.code == 0, run.err
    assert "Malaysia's top 10 AI research partners, 2015–2025" in run.out
    china = eto.partners("Malaysia", "ai", eto.years("ai"))["China"]
    assert f"{china:,}" in run.out  # thousands separator
    lines = run.out.splitlines()
    header = next(line for line in lines if line.startswith("partner "))
    assert "joint articles" in header and "partner share" in header
    assert any(line.startswith("China") and "%" in line for line in lines)
    assert "partner_code" not in run.out and "MYS" not in run.out  # machine codes stay out of text
    assert "* Source:" in run.out and "25 joint articles" in run.out
    assert "Traceback" not in run.err


def test_words_are_joined_into_one_command(runs):
    run = runs[0]["words"]
    assert run.code == 0, run.err
    assert "computer vision" in run.out


def test_json_has_exactly_the_documented_keys(runs, eto):
    data = _json(runs[0]["json-partners"])
    assert list(data) == JSON_KEYS
    assert data["command"] == "partners"
    assert data["columns"][:4] == ["partner", "joint_articles", "partner_share", "affinity"]
    assert data["incomplete_years"] == [2024, 2025]
    assert data["truncated"] is False
    assert data["data_version"] and "FROM link_years" in data["sql"]
    assert "$subject" in data["sql"] and "MYS" not in data["sql"]  # user values are bound, never inlined
    assert data["params"]["subject"] == "MYS"
    rows = {row[0]: dict(zip(data["columns"], row, strict=True)) for row in data["rows"]}
    assert rows["China"]["joint_articles"] == eto.partners("Malaysia", "ai", eto.years("ai"))["China"]
    assert isinstance(rows["China"]["partner_share"], float)
    assert any("Source:" in note for note in data["notes"])


@pytest.mark.parametrize(
    "name,command,columns",
    [
        ("json-top", "top", ["country", "cross_border_links"]),
        ("json-pair", "pair", ["year", "joint_articles", "complete"]),
        ("json-rising", "rising", ["partner", "cagr"]),
    ],
)
def test_json_column_names_are_stable(runs, name, command, columns):
    data = _json(runs[0][name])
    assert list(data) == JSON_KEYS
    assert data["command"] == command
    assert data["columns"][: len(columns)] == columns
    assert data["rows"]


def test_json_pair_has_nulls_and_booleans(runs):
    data = _json(runs[0]["json-pair"])
    years = [row[0] for row in data["rows"]]
    assert years == list(range(2015, 2026))
    complete = {row[0]: row[2] for row in data["rows"]}
    assert complete[2023] is True and complete[2024] is False


def test_json_sql_truncated(runs):
    data = _json(runs[0]["json-sql"])
    assert len(data["rows"]) == 1000
    assert data["truncated"] is True
    assert data["sql"] == "SELECT * FROM pairs LIMIT 1001"


def test_csv_header_and_rows(runs):
    run = runs[0]["csv"]
    assert run.code == 0, run.err
    rows = list(csv.reader(io.StringIO(run.out)))
    assert rows[0][:4] == ["partner", "joint_articles", "partner_share", "affinity"]
    assert "partner_code" in rows[0]
    assert len(rows) == 11
    assert rows[1][0] == "China" and rows[1][1].isdigit()


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("name,file", [("chart", "pair.png"), ("bar-chart", "bar.png")])
def test_chart_is_a_wide_png(runs, name, file):
    results, work, _ = runs
    run = results[name]
    assert run.code == 0, run.err
    width, height = _png_size(work / file)
    assert width >= 1200 and height > 300


def _check_friendly(run: Run, word: str) -> None:
    assert run.code == 2, (run.code, run.err)
    assert run.err.startswith("collab: "), run.err
    assert word in run.err
    assert "Traceback" not in run.err and "Error:" not in run.err.split(":", 1)[1][:20]
    assert len(run.err.strip().splitlines()) <= 3


@pytest.mark.parametrize("name", list(BAD)[:3])
def test_bad_input_exits_2_with_a_friendly_message(runs, name):
    _check_friendly(runs[0][name], BAD[name][1])


@pytest.mark.parametrize("name", list(BAD))
def test_bad_input_in_process(db_path, tmp_path, capsys, monkeypatch, name):
    import bot.data.build
    from bot.cli import main

    # In-process, a Database may already hold the file open, and is_stale() then wrongly says True (see
    # test_build.py::test_not_stale_while_the_database_is_open); keep these tests about the error paths.
    monkeypatch.setattr(bot.data.build, "is_stale", lambda *args: False)
    args, word = BAD[name]
    chart = tmp_path / "no.png"
    code = main([str(chart) if a == "CHART" else a for a in args])
    captured = capsys.readouterr()
    _check_friendly(Run(code, captured.out, captured.err), word)
    assert not chart.exists()


def test_plain_english_is_answered_with_its_reading_first(runs):
    run = runs[0]["plain-english"]
    assert run.code == 0, run.err
    assert run.out.splitlines()[0] == "Read as `partners Malaysia in cv` (read 'Malasia' as Malaysia)"
    assert "Malaysia's top 10 computer vision research partners" in run.out
    csv_run = runs[0]["plain-english-csv"]
    assert csv_run.code == 0 and "Read as `partners Malaysia`" in csv_run.err
    assert csv_run.out.startswith("partner") and "Read as" not in csv_run.out


def test_argparse_errors_exit_2_without_traceback(runs):
    run = runs[0]["bad-format"]
    assert run.code == 2
    assert "Traceback" not in run.err and "xml" in run.err


def test_ask_builds_a_missing_database(runs):
    results, _, missing = runs
    data = _json(results["build-on-demand"])
    assert missing.exists()
    assert data["rows"][0][0] == "China"
    assert "built" in results["build-on-demand"].err
    assert not [p.name for p in missing.parent.iterdir() if ".building" in p.name or p.name.endswith(".wal")]


def _in_process(monkeypatch, capsys, args: list[str]) -> Run:
    import bot.data.build
    from bot.cli import main

    monkeypatch.setattr(bot.data.build, "is_stale", lambda *args: False)  # see test_bad_input_in_process
    code = main(args)
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def test_chart_for_an_answer_without_one_prints_the_answer_says_so_and_exits_0(db_path, tmp_path, capsys, monkeypatch):
    chart = tmp_path / "about.png"
    run = _in_process(monkeypatch, capsys, ["ask", "about", "--chart", str(chart)])
    assert run.code == 0
    assert run.out.startswith("About collab's data")
    assert "no chart" in run.err and "Traceback" not in run.err
    assert not chart.exists()


def test_csv_carries_its_notes_on_stderr_and_stays_clean(db_path, capsys, monkeypatch):
    import csv
    import io

    run = _in_process(monkeypatch, capsys, ["ask", "partners Malaysia", "--format", "csv"])
    assert run.code == 0
    rows = list(csv.reader(io.StringIO(run.out)))
    assert rows[0][:2] == ["partner", "joint_articles"] and len(rows) == 11
    assert "fewer than 25 joint articles" in run.err and "Source:" in run.err
    assert "Source:" not in run.out


def test_a_database_path_that_cant_be_written_exits_2_saying_so(tmp_path, capsys, monkeypatch):
    from bot.cli import main

    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("COLLAB_DB", str(blocked / "collab.duckdb"))  # its folder is a file
    code = main(["ask", "top"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "can't be written at" in err and "COLLAB_DB" in err
