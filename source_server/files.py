"""Files the embedded departments publish (CSV / XLSX), and the data faults applied to them.

Each file is served at `/files/<department>/<name>` with an ETag (sha256 of the bytes) and a
fixed Last-Modified, so conditional GETs work as against a real web server.
"""

from __future__ import annotations

import csv
import email.utils
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class PublishedFile:
    build: Callable[[], bytes]
    header_rows: int  # rows down to and including the header (faults edit below it)
    published: str  # Last-Modified, as an HTTP date
    content_type: str


def _date(year: int, month: int, day: int) -> str:
    import datetime as dt

    return email.utils.format_datetime(dt.datetime(year, month, day, 1, 0, tzinfo=dt.timezone.utc),
                                       usegmt=True)


def _forest_csv() -> bytes:
    from source_server.forestry_data import forest_resources_csv

    return forest_resources_csv()


def _waste_xlsx() -> bytes:
    from source_server.waste_data import industrial_waste_ledger_xlsx

    return industrial_waste_ledger_xlsx()


CSV = "text/csv; charset=gb18030"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FILES: dict[str, PublishedFile] = {
    "forestry/forest_resources_by_county.csv": PublishedFile(_forest_csv, 3, _date(2026, 3, 12), CSV),
    "waste/industrial_waste_ledger.xlsx": PublishedFile(_waste_xlsx, 3, _date(2026, 2, 15), XLSX),
}


def etag(payload: bytes) -> str:
    return '"' + hashlib.sha256(payload).hexdigest()[:32] + '"'


def with_faults(name: str, payload: bytes, rename: dict[str, str] | None, duplicate: int) -> bytes:
    """The file with a header cell renamed and/or its first data rows repeated."""
    if not rename and not duplicate:
        return payload
    spec = FILES[name]
    if name.endswith(".csv"):
        text = payload.decode("gb18030")
        rows = list(csv.reader(io.StringIO(text)))
        header = spec.header_rows - 1
        rows[header] = [(rename or {}).get(cell, cell) for cell in rows[header]]
        rows[spec.header_rows:spec.header_rows] = rows[spec.header_rows:spec.header_rows + duplicate]
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerows(rows)
        return out.getvalue().encode("gb18030")
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(payload))
    sheet = book.worksheets[0]
    for cell in sheet[spec.header_rows]:
        if isinstance(cell.value, str) and cell.value in (rename or {}):
            cell.value = rename[cell.value]
    first = spec.header_rows + 1
    copies = [[c.value for c in row] for row in sheet.iter_rows(min_row=first,
                                                                max_row=first + duplicate - 1)]
    if copies:
        # openpyxl moves cells but not merged ranges: move the ranges below by hand
        below = [r for r in sheet.merged_cells.ranges if r.min_row >= first]
        for merged in below:
            sheet.unmerge_cells(str(merged))
        sheet.insert_rows(first, amount=len(copies))
        for merged in below:
            merged.shift(row_shift=len(copies))
            sheet.merge_cells(str(merged))
        for offset, values in enumerate(copies):
            for col, value in enumerate(values, 1):
                sheet.cell(row=first + offset, column=col, value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
