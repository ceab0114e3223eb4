"""The default run's `kpi.kpi_status`, every column of every row, against a committed CSV.

Refactors of the KPI layer (declared KPI views, the status engine in steps) must not change
what officials read. When a rule changes on purpose, regenerate the file and review its diff:
`WRITE_EXPECTED_KPI_STATUS=1 .venv/bin/python -m pytest tests/warehouse/test_kpi_status_expected.py`.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest

from warehouse.db import connect

EXPECTED = Path(__file__).parent / "expected" / "kpi_status.csv"


def _as_csv(warehouse: Path) -> str:
    con = connect(warehouse, read_only=True)
    try:
        cursor = con.execute("select * from kpi.kpi_status order by catalogue_position, checkpoint_year")
        rows = cursor.fetchall()
        header = [d[0] for d in cursor.description]
    finally:
        con.close()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(["" if v is None else repr(v) if isinstance(v, float) else v for v in r]
                     for r in rows)
    return out.getvalue()


def test_the_default_run_gives_the_committed_kpi_status(default_warehouse):
    got = _as_csv(default_warehouse)
    if os.environ.get("WRITE_EXPECTED_KPI_STATUS"):
        EXPECTED.write_text(got, encoding="utf-8")
        pytest.skip(f"{EXPECTED.name} rewritten: review its diff")  # comparing it now proves nothing
    expected = EXPECTED.read_text(encoding="utf-8")
    got_rows, expected_rows = got.splitlines(), expected.splitlines()
    assert got_rows[0] == expected_rows[0], "the columns of kpi.kpi_status changed"
    changed = [(e, g) for e, g in zip(expected_rows, got_rows, strict=False) if e != g]
    assert len(got_rows) == len(expected_rows) == 42 and not changed, changed[:3]
