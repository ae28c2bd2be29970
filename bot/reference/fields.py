"""Research fields, resolved from the shipped reference table `data/fields.csv`."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache

from bot.errors import UnknownField
from bot.paths import DATA_DIR
from bot.reference.countries import DATASETS, normalise, suggest

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
    # ETO names are left out on purpose: activity's "All" means AI, the code `all` every work.
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
    choices = {key: fields[c].name for key, c in _index().items()}
    found = suggest(text, choices) if normalise(text) else []
    shown = " ".join(text.split())[:60]
    hint = f"did you mean {' or '.join(found)}? " if found else ""
    raise UnknownField(f"no field '{shown}' — {hint}Fields: {_listing()}.", tuple(found), typed=shown)


def field_for_eto_name(name: str, dataset: str) -> Field | None:
    """The field an exact ETO `field` value means in `dataset` ("cross_border" or "activity")."""
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}, not {dataset!r}")
    column = f"eto_{dataset}_name"
    return next((f for f in all_fields().values() if getattr(f, column) == name), None)


def find_field(text: str) -> Field | None:
    """The field `text` names exactly, or None; never raises."""
    code = _index().get(normalise(text))
    return all_fields()[code] if code else None
