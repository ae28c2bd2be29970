"""Paper-level sources -> the analytics DuckDB: `collab ingest openalex PATH... [--engine spark]`.

The derivation itself (works -> papers -> aggregates) is the SQL of queries/ingest/, run through
bot/data/derivation.py by either engine:

- `openalex`: the local (DuckDB) engine: reading OpenAlex works (snapshot JSON Lines, plain or
  gzipped) into papers, merging with the papers held, and the atomic swap;
- `spark`: the Spark engine: the same SQL on a cluster (or local[*]), written as Parquet;
- `parquet`: `collab ingest parquet DIR`, loading that Parquet through the same swap;
- `mapping`: which OpenAlex concepts, topics and keywords make a work part of which field;
- `reader`: finding files and reading them in chunks of whole lines on a background thread.

The paper tables, the aggregates derived from them and the one-writer lock are in bot/data/papers.py,
shared with `collab build` (which carries papers over a rebuild), so build and ingest never import
each other.
"""

from bot.data.ingest.openalex import IngestError, IngestReport, Problem, ingest_openalex

__all__ = ["IngestError", "IngestReport", "Problem", "ingest_openalex"]
