"""A Result as machine-readable JSON or CSV, with stable column names."""

from __future__ import annotations

import csv
import io
import json

from bot.engine.result import Result


def to_json(result: Result) -> str:
    return json.dumps(result.to_dict(), ensure_ascii=False, indent=2, default=str)


def to_csv(result: Result) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(result.columns)
    for row in result.rows():
        writer.writerow(["" if v is None else (";".join(map(str, v)) if isinstance(v, list) else v) for v in row])
    return buffer.getvalue()
