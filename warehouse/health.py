"""Whether each source answered at its last run: a failed one makes its KPIs `stale`."""

from __future__ import annotations

import datetime as dt

import duckdb

from connectors.spec import DepartmentSpec
from warehouse.backend import retry_on_conflict
from warehouse.db import transaction
from warehouse.raw import ensure_meta


def record_health(con: duckdb.DuckDBPyConnection, department: DepartmentSpec,
                  error: str | None = None) -> None:
    """Note that every dataset of `department` was just fetched (error=None) or failed."""
    ensure_meta(con)
    now = dt.datetime.now(dt.UTC)
    status = "ok" if error is None else "failed"

    def write() -> None:
        with transaction(con):  # one transaction, run again whole if another lake writer conflicts
            for spec in department.datasets:
                _record(con, spec.table_name, department.name, status, now, error)

    retry_on_conflict(con, write, f"recording the health of `{department.name}`")


def _record(con: duckdb.DuckDBPyConnection, dataset: str, department: str, status: str,
            now: dt.datetime, error: str | None) -> None:
    con.execute("""
        merge into meta.source_health as t
        using (select ?::varchar as dataset, ?::varchar as department, ?::varchar as status,
                      ?::timestamptz as checked_at, ?::timestamptz as last_success_at,
                      ?::varchar as error) as s
        on t.dataset = s.dataset
        when matched then update set
            status = s.status, checked_at = s.checked_at,
            last_success_at = coalesce(s.last_success_at, t.last_success_at), error = s.error
        when not matched then insert values (s.dataset, s.department, s.status, s.checked_at,
                                             s.last_success_at, s.error)
    """, [dataset, department, status, now, now if error is None else None, error])
