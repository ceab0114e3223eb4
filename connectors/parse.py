"""Turn published records into canonical, typed columns; what cannot be parsed becomes a reject.

Columnar on purpose: casting row by row in Python is the slow path (about ten times slower).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from connectors.spec import ColumnSpec, DatasetSpec
from connectors.units import CONVERSIONS

ROW_NUMBER = "_row_number"  # position of the record in the feed, 1-based

# True == 1 and False == 0 as dict keys, so numeric 1 / 0 are covered by the bool keys
_TRUE = {True: True, "true": True, "1": True, "yes": True, "是": True}
_FALSE = {False: False, "false": False, "0": False, "no": False, "否": False}
_DTYPES = {"integer": "Int64", "double": "Float64", "varchar": "string", "boolean": "boolean",
           "date": "object"}


@dataclass(frozen=True)
class Reject:
    """A record the connector could not parse: kept with its raw values and the reason."""

    row_number: int
    raw: dict
    reason: str
    check: str = "parse"


def _numbers(values: pd.Series) -> pd.Series:
    if values.dtype == object:
        values = values.map(lambda v: v.replace(",", "").strip() if isinstance(v, str) else v)
        # JSON true/false must not pass as 1/0
        values = values.where(~values.map(lambda v: isinstance(v, bool)), "not a number")
    elif values.dtype == bool:
        return pd.Series(float("nan"), index=values.index)
    return pd.to_numeric(values, errors="coerce")


def _cast(values: pd.Series, column: ColumnSpec) -> pd.Series:
    """Cast one published column; unparseable cells become NA (the caller finds them)."""
    if column.type in ("integer", "double"):
        numbers = _numbers(values)
        if column.type == "integer":
            numbers = numbers.where(numbers == numbers.round())
            return numbers.astype("Float64").astype("Int64")
        if column.unit:
            # round away float noise (979.38 × 1e4 = 9793800.000000002) so reruns hash the same
            numbers = (numbers * CONVERSIONS[column.unit][1]).round(6)
        return numbers.astype("Float64")
    if column.type == "boolean":
        def to_bool(v: object) -> object:
            key = v.strip().lower() if isinstance(v, str) else v
            return _TRUE.get(key, _FALSE.get(key)) if not isinstance(key, float) else None
        return values.map(to_bool).astype("boolean")
    if column.type == "date":
        return pd.to_datetime(values, errors="coerce").dt.date.astype(object)
    return values.map(lambda v: None if v is None or (isinstance(v, float) and v != v) else str(v)
                      ).astype("string")


def parse_records(spec: DatasetSpec, records: list[dict], first_row_number: int = 1,
                  row_numbers: list[int] | None = None) -> tuple[pd.DataFrame, list[Reject]]:
    """Map published fields to canonical columns, cast types and convert units.

    Rows are numbered from `first_row_number`, or by `row_numbers` (a file's own row numbers).
    Returns the typed rows (with `_row_number`) and the records that did not parse.
    """
    numbers = row_numbers or range(first_row_number, first_row_number + len(records))
    rejects = [Reject(n, {"value": r}, "record is not a JSON object")
               for n, r in zip(numbers, records) if not isinstance(r, dict)]
    kept = [(n, r) for n, r in zip(numbers, records) if isinstance(r, dict)]
    raw = pd.DataFrame.from_records([r for _, r in kept], index=[n for n, _ in kept])
    frame = pd.DataFrame(index=raw.index)
    reasons = pd.Series(pd.NA, index=raw.index, dtype="object")
    for column in spec.columns:
        published = raw[column.source_field] if column.source_field in raw else \
            pd.Series(None, index=raw.index, dtype=object)
        typed = _cast(published, column)
        present = published.notna() & published.map(lambda v: v != "")
        bad = present & typed.isna()
        if bad.any():
            why = published[bad].map(lambda v, c=column: f"`{c.source_field}` = {v!r} is not a "
                                     f"valid {c.type}")
            reasons = reasons.where(reasons.notna() | ~bad, why)
        frame[column.name] = typed
    failed = reasons.notna()
    by_number = dict(kept)
    rejects += [Reject(int(n), by_number[n], reasons[n]) for n in raw.index[failed]]
    frame = frame[~failed].astype({c.name: _DTYPES[c.type] for c in spec.columns})
    frame.insert(0, ROW_NUMBER, frame.index.astype("int64"))
    return frame.reset_index(drop=True), sorted(rejects, key=lambda r: r.row_number)
