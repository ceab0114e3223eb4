"""What the age of the data is judged on, written at every build: the as-of date and the datasets.

A department that stops publishing sends nothing new, so no batch is validated and nothing about
its freshness would change: a five-year-old figure would stay `on_track` for ever. Every build
therefore writes `config.run_context` (the as-of date) and `config.datasets` (per dataset: its
department, cadence, publication lag and the end of the latest period held in `raw`), and the
model `kpi.kpi_data_age` judges each dataset on them. A backfill replaces both with the date it
evaluates (warehouse/kpi.py).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from connectors.spec import DatasetSpec, SourcesConfig
from warehouse.db import has_table, quote_ident, replace_table

DATASET_COLUMNS = {
    "dataset": "string", "department": "string", "department_zh": "string", "cadence": "string",
    "grain": "string", "publication_lag_days": "Int64", "latest_period_end": "datetime64[s]",
}


def _latest_period_end(con: duckdb.DuckDBPyConnection, spec: DatasetSpec) -> dt.date | None:
    """The last day of the latest period the raw table holds (None: no table, no period, no rows)."""
    if spec.period_grain is None or not has_table(con, "raw", spec.table_name):
        return None
    if spec.period_grain == "day":  # the latest complete day file that is current
        if not has_table(con, "meta", "partitions"):
            return None
        # a day whose every row was set aside is held, but says nothing: it does not count
        return con.execute("select max(partition_day) from meta.partitions where dataset = ? "
                           "and not coalesce(provisional, false) and rows_loaded > 0",
                           [spec.table_name]).fetchone()[0]
    year = quote_ident(spec.period_year)
    if spec.period_month:
        end = f"last_day(make_date({year}, {quote_ident(spec.period_month)}, 1))"
    else:
        end = f"make_date({year}, 12, 31)"
    return con.execute(f"select max({end}) from raw.{quote_ident(spec.table_name)}").fetchone()[0]


def seed_data_age(con: duckdb.DuckDBPyConnection, sources: SourcesConfig, as_of: dt.date) -> None:
    """Replace `config.run_context` and `config.datasets` (inside the build's transaction)."""
    rows = [{"dataset": spec.table_name, "department": dept.name, "department_zh": dept.name_zh,
             "cadence": dept.cadence, "grain": spec.period_grain,
             "publication_lag_days": spec.publication_lag_days,
             "latest_period_end": _latest_period_end(con, spec)}
            for dept in sources.departments for spec in dept.datasets]
    frame = pd.DataFrame(rows, columns=list(DATASET_COLUMNS)).astype(DATASET_COLUMNS)
    replace_table(con, "config.datasets", frame,
                  select="* replace (cast(latest_period_end as date) as latest_period_end)")
    con.execute("create or replace table config.run_context as select ?::date as as_of, "
                "null::date as data_through", [as_of])
