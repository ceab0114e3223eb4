"""Turn published records into canonical, typed columns; what cannot be parsed becomes a reject.

Columnar on purpose: casting row by row in Python is the slow path (about ten times slower).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from connectors.derive import evaluate_expression, match_pattern
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


# Full-width digits and signs (Chinese input methods), and the minus signs typesetting uses.
_HALF_WIDTH = str.maketrans({**{chr(0xFF10 + i): str(i) for i in range(10)},
                             "．": ".", "，": ",", "－": "-", "−": "-", "＋": "+", "％": "%",
                             "‰": "‰", "　": " "})
# A cell that says "no value": blank, or a dash or slash alone.
NO_VALUE = frozenset({"", "—", "——", "–", "-", "－", "/", "／", "…", "NA", "N/A", "n/a"})


def _number_text(values: pd.Series) -> pd.Series:
    """Text of numeric cells as departments write them, normalised for `to_numeric`."""
    text = values.astype("string").str.translate(_HALF_WIDTH).str.strip()
    text = text.str.replace(r"(?<=\d),(?=\d)", "", regex=True)  # thousands separators: 1,013.0
    text = text.str.replace(r"\s*[%‰]$", "", regex=True)  # 45.2% is 45.2 in a `%` column
    return text.mask(text.isin(NO_VALUE))


def _numbers(values: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(values):
        return pd.Series(float("nan"), index=values.index)
    if pd.api.types.is_numeric_dtype(values):
        return pd.to_numeric(values, errors="coerce")
    text = _number_text(values)
    if values.dtype == object:
        # JSON true/false must not pass as 1/0
        text = text.mask(values.map(lambda v: isinstance(v, bool)), "not a number")
    return pd.to_numeric(text, errors="coerce")


def is_blank(values: pd.Series, column: ColumnSpec) -> pd.Series:
    """Cells that hold no value (NULL, not a parse error): empty, or a dash for a number."""
    if column.type in ("integer", "double") and not pd.api.types.is_numeric_dtype(values) \
            and not pd.api.types.is_bool_dtype(values):
        return values.isna() | _number_text(values).isna()
    return values.isna() | values.map(lambda v: isinstance(v, str) and not v.strip()).astype(bool)


def _cast(values: pd.Series, column: ColumnSpec) -> pd.Series:
    """Cast one published column; unparseable cells become NA (the caller finds them)."""
    if column.type in ("integer", "double"):
        numbers = _numbers(values)
        # `inf`, `Infinity` and JSON's 1e400 parse as infinite floats: no statistic, a reject
        numbers = numbers.mask(numbers.isin([float("inf"), float("-inf")]))
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
                  row_numbers: list[int] | None = None,
                  context: dict[str, str | None] | None = None) -> tuple[pd.DataFrame, list[Reject]]:
    """Map published fields to canonical columns, cast types and convert units.

    Rows are numbered from `first_row_number`, or by `row_numbers` (a file's own row numbers).
    `context` holds the file's name, sheet name and title rows (keys `from_filename`,
    `from_sheet`, `from_title`) for columns configured to be taken from them.
    Returns the typed rows (with `_row_number`) and the records that did not parse.
    Raises DeriveError when a configured pattern does not match the file.
    """
    numbers = row_numbers or range(first_row_number, first_row_number + len(records))
    rejects = [Reject(n, {"value": r}, "record is not a JSON object")
               for n, r in zip(numbers, records, strict=True) if not isinstance(r, dict)]
    kept = [(n, r) for n, r in zip(numbers, records, strict=True) if isinstance(r, dict)]
    raw = pd.DataFrame.from_records([r for _, r in kept], index=[n for n, _ in kept])
    frame = pd.DataFrame(index=raw.index)
    reasons = pd.Series(pd.NA, index=raw.index, dtype="object")
    for column in spec.columns:
        if column.derive is not None and column.derive.kind == "expr":
            continue  # computed below, from the typed columns
        published = _published(raw, column, context or {})
        typed = _cast(published, column)
        bad = ~is_blank(published, column) & typed.isna()
        if bad.any():
            why = published[bad].map(lambda v, c=column: f"`{c.source_field}` = {v!r} is not a "
                                     f"valid {c.type}")
            reasons = reasons.where(reasons.notna() | ~bad, why)
        frame[column.name] = typed
    for column in spec.columns:
        if column.derive is not None and column.derive.kind == "expr":
            frame[column.name] = _cast(evaluate_expression(str(column.derive.value), frame), column)
    frame = frame[[c.name for c in spec.columns]]
    failed = reasons.notna()
    by_number = dict(kept)
    rejects += [Reject(int(n), by_number[n], reasons[n]) for n in raw.index[failed]]
    frame = frame[~failed].astype({c.name: _DTYPES[c.type] for c in spec.columns})
    frame.insert(0, ROW_NUMBER, frame.index.astype("int64"))
    return frame.reset_index(drop=True), sorted(rejects, key=lambda r: r.row_number)


def _published(raw: pd.DataFrame, column: ColumnSpec, context: dict[str, str | None]) -> pd.Series:
    """The column as the file carries it, or as the configuration fills it (constant, pattern)."""
    if column.derive is None:
        return raw[column.source_field] if column.source_field in raw else \
            pd.Series(None, index=raw.index, dtype=object)
    if column.derive.kind == "value":
        return pd.Series([column.derive.value] * len(raw), index=raw.index, dtype=object)
    if context.get(column.derive.kind) or f"@{column.derive.kind}" not in raw:
        return pd.Series([match_pattern(column.derive, context)] * len(raw), index=raw.index,
                         dtype=object)
    # Records replayed from quarantine carry their file's name, sheet and title (see
    # `with_file_context`): one match per distinct file.
    places = raw[f"@{column.derive.kind}"]
    found = {text: match_pattern(column.derive, {column.derive.kind: text}) for text in places.unique()}
    return places.map(found).astype(object)


def with_file_context(spec: DatasetSpec, records: list[dict], context: dict[str, str | None]
                      ) -> list[dict]:
    """Records with the file context their pattern columns read (`@from_filename`, …).

    They let a row set aside in quarantine be parsed again later without its file.
    """
    kinds = {c.derive.kind for c in spec.columns if c.derive and c.derive.kind.startswith("from_")}
    if not kinds:
        return records
    extra = {f"@{k}": context.get(k) for k in sorted(kinds)}
    return [{**r, **extra} for r in records]
