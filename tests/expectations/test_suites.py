"""Every dataset has a suite, and every expectation in every suite file is loaded by GX."""

from __future__ import annotations

import json

import pytest

from expectations.errors import SuiteError
from expectations.suites import SUITES_DIR, list_suites, load_suite
from tests.helpers import MIANYANG_CITY


@pytest.mark.parametrize("name", list_suites())
def test_suite_loads_every_expectation(name):
    declared = json.loads((SUITES_DIR / f"{name}.json").read_text(encoding="utf-8"))["expectations"]
    # the facts of a run that expectations/gate.py adds to the city's
    loaded = load_suite(name, params={**MIANYANG_CITY, "as_of": "2026-03-01",
                                      "totals": "stage.t__totals", "raw_table": f"raw.{name}",
                                      "publication_lag_days": 45, "whole_days": "true"})
    assert len(loaded.suite.expectations) == len(declared) > 0
    assert [e.expectation_type for e in loaded.suite.expectations] == [d["type"] for d in declared]
    assert set(loaded.severities) <= {"error", "warn"}


def test_city_facts_are_substituted_and_unknown_ones_refused(tmp_path):
    loaded = load_suite("forestry__forest_resources", params={
        "counties": ["东城区", "西城区"], "as_of": "2026-03-01", "totals": "stage.t",
        "publication_lag_days": 180})
    in_set = next(e for e in loaded.suite.expectations if e.expectation_type.endswith("in_set"))
    assert in_set.value_set == ["东城区", "西城区"]
    # inside a SQL check, `${name}` becomes SQL text: a list becomes its quoted items
    counties = next(e for e in loaded.suite.expectations
                    if e.description == "every county reports in every period")
    assert "unnest(['东城区', '西城区'])" in counties.unexpected_rows_query
    with pytest.raises(SuiteError, match=r"`\$counties` is not defined"):
        load_suite("forestry__forest_resources", params={})


def test_every_configured_dataset_has_a_suite(mianyang_sources):
    missing = [s.table_name for s in mianyang_sources.datasets() if s.table_name not in list_suites()]
    assert not missing, f"datasets without a suite in expectations/: {missing}"


def test_a_suite_with_an_invalid_expectation_is_refused(tmp_path):
    (tmp_path / "broken.json").write_text(json.dumps({"name": "broken", "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "year"}},
        {"type": "expect_compound_columns_to_be_unique", "kwargs": {"column_list": ["year"]}},
    ]}), encoding="utf-8")
    with pytest.raises(SuiteError, match="`.*broken.json`: GX refused an expectation"):
        load_suite("broken", tmp_path)


def test_a_suite_named_unlike_its_file_is_refused(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps({"name": "b", "expectations": []}), encoding="utf-8")
    with pytest.raises(SuiteError, match="must equal the file stem"):
        load_suite("a", tmp_path)


def test_a_dataset_without_a_suite_is_refused():
    with pytest.raises(SuiteError, match="every dataset needs `expectations/nope.json`"):
        load_suite("nope")


def test_every_dataset_the_source_server_publishes_is_configured_and_has_a_suite(mianyang_sources):
    from source_server.files import FILES
    from source_server.server import DEPARTMENTS

    published = {f"/api/v1/{dept}/{name}" for dept, datasets in DEPARTMENTS.items() for name in datasets}
    published |= {f"/files/{name}" for name in FILES}
    configured = {s.path: s.table_name for s in mianyang_sources.datasets()}
    assert published - set(configured) == set(), "published but not configured in sources.yml"
    assert {configured[p] for p in published} <= set(list_suites())


def test_every_suite_checks_continuity_or_freshness_and_says_why(mianyang_sources):
    for spec in mianyang_sources.datasets():
        doc = json.loads((SUITES_DIR / f"{spec.table_name}.json").read_text(encoding="utf-8"))
        checks = {(e.get("meta") or {}).get("check") for e in doc["expectations"]}
        # a register (buildings, meters) has no period to be late with: its suite says so instead
        assert "freshness" in checks or doc["meta"].get("no_period"), spec.table_name
        for e in doc["expectations"]:
            meta = e.get("meta") or {}
            if meta.get("check") in ("continuity", "freshness", "published_totals", "cross_dataset"):
                assert meta.get("reason"), (spec.table_name, meta["check"])


def test_a_derived_table_read_before_it_is_declared_is_refused(tmp_path):
    """Derived tables are built side by side, each after the tables declared before it."""
    prepare = {"late_reader": "select * from {totals}", "totals": "select count(*) from {batch}"}
    (tmp_path / "d.json").write_text(json.dumps({"name": "d", "expectations": [],
                                                 "meta": {"prepare": prepare}}), encoding="utf-8")
    with pytest.raises(SuiteError, match=r"`meta.prepare.late_reader` reads \{totals\}, which is not "
                                         "declared before it"):
        load_suite("d", tmp_path)
    prepare = {"totals": "select count(*) from {batch}", "reader": "select * from {totals}"}
    (tmp_path / "d.json").write_text(json.dumps({"name": "d", "expectations": [],
                                                 "meta": {"prepare": prepare}}), encoding="utf-8")
    assert [table for table, _ in load_suite("d", tmp_path).prepare] == ["stage.d__totals",
                                                                        "stage.d__reader"]
