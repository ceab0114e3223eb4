"""Helpers for tests: run the pipeline without Prefect, and fingerprint a warehouse."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from pathlib import Path

from connectors.fetch import fetch_dataset
from connectors.result import FetchResult
from connectors.spec import SourcesConfig, load_city
from expectations.gate import Batch, check_batch, check_fetched
from flows.settings import PROJECT_ROOT
from source_server import SNAPSHOT_DATE
from source_server import meters_data as md
from source_server.meters_feed import MetersFeed
from warehouse.catalogue import read_catalogue
from warehouse.db import connect
from warehouse.kpi_views import generated_models
from warehouse.load import LoadResult, load_batches
from warehouse.models import build_models, ensure_declared_sources
from warehouse.seed import build_seed
from warehouse.state import read_source_states, states_of

MIANYANG_CITY = load_city(PROJECT_ROOT / "config" / "mianyang" / "city.yml")


def small_meters() -> MetersFeed:
    """The meters' feed tests serve: 3 clean buildings from 22 February.

    The demo serves 20 from January with the generator's faults; here the default scenario stays
    clean (no data-quality alert, every row loads), and the day-file tests inject the faults.
    """
    return MetersFeed(buildings=3, start=dt.date(2026, 2, 22), faults=md.NO_FAULTS)


def datasets_of(config: SourcesConfig, department: str, keep) -> SourcesConfig:
    """`config` with only `department`, and of it only the datasets `keep(spec)` accepts."""
    dept = config.department(department)
    return dataclasses.replace(config, departments=(dataclasses.replace(
        dept, datasets=tuple(d for d in dept.datasets if keep(d))),))


def fetch_and_check(config: SourcesConfig, url: str, token: str, warehouse: Path) -> list[Batch]:
    """Every dataset of every department, fetched (conditionally) and checked, as the flows do."""
    con = connect(warehouse)
    try:
        return fetch_and_check_on(con, config, url, token, warehouse.parent / "downloads")
    finally:
        con.close()


def fetch_and_check_on(con, config: SourcesConfig, url: str, token: str, downloads: Path) -> list[Batch]:
    """`fetch_and_check` on an open connection: a DuckDB file's, or a DuckLake's."""
    states = read_source_states(con)
    ensure_declared_sources(con, PROJECT_ROOT / "dbt_like_sql")
    batches = []
    for department in config.departments:
        for spec in department.datasets:
            fetched = fetch_dataset(spec, department, url, token, states_of(states, spec.table_name),
                                    download_dir=downloads / spec.table_name)
            batches += [check_fetched(f, con, MIANYANG_CITY, SNAPSHOT_DATE) for f in fetched]
    return batches


def check(fetched: FetchResult, warehouse: Path, **kwargs) -> Batch:
    """Check one fetched batch inside the warehouse file `warehouse`, as the validate task does."""
    con = connect(warehouse)
    try:
        ensure_declared_sources(con, PROJECT_ROOT / "dbt_like_sql")
        return check_batch(fetched, con, params=kwargs.pop("params", MIANYANG_CITY),
                           as_of=kwargs.pop("as_of", SNAPSHOT_DATE), **kwargs)
    finally:
        con.close()


def ingest_and_build(config: SourcesConfig, url: str, token: str, warehouse: Path) -> list[LoadResult]:
    """Fetch, check, load and build exactly as the flows do, minus Prefect."""
    batches = fetch_and_check(config, url, token, warehouse)
    con = connect(warehouse)
    try:
        results = load_batches(con, batches)
        build(con, config)
    finally:
        con.close()
    return results


def build(con, config: SourcesConfig, as_of=SNAPSHOT_DATE, full_refresh: bool = False,
          select: str | None = None) -> None:
    """Build every model (or `select`) as the build flow does: Mianyang's catalogue, city, `as_of`."""
    catalogue = read_catalogue(PROJECT_ROOT / "config" / "mianyang" / "kpis.yml")

    build_models(con, PROJECT_ROOT / "dbt_like_sql", select,
                 seed=build_seed(catalogue, MIANYANG_CITY, config, as_of),
                 generated=generated_models(catalogue), full_refresh=full_refresh)


def fingerprint(warehouse: Path) -> dict[str, str]:
    """Content hash of every base table: equal fingerprints = the same warehouse."""
    con = connect(warehouse, read_only=True)
    try:
        tables = con.execute("select schema_name, table_name from duckdb_tables() "
                             "order by 1, 2").fetchall()
        out = {}
        for schema, table in tables:
            rows = con.execute(f'select * from "{schema}"."{table}"').fetchall()
            # floats to 12 significant digits: DuckDB's parallel sums vary in the last bits
            rows = [tuple(f"{v:.12g}" if isinstance(v, float) else v for v in row) for row in rows]
            out[f"{schema}.{table}"] = hashlib.sha256(
                repr(sorted(map(repr, rows))).encode()).hexdigest()
        return out
    finally:
        con.close()
