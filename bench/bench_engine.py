"""Engine benchmark: per-verb latency inside one process, and the whole `collab ask` process.

Budgets (issue: the engine): every verb under 50 ms median on the shipped data; a whole
`collab ask "partners Malaysia"` without a chart under 1.5 s.

    python bench/bench_engine.py [--runs 50] [--process-runs 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

COMMANDS = [
    "partners Malaysia",
    "partners Malaysia by affinity in computer vision from 2018",
    "top 10 non-western from 2015 to 2024",
    "pair China USA",
    "compare China India Japan South Korea",
    "fields Malaysia China",
    "rising China",
    "rising",
    "profile Saudi Arabia",
    "sql SELECT field, count(*) AS n FROM pairs GROUP BY field ORDER BY n DESC",
    "about",
    "help",
]
MEDIAN_BUDGET_MS = 50
PROCESS_BUDGET_S = 1.5


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--process-runs", type=int, default=10)
    args = parser.parse_args()

    from bot.config import Settings
    from bot.data.build import ensure_built
    from bot.engine.answer import answer
    from bot.engine.db import Database
    from bot.paths import database_path

    settings = Settings.from_env()
    ensure_built(database_path(settings), log=lambda line: None)
    db = Database.from_settings(settings)
    failures = 0
    print(f"{'command':<62} {'median ms':>9} {'p95 ms':>8}")
    for command in COMMANDS:
        answer(command, db)  # warm: first query of each file parses and validates it
        timings = []
        for _ in range(args.runs):
            start = time.perf_counter()
            answer(command, db)
            timings.append((time.perf_counter() - start) * 1000)
        median, p95 = statistics.median(timings), percentile(timings, 0.95)
        flag = "" if median < MEDIAN_BUDGET_MS else "  OVER BUDGET"
        failures += bool(flag)
        print(f"{command[:62]:<62} {median:>9.1f} {p95:>8.1f}{flag}")

    timings = []
    for _ in range(args.process_runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bot.cli", "ask", "partners Malaysia"],
            check=True,
            stdout=subprocess.DEVNULL,
            env=os.environ.copy(),
        )
        timings.append(time.perf_counter() - start)
    median, p95 = statistics.median(timings), percentile(timings, 0.95)
    flag = "" if p95 < PROCESS_BUDGET_S else "  OVER BUDGET"
    failures += bool(flag)
    print(f'\nwhole process `collab ask "partners Malaysia"`: median {median:.2f} s, p95 {p95:.2f} s{flag}')
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
