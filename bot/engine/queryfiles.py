"""The reviewed SQL files in queries/: one per command, each with a header naming its parameters."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from bot.engine.catalog import ALLOWED_TABLES
from bot.engine.specialise import shape, specialise
from bot.engine.validate import ValidatedSQL, validate
from bot.paths import QUERIES_DIR

_HEADER = re.compile(r"^--\s*(name|summary):\s*(.*)$")
_PARAM = re.compile(r"^--\s{2,}([a-z_]+)\s{2,}(.*)$")


@dataclass(frozen=True)
class QueryFile:
    name: str
    summary: str
    params: dict[str, str]  # name -> meaning, from the header
    text: str
    validated: ValidatedSQL


@cache
def load(name: str) -> QueryFile:
    text = (QUERIES_DIR / f"{name}.sql").read_text(encoding="utf-8")
    meta: dict[str, str] = {}
    params: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        if match := _HEADER.match(line):
            meta[match.group(1)] = match.group(2).strip()
        elif match := _PARAM.match(line):
            params[match.group(1)] = match.group(2).strip()
    if meta.get("name") != name:
        raise ValueError(f"queries/{name}.sql must start with '-- name: {name}'")
    validated = validate(text, ALLOWED_TABLES, params=frozenset(params))
    undeclared = set(params) - set(validated.params)
    if undeclared:
        raise ValueError(f"queries/{name}.sql declares parameters it never uses: {sorted(undeclared)}")
    return QueryFile(name=name, summary=meta.get("summary", ""), params=params, text=text, validated=validated)


def statement(name: str, values: Mapping[str, Any]) -> ValidatedSQL:
    """The file's statement specialised to the shape of these values (which are NULL, which choices),
    validated once per shape: the statement DuckDB plans for an answer."""
    return _specialised(name, shape(values))


@lru_cache(maxsize=1024)  # shapes are few: choices from closed sets, and which values are NULL
def _specialised(name: str, values_shape: tuple[tuple[str, Any], ...]) -> ValidatedSQL:
    qf = load(name)
    return validate(specialise(qf.text, dict(values_shape)), ALLOWED_TABLES, params=frozenset(qf.params))


def names() -> list[str]:
    return sorted(path.stem for path in QUERIES_DIR.glob("*.sql"))
