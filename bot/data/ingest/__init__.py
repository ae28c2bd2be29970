"""Paper-level sources -> the analytics DuckDB: `collab ingest openalex PATH...`.

- `openalex`: reading OpenAlex works (snapshot JSON Lines, plain or gzipped) into papers, merging
  and the atomic swap;
- `mapping`: which OpenAlex concepts, topics and keywords make a work part of which field;
- `store`: the paper tables, the aggregates derived from them, and carrying them over a rebuild;
- `reader`: finding files and reading them in chunks of whole lines on a background thread.
"""

from bot.data.ingest.openalex import IngestError, IngestReport, Problem, ingest_openalex

__all__ = ["IngestError", "IngestReport", "Problem", "ingest_openalex"]
