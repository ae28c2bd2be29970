"""`collab ingest openalex`: the ingested papers and aggregates against an independent reading of the JSON.

`Expected` reads the works with the json module only (never the project's SQL or mapping code):
a work's countries are the distinct union, over its authorships, of `countries` and
`institutions[].country_code`, mapped to alpha-3 through data/countries.csv read with csv. Every
count the database holds for source 'openalex' is checked against it.

Each test ingests into its own copy of the session's built database, so the shared one (COLLAB_DB
for the other test modules) is never written.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from conftest import DATA, ROOT

from bot.data.ingest import IngestError, ingest_openalex
from bot.data.ingest.mapping import fields_for
from bot.engine.answer import answer
from bot.engine.db import Database
from bot.errors import DataUnavailable

OPENALEX = Path(__file__).resolve().parent / "data" / "openalex"
SAMPLE = OPENALEX / "works-sample.jsonl"
SAMPLE_GZ = OPENALEX / "works-sample.jsonl.gz"
SNAPSHOT = OPENALEX / "snapshot"
CORRUPT = OPENALEX / "works-corrupt.jsonl"
MALAYSIA_WORK = "W3122364323"  # one of the sample's three Malaysian works (line 9 of works-corrupt.jsonl)


# ---------------------------------------------------------------- the independent reading


def _iso2_to_alpha3() -> dict[str, str]:
    with open(DATA / "countries.csv", newline="", encoding="utf-8") as f:
        return {row["iso2"]: row["code"] for row in csv.DictReader(f) if row["iso2"]}


ISO = _iso2_to_alpha3()


def work_countries(work: dict) -> set[str]:
    codes = set()
    for authorship in work.get("authorships") or []:
        codes.update(authorship.get("countries") or [])
        codes.update(i.get("country_code") for i in authorship.get("institutions") or [])
    return {ISO[c] for c in codes if c and c in ISO}


@dataclass
class Expected:
    works: dict[str, dict] = field(default_factory=dict)  # short id -> work (newest copy)
    pairs: Counter = field(default_factory=Counter)  # (a, b, year) -> joint papers
    fractional: defaultdict = field(default_factory=lambda: defaultdict(float))
    articles: Counter = field(default_factory=Counter)  # (country, year) -> papers
    international: Counter = field(default_factory=Counter)

    @classmethod
    def of(cls, works: list[dict]) -> Expected:
        expected = cls()
        for work in works:
            short = work["id"].rsplit("/", 1)[-1]
            old = expected.works.get(short)
            if old is None or work["updated_date"] >= old["updated_date"]:
                expected.works[short] = work
        for work in expected.works.values():
            countries = sorted(work_countries(work))
            k, year = len(countries), work["publication_year"]
            for c in countries:
                expected.articles[(c, year)] += 1
                if k >= 2:
                    expected.international[(c, year)] += 1
            for i, a in enumerate(countries):
                for b in countries[i + 1 :]:
                    expected.pairs[(a, b, year)] += 1
                    expected.fractional[(a, b, year)] += 1 / (k - 1)
        return expected

    def partners(self, country: str) -> dict[str, int]:
        found: Counter = Counter()
        for (a, b, _), n in self.pairs.items():
            if country in (a, b):
                found[b if a == country else a] += n
        return dict(found)


def _lines(path: Path) -> list[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [line for line in f.read().splitlines() if line.strip()]


def _works(path: Path) -> list[dict]:
    return [json.loads(line) for line in _lines(path)]


@pytest.fixture(scope="module")
def sample() -> list[dict]:
    return _works(SAMPLE)


# ---------------------------------------------------------------- databases


@pytest.fixture
def fresh_db(db_path: Path, tmp_path: Path) -> Path:
    """A private copy of the session's built database (ETO only)."""
    path = tmp_path / "db" / "collab.duckdb"
    path.parent.mkdir()
    shutil.copyfile(db_path, path)
    return path


def _ingest(db: Path, *paths: Path, **options):
    options.setdefault("progress", False)
    options.setdefault("log", lambda line: None)
    return ingest_openalex(list(paths), db, **options)


def _rows(path: Path, sql: str, params=None) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _pairs(path: Path, field_code: str = "all") -> dict[tuple, tuple]:
    return {
        (a, b, y): (n, f)
        for a, b, y, n, f in _rows(
            path,
            """
        SELECT country_a, country_b, year, joint_articles, fractional_articles FROM pairs
        WHERE source = 'openalex' AND field = ?""",
            [field_code],
        )
    }


def _articles(path: Path, field_code: str = "all") -> dict[tuple, tuple]:
    return {
        (c, y): (n, i)
        for c, y, n, i in _rows(
            path,
            """
        SELECT country, year, articles, international_articles FROM country_articles
        WHERE source = 'openalex' AND field = ?""",
            [field_code],
        )
    }


def _assert_matches(path: Path, expected: Expected) -> None:
    pairs = _pairs(path)
    assert {k: v[0] for k, v in pairs.items()} == dict(expected.pairs)
    for key, (_, fractional) in pairs.items():
        assert fractional == pytest.approx(expected.fractional[key])
    assert _articles(path) == {k: (n, expected.international[k]) for k, n in expected.articles.items()}
    papers = dict(_rows(path, "SELECT work_id, countries FROM papers"))
    assert papers == {w: len(work_countries(work)) for w, work in expected.works.items()}


def _snapshot(path: Path) -> tuple:
    """What's in a database, to compare two ingests."""
    return (
        sorted(_rows(path, "SELECT * FROM papers")),
        sorted(_rows(path, "SELECT * FROM paper_countries")),
        sorted(_rows(path, "SELECT * FROM paper_fields")),
        sorted(_rows(path, "SELECT * FROM pairs WHERE source = 'openalex'")),
        sorted(_rows(path, "SELECT * FROM country_articles WHERE source = 'openalex'")),
    )


def _write_works(path: Path, works: list[dict], gz: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(w) + "\n" for w in works)
    if gz:
        with gzip.open(path, "wt", encoding="utf-8") as f:
            f.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _with_countries(work: dict, short_id: str, countries: list[str], updated: str, **extra) -> dict:
    """A copy of a sample work with a new id, one author per country (ISO alpha-2), and `extra` keys."""
    copy = json.loads(json.dumps(work))
    copy["id"] = f"https://openalex.org/{short_id}"
    template = copy["authorships"][0]
    copy["authorships"] = []
    for code in countries:
        author = json.loads(json.dumps(template))
        author["countries"] = [code]
        author["institutions"] = [{"id": "https://openalex.org/I1", "display_name": "x", "country_code": code}]
        copy["authorships"].append(author)
    copy["updated_date"] = updated
    copy.update(extra)
    return copy


# ---------------------------------------------------------------- counts against the JSON


def test_sample_counts_match_an_independent_reading(fresh_db, sample):
    report = _ingest(fresh_db, SAMPLE, all_works=True)
    expected = Expected.of(sample)
    assert report.works_read == 177 and report.malformed == 0 and report.papers == 177
    _assert_matches(fresh_db, expected)
    # The README's edge cases, seen the same way.
    multi = [w for w in sample if len(work_countries(w)) >= 2]
    assert len(multi) == 25
    assert sum(1 for w in multi if "MYS" in work_countries(w)) == 3
    assert report.without_country == sum(1 for w in sample if not work_countries(w)) == 77
    assert sum(1 for w in sample for a in w["authorships"] if a.get("countries") and not a.get("institutions")) == 22


def test_fractional_weights_sum_to_one_per_country_and_paper(fresh_db, sample):
    _ingest(fresh_db, SAMPLE, all_works=True)
    per_paper = _rows(
        fresh_db,
        """
        WITH pc AS (SELECT c.work_id, c.country, p.countries AS k FROM paper_countries c JOIN papers p USING (work_id)
                    WHERE p.countries >= 2)
        SELECT a.work_id, a.country, sum(1.0 / (a.k - 1)) FROM pc a JOIN pc b ON a.work_id = b.work_id AND a.country <> b.country
        GROUP BY ALL""",
    )
    assert per_paper and all(total == pytest.approx(1.0) for _, _, total in per_paper)
    # So a country's fractional links over every partner equal its international articles.
    links = dict(
        _rows(
            fresh_db,
            """SELECT country, sum(fractional_articles) FROM partner_links
                                     WHERE source = 'openalex' AND field = 'all' GROUP BY country""",
        )
    )
    international = dict(
        _rows(
            fresh_db,
            """SELECT country, sum(international_articles) FROM country_articles
                                             WHERE source = 'openalex' AND field = 'all' GROUP BY country HAVING sum(international_articles) > 0""",
        )
    )
    assert links.keys() == international.keys()
    for country, value in links.items():
        assert value == pytest.approx(international[country])


def test_malaysia_partners_answer(fresh_db, sample):
    _ingest(fresh_db, SAMPLE, all_works=True)
    expected = Expected.of(sample).partners("MYS")
    assert expected == {"USA": 2, "GBR": 1}
    db = Database(fresh_db)
    try:
        result = answer("partners Malaysia source openalex in all", db)
    finally:
        db.close()
    assert dict(zip(result.frame["partner_code"], result.frame["joint_articles"], strict=True)) == expected
    assert "fractional_articles" not in result.frame.columns
    assert result.frame.iloc[0]["partner_share"] == pytest.approx(2 / 3)  # Malaysia has 3 articles
    notes = " ".join(result.notes)
    assert "OpenAlex works" in notes and "CC0" in notes and "exact" in notes
    assert "fewer than 25" not in notes and "lower bound" not in notes


def test_fractional_ranking_differs_from_full_count(fresh_db, sample):
    # Malaysia: one paper with Japan alone (weight 1); two with India and two others (1/3 each).
    base = sample[0]
    works = [
        _with_countries(base, "W900000001", ["MY", "JP"], "2025-01-01T00:00:00"),
        _with_countries(base, "W900000002", ["MY", "IN", "FR", "DE"], "2025-01-01T00:00:00"),
        _with_countries(base, "W900000003", ["MY", "IN", "BR", "AR"], "2025-01-01T00:00:00"),
    ]
    _ingest(fresh_db, _write_works(fresh_db.parent / "in" / "fractional.jsonl", works), all_works=True)
    db = Database(fresh_db)
    try:
        full = answer("partners Malaysia source openalex in all", db)
        fractional = answer("partners Malaysia source openalex in all count fractional", db)
        with pytest.raises(DataUnavailable, match="paper-level"):
            answer("partners Malaysia count fractional", db)
    finally:
        db.close()
    assert full.frame.iloc[0]["partner_code"] == "IND"
    assert fractional.frame.iloc[0]["partner_code"] == "JPN"
    values = dict(zip(fractional.frame["partner_code"], fractional.frame["fractional_articles"], strict=True))
    assert values["JPN"] == pytest.approx(1.0) and values["IND"] == pytest.approx(2 / 3)
    assert "Ranked by fractional count." in fractional.notes
    assert fractional.chart.y == "fractional_articles"


def test_top_by_international_share_is_exact(fresh_db, sample):
    _ingest(fresh_db, SAMPLE, all_works=True)
    expected = Expected.of(sample)
    db = Database(fresh_db)
    try:
        result = answer("top 100 source openalex in all by international", db)
        with pytest.raises(DataUnavailable, match="paper-level"):
            answer("top by international", db)
    finally:
        db.close()
    shares = dict(zip(result.frame["country_code"], result.frame["international_share"], strict=True))
    years = range(result.params["year_from"], result.params["year_to"] + 1)  # the years the pairs cover
    for country, share in shares.items():
        articles = sum(n for (c, y), n in expected.articles.items() if c == country and y in years)
        international = sum(n for (c, y), n in expected.international.items() if c == country and y in years)
        assert share == pytest.approx(international / articles)
    ordered = list(result.frame["international_share"])
    assert ordered == sorted(ordered, reverse=True)


# ---------------------------------------------------------------- fields


def test_field_mapping_on_the_sample(fresh_db, sample):
    report = _ingest(fresh_db, SAMPLE)  # AI works only
    ai_works = {w["id"].rsplit("/", 1)[-1]: fields_for(w) for w in sample if fields_for(w)}
    # One sample work has AI topics (subfields Artificial Intelligence and Computer Vision); five more
    # carry the AI or machine-learning concept only as an ancestor with score 0, which doesn't count.
    assert ai_works == {"W2755950973": {"ai", "cv"}}
    zero_score = [
        w
        for w in sample
        if any(
            c["display_name"] in ("Artificial intelligence", "Machine learning") and c["score"] < 0.3
            for c in w["concepts"]
        )
    ]
    assert len(zero_score) == 5
    assert report.not_in_a_field == 176
    stored = defaultdict(set)
    for work_id, fld in _rows(fresh_db, "SELECT work_id, field FROM paper_fields"):
        stored[work_id].add(fld)
    assert dict(stored) == ai_works


def test_field_mapping_rules(fresh_db, sample):
    base = {**sample[0], "concepts": [], "topics": [], "keywords": []}

    def concept(cid: str, score: float) -> dict:
        return {"id": f"https://openalex.org/{cid}", "display_name": "x", "score": score}

    def topic(tid: str, sub: str) -> dict:
        return {
            "id": f"https://openalex.org/{tid}",
            "display_name": "Something",
            "subfield": {"id": f"https://openalex.org/subfields/{sub}"},
        }

    cases = {
        "W910000001": ({"concepts": [concept("C154945302", 0.4)]}, {"ai"}),
        "W910000002": ({"concepts": [concept("C154945302", 0.29)]}, set()),
        "W910000003": ({"concepts": [concept("C204321447", 0.5)]}, {"ai", "nlp"}),
        "W910000004": ({"concepts": [concept("C31972630", 0.3)]}, {"ai", "cv"}),
        "W910000005": ({"concepts": [{"id": "C34413123", "score": 0.9}]}, {"ai", "robotics"}),  # short id form
        "W910000006": ({"topics": [topic("T10586", "1707")]}, {"ai", "cv", "robotics"}),
        "W910000007": ({"topics": [topic("T10181", "1702")]}, {"ai", "nlp"}),
        "W910000008": ({"keywords": [{"display_name": "Large Language Models", "score": 0.6}]}, {"ai", "llm"}),
        "W910000009": ({"concepts": [concept("C119857082", 0.6)]}, {"ai"}),
        "W910000010": ({"topics": [topic("T11042", "3312")]}, set()),
    }
    works = [
        _with_countries(base, wid, ["MY", "SG"], "2025-01-01T00:00:00", **extra) for wid, (extra, _) in cases.items()
    ]
    for work, (_, fields) in zip(works, cases.values(), strict=True):
        assert fields_for(work) == fields  # the documented Python twin agrees with the cases
    _ingest(fresh_db, _write_works(fresh_db.parent / "in" / "fields.jsonl", works), all_works=True)
    stored = defaultdict(set)
    for work_id, fld in _rows(fresh_db, "SELECT work_id, field FROM paper_fields"):
        stored[work_id].add(fld)
    assert dict(stored) == {wid: fields | {"all"} for wid, (_, fields) in cases.items()}
    cv_pairs = _pairs(fresh_db, "cv")
    assert {k: v[0] for k, v in cv_pairs.items()} == {("MYS", "SGP", sample[0]["publication_year"]): 2}


# ---------------------------------------------------------------- formats and layouts


def test_gzip_and_plain_ingest_the_same(fresh_db, db_path, tmp_path):
    _ingest(fresh_db, SAMPLE, all_works=True)
    other = tmp_path / "gz" / "collab.duckdb"
    other.parent.mkdir()
    shutil.copyfile(db_path, other)
    _ingest(other, SAMPLE_GZ, all_works=True)
    assert _snapshot(other) == _snapshot(fresh_db)


def test_snapshot_folder_layout(fresh_db, sample, tmp_path):
    report = _ingest(fresh_db, SNAPSHOT, all_works=True)  # recursive; the manifest is not a works file
    assert report.files == 2 and report.works_read == 177 and report.malformed == 0
    _assert_matches(fresh_db, Expected.of(sample))
    # Each work keeps its own updated_date, not its folder's (updated_date=YYYY-MM-DD).
    held = {w: d.isoformat() for w, d in _rows(fresh_db, "SELECT work_id, updated_date FROM papers")}
    assert held == {w["id"].rsplit("/", 1)[-1]: datetime.fromisoformat(w["updated_date"]).isoformat() for w in sample}


def test_small_chunks_give_the_same_result(fresh_db, sample):
    report = _ingest(fresh_db, SAMPLE_GZ, all_works=True, chunk_bytes=64 << 10)
    assert report.works_read == 177
    _assert_matches(fresh_db, Expected.of(sample))


# ---------------------------------------------------------------- malformed input


def test_corrupt_line_and_malformed_work_are_reported_and_skipped(fresh_db, sample):
    report = _ingest(fresh_db, CORRUPT, all_works=True, chunk_bytes=64 << 10)
    assert report.malformed_lines == 1 and report.malformed_works == 1
    where = {(p.line, p.kind) for p in report.problems}
    assert where == {(5, "line"), (9, "work")}
    assert all(p.path == str(CORRUPT) for p in report.problems)
    assert "publication_year" in next(p.message for p in report.problems if p.kind == "work")
    assert any(f"{CORRUPT}:5: malformed line" in line for line in report.summary())
    assert " MB, in " in report.summary()[0]  # the local engine counts the bytes it read
    kept = [w for i, w in enumerate(sample[:12]) if i not in (4, 8)]
    assert report.works_read == 10
    _assert_matches(fresh_db, Expected.of(kept))
    assert MALAYSIA_WORK not in dict(_rows(fresh_db, "SELECT work_id, year FROM papers"))


def test_every_kind_of_bad_line(fresh_db, sample, tmp_path):
    good = json.dumps(sample[0])
    lines = [
        good,  # 1
        "",  # 2 blank: not a work, not an error
        "{not json",  # 3
        "[1, 2]",  # 4 JSON, not an object
        json.dumps({**sample[1], "id": 17}),  # 5 id not an OpenAlex work id
        json.dumps({**sample[2], "publication_year": "soon"}),  # 6
        json.dumps({**sample[3], "authorships": "many"}),  # 7
        "null",  # 8
        json.dumps(sample[4]),  # 9
    ]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = _ingest(fresh_db, path, all_works=True)
    assert {(p.line, p.kind) for p in report.problems} == {
        (3, "line"),
        (4, "work"),
        (5, "work"),
        (6, "work"),
        (7, "work"),
        (8, "work"),
    }
    assert report.works_read == 2
    assert sorted(r[0] for r in _rows(fresh_db, "SELECT work_id FROM papers")) == sorted(
        w["id"].rsplit("/", 1)[-1] for w in (sample[0], sample[4])
    )


def test_invalid_utf8_and_truncated_gzip(fresh_db, sample, tmp_path):
    raw = (
        (json.dumps(sample[0]) + "\n").encode()
        + b'{"id": "W1", "title": "\xff\xfe"}\n'
        + (json.dumps(sample[1]) + "\n").encode()
    )
    bad_bytes = tmp_path / "in" / "latin.jsonl"
    bad_bytes.parent.mkdir()
    bad_bytes.write_bytes(raw)
    whole = gzip.compress(SAMPLE.read_bytes())
    truncated = tmp_path / "in" / "truncated.jsonl.gz"
    truncated.write_bytes(whole[: len(whole) // 2])
    report = _ingest(fresh_db, bad_bytes, truncated, all_works=True)
    assert (report.problems[0].path, report.problems[0].line, report.problems[0].kind) == (str(bad_bytes), 2, "line")
    assert "UTF-8" in report.problems[0].message
    # The truncated file: the works before the cut are read, the cut line is malformed, and the
    # file's end is reported as a read error.
    assert [(p.path, p.kind) for p in report.problems[1:]] == [(str(truncated), "line")]
    assert len(report.read_errors) == 1 and "truncated.jsonl.gz" in report.read_errors[0]
    assert 2 < report.works_read < 2 + 177
    with pytest.raises(IngestError, match="truncated"):
        _ingest(fresh_db, truncated, strict=True)


def test_strict_fails_and_leaves_the_database_untouched(fresh_db):
    _ingest(fresh_db, SAMPLE, all_works=True)
    before = hashlib.sha256(fresh_db.read_bytes()).hexdigest()
    stat = fresh_db.stat()
    with pytest.raises(IngestError, match=r"works-corrupt\.jsonl:5"):
        _ingest(fresh_db, CORRUPT, all_works=True, strict=True)
    assert hashlib.sha256(fresh_db.read_bytes()).hexdigest() == before
    assert fresh_db.stat().st_ino == stat.st_ino
    assert sorted(p.name for p in fresh_db.parent.iterdir() if not p.name.endswith(".lock")) == ["collab.duckdb"]


# ---------------------------------------------------------------- newer copies replace older ones


def test_newer_copy_replaces_the_older(fresh_db, sample, tmp_path):
    base = sample[0]
    old = _with_countries(base, "W920000001", ["MY", "CN"], "2024-01-01T00:00:00")
    new = _with_countries(base, "W920000001", ["MY", "ID"], "2024-06-01T00:00:00")
    snapshot = tmp_path / "snap" / "works"
    _write_works(snapshot / "updated_date=2024-01-01" / "part_000.gz", [old], gz=True)
    _write_works(snapshot / "updated_date=2024-06-01" / "part_000.gz", [new], gz=True)
    report = _ingest(fresh_db, snapshot.parent, all_works=True)
    assert report.duplicates_in_input == 1
    year = base["publication_year"]
    assert {k: v[0] for k, v in _pairs(fresh_db).items()} == {("IDN", "MYS", year): 1}
    assert _articles(fresh_db) == {("MYS", year): (1, 1), ("IDN", year): (1, 1)}
    # Ingesting the older part again changes nothing; an even newer copy replaces the held one.
    report = _ingest(fresh_db, snapshot / "updated_date=2024-01-01", all_works=True)
    assert report.older_than_stored == 1 and report.replaced == 0
    assert {k: v[0] for k, v in _pairs(fresh_db).items()} == {("IDN", "MYS", year): 1}
    newest = _with_countries(base, "W920000001", ["MY", "SG", "TH"], "2025-01-01T00:00:00")
    report = _ingest(fresh_db, _write_works(tmp_path / "later.jsonl", [newest]), all_works=True)
    assert report.replaced == 1
    assert {k: v for k, v in _pairs(fresh_db).items()} == {
        ("MYS", "SGP", year): (1, 0.5),
        ("MYS", "THA", year): (1, 0.5),
        ("SGP", "THA", year): (1, 0.5),
    }
    assert _rows(fresh_db, "SELECT count(*) FROM papers")[0][0] == 1


def test_reingest_is_idempotent(fresh_db, sample):
    _ingest(fresh_db, SAMPLE, all_works=True)
    first = _snapshot(fresh_db)
    report = _ingest(fresh_db, SAMPLE_GZ, all_works=True)
    assert report.replaced == 177 and report.added == 0
    assert _snapshot(fresh_db) == first


def test_newer_copy_outside_every_field_removes_the_ai_work(fresh_db, sample, tmp_path):
    ai = {"concepts": [{"id": "https://openalex.org/C154945302", "score": 0.8}], "topics": [], "keywords": []}
    plain = {"concepts": [], "topics": [], "keywords": []}
    before = _with_countries(sample[0], "W930000001", ["MY", "CN"], "2024-01-01T00:00:00", **ai)
    after = _with_countries(sample[0], "W930000001", ["MY", "CN"], "2024-05-01T00:00:00", **plain)
    _ingest(fresh_db, _write_works(tmp_path / "a.jsonl", [before]))
    assert len(_pairs(fresh_db, "ai")) == 1
    report = _ingest(fresh_db, _write_works(tmp_path / "b.jsonl", [after]))
    assert report.removed == 1
    assert _pairs(fresh_db, "ai") == {} and _rows(fresh_db, "SELECT count(*) FROM papers")[0][0] == 0


def test_unknown_country_codes_are_counted_not_silent(fresh_db, sample, tmp_path):
    work = _with_countries(sample[0], "W940000001", ["MY", "ZZ", "SG"], "2024-01-01T00:00:00")
    report = _ingest(fresh_db, _write_works(tmp_path / "zz.jsonl", [work]), all_works=True)
    assert report.unknown_codes == {"ZZ": 1}
    assert any("ZZ (1)" in line for line in report.summary())
    assert {k: v for k, v in _pairs(fresh_db).items()} == {("MYS", "SGP", sample[0]["publication_year"]): (1, 1.0)}


# ---------------------------------------------------------------- living with build and the bot


@pytest.mark.slow
def test_ingest_survives_a_rebuild(fresh_db, sample):
    from bot.data.build import build

    _ingest(fresh_db, SAMPLE, all_works=True)
    before = _snapshot(fresh_db)
    datasets = _rows(fresh_db, "SELECT name, release, row_count FROM datasets WHERE source = 'openalex'")
    build(fresh_db, log=lambda line: None)
    assert _snapshot(fresh_db) == before
    assert _rows(fresh_db, "SELECT name, release, row_count FROM datasets WHERE source = 'openalex'") == datasets
    assert _rows(fresh_db, "SELECT count(*) FROM pairs WHERE source = 'eto'")[0][0] == 10_829
    _assert_matches(fresh_db, Expected.of(sample))


@pytest.mark.slow
def test_concurrent_writers_do_not_lose_each_other(fresh_db, sample, tmp_path):
    """Two ingests and a rebuild at once: the writer lock serialises them, so nothing is lost."""
    from bot.data.build import build

    first = _write_works(
        tmp_path / "one.jsonl",
        [_with_countries(sample[0], f"W97{i:07d}", ["MY", "JP"], "2025-01-01T00:00:00") for i in range(50)],
    )
    second = _write_works(
        tmp_path / "two.jsonl",
        [_with_countries(sample[0], f"W98{i:07d}", ["MY", "KR"], "2025-01-01T00:00:00") for i in range(50)],
    )
    errors: list[BaseException] = []

    def run(target, *args, **kwargs):
        try:
            target(*args, **kwargs)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [
        threading.Thread(target=run, args=(_ingest, fresh_db, first), kwargs={"all_works": True}),
        threading.Thread(target=run, args=(build, fresh_db), kwargs={"log": lambda line: None}),
        threading.Thread(target=run, args=(_ingest, fresh_db, second), kwargs={"all_works": True}),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors[:1]
    year = sample[0]["publication_year"]
    assert {k: v[0] for k, v in _pairs(fresh_db).items()} == {("JPN", "MYS", year): 50, ("KOR", "MYS", year): 50}


def test_datasets_row_and_about(fresh_db):
    _ingest(fresh_db, SAMPLE, all_works=True)
    (row,) = _rows(
        fresh_db,
        """SELECT name, source, title, publisher, licence, release, row_count, first_year,
                                       last_year, incomplete_years FROM datasets WHERE source = 'openalex'""",
    )
    assert row[:5] == ("openalex", "openalex", "OpenAlex works", "OurResearch (OpenAlex)", "CC0")
    assert row[5] == "works updated to 2025-10-08" and row[6] == 177
    assert (row[7], row[8]) == (1988, 2018)
    assert row[9] == []  # snapshot of 2025: 2024 and 2025 would be incomplete; the sample ends in 2018
    assert _rows(fresh_db, "SELECT bool_and(complete) FROM pairs WHERE source = 'openalex'")[0][0] is True
    db = Database(fresh_db)
    try:
        about = answer("about", db)
    finally:
        db.close()
    assert "OpenAlex works" in about.summary and "ETO" in about.summary


def test_incomplete_years_follow_the_snapshot_date(fresh_db, sample, tmp_path):
    works = [
        _with_countries(sample[0], f"W95000000{y - 2020}", ["MY", "SG"], "2025-03-01T00:00:00", publication_year=y)
        for y in range(2021, 2026)
    ]
    _ingest(fresh_db, _write_works(tmp_path / "years.jsonl", works), all_works=True)
    assert dict(_rows(fresh_db, "SELECT year, complete FROM pairs WHERE source = 'openalex'")) == {
        2021: True,
        2022: True,
        2023: True,
        2024: False,
        2025: False,
    }


VERBS = [
    "partners Malaysia source openalex in all",
    "partners Malaysia source openalex in all by affinity",
    "partners Malaysia source openalex in all count fractional",
    "top source openalex in all",
    "top source openalex in all by share",
    "top source openalex in all by international",
    "pair Malaysia USA source openalex in all",
    "compare Malaysia USA UK source openalex in all",
    "fields Malaysia source openalex",
    "fields Malaysia USA source openalex",
    "rising source openalex in all",
    "rising USA source openalex in all",
    "rising asean source openalex in all",
    "pairs source openalex in all",
    "partners asean source openalex in all",
    "profile Malaysia source openalex in all",
    "about",
    "sql SELECT field, count(*) AS n FROM paper_fields GROUP BY field",
]


def test_every_verb_answers_from_ingested_data(fresh_db, sample, tmp_path):
    base = sample[0]
    ai = [{"id": "https://openalex.org/C154945302", "display_name": "Artificial intelligence", "score": 0.7}]
    works = [
        _with_countries(
            base,
            f"W96{i:07d}",
            ["MY", ["US", "GB", "CN"][i % 3]],
            "2025-01-01T00:00:00",
            publication_year=2010 + i % 8,
            concepts=ai,
        )
        for i in range(60)
    ]
    _ingest(fresh_db, SAMPLE, _write_works(tmp_path / "more.jsonl", works), all_works=True)
    db = Database(fresh_db)
    try:
        for text in VERBS:
            result = answer(text, db)
            assert result.summary, text
            if text.startswith(("partners", "top", "pair", "compare", "fields", "rising", "profile")):
                notes = " ".join(result.notes)
                assert "OpenAlex works" in notes and "exact" in notes and "fewer than 25" not in notes, text
                # paper-level data has every count: nothing in it is "published" or "under the floor"
                said = " ".join([result.title, result.summary, *result.notes])
                for floor_words in ("published pair-year", "was published", "count was published", "unpublished"):
                    assert floor_words not in said, (text, floor_words)
                assert "the floor" not in said.replace("no publication floor", ""), text
        pair = answer("pair Malaysia USA source openalex in all", db)
        assert "at least" not in pair.summary
    finally:
        db.close()


@pytest.mark.slow
def test_answering_while_an_ingest_runs(fresh_db, tmp_path):
    sys.path.insert(0, str(ROOT / "bench"))
    from gen_openalex import generate

    works = generate(tmp_path / "gen" / "works.jsonl.gz", 20_000, seed=3, db_path=fresh_db)
    db = Database(fresh_db)
    errors: list[BaseException] = []
    answered = [0]
    stop = threading.Event()

    def ask_in_a_loop() -> None:
        while not stop.is_set():
            try:
                result = answer("partners Malaysia", db)
                assert result.frame.iloc[0]["partner"] == "China"
                answered[0] += 1
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)
                return

    thread = threading.Thread(target=ask_in_a_loop)
    thread.start()
    try:
        time.sleep(0.2)
        report = _ingest(fresh_db, works, chunk_bytes=4 << 20)
        time.sleep(0.2)
    finally:
        stop.set()
        thread.join(timeout=30)
    try:
        assert not errors, errors[:1]
        assert answered[0] > 5
        assert report.works_read == 20_000
        assert not answer("partners Malaysia source openalex", db).frame.empty  # the same Database, new file
    finally:
        db.close()


def test_an_open_database_sees_the_ingested_file(fresh_db, sample):
    """A long-running Database (the bot's) answers from the ingested file once it is renamed in."""
    db = Database(fresh_db)
    try:
        answer("partners Malaysia", db)
        _ingest(fresh_db, SAMPLE, all_works=True)
        assert not answer("partners Malaysia source openalex in all", db).frame.empty
    finally:
        db.close()


@pytest.mark.slow
def test_cli_ingest_and_ask(fresh_db, tmp_path):
    env = {**os.environ, "COLLAB_DB": str(fresh_db)}
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ingest", "openalex", str(SAMPLE), "--all-works"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "177 works" in done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ask", "partners Malaysia source openalex in all", "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    partner = result["columns"].index("partner")
    joint = result["columns"].index("joint_articles")
    assert {row[partner]: row[joint] for row in result["rows"]} == {"United States": 2, "United Kingdom": 1}
    assert any("OpenAlex works" in note for note in result["notes"])


@pytest.mark.slow
def test_cli_corrupt_line_and_strict(fresh_db, tmp_path):
    env = {**os.environ, "COLLAB_DB": str(fresh_db)}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", "ingest", "openalex", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )

    before = fresh_db.read_bytes()
    strict = run(str(CORRUPT), "--strict")
    assert strict.returncode != 0
    assert f"{CORRUPT}:5" in strict.stderr and "unchanged" in strict.stderr
    assert fresh_db.read_bytes() == before
    lenient = run(str(CORRUPT), "--all-works")
    assert lenient.returncode == 0, lenient.stderr
    assert f"{CORRUPT}:5: malformed line" in lenient.stderr and f"{CORRUPT}:9: malformed work" in lenient.stderr
    missing = run(str(tmp_path / "nowhere"))
    assert missing.returncode != 0 and "does not exist" in missing.stderr


def test_ingest_adds_to_a_built_database_and_never_builds_one(tmp_path):
    """Building is `collab build`'s job (the CLI builds first when needed); ingest alone refuses a missing file."""
    missing = tmp_path / "never-built.duckdb"
    with pytest.raises(IngestError, match="run `collab build` first"):
        ingest_openalex([SAMPLE], missing, progress=False, log=lambda line: None)
    assert not missing.exists()


@pytest.mark.slow
def test_cli_ingest_builds_a_missing_database_first(tmp_path):
    target = tmp_path / "built-by-ingest.duckdb"
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ingest", "openalex", str(SAMPLE), "--db", str(target), "--no-progress"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert f"built {target}" in done.stderr
    with duckdb.connect(str(target), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM papers").fetchone()[0] > 0
        assert con.execute("SELECT count(*) FROM pairs WHERE source = 'eto'").fetchone()[0] > 0
