"""Engine benchmark: every verb through `ask()` in one process, next to a pandas peer, in the same run.

The peer is what an analyst's notebook would do instead: load the same CSVs into DataFrames once, then
compute the same answer (same columns, same numbers; checked before timing) with pandas for each of
partners, pair, top and pairs, the two taken in turn in every run so both face the same load. Targets: every verb's median at most 5 ms in-process, and at least 2x
faster than the peer on each verb it can express. Also times a whole `collab ask` process.

    python bench/bench_engine.py [--runs 50] [--process-runs 5]

Exits 1 when a target is missed (the line says which), 0 when all are met.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"

# (command, its pandas peer's name or None)
COMMANDS: list[tuple[str, str | None]] = [
    ("partners Malaysia", "partners"),
    ("partners asean in cv", None),
    ("top 10 non-western from 2015 to 2024", "top"),
    ("pairs among non-western in robotics 2023", "pairs"),
    ("pairs between asean and eu by affinity", None),
    ("pair China USA", "pair"),
    ("compare China India Japan South Korea", None),
    ("fields Malaysia China", None),
    ("rising China", None),
    ("rising", None),
    ("profile Saudi Arabia", None),
    ("profile eu", None),
    ("sql SELECT field, count(*) AS n FROM pairs GROUP BY field ORDER BY n DESC", None),
    ("about", None),
    ("help", None),
]
MEDIAN_BUDGET_MS = 5.0
PEER_RATIO = 2.0
PROCESS_BUDGET_S = 1.5


class Notebook:
    """The pandas peer: the shipped CSVs read once, the way an analyst would."""

    def __init__(self) -> None:
        frames = [pd.read_csv(path) for path in sorted((DATA / "eto" / "cross-border").glob("*.csv"))]
        raw = pd.concat(frames, ignore_index=True)
        countries = pd.read_csv(DATA / "countries.csv", keep_default_na=False)
        self.code = dict(zip(countries["eto_cross_border_name"], countries["code"], strict=True))
        self.name = dict(zip(countries["code"], countries["name"], strict=True))
        activity_code = dict(zip(countries["eto_activity_name"], countries["code"], strict=True))
        self.western = set(countries.loc[countries["groups"].str.contains(r"\bwestern\b"), "code"])
        raw["a"] = raw["country1"].map(self.code)
        raw["b"] = raw["country2"].map(self.code)
        swap = raw["a"] > raw["b"]
        raw.loc[swap, ["a", "b"]] = raw.loc[swap, ["b", "a"]].to_numpy()
        # each unordered pair-year once, from either orientation (ETO lists some once, most twice)
        self.pairs = raw.drop_duplicates(["a", "b", "field", "year"])[["a", "b", "field", "year", "num_articles"]]
        articles = pd.read_csv(DATA / "eto" / "country-activity" / "publications_yearly_articles.csv")
        articles["code"] = articles["country"].map(activity_code)
        self.articles = articles.dropna(subset=["code"])

    def links(self, scope: pd.DataFrame) -> pd.Series:
        both = pd.concat([scope[["a", "num_articles"]], scope[["b", "num_articles"]].rename(columns={"b": "a"})])
        return both.groupby("a")["num_articles"].sum()

    def partners(self, code: str = "MYS", field: str = "Artificial intelligence") -> pd.DataFrame:
        scope = self.pairs[self.pairs["field"] == field]
        mine = scope[(scope["a"] == code) | (scope["b"] == code)]
        partner = mine["b"].where(mine["a"] == code, mine["a"])
        ranked = (
            mine.assign(partner=partner)
            .groupby("partner")
            .agg(joint_articles=("num_articles", "sum"), published_years=("year", "nunique"))
        )
        own = self.articles[(self.articles["code"] == code) & (self.articles["field"] == "All")]["num_articles"].sum()
        volume = self.links(scope)
        ranked["partner_share"] = ranked["joint_articles"] / own
        ranked["affinity"] = ranked["joint_articles"] * volume.sum() / (volume[code] * volume[ranked.index])
        ranked = ranked.reset_index().sort_values(["joint_articles", "partner"], ascending=[False, True]).head(10)
        ranked.insert(0, "name", ranked["partner"].map(self.name))
        return ranked

    def pair(self, a: str = "CHN", b: str = "USA", field: str = "Artificial intelligence") -> pd.DataFrame:
        lo, hi = sorted((a, b))
        years = pd.DataFrame({"year": sorted(self.pairs.loc[self.pairs["field"] == field, "year"].unique())})
        rows = self.pairs[(self.pairs["a"] == lo) & (self.pairs["b"] == hi) & (self.pairs["field"] == field)]
        out = years.merge(rows[["year", "num_articles"]], on="year", how="left")
        arts = self.articles[self.articles["field"] == "All"].pivot_table(
            index="year", columns="code", values="num_articles", aggfunc="sum"
        )
        out["country_share"] = out["num_articles"] / out["year"].map(arts[a])
        out["partner_share"] = out["num_articles"] / out["year"].map(arts[b])
        return out

    def top(self, field: str = "Artificial intelligence", years: tuple[int, int] = (2015, 2024)) -> pd.DataFrame:
        scope = self.pairs[(self.pairs["field"] == field) & self.pairs["year"].between(*years)]
        volume = self.links(scope)
        volume = volume[~volume.index.isin(self.western)]
        partners = pd.concat([scope[["a", "b"]], scope[["b", "a"]].rename(columns={"b": "a", "a": "b"})])
        count = partners.drop_duplicates().groupby("a")["b"].count()
        arts = (
            self.articles[(self.articles["field"] == "All") & self.articles["year"].between(*years)]
            .groupby("code")["num_articles"]
            .sum()
        )
        out = pd.DataFrame({"cross_border_links": volume, "partners": count[volume.index], "articles": arts})
        out = out.loc[volume.index]
        out["links_per_article"] = out["cross_border_links"] / out["articles"]
        return out.sort_values("cross_border_links", ascending=False).head(10)

    def pairs_among(self, field: str = "Robotics", year: int = 2023) -> pd.DataFrame:
        scope = self.pairs[(self.pairs["field"] == field) & (self.pairs["year"] == year)]
        volume = self.links(scope)
        inside = scope[~scope["a"].isin(self.western) & ~scope["b"].isin(self.western)]
        ranked = inside.groupby(["a", "b"]).agg(
            joint_articles=("num_articles", "sum"), published_years=("year", "count")
        )
        ranked = ranked.reset_index()
        ranked["affinity"] = (
            ranked["joint_articles"] * volume.sum() / (ranked["a"].map(volume) * ranked["b"].map(volume))
        )
        return ranked.sort_values("joint_articles", ascending=False).head(10)


def _same_answer(peer: str, notebook: Notebook, result) -> None:
    """The peer must compute what the engine answers, or the comparison means nothing."""
    frame = result.frame
    if peer == "partners":
        mine = notebook.partners()
        assert list(mine["partner"]) == list(frame["partner_code"]), "partners differ"
        assert list(mine["affinity"].round(9)) == list(frame["affinity"].round(9)), "affinity differs"
    elif peer == "pair":
        mine = notebook.pair()
        assert mine["num_articles"].fillna(-1).tolist() == frame["joint_articles"].fillna(-1).tolist(), "pair differs"
    elif peer == "top":
        mine = notebook.top()
        assert list(mine.index) == list(frame["country_code"]), "top differs"
    elif peer == "pairs":
        mine = notebook.pairs_among()
        assert list(mine["joint_articles"]) == list(frame["joint_articles"]), "pairs differ"


def _time(calls: list[Callable[[], object]], runs: int) -> list[tuple[float, float]]:
    """Median wall-clock and median CPU milliseconds of each call, the calls taken in turn in every run so
    that each faces the same load on a shared machine (CPU time: what the call costs the machine, whatever
    else competes for it; DuckDB's worker threads count too)."""
    for call in calls:
        call()  # warm: first use of each SQL file validates it; pandas warms its own caches
    wall: list[list[float]] = [[] for _ in calls]
    cpu: list[list[float]] = [[] for _ in calls]
    for _ in range(runs):
        for index, call in enumerate(calls):
            start, start_cpu = time.perf_counter(), time.process_time()
            call()
            cpu[index].append((time.process_time() - start_cpu) * 1000)
            wall[index].append((time.perf_counter() - start) * 1000)
    return [(statistics.median(w), statistics.median(c)) for w, c in zip(wall, cpu, strict=True)]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--process-runs", type=int, default=5)
    args = parser.parse_args()

    from bot import ask

    notebook = Notebook()
    peers: dict[str, Callable[[], object]] = {
        "partners": notebook.partners,
        "pair": notebook.pair,
        "top": notebook.top,
        "pairs": notebook.pairs_among,
    }
    failures = 0
    load = os.getloadavg()[0]
    print(f"load average {load:.1f} on {os.cpu_count()} CPUs")
    print(
        f"{'command':<44} {'ask() ms':>9} {'pandas ms':>10} {'ratio':>6} {'ask() CPU':>10} {'pandas CPU':>11} {'ratio':>6}"
    )
    for command, peer in COMMANDS:
        if peer:
            _same_answer(peer, notebook, ask(command))
        calls: list[Callable[[], object]] = [lambda command=command: ask(command)]
        if peer:
            calls.append(peers[peer])
        timings = _time(calls, args.runs)
        ours, ours_cpu = timings[0]
        line = f"{command[:44]:<44} {ours:>9.2f} "
        flags = []
        if peer:
            theirs, theirs_cpu = timings[1]
            line += f"{theirs:>10.2f} {theirs / ours:>5.2f}x {ours_cpu:>10.2f} {theirs_cpu:>11.2f} {theirs_cpu / ours_cpu:>5.2f}x"
            if theirs / ours < PEER_RATIO:
                flags.append("under 2x")
        else:
            line += f"{'':>10} {'':>6} {ours_cpu:>10.2f} {'':>11} {'':>6}"
        if ours > MEDIAN_BUDGET_MS:
            flags.append("over 5 ms")
        failures += bool(flags)
        print(line + ("  " + ", ".join(flags) if flags else ""))

    process_timings = []
    for _ in range(args.process_runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "bot.cli", "ask", "partners Malaysia"],
            check=True,
            stdout=subprocess.DEVNULL,
            env=os.environ.copy(),
        )
        process_timings.append(time.perf_counter() - start)
    median = statistics.median(process_timings)
    print(f'\nwhole process `collab ask "partners Malaysia"`: median {median:.2f} s')
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
