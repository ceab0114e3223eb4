"""The city a warehouse is about, written at every build: `config.city`, one row.

Every mart and `kpi.kpi_status` carry its `city_code` (city.yml `code`), so that rows of several
cities stay apart where they meet: a province's lake (warehouse/province.py), or an analyst's union
of two cities' files. A city without a code (allowed for one city on a DuckDB file) gets null.
"""

from __future__ import annotations

import duckdb


def seed_city(con: duckdb.DuckDBPyConnection, city: dict) -> None:
    """Replace `config.city` (inside the build's transaction) with the facts of city.yml."""
    con.execute("create schema if not exists config")
    con.execute("create or replace table config.city as select ?::varchar as city_code, "
                "?::varchar as city_name, ?::varchar as city_name_zh",
                [city.get("code"), city.get("name"), city.get("name_zh")])
