"""Where the shipped data, the reviewed SQL and the built database live.

From a source checkout (or an editable install) the top-level data/ and queries/ folders are read
directly; an installed wheel carries the same files as bot/_shipped/ (see setup.py). The built
database goes to data/collab.duckdb in a checkout, and to the user's cache folder for an installed
copy, whose package folder may not be writable; COLLAB_DB overrides both.
"""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings

PACKAGE_DIR = Path(__file__).resolve().parent
CHECKOUT_DIR = PACKAGE_DIR.parent
SHIPPED_DIR = PACKAGE_DIR / "_shipped"
DATABASE_NAME = "collab.duckdb"


def _is_checkout() -> bool:
    """Whether this package runs from its source tree, next to the data/ and queries/ it ships."""
    return not SHIPPED_DIR.is_dir() and (CHECKOUT_DIR / "queries").is_dir() and (CHECKOUT_DIR / "data").is_dir()


FROM_CHECKOUT = _is_checkout()
_ROOT = CHECKOUT_DIR if FROM_CHECKOUT else SHIPPED_DIR
DATA_DIR = _ROOT / "data"
ETO_DIR = DATA_DIR / "eto"
QUERIES_DIR = _ROOT / "queries"


def database_path(settings: Settings) -> Path:
    """The analytics DuckDB file: COLLAB_DB; else data/collab.duckdb in a checkout, else the user cache."""
    if settings.collab_db:
        return Path(settings.collab_db)
    if FROM_CHECKOUT:
        return DATA_DIR / DATABASE_NAME
    return user_cache_dir() / DATABASE_NAME


def user_cache_dir() -> Path:
    """The per-user cache folder for collab (e.g. ~/.cache/collab on Linux)."""
    from platformdirs import user_cache_path

    return user_cache_path("collab", appauthor=False)


def source_files() -> list[Path]:
    """Every file the database is built from; the database is stale when any is newer."""
    files = sorted(ETO_DIR.glob("*/*.csv"))
    files += [DATA_DIR / name for name in ("countries.csv", "groups.csv", "fields.csv")]
    return files
