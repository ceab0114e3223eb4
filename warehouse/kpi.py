"""Reading KPI results out of the warehouse."""

from __future__ import annotations

import duckdb

from warehouse.errors import WarehouseError

STATUSES = ("achieved", "on_track", "at_risk", "off_track", "insufficient_data", "stale")


def read_kpi_status(con: duckdb.DuckDBPyConnection, kpi: str | None = None,
                    status: str | None = None) -> list[dict]:
    """Rows of `kpi.kpi_status` as dicts, in catalogue order, optionally filtered."""
    if status is not None and status not in STATUSES:
        raise WarehouseError(f"unknown status `{status}`; expected one of {', '.join(STATUSES)}")
    try:
        cursor = con.execute("""
            select * from kpi.kpi_status
            where (? is null or kpi_id = ?) and (? is null or status = ?)
            order by catalogue_position, checkpoint_year
        """, [kpi, kpi, status, status])
    except duckdb.CatalogException:
        raise WarehouseError("`kpi.kpi_status` does not exist yet in this warehouse; run "
                             "`carbonpeak run` (or `carbonpeak build`) first") from None
    except duckdb.Error as exc:
        raise WarehouseError(f"`kpi.kpi_status` cannot be read ({str(exc).splitlines()[0]}); "
                             "rebuild it with `carbonpeak build`") from None
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row)) for row in cursor.fetchall()]


def check_kpi_status(rows: list[dict]) -> None:
    """Every checkpoint must carry a known status and a reason."""
    bad = [f"{r['kpi_id']} {r['checkpoint_year']}" for r in rows
           if r["status"] not in STATUSES or not r["status_reason"]]
    if bad:
        raise WarehouseError(f"kpi.kpi_status rows without a valid status and reason: {bad}")
