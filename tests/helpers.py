"""Helpers for tests: run the pipeline without Prefect, and fingerprint a warehouse."""

from __future__ import annotations

import hashlib
from pathlib import Path

from connectors.json_api import fetch_json_api
from connectors.spec import SourcesConfig
from expectations.gate import check_batch
from flows.settings import PROJECT_ROOT
from warehouse.catalogue import load_catalogue, read_catalogue
from warehouse.db import connect
from warehouse.load import LoadResult, load_batches
from warehouse.models import build_models


def ingest_and_build(config: SourcesConfig, url: str, token: str, warehouse: Path) -> list[LoadResult]:
    """Fetch, check, load and build exactly as the flows do, minus Prefect."""
    batches = [check_batch(fetch_json_api(spec, url, token)) for spec in config.datasets()]
    con = connect(warehouse)
    try:
        results = load_batches(con, batches)
        catalogue = read_catalogue(PROJECT_ROOT / "config" / "mianyang" / "kpis.yml")
        build_models(con, PROJECT_ROOT / "dbt_like_sql", seed=lambda c: load_catalogue(c, catalogue))
    finally:
        con.close()
    return results


def fingerprint(warehouse: Path) -> dict[str, str]:
    """Content hash of every base table: equal fingerprints = the same warehouse."""
    con = connect(warehouse, read_only=True)
    try:
        tables = con.execute("select schema_name, table_name from duckdb_tables() "
                             "order by 1, 2").fetchall()
        out = {}
        for schema, table in tables:
            rows = con.execute(f'select * from "{schema}"."{table}"').fetchall()
            out[f"{schema}.{table}"] = hashlib.sha256(
                repr(sorted(map(repr, rows))).encode()).hexdigest()
        return out
    finally:
        con.close()
