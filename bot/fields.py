"""Research fields, resolved from the shipped reference table `data/fields.csv`."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache

from bot.countries import DATA_DIR, DATASETS, normalise, suggest
from bot.errors import UnknownName

DEFAULT_FIELD = "ai"


@dataclass(frozen=True)
class Field:
    code: str
    name: str
    aliases: tuple[str, ...]
    eto_cross_border_name: str
    eto_activity_name: str
    description: str


@lru_cache(maxsize=1)
def all_fields() -> dict[str, Field]:
    with open(DATA_DIR / "fields.csv", newline="", encoding="utf-8") as f:
        return {
            row["code"]: Field(
                code=row["code"],
                name=row["name"],
                aliases=tuple(a.strip() for a in row["aliases"].split(";") if a.strip()),
                eto_cross_border_name=row["eto_cross_border_name"],
                eto_activity_name=row["eto_activity_name"],
                description=row["description"],
            )
            for row in csv.DictReader(f)
        }


@lru_cache(maxsize=1)
def _index() -> dict[str, str]:
    # ETO names are left out on purpose: activity's "All" means AI, while the code `all` is every work.
    index: dict[str, str] = {}
    for field in all_fields().values():
        for key in (field.code, field.code.replace("_", " "), field.name, *field.aliases):
            index.setdefault(normalise(key), field.code)
    return index


def _listing() -> str:
    return ", ".join(f"{f.code} ({f.name})" for f in all_fields().values())


def resolve_field(text: str) -> Field:
    """The field `text` names by code, name or alias; UnknownName with suggestions otherwise."""
    code = _index().get(normalise(text))
    if code:
        return all_fields()[code]
    fields = all_fields()
    found = suggest(text, {k: fields[c].name for k, c in _index().items()}) if normalise(text) else []
    shown = text.strip()
    hint = f"did you mean {' or '.join(found)}? " if found else ""
    raise UnknownName(f"no field '{shown}' — {hint}Fields: {_listing()}.", tuple(found))


def field_for_eto_name(name: str, dataset: str) -> Field | None:
    """The field an ETO file's exact `field` value stands for in `dataset` (cross_border | activity)."""
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}, not {dataset!r}")
    column = f"eto_{dataset}_name"
    return next((f for f in all_fields().values() if getattr(f, column) == name), None)
