"""collab: answers about cross-border AI research collaboration, from real ETO data.

In a notebook: `from bot import ask`; `ask("partners Malaysia").frame` is a pandas DataFrame.
Importing `bot` stays cheap: the engine (DuckDB, pandas) loads on the first question.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.engine.result import Result

__version__ = "0.1.0"
__all__ = ["ask"]

_checked: set[str] = set()  # databases built or found current in this process
_checking = threading.Lock()


def ask(text: str) -> Result:
    """Answer a command or a plain-English question, as `collab ask` does; the database is built if needed.

    Returns the Result: `.frame` (a pandas DataFrame), `.title`, `.summary`, `.notes`, `.sql`, `.to_dict()`.
    Raises a `bot.errors.UserError` with a friendly message when the question can't be answered.
    """
    from bot.engine.answer import answer, default_database

    db = default_database()
    key = str(db.path)
    if key not in _checked:  # once per process: a rebuild later is picked up by the database itself
        with _checking:
            if key not in _checked:
                from bot.data.build import ensure_built

                ensure_built(db.path, log=lambda line: None, memory_limit=db.memory_limit)
                _checked.add(key)
    return answer(text, db)
