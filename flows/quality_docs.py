"""GX Data Docs for the quality gate: every suite, and the latest validations kept in the warehouse."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb

from connectors.spec import load_city, load_sources
from expectations.data_docs import build_data_docs
from expectations.suites import load_suite
from flows.settings import Settings
from warehouse.db import connect

RUNS_PER_DATASET = 10  # the index lists each dataset's most recent validations


def build_quality_docs(settings: Settings, out: Path) -> Path:
    """Write the site into `out`; return its index.html."""
    config = load_sources(settings.sources_file)
    city = load_city(settings.city_file)
    suites = []
    for spec in config.datasets():
        # The run facts only fill in the SQL of the suites' checks as the pages show them.
        facts = {**city, "as_of": (settings.as_of or dt.date.today()).isoformat(),
                 "totals": f"stage.{spec.table_name}__totals", "raw_table": f"raw.{spec.table_name}"}
        suites.append(load_suite(spec.table_name, params=facts).suite)
    results = []
    if settings.warehouse.exists():
        con = connect(settings.warehouse, read_only=True)
        try:
            rows = con.execute("""
                select load_id, validated_at, cast(gx_result as varchar) from meta.validation_runs
                where gx_result is not null
                qualify row_number() over (partition by dataset order by validated_at desc) <= ?
                order by dataset, validated_at
            """, [RUNS_PER_DATASET]).fetchall()
        except duckdb.CatalogException:  # a warehouse from before validation history: suites only
            rows = []
        finally:
            con.close()
        for load_id, validated_at, document in rows:
            result = json.loads(document)
            # named after the load it decided, so a page leads back to meta.load_log
            result.setdefault("meta", {})["run_id"] = {"run_name": load_id,
                                                       "run_time": validated_at.isoformat()}
            results.append(result)
    return build_data_docs(out, suites, results)
