"""Build the departments' report workbooks and write them to bytes that are identical on every call.

`report_workbook` lays out one sheet the way a government report looks: a bold title merged across
row 1, group headers over column ranges (or a right-aligned unit line) in row 2, the bold column
header in row 3, the data lines from row 4 with per-column number formats and bold total rows, and
a footnote line merged across the end.

`Workbook.save` stamps the document's `modified` time and `zipfile` stamps every entry with the
current time, so `deterministic_xlsx` writes the workbook with openpyxl's `ExcelWriter` directly
and re-packs the zip entries with a fixed timestamp. Stable bytes give stable ETags and checksums.
"""

from __future__ import annotations

import datetime
import io
import zipfile
from collections.abc import Callable, Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter


def report_workbook(*, sheet: str, title: str, header: list[str], lines: list[list[object]],
                    footnote: str, widths: list[float], creator: str, timestamp: datetime.datetime,
                    groups: Sequence[tuple[str, str]] = (), unit_line: str | None = None,
                    is_total: Callable[[list[object]], bool] = lambda line: False,
                    number_formats: dict[int, str] | None = None,
                    wrap_header: bool = False) -> Workbook:
    """One-sheet report workbook.

    `groups` are (label, cell range such as "A2:D2") pairs merged in row 2; `unit_line` instead
    fills row 2 across all columns. `number_formats` maps 1-based columns to the format of their
    data cells; the lines for which `is_total` is true are bold. `widths` go column by column.
    """
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    bold = Font(bold=True)
    center = Alignment(horizontal="center", vertical="center")
    n_cols = len(header)

    ws["A1"] = title
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = center
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=n_cols)
    if unit_line is not None:
        ws["A2"] = unit_line
        ws["A2"].alignment = Alignment(horizontal="right", vertical="center")
        ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=n_cols)
    for label, cell_range in groups:
        top_left = ws[cell_range.split(":")[0]]
        top_left.value = label
        top_left.font = bold
        top_left.alignment = center
        ws.merge_cells(cell_range)
    header_alignment = (Alignment(horizontal="center", vertical="center", wrap_text=True)
                        if wrap_header else center)
    for col, label in enumerate(header, start=1):
        cell = ws.cell(row=3, column=col, value=label)
        cell.font = bold
        cell.alignment = header_alignment

    number_formats = number_formats or {}
    row_no = 4
    for line in lines:
        for col, value in enumerate(line, start=1):
            cell = ws.cell(row=row_no, column=col, value=value)
            if col in number_formats:
                cell.number_format = number_formats[col]
        if is_total(line):
            for col in range(1, n_cols + 1):
                ws.cell(row=row_no, column=col).font = bold
        row_no += 1
    ws.cell(row=row_no, column=1, value=footnote)
    ws.merge_cells(start_row=row_no, start_column=1, end_row=row_no, end_column=n_cols)

    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = "A4"

    wb.properties.created = timestamp
    wb.properties.modified = timestamp
    wb.properties.creator = creator
    wb.properties.lastModifiedBy = creator
    return wb


def deterministic_xlsx(workbook: Workbook, timestamp: datetime.datetime) -> bytes:
    workbook.properties.created = timestamp
    workbook.properties.modified = timestamp
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(workbook, archive).save()  # save() closes the archive
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=timestamp.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            target.writestr(entry, source.read(info.filename))
    return out.getvalue()
