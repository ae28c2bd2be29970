"""Paper-level sources -> the analytics DuckDB: `collab ingest openalex PATH...`.

- `openalex`: reading OpenAlex works (snapshot JSON Lines, plain or gzipped) into papers, merging
  and the atomic swap;
- `mapping`: which OpenAlex concepts, topics and keywords make a work part of which field;
- `reader`: finding files and reading them in chunks of whole lines on a background thread.

The paper tables, the aggregates derived from them and the one-writer lock are in bot/data/papers.py,
shared with `collab build` (which carries papers over a rebuild), so build and ingest never import
each other.
"""

from bot.data.ingest.openalex import IngestError, IngestReport, Problem, ingest_openalex

__all__ = ["IngestError", "IngestReport", "Problem", "ingest_openalex"]
