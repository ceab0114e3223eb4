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
    encoding: str | None = None  # of a CSV: gb18030, utf-8 or utf-8-sig; None for XLSX

    @property
    def content_type(self) -> str:
        if self.encoding is None:
            return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return f"text/csv; charset={self.encoding.replace('-sig', '')}"


def _date(year: int, month: int, day: int) -> str:
    import datetime as dt

    return email.utils.format_datetime(dt.datetime(year, month, day, 1, 0, tzinfo=dt.UTC),
                                       usegmt=True)


def _lazy(module: str, function: str) -> Callable[[], bytes]:
    """Import a data module only when its file is first asked for (XLSX building takes time)."""
    def build() -> bytes:
        import importlib

        return getattr(importlib.import_module(f"source_server.{module}"), function)()
    return build


GB, UTF8, BOM = "gb18030", "utf-8", "utf-8-sig"
FILES: dict[str, PublishedFile] = {
    "energy/energy_monthly.csv":
        PublishedFile(_lazy("energy_monthly_data", "energy_monthly_csv"), 3, _date(2026, 1, 16), GB),
    "forestry/forest_resources_by_county.csv":
        PublishedFile(_lazy("forestry_data", "forest_resources_csv"), 3, _date(2026, 3, 12), GB),
    "waste/industrial_waste_ledger.xlsx":
        PublishedFile(_lazy("waste_data", "industrial_waste_ledger_xlsx"), 3, _date(2026, 2, 15)),
    "transport/vehicles_by_county.csv":
        PublishedFile(_lazy("transport_data", "vehicles_csv"), 3, _date(2026, 1, 10), BOM),
    "transport/charging_points_by_county.csv":
        PublishedFile(_lazy("transport_data", "charging_points_csv"), 3, _date(2026, 1, 10), BOM),
    "transport/charging_coverage.csv":
        PublishedFile(_lazy("transport_data", "charging_coverage_csv"), 3, _date(2026, 1, 10), BOM),
    "transport/freight_passenger_energy.csv":
        PublishedFile(_lazy("transport_data", "freight_passenger_energy_csv"), 3, _date(2026, 1, 20), BOM),
    "transport/airport_equipment.csv":
        PublishedFile(_lazy("transport_data", "airport_equipment_csv"), 3, _date(2026, 1, 20), BOM),
    "transport/green_travel_survey.csv":
        PublishedFile(_lazy("transport_data", "green_travel_survey_csv"), 3, _date(2026, 2, 1), BOM),
    "buildings/construction_waste_monthly.csv":
        PublishedFile(_lazy("buildings_data", "construction_waste_csv"), 3, _date(2026, 1, 15), UTF8),
    "industry/cement_clinker_monthly.xlsx":
        PublishedFile(_lazy("industry_data", "cement_report_xlsx"), 3, _date(2026, 1, 18)),
    "public_institutions/public_institutions_energy.xlsx":
        PublishedFile(_lazy("public_institutions_data", "public_institutions_xlsx"), 3, _date(2026, 3, 1)),
    "city_management/domestic_waste_ledger.xlsx":
        PublishedFile(_lazy("municipal_waste_data", "domestic_waste_ledger_xlsx"), 3, _date(2026, 1, 20)),
    "city_management/waste_sorting_coverage.csv":
        PublishedFile(_lazy("municipal_waste_data", "waste_sorting_csv"), 3, _date(2026, 2, 5), UTF8),
    "water/sewage_sludge_disposal.csv":
        PublishedFile(_lazy("municipal_waste_data", "sewage_sludge_csv"), 3, _date(2026, 2, 10), GB),
    "development/industrial_parks_circular_retrofit.csv":
        PublishedFile(_lazy("municipal_waste_data", "industrial_parks_csv"), 3, _date(2026, 1, 30), BOM),
}


def etag(payload: bytes) -> str:
    return '"' + hashlib.sha256(payload).hexdigest()[:32] + '"'


def _number(value: object) -> float | None:
    try:
        return float(value) if not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _edit_values(header: list[object], row: list[object], scale: dict[str, float] | None,
                 revise: dict | None) -> list[object]:
    """A data row with `scale` ({header: factor}) and `revise` ({year, field, factor}) applied."""
    row = list(row)
    factors = dict(scale or {})
    year_col = next((i for i, h in enumerate(header) if isinstance(h, str) and "年份" in h), None)
    if revise and year_col is not None and _number(row[year_col]) == revise["year"]:
        factors[revise["field"]] = factors.get(revise["field"], 1) * revise["factor"]
    for i, label in enumerate(header):
        if label in factors and i < len(row) and _number(row[i]) is not None:
            value = round(_number(row[i]) * factors[label], 6)
            row[i] = f"{value:g}" if isinstance(row[i], str) else value
    return row


def with_faults(name: str, payload: bytes, rename: dict[str, str] | None, duplicate: int,
                scale: dict[str, float] | None = None, revise: dict | None = None) -> bytes:
    """The file with a fault: a header cell renamed, rows repeated, values scaled or revised.

    `duplicate` repeats the first data rows; `scale` is a unit slip (`scale={"森林蓄积量": 10000}`);
    `revise` changes one year's value (`revise={"year": 2020, "field": "森林覆盖率", "factor": 1.01}`).
    Fields are named by their header cell.
    """
    if not rename and not duplicate and not scale and not revise:
        return payload
    spec = FILES[name]
    if spec.encoding is not None:
        text = payload.decode(spec.encoding)
        rows = list(csv.reader(io.StringIO(text)))
        header = spec.header_rows - 1
        if scale or revise:
            rows[spec.header_rows:] = [_edit_values(rows[header], r, scale, revise)
                                       for r in rows[spec.header_rows:]]
        rows[header] = [(rename or {}).get(cell, cell) for cell in rows[header]]
        rows[spec.header_rows:spec.header_rows] = rows[spec.header_rows:spec.header_rows + duplicate]
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerows(rows)
        return out.getvalue().encode(spec.encoding)
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(payload))
    sheet = book.worksheets[0]
    if scale or revise:
        labels = [c.value for c in sheet[spec.header_rows]]
        for row in sheet.iter_rows(min_row=spec.header_rows + 1):
            edited = _edit_values(labels, [c.value for c in row], scale, revise)
            for cell, value in zip(row, edited, strict=True):
                if value != cell.value and not isinstance(cell, openpyxl.cell.cell.MergedCell):
                    cell.value = value
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
