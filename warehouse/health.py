"""Whether each source answered at its last run: a failed one makes its KPIs `stale`."""

from __future__ import annotations

import datetime as dt

import duckdb

from connectors.spec import DepartmentSpec
from warehouse.raw import ensure_meta


def record_health(con: duckdb.DuckDBPyConnection, department: DepartmentSpec,
                  error: str | None = None) -> None:
    """Note that every dataset of `department` was just fetched (error=None) or failed."""
    ensure_meta(con)
    now = dt.datetime.now(dt.UTC)
    status = "ok" if error is None else "failed"
    for spec in department.datasets:
        con.execute("""
            insert into meta.source_health values (?, ?, ?, ?, ?, ?)
            on conflict (dataset) do update set
                status = excluded.status, checked_at = excluded.checked_at,
                last_success_at = coalesce(excluded.last_success_at, meta.source_health.last_success_at),
                error = excluded.error
        """, [spec.table_name, department.name, status, now, now if error is None else None, error])
