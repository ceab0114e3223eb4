"""Missing periods for the fault switches `drop_period` and `latest_periods_missing`.

Records left out by year (and month), in JSON records and in published CSV / XLSX files.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from source_server.files import PublishedFile
from source_server.xlsx import deterministic_xlsx

Period = tuple[int, int]  # (year, month); month 0 in yearly data


def _as_int(value: object) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(float(value))  # CSV cells are text, XLSX cells and JSON values numbers
    except (TypeError, ValueError):
        return None


def period(year: object, month: object) -> Period | None:
    """A record's period; None for a record without a year (a footnote, or an undated dataset)."""
    y = _as_int(year)
    return None if y is None else (y, _as_int(month) or 0)


def without_periods(records: list, period_of: Callable[[object], Period | None],
                    drop_period: dict | None, latest_missing: int) -> list:
    """`records` without the periods `drop_period` and `latest_missing` (the latest N) name.

    A record's period comes from `period_of`; records without one (footnotes) always stay. Total
    rows such as 合计 carry their period like any other row, so they go with it.
    """
    if not drop_period and not latest_missing:
        return records
    periods = sorted({p for p in map(period_of, records) if p is not None})
    gone = set(periods[-latest_missing:]) if latest_missing else set()
    if drop_period:
        year, month = drop_period["year"], drop_period.get("month")
        gone.update(p for p in periods if p[0] == year and month in (None, p[1]))
    return [r for r in records if period_of(r) not in gone]


def _file_period(header: list[object]) -> Callable[[list[object]], Period | None]:
    """The period of a file row, read from the columns headed 年份 and 月份 (as `revise` finds them)."""
    def column(word: str) -> int | None:
        return next((i for i, h in enumerate(header) if isinstance(h, str) and word in h), None)

    year, month = column("年份"), column("月份")

    def period_of(row: list[object]) -> Period | None:
        def cell(i: int | None) -> object:
            return row[i] if i is not None and i < len(row) else None
        return period(cell(year), cell(month))
    return period_of


def file_without_periods(spec: PublishedFile, payload: bytes, drop_period: dict | None,
                         latest_missing: int) -> bytes:
    """A published file without the rows of the missing periods (title, header, footnote stay)."""
    if not drop_period and not latest_missing:
        return payload
    if spec.encoding is not None:
        rows = list(csv.reader(io.StringIO(payload.decode(spec.encoding))))
        period_of = _file_period(rows[spec.header_rows - 1])
        rows[spec.header_rows:] = without_periods(rows[spec.header_rows:], period_of, drop_period,
                                                  latest_missing)
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerows(rows)
        return out.getvalue().encode(spec.encoding)
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(payload))
    sheet = book.worksheets[0]
    period_of = _file_period([c.value for c in sheet[spec.header_rows]])
    first = spec.header_rows + 1
    lines = [(row[0].row, [c.value for c in row]) for row in sheet.iter_rows(min_row=first)]
    kept = {n for n, _ in without_periods(lines, lambda line: period_of(line[1]),
                                           drop_period, latest_missing)}
    gone = [n for n, _ in lines if n not in kept]
    # openpyxl moves cells (and their styles) but not merged ranges: move those below by hand
    below = [r for r in sheet.merged_cells.ranges if r.min_row >= first]
    for merged in below:
        sheet.unmerge_cells(str(merged))
    runs: list[list[int]] = []  # [first row, count] of each block of consecutive rows to delete
    for n in gone:
        if runs and runs[-1][0] + runs[-1][1] == n:
            runs[-1][1] += 1
        else:
            runs.append([n, 1])
    for start, count in reversed(runs):  # bottom up, so the rows still to delete stay put
        sheet.delete_rows(start, count)
    for merged in below:
        if merged.min_row not in gone:  # a range on a deleted row goes with it
            merged.shift(row_shift=-sum(1 for n in gone if n < merged.min_row))
            sheet.merge_cells(str(merged))
    # the same bytes for the same faults: stable ETags, as for the unfaulted file
    return deterministic_xlsx(book, book.properties.modified)
