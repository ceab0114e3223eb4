"""Loads are idempotent, keep vintages, and are all-or-nothing."""

from __future__ import annotations

import dataclasses

import pytest

from tests.helpers import fetch_and_check, fingerprint, ingest_and_build, small_meters
from warehouse.db import connect, table_counts
from warehouse.errors import AccountingError
from warehouse.load import load_batches


def test_rerun_leaves_every_row_count_unchanged(mianyang_sources, warehouse_copy):
    warehouse = warehouse_copy  # the default scenario's first load, from the session's server
    con = connect(warehouse)
    counts = table_counts(con)
    first = con.execute("select dataset, rows_in, rows_loaded from meta.load_log").fetchall()
    first_url = con.execute("select any_value(source_url) from meta.load_log").fetchone()[0]
    con.close()
    # `carbonpeak run` starts the embedded source on a new port each time: same sources all the same
    from source_server.server import SourceServer

    with SourceServer(meters=small_meters()) as moved:
        assert not first_url.startswith(moved.url)
        second = ingest_and_build(mianyang_sources, moved.url, moved.token, warehouse)
    con = connect(warehouse)
    assert table_counts(con) == counts
    datasets = len(mianyang_sources.datasets())
    assert counts["raw.energy__balance"] == 189 and counts["meta.load_log"] == datasets
    loaded = {dataset: rows_loaded for dataset, _, rows_loaded in first}
    assert (loaded["energy__balance"], loaded["energy__monthly"], loaded["energy__gdp"],
            loaded["forestry__forest_resources"],
            loaded["waste__industrial_waste"]) == (189, 576, 21, 180, 3168)
    assert len(first) == datasets and all(loaded == rows_in > 0 for _, rows_in, loaded in first)
    assert [r.status for r in second] == ["unchanged"] * datasets
    assert [r.rows_loaded for r in second] == [0] * datasets
    # every source answered 304 Not Modified (APIs by ETag, files by ETag / Last-Modified) or had
    # nothing after its watermark: nothing downloaded, nothing validated, nothing logged
    assert all(r.rows_in == r.rows_unchanged == 0 for r in second)
    assert con.execute("select count(*) from meta.validation_runs").fetchone()[0] == datasets
    checked = con.execute("select count(*) from meta.source_state where checked_at > changed_at"
                          ).fetchone()[0]
    con.close()
    assert checked == datasets  # ... but the time each source was asked is kept


def test_revised_past_value_wins_and_the_old_vintage_is_kept(source_server, mianyang_sources,
                                                             warehouse_copy):
    warehouse = warehouse_copy  # the default scenario, loaded from a server with the same data
    source_server.set_faults(revise={"year": 2020, "field": "gdp_2020_prices_100m_cny", "factor": 1.01})
    results = ingest_and_build(mianyang_sources, source_server.url, source_server.token, warehouse)
    gdp = next(r for r in results if r.dataset == "energy__gdp")
    assert (gdp.rows_loaded, gdp.rows_unchanged) == (1, 20)
    con = connect(warehouse)
    vintages = con.execute("select gdp_2020_prices_cny from raw.energy__gdp where year = 2020 "
                           "order by _load_seq").fetchall()
    current = con.execute("select gdp_2020_prices_cny from staging.stg_energy__gdp where year = 2020"
                          ).fetchone()[0]
    con.close()
    assert [v[0] for v in vintages] == [pytest.approx(3010e8), pytest.approx(3040.1e8)]
    assert current == pytest.approx(3040.1e8)


def test_a_failure_in_one_batch_writes_nothing_at_all(source_server, mianyang_sources, warehouse_copy):
    warehouse = warehouse_copy  # the default scenario, loaded from a server with the same data
    before = fingerprint(warehouse)
    source_server.set_faults(revise={"year": 2024, "field": "capacity_10mw", "factor": 2})
    batches = fetch_and_check(mianyang_sources, source_server.url, source_server.token, warehouse)
    capacity = next(b for b in batches if b.spec.name == "power_capacity")
    assert not capacity.provenance.not_modified
    # the last batch's accounting cannot add up: the whole load must roll back
    capacity.provenance = dataclasses.replace(capacity.provenance, records=999)
    con = connect(warehouse)
    with pytest.raises(AccountingError, match="999 rows in"):
        load_batches(con, batches)
    con.close()
    assert fingerprint(warehouse) == before
