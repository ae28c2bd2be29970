"""The reviewed SQL files in queries/: one per command, each with a header naming its parameters."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from bot.engine.catalog import ALLOWED_TABLES
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


def names() -> list[str]:
    return sorted(path.stem for path in QUERIES_DIR.glob("*.sql"))
