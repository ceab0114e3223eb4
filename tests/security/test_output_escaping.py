"""A script in a department's cell is text in every page we publish: Data Docs, report, dictionary.

Each page is opened in headless Chromium; the payloads would mark <body> if they ran.
"""

from __future__ import annotations

import re
from html import escape

import pandas as pd
import pytest

from expectations.suites import list_suites, load_suite
from publishing.data_docs import build_data_docs
from tests.browser import chromium
from tests.helpers import MIANYANG_CITY
from warehouse.db import connect

SCRIPT = "<script>document.body.setAttribute('data-pwned','script')</script>"
IMG = "\"><img src=x onerror=\"document.body.setAttribute('data-pwned','img')\">"
RAN = re.compile(r"<body[^>]*data-pwned", re.IGNORECASE)
FACTS = {**MIANYANG_CITY, "as_of": "2024-12-31", "totals": "stage.totals", "raw_table": "raw.table",
         "publication_lag_days": 180, "whole_days": "true"}


def hostile_result() -> dict:
    """GX's result of the energy balance suite on rows whose codes and names are payloads."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    frame = pd.DataFrame({
        "year": [2022, 2023], "fuel_code": [SCRIPT, IMG], "fuel_name_zh": [IMG, SCRIPT],
        "is_fossil": [True, True], "physical_amount": [1.0, 2.0], "physical_unit": ["万吨", "万吨"],
        "consumption_tce": [1.0, 2.0],
    })
    suite = load_suite("energy__balance", params=FACTS).suite
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    batch = (context.data_sources.add_pandas("carbonpeak").add_dataframe_asset("energy__balance")
             .add_batch_definition_whole_dataframe("batch")
             .get_batch(batch_parameters={"dataframe": frame}))
    return batch.validate(suite, result_format="SUMMARY").to_json_dict()


def pages_ran_nothing(pages, tmp_path) -> None:
    assert pages
    for n, page in enumerate(pages):
        dom = chromium(page, tmp_path / f"profile{n}", "--dump-dom", budget_ms=3000).stdout
        assert "<body" in dom, page
        assert not RAN.search(dom), f"a payload ran in {page}"


def test_data_docs_show_payloads_as_text(tmp_path):
    result = hostile_result()
    assert SCRIPT in str(result)  # GX keeps the values as received
    site = tmp_path / "site"
    suites = [load_suite(name, params=FACTS).suite for name in list_suites() if name == "energy__balance"]
    build_data_docs(site, suites, [result])
    pages = sorted((site / "validations").rglob("*.html"))
    assert any("&lt;script&gt;" in p.read_text(encoding="utf-8") for p in pages)  # shown, as text
    pages_ran_nothing(pages, tmp_path)


@pytest.fixture
def hostile_warehouse(warehouse_copy):
    con = connect(warehouse_copy)
    con.execute("update config.kpis set name_zh = ? where kpi_id = 'clean_power_capacity'", [SCRIPT])
    con.execute("update config.kpis set name_en = ? where kpi_id = 'forest_coverage'", [IMG])
    con.close()
    return warehouse_copy


def test_the_report_and_the_dictionary_show_payloads_as_text(hostile_warehouse, tmp_path):
    from connectors.spec import load_sources
    from flows.settings import PROJECT_ROOT
    from publishing.dictionary import build_dictionary
    from publishing.report import write_report
    from tests.conftest import MIANYANG

    report = tmp_path / "report.html"
    write_report(hostile_warehouse, report, kpis_file=MIANYANG / "kpis.yml")
    con = connect(hostile_warehouse, read_only=True)
    try:
        site = build_dictionary(con, tmp_path / "dictionary", PROJECT_ROOT / "dbt_like_sql",
                                load_sources(MIANYANG / "sources.yml"), MIANYANG / "kpis.yml")
    finally:
        con.close()
    kpi_pages = [p for p in (tmp_path / "dictionary").rglob("*.html")
                 if "clean_power_capacity" in p.name or "forest_coverage" in p.name]
    assert kpi_pages  # the pages that show the hostile names exist, and show them as text
    assert escape(IMG) in report.read_text(encoding="utf-8")
    pages_ran_nothing([report, site.index, *kpi_pages], tmp_path)
