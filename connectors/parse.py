"""Turn published records into canonical, typed rows; what cannot be parsed becomes a reject."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import pandas as pd

from connectors.spec import ColumnSpec, DatasetSpec
from connectors.units import to_canonical

ROW_NUMBER = "_row_number"  # position of the record in the feed, 1-based
RAW_JSON = "_raw_json"  # the record exactly as received


@dataclass(frozen=True)
class Reject:
    """A record the connector could not parse: kept with its raw values and the reason."""

    row_number: int
    raw: dict
    reason: str
    check: str = "parse"


class _Unparseable(ValueError):
    pass


def _cast(value: object, column: ColumnSpec) -> object:
    if value is None or value == "":
        return None
    try:
        if column.type == "integer":
            if isinstance(value, bool) or float(value) != int(float(value)):
                raise ValueError
            return int(float(value))
        if column.type == "double":
            number = float(str(value).replace(",", ""))
            return to_canonical(number, column.unit) if column.unit else number
        if column.type == "boolean":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("true", "1", "yes", "是"):
                return True
            if text in ("false", "0", "no", "否"):
                return False
            raise ValueError
        if column.type == "date":
            return dt.date.fromisoformat(str(value)[:10])
        return str(value)
    except (TypeError, ValueError):
        raise _Unparseable(f"`{column.source_field}` = {value!r} is not a valid {column.type}") from None


def parse_records(spec: DatasetSpec, records: list[dict], first_row_number: int = 1
                  ) -> tuple[list[dict], list[Reject]]:
    """Map published fields to canonical columns, cast types and convert units."""
    rows, rejects = [], []
    for offset, record in enumerate(records):
        number = first_row_number + offset
        if not isinstance(record, dict):
            rejects.append(Reject(number, {"value": record}, "record is not a JSON object"))
            continue
        row = {ROW_NUMBER: number, RAW_JSON: json.dumps(record, ensure_ascii=False, sort_keys=True)}
        try:
            for column in spec.columns:
                row[column.name] = _cast(record.get(column.source_field), column)
        except _Unparseable as exc:
            rejects.append(Reject(number, record, str(exc)))
            continue
        rows.append(row)
    return rows, rejects


def to_frame(spec: DatasetSpec, rows: list[dict]) -> pd.DataFrame:
    """Rows as a DataFrame with every configured column, in configured order, typed."""
    dtypes = {"integer": "Int64", "double": "Float64", "varchar": "string", "boolean": "boolean",
              "date": "object"}
    columns = [ROW_NUMBER, RAW_JSON, *(c.name for c in spec.columns)]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype({c.name: dtypes[c.type] for c in spec.columns} | {ROW_NUMBER: "int64"})
