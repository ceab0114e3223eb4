"""Reading KPI results out of the warehouse."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import duckdb

from warehouse.db import as_dicts
from warehouse.errors import WarehouseError
from warehouse.model_properties import read_sources
from warehouse.models import compile_sql, discover

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
    return as_dicts(cursor)


def check_kpi_status(rows: list[dict]) -> None:
    """Every checkpoint must carry a known status and a reason."""
    bad = [f"{r['kpi_id']} {r['checkpoint_year']}" for r in rows
           if r["status"] not in STATUSES or not r["status_reason"]]
    if bad:
        raise WarehouseError(f"kpi.kpi_status rows without a valid status and reason: {bad}")


def read_kpi_status_through(con: duckdb.DuckDBPyConnection, sql_dir: Path, year: int) -> list[dict]:
    """`kpi.kpi_status` as the model computes it at the end of `year`, from the figures up to it.

    The model's own SQL runs with `kpi_series` cut at `year`, no source failing (today's source
    health says nothing about the past), and the age of the data judged on 31 December of `year`
    with what was held by then: a department already late that day shows as stale. The history
    follows the same rules as today.
    """
    models, sources = discover(sql_dir), read_sources(sql_dir)
    end = f"make_date({int(year)}, 12, 31)"
    at_year_end = {
        **sources,
        ("meta", "source_health"): f"(select * from {sources['meta', 'source_health']} where false)",
        ("config", "run_context"): f"(select {end} as as_of, {end} as data_through)",
    }
    series = {**models, "kpi_series": SimpleNamespace(
        relation=f"(select * from kpi.kpi_series where year <= {int(year)})")}
    # every step between the series and the status, on the cut series and at the year's end
    cut = {**series, **{name: SimpleNamespace(
        relation=f"({compile_sql(models[name], series, at_year_end)}\n)")
        for name in ("kpi_required_path", "kpi_trend", "kpi_data_age")}}
    try:
        cursor = con.execute(f"select * from ({compile_sql(models['kpi_status'], cut, at_year_end)}\n) "
                             "order by catalogue_position, checkpoint_year")
    except duckdb.CatalogException:
        raise WarehouseError("the KPI models do not exist yet in this warehouse; run "
                             "`carbonpeak run` (or `carbonpeak build`) first") from None
    except duckdb.Error as exc:
        raise WarehouseError(f"the KPI status cannot be evaluated ({str(exc).splitlines()[0]}); "
                             "rebuild the models with `carbonpeak build`") from None
    return as_dicts(cursor)
