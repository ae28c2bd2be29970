"""Ingest benchmark: `collab ingest openalex` against two baselines, on the same generated file.

Each contender runs in its own child process; its wall time is measured around it and its peak
memory is the child's own ru_maxrss (os.wait4), so the figures don't mix.

- ingest: `collab ingest openalex FILE` into a fresh copy of the built database, the whole command
  (copy, parse, merge, aggregates, checkpoint, rename).
- floor: DuckDB alone: read_json of the same file, the distinct countries of each work, the
  self-join of pairs, counted per pair and year. The least any DuckDB-based ingest can do.
- pandas: pd.read_json(lines=True), explode, self-merge, group-by. It holds every work as Python
  objects, so it runs on the first --pandas-works works (default 100,000) and its time is scaled
  linearly to --works; its memory is reported as measured at that size, with the linear estimate.

Aims (issue): ingest at least 5x faster than pandas, within 3x of the floor, peak memory under 2 GB.

    python bench/bench_ingest.py [--works 1000000] [--pandas-works 100000] [--workdir /tmp/collab-bench]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

FLOOR = r"""
import sys, duckdb
con = duckdb.connect()
con.execute('SET enable_progress_bar = false')
rows = con.execute('''
    WITH works AS (
        SELECT id, publication_year AS year,
               list_distinct(list_filter(flatten(list_transform(coalesce(authorships, []), lambda a:
                   list_concat(coalesce(a.countries, []), list_transform(coalesce(a.institutions, []), lambda i: i.country_code)))),
                   lambda c: c IS NOT NULL)) AS countries
        FROM read_json(?, format = 'newline_delimited', columns = {
            'id': 'VARCHAR', 'publication_year': 'INTEGER',
            'authorships': 'STRUCT(countries VARCHAR[], institutions STRUCT(country_code VARCHAR)[])[]'})
    ),
    wc AS (SELECT id, year, unnest(countries) AS country FROM works)
    SELECT a.country, b.country, a.year, count(*) FROM wc a JOIN wc b ON a.id = b.id AND a.country < b.country
    GROUP BY ALL''', [sys.argv[1]]).fetchall()
print(len(rows), sum(r[3] for r in rows))
"""

PANDAS = r"""
import sys
import pandas as pd
df = pd.read_json(sys.argv[1], lines=True, compression='infer')
works = df[['id', 'publication_year', 'authorships']].explode('authorships').dropna(subset=['authorships'])
def codes(a):
    found = set(a.get('countries') or [])
    found.update(i.get('country_code') for i in a.get('institutions') or [])
    found.discard(None)
    return sorted(found)
works['country'] = works['authorships'].map(codes)
wc = works[['id', 'publication_year', 'country']].explode('country').dropna().drop_duplicates(['id', 'country'])
m = wc.merge(wc, on=['id', 'publication_year'])
m = m[m['country_x'] < m['country_y']]
pairs = m.groupby(['country_x', 'country_y', 'publication_year']).size()
print(len(pairs), int(pairs.sum()))
"""


def measure(label: str, argv: list[str], env: dict[str, str] | None = None) -> dict:
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    out, err = child.stdout.read(), child.stderr.read()
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{label} failed ({child.returncode}):\n{err[-3000:]}")
    return {
        "label": label,
        "seconds": seconds,
        "peak_mb": usage.ru_maxrss / 1024,
        "out": out.strip(),
        "err": err.strip(),
    }


def head(source: Path, target: Path, works: int) -> Path:
    """The first `works` lines of a (gzipped) works file, as a plain file."""
    import gzip

    opener = gzip.open if source.suffix == ".gz" else open
    with opener(source, "rb") as f, open(target, "wb") as out:
        for n, line in enumerate(f):
            if n >= works:
                break
            out.write(line)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--works", type=int, default=1_000_000)
    parser.add_argument("--pandas-works", type=int, default=100_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/collab-bench"))
    parser.add_argument("--file", type=Path, help="an existing works file (default: generate one in --workdir)")
    parser.add_argument("--plain", action="store_true", help="generate plain JSON Lines instead of .gz")
    args = parser.parse_args()

    from gen_openalex import generate

    from bot.config import Settings
    from bot.data.build import ensure_built
    from bot.paths import database_path

    args.workdir.mkdir(parents=True, exist_ok=True)
    built = ensure_built(database_path(Settings.from_env()), log=lambda line: print(line, file=sys.stderr))
    works_file = args.file or args.workdir / f"works-{args.works}.jsonl{'' if args.plain else '.gz'}"
    if not works_file.exists():
        print(f"generating {args.works:,} works -> {works_file}", file=sys.stderr)
        generate(works_file, args.works, seed=1, db_path=built)
    size_mb = works_file.stat().st_size / 1e6
    print(f"input: {works_file} ({size_mb:,.0f} MB, {args.works:,} works), machine: {os.cpu_count()} cores")

    results = []
    target = args.workdir / "collab.duckdb"
    shutil.copyfile(built, target)
    env = {**os.environ, "COLLAB_DB": str(target)}
    ingest = measure(
        "collab ingest openalex",
        [sys.executable, "-m", "bot.cli", "ingest", "openalex", str(works_file), "--no-progress"],
        env,
    )
    ingest["works"] = args.works
    results.append(ingest)
    floor = measure("DuckDB floor (read_json + self-join)", [sys.executable, "-c", FLOOR, str(works_file)])
    floor["works"] = args.works
    results.append(floor)
    pandas_n = min(args.pandas_works, args.works)
    pandas_file = (
        works_file
        if pandas_n == args.works
        else head(works_file, args.workdir / f"works-head-{pandas_n}.jsonl", pandas_n)
    )
    pandas = measure(
        f"pandas (read_json lines, explode, merge) on {pandas_n:,}", [sys.executable, "-c", PANDAS, str(pandas_file)]
    )
    pandas["works"] = pandas_n
    results.append(pandas)

    scale = args.works / pandas_n
    print(f"\n{'contender':<48} {'works':>10} {'seconds':>9} {'works/s':>10} {'peak MB':>9}")
    for r in results:
        print(
            f"{r['label']:<48} {r['works']:>10,} {r['seconds']:>9.1f} {r['works'] / r['seconds']:>10,.0f} {r['peak_mb']:>9,.0f}"
        )
    pandas_seconds = pandas["seconds"] * scale
    if scale != 1:
        print(
            f"{'pandas, scaled linearly to ' + format(args.works, ','):<48} {args.works:>10,} {pandas_seconds:>9.1f} "
            f"{args.works / pandas_seconds:>10,.0f} {pandas['peak_mb'] * scale:>9,.0f}  (estimate)"
        )
    faster = pandas_seconds / ingest["seconds"]
    of_floor = ingest["seconds"] / floor["seconds"]
    print(f"\ningest vs pandas: {faster:.1f}x faster (aim >= 5x) {'OK' if faster >= 5 else 'MISSED'}")
    print(f"ingest vs floor:  {of_floor:.1f}x the floor's time (aim <= 3x) {'OK' if of_floor <= 3 else 'MISSED'}")
    print(
        f"ingest peak memory: {ingest['peak_mb']:,.0f} MB (aim < 2,048) {'OK' if ingest['peak_mb'] < 2048 else 'MISSED'}"
    )
    print(f"floor result: {floor['out']} (pair-year rows, pair links); pandas result: {pandas['out']}")
    print("ingest summary:\n  " + ingest["err"].replace("\n", "\n  "))
    return 0 if faster >= 5 and of_floor <= 3 and ingest["peak_mb"] < 2048 else 1


if __name__ == "__main__":
    sys.exit(main())
