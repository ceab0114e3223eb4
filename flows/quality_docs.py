"""GX Data Docs for the quality gate: every suite, and the latest validations kept in the warehouse."""

from __future__ import annotations

from pathlib import Path

from connectors.spec import load_city, load_sources
from expectations.gate import dataset_facts
from expectations.suites import load_suite
from flows.settings import Settings
from publishing.data_docs import build_data_docs
from warehouse.validations import read_gx_results

RUNS_PER_DATASET = 10  # the index lists each dataset's most recent validations


def build_quality_docs(settings: Settings, out: Path) -> Path:
    """Write the site into `out`; return its index.html."""
    config = load_sources(settings.sources_file)
    city = load_city(settings.city_file)
    suites = []
    for spec in config.datasets():
        # The run facts only fill in the SQL of the suites' checks as the pages show them.
        facts = {**dataset_facts(spec, city, settings.as_of), "totals": f"stage.{spec.table_name}__totals"}
        suites.append(load_suite(spec.table_name, params=facts).suite)
    results = []
    if settings.warehouse.exists():
        con = settings.open_warehouse(read_only=True)
        try:
            results = read_gx_results(con, RUNS_PER_DATASET)
        finally:
            con.close()
    return build_data_docs(out, suites, results)
