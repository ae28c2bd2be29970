"""Where the shipped data and the built database live."""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
ETO_DIR = DATA_DIR / "eto"
QUERIES_DIR = PROJECT_ROOT / "queries"


def database_path(settings: Settings) -> Path:
    """The analytics DuckDB file: COLLAB_DB, or data/collab.duckdb."""
    return Path(settings.collab_db) if settings.collab_db else DATA_DIR / "collab.duckdb"


def source_files() -> list[Path]:
    """Every file the database is built from; the database is stale when any is newer."""
    files = sorted(ETO_DIR.glob("*/*.csv"))
    files += [DATA_DIR / name for name in ("countries.csv", "groups.csv", "fields.csv")]
    return files
