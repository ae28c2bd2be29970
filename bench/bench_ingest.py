"""Ingest benchmark: `collab ingest openalex` against two baselines, on the same generated file.

Each contender runs in its own child process; its wall time is measured around it, and its peak
memory and CPU time are sampled from /proc for the child and its descendants, so the figures don't
mix. The load average seen while each ran is printed with it (other jobs on the machine slow it).

- ingest: `collab ingest openalex FILE` into a fresh copy of the built database, the whole command
  (copy, parse, merge, aggregates, checkpoint, rename).
- floor: DuckDB alone: read_json of the same file, the distinct countries of each work, the
  self-join of pairs, counted per pair and year. The least any DuckDB-based ingest can do.
- pandas: pd.read_json(lines=True), explode, self-merge, group-by. It holds every work as Python
  objects, so it runs on the first --pandas-works works (default 100,000) and its time is scaled
  linearly to --works; its memory is reported as measured at that size, with the linear estimate.

Aims (issue): ingest at least 5x faster than pandas, within 3x of the floor, peak memory under 2 GB.

With --engine spark, the baselines give way to the Spark engine on the same file, in the same run:
`collab ingest openalex FILE --engine spark --master local[2] --out DIR` (peak memory: the whole
process tree, JVM included), then the load step `collab ingest parquet DIR` into a copy of the
built database, whose pairs must equal the DuckDB engine's.

    python bench/bench_ingest.py [--works 1000000] [--pandas-works 100000] [--workdir /tmp/collab-bench]
    python bench/bench_ingest.py --engine spark [--master local[2]] [--works 1000000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import threading
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


def _tree(root: int) -> set[int]:
    """A process and all its descendants (the Spark engine's JVM is a child of the collab process,
    which ru_maxrss doesn't see), from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
        except (OSError, ValueError, IndexError):
            continue
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier += children
    return tree


def _rss_and_cpu(pids: set[int]) -> tuple[int, dict[int, float]]:
    """Resident bytes summed over `pids`, and each one's CPU seconds so far (user + system)."""
    total, cpu = 0, {}
    ticks = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu[pid] = (int(fields[11]) + int(fields[12])) / ticks
        except (OSError, ValueError, IndexError):
            continue
    return total, cpu


def measure(label: str, argv: list[str], env: dict[str, str] | None = None) -> dict:
    """Wall time, CPU seconds and peak resident memory of a command and every process it starts,
    sampled every 0.25 s, with the machine's load average (other jobs slow it down)."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    peak, cpu, loads, done = [0], {}, [], threading.Event()

    def sample() -> None:
        while not done.wait(0.25):
            rss, seconds = _rss_and_cpu(_tree(child.pid))
            peak[0] = max(peak[0], rss)
            cpu.update(seconds)
            loads.append(os.getloadavg()[0])

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = child.communicate()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    if child.returncode != 0:
        raise SystemExit(f"{label} failed ({child.returncode}):\n{err[-3000:]}")
    return {
        "label": label,
        "seconds": seconds,
        "cpu_seconds": sum(cpu.values()),
        "peak_mb": peak[0] / 2**20,
        "load": (min(loads), max(loads)) if loads else os.getloadavg()[:1] * 2,
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
    parser.add_argument(
        "--engine",
        choices=("duckdb", "spark"),
        default="duckdb",
        help="spark: the Spark engine (--master, default local[2]) next to the DuckDB one, instead of the baselines",
    )
    parser.add_argument("--master", default="local[2]", help="with --engine spark: the Spark master")
    parser.add_argument(
        "--parts",
        type=int,
        default=4,
        help="with --engine spark: split the input into this many .gz parts, as the snapshot is (both engines read them)",
    )
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

    if args.engine == "spark" and args.parts > 1:
        works_file = split_into_parts(works_file, args.workdir / f"works-{args.works}-in-{args.parts}", args.parts)
        print(f"split into {args.parts} parts: {works_file}")

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
    if args.engine == "spark":
        return spark_next_to_duckdb(args, works_file, built, ingest)
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
    print(f"\n{'contender':<48} {'works':>10} {'seconds':>9} {'works/s':>10} {'CPU s':>8} {'peak MB':>9}")
    for r in results:
        print(
            f"{r['label']:<48} {r['works']:>10,} {r['seconds']:>9.1f} {r['works'] / r['seconds']:>10,.0f} "
            f"{r['cpu_seconds']:>8,.0f} {r['peak_mb']:>9,.0f}"
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


def split_into_parts(source: Path, folder: Path, parts: int) -> Path:
    """The works file as `parts` gzipped files in the snapshot's layout (Spark reads each .gz part
    with one task: one big file would keep every core but one idle)."""
    import gzip

    target = folder / "works" / "updated_date=2026-01-01"
    if target.is_dir() and len(list(target.glob("part_*.gz"))) == parts:
        return folder
    target.mkdir(parents=True, exist_ok=True)
    opener = gzip.open if source.suffix == ".gz" else open
    with opener(source, "rb") as f:
        lines = sum(1 for _ in f)
    per_part = -(-lines // parts)
    with opener(source, "rb") as f:
        for n in range(parts):
            with gzip.open(target / f"part_{n:03d}.gz", "wb", compresslevel=1) as out:
                for _ in range(per_part):
                    line = f.readline()
                    if not line:
                        break
                    out.write(line)
    return folder


def spark_next_to_duckdb(args: argparse.Namespace, works_file: Path, built: Path, duckdb_run: dict) -> int:
    """The Spark engine on the same file: derive to Parquet (--out), then load it into a copy of
    the built database; the loaded tables must equal the DuckDB engine's."""
    import duckdb

    out = args.workdir / "spark-parquet"
    shutil.rmtree(out, ignore_errors=True)
    derive = measure(
        f"collab ingest openalex --engine spark ({args.master})",
        [sys.executable, "-m", "bot.cli", "ingest", "openalex", str(works_file), "--engine", "spark"]
        + ["--master", args.master, "--out", str(out)],
    )
    loaded_db = args.workdir / "collab-spark.duckdb"
    shutil.copyfile(built, loaded_db)
    load = measure(
        "collab ingest parquet (the load step)",
        [sys.executable, "-m", "bot.cli", "ingest", "parquet", str(out), "--db", str(loaded_db)],
    )
    parquet_mb = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 1e6
    print(f"\n{'engine':<48} {'works':>10} {'seconds':>9} {'works/s':>10} {'CPU s':>8} {'peak MB':>9} {'load':>10}")
    for r in (duckdb_run, derive, load):
        rate = f"{args.works / r['seconds']:>10,.0f}" if r is not load else f"{'':>10}"
        print(
            f"{r['label']:<48} {args.works:>10,} {r['seconds']:>9.1f} {rate} {r['cpu_seconds']:>8,.0f} "
            f"{r['peak_mb']:>9,.0f} {r['load'][0]:>4.1f}–{r['load'][1]:<4.1f}"
        )
    print(
        f"Parquet written: {parquet_mb:,.1f} MB; Spark / DuckDB time: {derive['seconds'] / duckdb_run['seconds']:.1f}x"
    )
    query = """SELECT count(*), sum(joint_articles), sum(fractional_articles) FROM pairs WHERE source = 'openalex'"""
    with duckdb.connect(str(args.workdir / "collab.duckdb"), read_only=True) as a:
        local = a.execute(query).fetchone()
    with duckdb.connect(str(loaded_db), read_only=True) as b:
        spark = b.execute(query).fetchone()
    same = local[:2] == spark[:2] and abs(local[2] - spark[2]) <= 1e-6
    print(f"pairs (rows, joint, fractional): duckdb {local}, spark {spark}: {'SAME' if same else 'DIFFERENT'}")
    print("spark summary:\n  " + derive["err"].replace("\n", "\n  "))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
