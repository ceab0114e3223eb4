"""Read CSV and XLSX files as departments lay them out.

A title row, a unit row, one or two header rows (merged cells in Excel), total rows (合计/小计/其中)
and a footnote (注：…).

The result is plain records keyed by the flattened header ("危险废物（吨）_利用量"), with the
file's own row numbers, ready for `connectors.parse.parse_records`.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import zipfile
from dataclasses import dataclass, field

from connectors.http import html_page_problem
from connectors.spec import DatasetSpec, TabularSpec

TOTAL_LABEL = "合计"  # a grand-total row: its numbers are checked against the rows it totals


class TabularError(ValueError):
    """The file cannot be read as configured (the caller names the source)."""


# An .xlsx is a zip archive; openpyxl inflates every part it reads. A 40 KB "zip bomb" can
# inflate to gigabytes, so the archive's own directory is read first and a workbook that would
# inflate past these limits is refused unread.
MAX_XLSX_INFLATED_BYTES = 200 * 2**20
MAX_XLSX_RATIO = 200  # real workbooks compress 5-20 times; XML of zeros compresses ~1000 times


def check_not_html(payload: bytes) -> None:
    """A login or error page saved or served in place of the file (200 OK with HTML)."""
    problem = html_page_problem(payload, None, "the file")
    if problem:
        raise TabularError(problem)


def check_xlsx_archive(payload: bytes) -> None:
    """Refuse a corrupt archive, or one that would inflate past the limits, before parsing it."""
    try:
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise TabularError(f"not a readable .xlsx file (not a zip archive: {exc}); ask the "
                           "department for the workbook saved as .xlsx") from None
    inflated = sum(m.file_size for m in members)
    packed = sum(m.compress_size for m in members) or 1
    if inflated > MAX_XLSX_INFLATED_BYTES or (inflated > 10 * 2**20 and inflated / packed > MAX_XLSX_RATIO):
        raise TabularError(f"the .xlsx would inflate to {inflated:,} bytes from {packed:,} "
                           f"(limit {MAX_XLSX_INFLATED_BYTES:,} bytes, ratio {MAX_XLSX_RATIO}); "
                           "refused unread as a possible zip bomb")


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    records: list[dict]
    row_numbers: list[int]  # 1-based rows of the file (lines of a CSV)
    dropped: int  # total and footnote rows skipped
    encoding: str | None = None
    totals: list[dict] = field(default_factory=list)  # the 合计 rows, kept to check the sums
    total_row_numbers: list[int] = field(default_factory=list)
    title: str | None = None  # the rows above the header, joined (the table's title and units)
    sheet: str | None = None  # xlsx: the sheet read


def decode(payload: bytes, encoding: str) -> tuple[str, str]:
    """Text of a CSV payload and the encoding used; `auto` tries UTF-8, then GB18030."""
    if encoding == "auto":
        try:
            return payload.decode("utf-8-sig"), "utf-8"
        except UnicodeDecodeError:
            encoding = "gb18030"  # a superset of GBK: what Chinese Excel exports
    try:
        return payload.decode("utf-8-sig" if encoding == "utf-8" else encoding), encoding
    except UnicodeDecodeError as exc:
        raise TabularError(f"not {encoding} text (byte {exc.start}); set `tabular.encoding`") from None


def _cell(value: object) -> object:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _flatten_header(rows: list[list[object]]) -> tuple[str, ...]:
    """Join header rows top-down with "_"; a blank upper cell inherits from a merged span."""
    width = max(len(r) for r in rows)
    names = []
    for col in range(width):
        parts = []
        for row in rows:
            value = _cell(row[col]) if col < len(row) else None
            if value is not None and str(value) not in parts:
                parts.append(str(value))
        names.append("_".join(parts))
    return tuple(names)


def _table(spec: TabularSpec, rows: list[tuple[int, list[object]]], encoding: str | None) -> Table:
    wanted = set(spec.header_rows)
    header_rows = [cells for number, cells in rows if number in wanted]
    if len(header_rows) != len(wanted):
        raise TabularError(f"the file has fewer than {max(wanted)} rows; check `tabular.header_rows`")
    header = _flatten_header(header_rows)
    records, numbers, dropped, totals, total_numbers = [], [], 0, [], []
    for number, cells in rows:
        if number <= max(wanted):
            continue
        cells = [_cell(c) for c in cells]
        if all(c is None for c in cells):
            continue
        # not strict: a CSV row may stop before the header's last columns, or run past them
        record = {name: value for name, value in zip(header, cells, strict=False) if name}
        if any(isinstance(c, str) and c.startswith(spec.drop_rows_starting_with) for c in cells):
            dropped += 1
            if any(isinstance(c, str) and c.startswith(TOTAL_LABEL) for c in cells):
                totals.append(record)
                total_numbers.append(number)
            continue
        records.append(record)
        numbers.append(number)
    title = " ".join(str(c).strip() for number, cells in rows if number < min(wanted)
                     for c in cells if c is not None and str(c).strip()) or None
    return Table(header, records, numbers, dropped, encoding, totals, total_numbers, title)


def read_csv(spec: TabularSpec, payload: bytes) -> Table:
    check_not_html(payload)
    if b"\x00" in payload:
        raise TabularError("the file contains NUL bytes: it is not a text CSV (a binary file, or "
                           "UTF-16? save it as UTF-8 or GB18030 CSV)")
    text, encoding = decode(payload, spec.encoding)
    try:
        rows = list(enumerate(csv.reader(io.StringIO(text)), 1))
    except csv.Error as exc:
        raise TabularError(f"not a readable CSV file ({exc}; a field over "
                           f"{csv.field_size_limit():,} characters or a broken quote)") from None
    return _table(spec, rows, encoding)


def read_xlsx(spec: TabularSpec, payload: bytes) -> Table:
    """Read one sheet; every cell of a merged range gets the range's value.

    Excel keeps that value in the top-left cell only; filling the range makes merged headers and
    merged body cells both come out whole.
    """
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    check_not_html(payload)
    check_xlsx_archive(payload)
    try:
        book = openpyxl.load_workbook(io.BytesIO(payload), data_only=True)
    except (InvalidFileException, KeyError, OSError, ValueError, zipfile.BadZipFile) as exc:
        raise TabularError(f"not a readable .xlsx file ({exc})") from None
    if spec.sheet and spec.sheet not in book.sheetnames:
        raise TabularError(f"no sheet `{spec.sheet}`; sheets: {', '.join(book.sheetnames)}")
    sheet = book[spec.sheet] if spec.sheet else book.worksheets[0]
    grid = [list(row) for row in sheet.iter_rows(values_only=True)]
    for merged in sheet.merged_cells.ranges:
        value = grid[merged.min_row - 1][merged.min_col - 1]
        for r in range(merged.min_row, merged.max_row + 1):
            for c in range(merged.min_col, merged.max_col + 1):
                grid[r - 1][c - 1] = value
    return dataclasses.replace(_table(spec, list(enumerate(grid, 1)), None), sheet=sheet.title)


def read_table(dataset: DatasetSpec, payload: bytes) -> Table:
    reader = read_xlsx if dataset.format == "xlsx" else read_csv
    return reader(dataset.tabular, payload)
