"""Write an openpyxl workbook to bytes that are identical on every call.

`Workbook.save` stamps the document's `modified` time and `zipfile` stamps every entry with the
current time, so the workbook is written with openpyxl's `ExcelWriter` directly and the zip
entries are re-packed with a fixed timestamp. Stable bytes give stable ETags and checksums.
"""

from __future__ import annotations

import datetime
import io
import zipfile

from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter


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
