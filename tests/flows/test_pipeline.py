"""Whole Prefect flow runs against the live source and a real warehouse file."""

from __future__ import annotations

import os

from tests.helpers import fingerprint
from warehouse.db import connect, table_counts


def test_run_all_ingests_builds_and_evaluates(prefect_harness, sources_env):
    from flows.run_all import run_all

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
    from flows.ingest import ingest

    results = ingest("energy")
    assert {r.dataset: (r.rows_in, r.rows_loaded) for r in results} == {
        "energy__balance": (189, 189), "energy__monthly": (576, 576), "energy__gdp": (21, 21),
        "energy__raw_coal_by_sector": (63, 63), "energy__power_capacity": (126, 126)}


def test_source_dying_mid_run_fails_clearly_and_leaves_the_warehouse_as_it_was(
        prefect_harness, sources_env, source_server, monkeypatch):
    from flows.ingest import ingest
    from flows.run_all import run_all

    assert run_all(return_state=True).is_completed()
    before = fingerprint(sources_env)
    monkeypatch.setenv("CARBONPEAK_HTTP_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("CARBONPEAK_HTTP_BACKOFF_S", "0.05")
    source_server.set_faults(stop_after=2)  # the server goes away on the third page request
    state = ingest("energy", return_state=True)
    assert state.is_failed()
    assert "source `energy." in state.message and "connection failed" in state.message
    assert source_server.url in state.message

    run_state = run_all(return_state=True)
    assert run_state.is_failed()
    assert "every department failed; no data was loaded" in run_state.message
    after = fingerprint(sources_env)
    # nothing was loaded: the failure is recorded (the department's KPIs read stale) and alerted,
    # nothing else moves
    assert {t for t in before if before[t] != after[t]} <= {"meta.source_health", "meta.alert_state",
                                                            "meta.alerts"}
    assert before["meta.source_health"] != after["meta.source_health"]


def test_one_failing_department_does_not_stop_the_others_and_its_kpis_go_stale(
        prefect_harness, sources_env, monkeypatch):
    from flows.run_all import run_all

    assert run_all(return_state=True).is_completed()
    monkeypatch.setenv("CARBONPEAK_TRANSPORT_URL", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("CARBONPEAK_HTTP_MAX_ATTEMPTS", "1")
    state = run_all(return_state=True)
    assert state.is_failed() and "source `transport." in state.message

    con = connect(sources_env, read_only=True)
    status = dict(((k, y), (s, r)) for k, y, s, r in con.execute(
        "select kpi_id, checkpoint_year, status, status_reason from kpi.kpi_status").fetchall())
    health = dict(con.execute("select department, any_value(status) from meta.source_health "
                              "group by department").fetchall())
    con.close()
    assert status[("public_charger_ev_ratio", 2025)][0] == "stale"
    assert "the transport source failed at the last run" in status[("public_charger_ev_ratio", 2025)][1]
    assert "connection failed (connection refused)" in status[("public_charger_ev_ratio", 2025)][1]
    assert status[("clean_power_capacity", 2025)][0] == "achieved"  # other departments went on
    assert health["transport"] == "failed" and health["energy"] == "ok"

    monkeypatch.delenv("CARBONPEAK_TRANSPORT_URL")
    monkeypatch.setenv("CARBONPEAK_TRANSPORT_URL", os.environ["CARBONPEAK_ENERGY_URL"])
    assert run_all(return_state=True).is_completed()  # the source is back: no longer stale
    con = connect(sources_env, read_only=True)
    again = con.execute("select status from kpi.kpi_status where kpi_id = 'public_charger_ev_ratio'"
                        ).fetchone()[0]
    con.close()
    assert again == "achieved"


def test_a_refused_batch_fails_the_run_with_one_line_naming_file_and_fix(
        prefect_harness, sources_env, source_server):
    from flows.run_all import run_all

    source_server.set_faults(drop_period={"year": 2024, "month": 7})  # a month missing mid-series
    state = run_all(departments=["energy"], return_state=True)
    assert state.is_failed() and "batch(es) refused (see above)" in state.message
    con = connect(sources_env, read_only=True)
    [(line,)] = con.execute("select detail from meta.load_log where status = 'rejected'").fetchall()
    con.close()
    # the line the gate logs once (and the load log keeps): the file, what failed, what to change
    assert "\n" not in line and line.startswith("`energy.monthly` (" + source_server.url)
    assert "batch refused, previous data kept" in line and "year=2024, month=7" in line
    assert "sources.yml" in line
