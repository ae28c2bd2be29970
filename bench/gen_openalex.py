"""Write an OpenAlex-shaped works file (JSON Lines, gzipped when the name ends in .gz) for benchmarks.

Countries follow the real frequencies of ETO's AI data: a multi-country work draws a pair-year from
ETO's AI pairs table weighted by joint_articles (and, for 4% of works, a third country); a
single-country work draws a country-year from ETO's AI country_articles weighted by articles. Every
work carries concepts and topics that map to AI (bot/data/ingest/mapping.py), a share of them to
computer vision, NLP, robotics or LLMs. Works are smaller than real ones (about 2.5 KB instead of
5-20 KB: no abstract, fewer locations), so throughput per work is flattering next to a real
snapshot; the baselines in bench_ingest.py read the same file, so the ratios hold.

    python bench/gen_openalex.py --works 1000000 --out /tmp/works.jsonl.gz [--seed 1]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MULTI_SHARE = 0.22  # works with authors in two or more countries (ETO AI: links / articles ~ 0.24)
TRIPLE_SHARE = 0.04

CONCEPTS = {
    "ai": ("C154945302", "Artificial intelligence", 1),
    "ml": ("C119857082", "Machine learning", 1),
    "cv": ("C31972630", "Computer vision", 1),
    "nlp": ("C204321447", "Natural language processing", 1),
    "robotics": ("C34413123", "Robotics", 3),
    "cs": ("C41008148", "Computer science", 0),
    "math": ("C33923547", "Mathematics", 0),
    "eng": ("C127413603", "Engineering", 0),
}
TOPICS = {
    "ai": ("T10320", "Neural Networks and Applications", "1702", "Artificial Intelligence"),
    "cv": ("T10036", "Advanced Neural Network Applications", "1707", "Computer Vision and Pattern Recognition"),
    "nlp": ("T10181", "Natural Language Processing Techniques", "1702", "Artificial Intelligence"),
    "robotics": ("T10586", "Robotic Path Planning Algorithms", "1707", "Computer Vision and Pattern Recognition"),
    "other": ("T11937", "Research Data Management Practices", "1710", "Information Systems"),
}


def _load_weights(db_path: Path | None):
    import duckdb

    from bot.config import Settings
    from bot.data.build import ensure_built
    from bot.engine.db import sandbox_config
    from bot.paths import database_path

    path = ensure_built(db_path or database_path(Settings.from_env()), log=lambda line: print(line, file=sys.stderr))
    # The serving configuration: DuckDB refuses a second one for a file this process already has open
    # (the tests' session database, for one).
    with duckdb.connect(str(path), read_only=True, config=sandbox_config()) as con:
        pairs = con.execute("""
            SELECT a.iso2, b.iso2, p.year, p.joint_articles FROM pairs p
            JOIN countries a ON a.code = p.country_a JOIN countries b ON b.code = p.country_b
            WHERE p.field = 'ai' AND p.source = 'eto' AND a.iso2 <> '' AND b.iso2 <> ''""").fetchall()
        singles = con.execute("""
            SELECT c.iso2, a.year, a.articles FROM country_articles a JOIN countries c ON c.code = a.country
            WHERE a.field = 'ai' AND a.source = 'eto' AND c.iso2 <> '' AND a.articles > 0""").fetchall()
    return pairs, singles


def _cumulative(weights):
    total, out = 0, []
    for w in weights:
        total += w
        out.append(total)
    return out


def _concept(key: str, score: float) -> dict:
    cid, name, level = CONCEPTS[key]
    return {
        "id": f"https://openalex.org/{cid}",
        "wikidata": "https://www.wikidata.org/wiki/Q11660",
        "display_name": name,
        "level": level,
        "score": round(score, 6),
    }


def _topic(key: str, score: float) -> dict:
    tid, name, sub, sub_name = TOPICS[key]
    return {
        "id": f"https://openalex.org/{tid}",
        "display_name": name,
        "score": round(score, 4),
        "subfield": {"id": f"https://openalex.org/subfields/{sub}", "display_name": sub_name},
        "field": {"id": "https://openalex.org/fields/17", "display_name": "Computer Science"},
        "domain": {"id": "https://openalex.org/domains/3", "display_name": "Physical Sciences"},
    }


def make_work(n: int, countries: list[str], year: int, rng: random.Random) -> dict:
    authors = max(len(countries), rng.randint(1, 6))
    assigned = countries + [rng.choice(countries) for _ in range(authors - len(countries))]
    rng.shuffle(assigned)
    authorships = []
    for i, code in enumerate(assigned):
        inst = rng.randrange(200_000)
        institutions = (
            []
            if rng.random() < 0.08
            else [
                {
                    "id": f"https://openalex.org/I{inst}",
                    "display_name": f"Institute {inst}",
                    "ror": f"https://ror.org/0{inst:07d}",
                    "country_code": code,
                    "type": "education",
                    "lineage": [f"https://openalex.org/I{inst}"],
                }
            ]
        )
        authorships.append(
            {
                "author_position": "first" if i == 0 else ("last" if i == authors - 1 else "middle"),
                "author": {
                    "id": f"https://openalex.org/A{rng.randrange(10**10)}",
                    "display_name": f"Author {i}",
                    "orcid": None,
                },
                "institutions": institutions,
                "countries": [code],
                "is_corresponding": i == 0,
                "raw_author_name": f"Author {i}",
                "raw_affiliation_strings": [f"Institute {inst}, {code}"],
            }
        )
    r = rng.random()
    ai_score = rng.uniform(0.3, 0.9) if r < 0.6 else 0.0  # 40%: AI only through an ancestor + topic
    concepts = [
        _concept("cs", rng.uniform(0.3, 0.8)),
        _concept("ai", ai_score),
        _concept("ml", rng.uniform(0, 0.5)),
        _concept("math", rng.uniform(0, 0.3)),
        _concept("eng", rng.uniform(0, 0.2)),
    ]
    topics = [_topic("ai", rng.uniform(0.9, 1.0))]
    keywords = [{"id": "https://openalex.org/keywords/deep-learning", "display_name": "Deep Learning", "score": 0.5}]
    sub = rng.random()
    if sub < 0.30:
        concepts.append(_concept("cv", rng.uniform(0.3, 0.9)))
        topics.insert(0, _topic("cv", rng.uniform(0.9, 1.0)))
    elif sub < 0.45:
        concepts.append(_concept("nlp", rng.uniform(0.3, 0.9)))
        topics.insert(0, _topic("nlp", rng.uniform(0.9, 1.0)))
        if rng.random() < 0.3:
            keywords.append(
                {
                    "id": "https://openalex.org/keywords/large-language-models",
                    "display_name": "Large Language Models",
                    "score": 0.6,
                }
            )
    elif sub < 0.52:
        concepts.append(_concept("robotics", rng.uniform(0.3, 0.9)))
        topics.insert(0, _topic("robotics", rng.uniform(0.9, 1.0)))
    topics.append(_topic("other", rng.uniform(0.5, 0.9)))
    wid = f"https://openalex.org/W{4_000_000_000 + n}"
    return {
        "id": wid,
        "doi": f"https://doi.org/10.5555/bench.{n}",
        "title": f"Synthetic AI work {n}",
        "display_name": f"Synthetic AI work {n}",
        "publication_year": year,
        "publication_date": f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "ids": {"openalex": wid},
        "language": "en",
        "type": "article",
        "authorships": authorships,
        "countries_distinct_count": len(set(countries)),
        "institutions_distinct_count": len(authorships),
        "cited_by_count": rng.randrange(200),
        "primary_topic": topics[0],
        "topics": topics[:3],
        "keywords": keywords,
        "concepts": concepts,
        "referenced_works_count": 5,
        "referenced_works": [f"https://openalex.org/W{rng.randrange(10**10)}" for _ in range(5)],
        "counts_by_year": [{"year": 2025, "cited_by_count": rng.randrange(20)}],
        "updated_date": f"2025-09-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00.000000",
        "created_date": f"{year}-12-31",
    }


def generate(out: Path, works: int, seed: int = 1, db_path: Path | None = None) -> Path:
    rng = random.Random(seed)
    pairs, singles = _load_weights(db_path)
    pair_cum = _cumulative(p[3] for p in pairs)
    single_cum = _cumulative(s[2] for s in singles)
    opener = gzip.open if out.suffix == ".gz" else open
    out.parent.mkdir(parents=True, exist_ok=True)
    kwargs = {"compresslevel": 3} if out.suffix == ".gz" else {}
    with opener(out, "wt", encoding="utf-8", **kwargs) as f:
        batch = []
        for n in range(works):
            if rng.random() < MULTI_SHARE:
                a, b, year, _ = rng.choices(pairs, cum_weights=pair_cum)[0]
                countries = [a, b]
                if rng.random() < TRIPLE_SHARE / MULTI_SHARE:
                    third = rng.choices(singles, cum_weights=single_cum)[0][0]
                    if third not in countries:
                        countries.append(third)
            else:
                code, year, _ = rng.choices(singles, cum_weights=single_cum)[0]
                countries = [code]
            batch.append(json.dumps(make_work(n, countries, year, rng), separators=(",", ":")))
            if len(batch) >= 5000:
                f.write("\n".join(batch) + "\n")
                batch.clear()
        if batch:
            f.write("\n".join(batch) + "\n")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--works", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", type=Path, help="the analytics DuckDB to read ETO frequencies from (default COLLAB_DB)")
    args = parser.parse_args()
    generate(args.out, args.works, args.seed, args.db)
    print(f"wrote {args.works:,} works to {args.out} ({args.out.stat().st_size / 1e6:,.1f} MB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
