"""Sandbox benchmark: `sql` latency through the worker pool, and what each bomb costs.

For every bomb (statements that pass the validator and then try to exhaust memory or time), it
prints the wall time until the refusal and the peak resident memory of this process plus its SQL
workers, sampled every 5 ms. The README's security figures come from here.

    python bench/bench_sandbox.py [--runs 50]
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
from pathlib import Path

from bot.config import Settings
from bot.engine.answer import answer
from bot.engine.db import Database
from bot.errors import UserError

TYPICAL = (
    "sql SELECT country_a, sum(joint_articles) AS n FROM pairs WHERE field = 'ai' GROUP BY 1 ORDER BY n DESC LIMIT 10"
)
BOMBS = {
    "doubling string (recursive CTE)": "WITH RECURSIVE t(s, n) AS (SELECT 'x', 0 UNION ALL "
    "SELECT s || s, n + 1 FROM t WHERE n < 40) SELECT max(length(s)) FROM t",
    "string_agg over a cross join": "SELECT length(string_agg(a.country_a || b.country_b, ',')) FROM pairs a, pairs b",
    "list() over a cross join": "SELECT len(list(a.year)) FROM pairs a, pairs b",
    "three-way cross join": "SELECT count(DISTINCT a.country_a || b.country_b || c.country_a) "
    "FROM pairs a, pairs b, pairs c",
    "regex over 10^12 rows": "SELECT count(*) FROM pairs a, pairs b, pairs c "
    "WHERE regexp_matches(a.country_a || b.country_b || c.field, 'QQ')",
}


def rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def measure(database: Database, sql: str) -> tuple[float, int, str]:
    """Seconds until the answer or refusal, peak bytes of this process and its workers, and the outcome."""
    peak, done = [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss(os.getpid()) + sum(rss(pid) for pid in database.sql_pool.pids()))
            time.sleep(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    try:
        answer(f"sql {sql}", database)
        outcome = "answered"
    except UserError as error:
        outcome = error.message.split(" and was stopped")[0]
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    return elapsed, peak[0], outcome


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    runs = parser.parse_args().runs
    database = Database.from_settings(Settings.from_env())
    answer("sql SELECT 1", database)
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        answer(TYPICAL, database)
        seconds.append(time.perf_counter() - started)
    seconds.sort()
    print(
        f"sql through the pool: median {statistics.median(seconds) * 1000:.1f} ms, "
        f"p95 {seconds[int(len(seconds) * 0.95) - 1] * 1000:.1f} ms over {runs} runs"
    )
    for name, sql in BOMBS.items():
        elapsed, peak, outcome = measure(database, sql)
        print(f"{name}: {elapsed:.2f} s, process tree peak {peak / 1e6:.0f} MB — {outcome}")
    database.close()


if __name__ == "__main__":
    main()
