"""Reading KPI results out of the warehouse."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import duckdb

from warehouse.db import as_dicts
from warehouse.errors import WarehouseError
from warehouse.model_properties import read_sources
from warehouse.models import compile_sql, discover, graph_order

STATUSES = ("achieved", "on_track", "at_risk", "off_track", "insufficient_data", "stale")


def read_kpi_status(con: duckdb.DuckDBPyConnection, kpi: str | None = None,
                    status: str | None = None) -> list[dict]:
    """Rows of `kpi.kpi_status` as dicts, in catalogue order, optionally filtered."""
    if status is not None and status not in STATUSES:
        raise WarehouseError(f"unknown status `{status}`; expected one of {', '.join(STATUSES)}")
    return _read(con, "kpi.kpi_status", """
        select * from kpi.kpi_status
        where (? is null or kpi_id = ?) and (? is null or status = ?)
        order by catalogue_position, checkpoint_year
    """, [kpi, kpi, status, status])


def _read(con: duckdb.DuckDBPyConnection, relation: str, sql: str, params: list | None = None
          ) -> list[dict]:
    """The rows of a query on a KPI model; one line saying what to run when the model is missing."""
    try:
        return as_dicts(con.execute(sql, params or []))
    except duckdb.CatalogException:
        raise WarehouseError(f"`{relation}` does not exist yet in this warehouse; run "
                             "`carbonpeak run` (or `carbonpeak build`) first") from None
    except duckdb.Error as exc:
        raise WarehouseError(f"`{relation}` cannot be read ({str(exc).splitlines()[0]}); "
                             "rebuild it with `carbonpeak build`") from None


def check_kpi_status(rows: list[dict]) -> None:
    """Every checkpoint must carry a known status and a reason."""
    bad = [f"{r['kpi_id']} {r['checkpoint_year']}" for r in rows
           if r["status"] not in STATUSES or not r["status_reason"]]
    if bad:
        raise WarehouseError(f"kpi.kpi_status rows without a valid status and reason: {bad}")


def _reads_the_past(models: dict, target: str, sources: set[tuple[str, str]]) -> list[str]:
    """What must be compiled again to see the past, upstream first.

    The models `target` depends on that read `kpi_series` or one of `sources`, directly or
    through another model.
    """
    memo: dict[str, bool] = {}

    def reads(name: str) -> bool:
        if name not in memo:
            model = models[name]
            memo[name] = ("kpi_series" in model.refs or bool(sources & set(model.sources))
                          or any(reads(r) for r in model.refs if r in models))
        return memo[name]

    needed = {r for r in _upstream(models, target) if reads(r)}
    return graph_order({n: {r for r in models[n].refs if r in needed} for n in needed})


def _upstream(models: dict, name: str) -> set[str]:
    found: set[str] = set()
    stack = [r for r in models[name].refs if r in models]
    while stack:
        ref = stack.pop()
        if ref not in found:
            found.add(ref)
            stack += [r for r in models[ref].refs if r in models]
    return found


def read_kpi_status_through(con: duckdb.DuckDBPyConnection, sql_dir: Path, year: int) -> list[dict]:
    """`kpi.kpi_status` as the model computes it at the end of `year`, from the figures up to it.

    The age of the data is judged on 31 December of `year` with what was held by then: a
    department already late that day shows as stale. The history follows the same rules as today.
    """
    return read_as_it_stood(con, sql_dir, "kpi_status", year, dt.date(int(year), 12, 31),
                            order="catalogue_position, checkpoint_year")


def read_as_it_stood(con: duckdb.DuckDBPyConnection, sql_dir: Path, target: str, figures_through: int,
                     held_through: dt.date, order: str = "1") -> list[dict]:
    """The model `target` as it stood on `held_through`, with yearly figures up to `figures_through`.

    The model's own SQL, and that of every step before it that reads the series, the source health
    or the run's date, runs with `kpi_series` cut at `figures_through`, no source failing (today's
    source health says nothing about the past), and the run's date and the data held both
    `held_through` (monthly data after it is not held yet). `figures_through` may lag the date:
    on 20 July 2025 the yearly statistics end in 2024 while the monthly table runs to June.
    """
    models, sources = discover(sql_dir), read_sources(sql_dir)
    day = f"date '{held_through.isoformat()}'"
    then = {  # the sources as they stood: no source failing, judged on that day
        ("meta", "source_health"): f"(select * from {sources['meta', 'source_health']} where false)",
        ("config", "run_context"): f"(select {day} as as_of, {day} as data_through)",
    }
    as_then = {**sources, **then}
    cut = {**models, "kpi_series": SimpleNamespace(
        relation=f"(select * from kpi.kpi_series where year <= {int(figures_through)})"),
        # generated from kpis.yml, read as built (the early warning cuts it at the date itself)
        "kpi_ytd_series": SimpleNamespace(relation="kpi.kpi_ytd_series")}
    # every model before the target that reads the series or those sources, whatever it is, is
    # compiled inline, upstream first
    for name in _reads_the_past(models, target, set(then)):
        cut[name] = SimpleNamespace(relation=f"({compile_sql(models[name], cut, as_then)}\n)")
    try:
        cursor = con.execute(f"select * from ({compile_sql(models[target], cut, as_then)}\n) "
                             f"order by {order}")
    except duckdb.CatalogException:
        raise WarehouseError("the KPI models do not exist yet in this warehouse; run "
                             "`carbonpeak run` (or `carbonpeak build`) first") from None
    except duckdb.Error as exc:
        raise WarehouseError(f"the KPI status cannot be evaluated ({str(exc).splitlines()[0]}); "
                             "rebuild the models with `carbonpeak build`") from None
    return as_dicts(cursor)


def read_early_warnings(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Every row of `kpi.kpi_early_warning` with its KPI's names, unit and direction, in catalogue order."""
    return _read(con, "kpi.kpi_early_warning", """
        select w.*, k.name_zh, k.name_en, k.unit, k.base_year, k.direction
        from kpi.kpi_early_warning as w inner join config.kpis as k using (kpi_id)
        order by k.position, w.year, w.through_month""")
