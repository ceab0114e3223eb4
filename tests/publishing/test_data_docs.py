"""The Data Docs render in headless Chromium with networking off: styled, and listing every suite."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from expectations.errors import DataDocsError
from expectations.suites import list_suites, load_suite
from publishing import data_docs
from publishing.data_docs import build_data_docs, rewrite_offline
from tests.browser import chromium, png_pixels
from tests.helpers import MIANYANG_CITY

# The city's facts plus those of a run, as `expectations.gate.check_batch` passes them to the suites.
FACTS = {**MIANYANG_CITY, "as_of": "2024-12-31", "totals": "stage.totals", "raw_table": "raw.table",
         "publication_lag_days": 180, "whole_days": "true"}
CDN_HOSTS = ("jquery.com", "bootstrapcdn.com", "unpkg.com", "cdnjs.cloudflare.com", "jsdelivr.net",
             "amazonaws.com")
# What a browser would fetch: src/href of script, link and img, and CSS url(). <a href> may go anywhere.
REMOTE_LOAD = re.compile(r"""<(?:script|link|img)\b[^>]*\b(?:src|href)=["']?(?:https?:)?//[^>]*>"""
                         r"""|url\(["']?(?:https?:)?//""", re.IGNORECASE)


def validation_result(dataset: str, run_name: str | None = None) -> dict:
    """A real GX result of `dataset`'s suite on two rows shaped like the feed, as the warehouse keeps it.

    Without `run_name`, a bare `batch.validate()` (no run in its meta); with one, a validation
    definition's run, as a checkpoint would record it.
    """
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import ProgressBarsConfig

    frame = pd.DataFrame({
        "year": [2022, 2023], "fuel_code": ["raw_coal", "natural_gas"], "fuel_name_zh": ["原煤", "天然气"],
        "is_fossil": [True, True], "physical_amount": [512.0, 31.5], "physical_unit": ["万吨", "亿立方米"],
        "consumption_tce": [3_657_000.0, None],  # one null: the pages show a failure too
    })
    suite = load_suite(dataset, params=FACTS).suite
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    batch_definition = (context.data_sources.add_pandas("carbonpeak").add_dataframe_asset(dataset)
                        .add_batch_definition_whole_dataframe("batch"))
    if run_name is None:
        batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
        return batch.validate(suite, result_format="SUMMARY").to_json_dict()
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=dataset, data=batch_definition, suite=context.suites.add(suite)))
    return definition.run(batch_parameters={"dataframe": frame}, run_id=RunIdentifier(run_name=run_name),
                          result_format="SUMMARY").to_json_dict()


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    suites = [load_suite(name, params=FACTS).suite for name in list_suites()]
    results = [validation_result("energy__balance"), validation_result("energy__balance", "ingest-energy")]
    index = build_data_docs(tmp_path_factory.mktemp("docs") / "site", suites, results)
    assert index.name == "index.html" and index.is_file()
    return index.parent




def table_cells(dom: str, table_class: str) -> list[str]:
    """Text of the <td> cells of a table, as bootstrap-table drew them (GX's HTML has no <td> there)."""
    table = re.search(rf'<table[^>]*class="[^"]*{table_class}[^"]*".*?</table>', dom, re.DOTALL)
    assert table, f"no table `{table_class}` in the rendered page"
    return [re.sub(r"<[^>]+>|\s+", " ", cell).strip()
            for cell in re.findall(r"<td\b[^>]*>(.*?)</td>", table.group(0), re.DOTALL)]




def test_no_page_loads_anything_from_the_network(site):
    pages = sorted(site.rglob("*.html"))
    assert len(pages) == len(list_suites()) + 3  # a page per suite and per result, the index
    for run in ("__none__", "ingest-energy"):  # suite / run name / run time / batch
        found = list(site.glob(f"validations/energy__balance/{run}/*/carbonpeak-energy__balance.html"))
        assert len(found) == 1, run
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert not REMOTE_LOAD.findall(text), page
        assert not [host for host in CDN_HOSTS if host in text], page
        assert "integrity=" not in text and "crossorigin=" not in text, page
        # Every local file a page loads is there (relative paths right at every folder depth).
        for path in re.findall(r"""(?:src|href)=["']((?:\.\.?/)+static/[^"'?#]+)""", text):
            assert (page.parent / path).is_file(), f"{page}: {path}"
    assert (site / "static/vendor/@fortawesome/fontawesome-free/webfonts/fa-solid-900.woff2").is_file()


def test_the_rewrite_is_idempotent(site):
    index = (site / "index.html").read_text(encoding="utf-8")
    assert rewrite_offline(index, ".") == index
    validation_page = next(site.glob("validations/*/ingest-energy/*/*.html")).read_text(encoding="utf-8")
    assert '"../../../../static/vendor/jquery/dist/jquery.min.js"' in validation_page  # 4 folders down
    assert rewrite_offline(validation_page, "../../../..") == validation_page


def test_the_index_lists_the_suites_and_results_offline(site, tmp_path):
    dom = chromium(site / "index.html", tmp_path / "profile", "--dump-dom", budget_ms=5000).stdout
    # Cells exist only if jQuery, Bootstrap and bootstrap-table all loaded from static/vendor/.
    # GX pages the list, 10 suites a page, in name order.
    suites = list_suites()
    assert table_cells(dom, "ge-index-page-expectation_suites-table") == suites[:10]
    assert f"Showing 1 to {min(10, len(suites))} of {len(suites)} rows" in dom
    results = table_cells(dom, "ge-index-page-validation-results-table")
    assert results.count("energy__balance") == 4  # asset and suite of each result
    assert "ingest-energy" in results  # the run name
    assert any(cell.startswith("carbonpeak-energy__balance") for cell in results)  # batch (+ its tooltip)
    assert 'class="fas fa-times text-danger' in dom  # the failed run's icon, drawn by a JS formatter


def test_the_index_is_styled_in_a_screenshot(site, tmp_path):
    shot = tmp_path / "docs.png"
    chromium(site / "index.html", tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,900",
             budget_ms=5000)
    width, height, pixels = png_pixels(shot.read_bytes())
    assert (width, height) == (1280, 900)
    # A blank page compresses to ~5 KB with 4 distinct byte values; the styled index has hundreds.
    assert shot.stat().st_size > 20_000 and len(set(pixels)) > 64


def test_a_cdn_link_nobody_vendored_fails_the_build(tmp_path, monkeypatch):
    monkeypatch.delitem(data_docs.LOCAL, "https://code.jquery.com/jquery-3.7.1.min.js")
    suite = load_suite("energy__gdp", params=FACTS).suite
    with pytest.raises(DataDocsError, match=r"`.*\.html`: still loads `https://code.jquery.com/jquery-3.7.1"):
        build_data_docs(tmp_path / "site", [suite])


def test_missing_node_modules_say_how_to_install_them(tmp_path, monkeypatch):
    monkeypatch.setattr(data_docs, "ASSETS_DIR", tmp_path)
    with pytest.raises(DataDocsError, match=r"node_modules/.*missing.*`bash bootstrap.sh run`"):
        build_data_docs(tmp_path / "site", [])
