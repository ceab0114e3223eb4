"""The quality gate: bad rows go to quarantine, a failing batch is not loaded.

Bad rows go to quarantine with the expectation they failed; a failing batch is not loaded and the
previous data stays.
"""

from __future__ import annotations

import json

from connectors.json_api import fetch_json_api
from source_server import energy_data
from tests.helpers import build, check, fingerprint
from warehouse.db import connect
from warehouse.load import load_batches


def fetch(config, server, name):
    spec = next(s for s in config.datasets() if s.name == name)
    return fetch_json_api(spec, server.url, server.token)


def test_out_of_range_row_is_quarantined_with_its_expectation(source_server, mianyang_sources, tmp_path):
    fetched = fetch(mianyang_sources, source_server, "power_capacity")
    frame = fetched.frame
    bad = frame.index[(frame.year == 2021) & (frame.plant_type == "wind")][0]
    frame.loc[bad, "capacity_mw"] = -12.0  # a negative capacity: physically impossible

    batch = check(fetched, tmp_path / "w.duckdb")
    assert batch.rejected_reason is None
    assert len(batch.quarantined) == 1
    row = batch.quarantined[0]
    assert row.raw["year"] == 2021 and row.raw["plant_type"] == "wind"
    assert any("expect_column_values_to_be_between(column=capacity_mw" in c for c in row.failed_checks)

    warehouse = tmp_path / "w.duckdb"
    con = connect(warehouse)
    [result] = load_batches(con, [batch])
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (126, 125, 1)
    stored = con.execute("select dataset, row_key, failed_checks, raw_values from meta.quarantine").fetchall()
    assert len(stored) == 1
    dataset, key, checks, raw = stored[0]
    assert dataset == "energy__power_capacity"
    assert key == "year=2021, plant_type=wind"
    assert "capacity_mw" in checks and json.loads(raw)["plant_type"] == "wind"
    assert con.execute("select count(*) from raw.energy__power_capacity "
                       "where year = 2021 and plant_type = 'wind'").fetchone()[0] == 0
    con.close()


def test_duplicated_records_load_once(source_server, mianyang_sources, tmp_path):
    source_server.set_faults(duplicate_rows=5)
    batch = check(fetch(mianyang_sources, source_server, "gdp"), tmp_path / "w.duckdb")
    assert batch.duplicates == 5 and not batch.quarantined
    con = connect(tmp_path / "w.duckdb")
    [result] = load_batches(con, [batch])
    assert (result.rows_in, result.rows_loaded, result.rows_duplicate) == (26, 21, 5)
    assert con.execute("select count(*) from raw.energy__gdp").fetchone()[0] == 21
    con.close()


def test_unit_slip_quarantines_every_row_and_keeps_the_previous_data(source_server, mianyang_sources,
                                                                     warehouse_copy):
    warehouse = warehouse_copy  # the default scenario, loaded from a server with the same data
    # 万千瓦 published as 千瓦 (×10 000): every row out of range
    source_server.set_faults(scale_field={"capacity_10mw": 10_000})
    batch = check(fetch(mianyang_sources, source_server, "power_capacity"), warehouse)
    too_large = [r for r in energy_data.power_capacity() if r["capacity_10mw"] * 10 * 10_000 > 100_000]
    assert len(batch.quarantined) == len(too_large) > 80  # zero-capacity years still pass
    con = connect(warehouse)
    load_batches(con, [batch])
    build(con, mianyang_sources)  # rebuild: the marts must not change
    value = con.execute("select value from kpi.kpi_power__clean_power_capacity where year = 2025"
                        ).fetchone()[0]
    con.close()
    assert value == 218.7


def test_failing_batch_is_not_loaded_and_old_data_stays(source_server, mianyang_sources, warehouse_copy):
    warehouse = warehouse_copy  # the default scenario, loaded from a server with the same data
    before = fingerprint(warehouse)

    source_server.set_faults(empty=True)  # the department's export came out empty
    batch = check(fetch(mianyang_sources, source_server, "gdp"), warehouse)
    assert batch.rejected_reason and "expect_table_row_count_to_be_between" in batch.rejected_reason

    con = connect(warehouse)
    [result] = load_batches(con, [batch])
    build(con, mianyang_sources)
    logged = con.execute("select status, detail from meta.load_log where status = 'rejected'").fetchall()
    gdp_rows = con.execute("select count(*) from staging.stg_energy__gdp").fetchone()[0]
    con.close()
    assert result.status == "rejected" and result.rows_loaded == 0
    assert logged and "min_value=1" in logged[0][1]
    assert gdp_rows == 21
    after = fingerprint(warehouse)
    changed = {t for t in before if before[t] != after[t]}
    # only the rejection and its validation were recorded
    assert changed == {"meta.load_log", "meta.validation_runs", "meta.validation_results"}
