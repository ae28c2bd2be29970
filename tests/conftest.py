"""Shared fixtures: the real database, built once per session, and an independent reading of the CSVs.

`db_path` builds the real data into a temporary directory once and points COLLAB_DB at it for the
whole session (subprocess tests inherit it). `db` is a sandboxed `Database` on that file.

`eto` reads the shipped ETO files with the `csv` module only (never the project's SQL), so the
answers can be checked against an independent computation of the same numbers.
"""

from __future__ import annotations

import csv
import inspect
import os
import urllib.parse
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa

# The Slack tests' fixtures (the stand-in for Slack, the real server, its database), for every module.
pytest_plugins = ["conftest_slack"]

# Fixtures that start processes (the real server, `collab` runs, SQL worker processes): a test using
# one is marked slow, so `python -m pytest -m "not slow"` leaves it out. Tests that start a process
# themselves carry @pytest.mark.slow.
PROCESS_FIXTURES = {"server", "served", "runs", "isolated"}
# ...and so is a test whose own code starts one (a second server, a `collab` run).
STARTS_A_PROCESS = ("SlackServer(", "subprocess.", "_run_due_process(")


def _starts_a_process(item: pytest.Item) -> bool:
    try:
        source = inspect.getsource(item.function)  # type: ignore[attr-defined]
    except (AttributeError, OSError, TypeError):
        return False
    return any(call in source for call in STARTS_A_PROCESS)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if PROCESS_FIXTURES & set(getattr(item, "fixturenames", ())) or _starts_a_process(item):
            item.add_marker(pytest.mark.slow)


ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
ETO_DIR = DATA / "eto"
CROSS_BORDER_DIR = ETO_DIR / "cross-border"
ACTIVITY_DIR = ETO_DIR / "country-activity"

# field code -> (name in the cross-border files, name in the country-activity files); written out
# here on purpose instead of read from data/fields.csv.
FIELDS = {
    "ai": ("Artificial intelligence", "All"),
    "cv": ("Computer vision", "Computer Vision"),
    "nlp": ("Natural language processing", "Natural Language Processing"),
    "robotics": ("Robotics", "Robotics"),
    "llm": ("Large language models", "Large language models"),
    "ai_safety": ("AI safety", "AI Safety"),
    "chips": ("Chip design and fabrication", None),
    "cyber": ("Cybersecurity", None),
}
CROSS_BORDER_FIELD = {cb: code for code, (cb, _) in FIELDS.items()}
ACTIVITY_FIELD = {act: code for code, (_, act) in FIELDS.items() if act}
INCOMPLETE_YEARS = [2024, 2025]


@pytest.fixture(scope="session")
def db_path(tmp_path_factory: pytest.TempPathFactory):
    """The real database, built once from data/ into a temporary directory; COLLAB_DB points at it."""
    from bot.data.build import build

    path = tmp_path_factory.mktemp("collab-db") / "collab.duckdb"
    build(path, log=lambda line: None)
    patch = pytest.MonkeyPatch()
    patch.setenv("COLLAB_DB", str(path))
    yield path
    patch.undo()


@pytest.fixture(scope="session")
def db(db_path: Path):
    from bot.engine.db import Database

    database = Database(db_path)
    yield database
    database.close()


@dataclass
class Eto:
    """The ETO files read with plain csv: every number an answer should reproduce."""

    # (field code, name a, name b, year) with a < b (ETO cross-border names) -> (articles, complete)
    pairs: dict[tuple[str, str, str, int], tuple[int, bool]] = field(default_factory=dict)
    # (ETO activity name, field code, year) -> (articles, complete)
    articles: dict[tuple[str, str, int], tuple[int, bool]] = field(default_factory=dict)
    raw_rows: int = 0
    # country reference: ETO names -> ISO code and display name
    cb_code: dict[str, str] = field(default_factory=dict)
    activity_code: dict[str, str] = field(default_factory=dict)
    code_name: dict[str, str] = field(default_factory=dict)
    code_cb: dict[str, str] = field(default_factory=dict)
    code_activity: dict[str, str] = field(default_factory=dict)
    western: set[str] = field(default_factory=set)

    def years(self, fld: str) -> list[int]:
        return sorted({y for (f, _, _, y) in self.pairs if f == fld})

    def window(self, fld: str, year_from: int | None, year_to: int | None, complete: bool) -> list[int]:
        years = [y for y in self.years(fld) if (year_from or 0) <= y <= (year_to or 9999)]
        if complete:
            years = [y for y in years if y not in INCOMPLETE_YEARS]
        return years

    def joint(self, fld: str, a: str, b: str, year: int) -> int | None:
        """Joint articles of two countries (ETO cross-border names) in one year, or None (unpublished)."""
        lo, hi = sorted((a, b))
        found = self.pairs.get((fld, lo, hi, year))
        return None if found is None else found[0]

    def partners(self, country: str, fld: str, years: list[int]) -> dict[str, int]:
        """Partner (ETO name) -> summed joint articles over `years`."""
        wanted, totals = set(years), defaultdict(int)
        for (f, a, b, y), (n, _) in self.pairs.items():
            if f == fld and y in wanted and country in (a, b):
                totals[b if a == country else a] += n
        return dict(totals)

    def links(self, fld: str, years: list[int]) -> dict[str, int]:
        """Country (ETO name) -> cross-border links: the sum of joint articles with every partner."""
        wanted, totals = set(years), defaultdict(int)
        for (f, a, b, y), (n, _) in self.pairs.items():
            if f == fld and y in wanted:
                totals[a] += n
                totals[b] += n
        return dict(totals)

    def country_articles(self, code: str, fld: str, years: list[int]) -> int | None:
        name = self.code_activity.get(code)
        values = [self.articles[(name, fld, y)][0] for y in years if (name, fld, y) in self.articles]
        return sum(values) if values else None

    def world_articles(self, fld: str, years: list[int]) -> int:
        """Sum of every country's (not group's) articles in the field and years."""
        wanted = set(years)
        return sum(
            n
            for (name, f, y), (n, _) in self.articles.items()
            if f == fld and y in wanted and name in self.activity_code
        )


def _read_eto() -> Eto:
    eto = Eto()
    with open(DATA / "countries.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            eto.code_name[row["code"]] = row["name"]
            if row["eto_cross_border_name"]:
                eto.cb_code[row["eto_cross_border_name"]] = row["code"]
                eto.code_cb[row["code"]] = row["eto_cross_border_name"]
            if row["eto_activity_name"]:
                eto.activity_code[row["eto_activity_name"]] = row["code"]
                eto.code_activity[row["code"]] = row["eto_activity_name"]
            if "western" in [g.strip() for g in row["groups"].split(";")]:
                eto.western.add(row["code"])
    for path in sorted(CROSS_BORDER_DIR.glob("*.csv")):
        with open(path, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                eto.raw_rows += 1
                fld = CROSS_BORDER_FIELD[row["field"]]
                a, b = sorted((row["country1"], row["country2"]))
                key = (fld, a, b, int(row["year"]))
                value = (int(row["num_articles"]), row["complete"] == "True")
                # Either orientation, once; where both are listed they must agree.
                assert eto.pairs.setdefault(key, value) == value, (key, value, eto.pairs[key])
    with open(ACTIVITY_DIR / "publications_yearly_articles.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            key = (row["country"], ACTIVITY_FIELD[row["field"]], int(row["year"]))
            eto.articles[key] = (int(row["num_articles"]), row["complete"] == "True")
    return eto


@pytest.fixture(scope="session")
def eto() -> Eto:
    return _read_eto()


# ---------------------------------------------------------------- the state database (digests)

PG_URL = os.environ.get("COLLAB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_reachable() -> bool:
    try:
        engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(params=["sqlite", "postgresql"])
def state_url(request, tmp_path) -> str:
    """A fresh state database: a SQLite file, or a PostgreSQL schema of its own (dropped afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.sqlite'}"
        return
    if not _pg_reachable():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is unreachable at {PG_URL}, and CI is set: these tests must run")
        pytest.skip(f"PostgreSQL is unreachable at {PG_URL}")
    schema = f"collab_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    yield f"{PG_URL}?options=" + urllib.parse.quote(f"-csearch_path={schema}")
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def store(state_url: str):
    from bot.state.store import Store

    s = Store(state_url)
    yield s
    s.dispose()
