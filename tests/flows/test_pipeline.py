"""Whole Prefect flow runs against the live source and a real warehouse file."""

from __future__ import annotations

from tests.helpers import fingerprint
from warehouse.db import connect, table_counts


def test_run_all_ingests_builds_and_evaluates(prefect_harness, sources_env):
    from flows.pipeline import run_all

    state = run_all(return_state=True)
    assert state.is_completed(), state.message
    rows = state.result()
    assert len(rows) == 41
    by_key = {(r["kpi_id"], r["checkpoint_year"]): r for r in rows}
    assert by_key[("clean_power_capacity", 2025)]["status"] == "achieved"
    assert by_key[("clean_power_capacity", 2025)]["latest_value"] == 218.7
    assert by_key[("raw_coal_consumption", 2025)]["status"] == "off_track"

    con = connect(sources_env)
    counts = table_counts(con)
    con.close()
    assert run_all(return_state=True).is_completed()
    con = connect(sources_env)
    assert table_counts(con) == counts  # a rerun duplicates nothing
    con.close()


def test_ingest_energy_flow_reports_row_accounting(prefect_harness, sources_env):
    from flows.pipeline import ingest_energy

    results = ingest_energy()
    assert {r.dataset: (r.rows_in, r.rows_loaded) for r in results} == {
        "energy__balance": (189, 189), "energy__gdp": (21, 21),
        "energy__raw_coal_by_sector": (63, 63), "energy__power_capacity": (126, 126)}


def test_source_dying_mid_run_fails_clearly_and_leaves_the_warehouse_as_it_was(
        prefect_harness, sources_env, source_server, monkeypatch):
    from flows.pipeline import ingest_energy, run_all

    assert run_all(return_state=True).is_completed()
    before = fingerprint(sources_env)
    monkeypatch.setenv("CARBONPEAK_HTTP_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("CARBONPEAK_HTTP_BACKOFF_S", "0.05")
    source_server.set_faults(stop_after=2)  # the server goes away on the third page request
    state = ingest_energy(return_state=True)
    assert state.is_failed()
    assert "source `energy." in state.message and "connection failed" in state.message
    assert source_server.url in state.message

    run_state = run_all(return_state=True)
    assert run_state.is_failed()
    assert "every department failed; the warehouse was not touched" in run_state.message
    assert fingerprint(sources_env) == before
