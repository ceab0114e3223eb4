"""The `config.*` tables every build writes first, in its transaction, for the models to read.

- `config.kpis` and `config.kpi_checkpoints`: the KPI catalogue (warehouse/catalogue.py);
- `config.city`: the city the warehouse is about, one row. Every mart and `kpi.kpi_status` carry
  its `city_code` (city.yml `code`), so that rows of several cities stay apart where they meet: a
  province's lake (warehouse/province.py), or an analyst's union of two cities' files. A city
  without a code (allowed for one city on a DuckDB file) gets null;
- `config.run_context` and `config.datasets`: what the age of the data is judged on
  (warehouse/freshness.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import duckdb

from connectors.spec import SourcesConfig
from warehouse.catalogue import Catalogue, load_catalogue
from warehouse.freshness import seed_data_age


def build_seed(catalogue: Catalogue, city: dict, sources: SourcesConfig, as_of: dt.date
               ) -> Callable[[duckdb.DuckDBPyConnection], None]:
    """What `build_models(seed=...)` runs first: every `config.*` table above."""
    def seed(con: duckdb.DuckDBPyConnection) -> None:
        load_catalogue(con, catalogue)
        seed_city(con, city)
        seed_data_age(con, sources, as_of)

    return seed


def seed_city(con: duckdb.DuckDBPyConnection, city: dict) -> None:
    """Replace `config.city` with the facts of city.yml."""
    con.execute("create schema if not exists config")
    con.execute("create or replace table config.city as select ?::varchar as city_code, "
                "?::varchar as city_name, ?::varchar as city_name_zh",
                [city.get("code"), city.get("name"), city.get("name_zh")])
