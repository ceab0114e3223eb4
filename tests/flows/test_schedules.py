"""Deployments at each department's cadence, the status backfill, and a scheduled run.

The last test starts a real `prefect server start` on 127.0.0.1, a process work pool and worker,
deploys from prefect.yaml with a schedule every minute, and waits for the scheduled run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from connectors.spec import load_sources
from flows.backfill import backfill, status_history
from flows.deployments import (
    CADENCE_CRONS,
    TIMEZONE,
    ScheduleError,
    build_deployments,
    render_prefect_yaml,
    runner_deployments,
)
from flows.settings import PROJECT_ROOT, Settings
from tests.prefect_server import free_port as _free_port
from tests.prefect_server import stop as _stop
from tests.prefect_server import tail as _tail
from tests.prefect_server import wait_healthy as _wait_healthy
from warehouse.db import connect
from warehouse.kpi import read_kpi_status, read_kpi_status_through

PREFECT = str(Path(sys.executable).parent / "prefect")


def _settings(city: str, tmp_path: Path) -> Settings:
    return Settings(warehouse=tmp_path / "warehouse.duckdb", config_dir=PROJECT_ROOT / "config" / city,
                    sql_dir=PROJECT_ROOT / "dbt_like_sql")


@pytest.mark.parametrize("city", ["mianyang", "qingshui"])
def test_every_department_is_deployed_at_the_cron_of_its_cadence(city, tmp_path):
    settings = _settings(city, tmp_path)
    departments = load_sources(settings.sources_file).departments
    deployments = {(d.flow_name, d.name): d for d in build_deployments(settings)}

    # one `ingest` flow, one deployment per department with its name as the parameter
    assert set(deployments) == {("ingest", f"{city}-{d.name}") for d in departments} | {
        (flow, city) for flow in ("build-warehouse", "evaluate-kpis", "run-all", "backfill")}
    for department in departments:
        d = deployments["ingest", f"{city}-{department.name}"]
        assert (d.entrypoint, d.parameters) == ("flows/ingest.py:ingest", (("department", department.name),))
        assert d.cron == CADENCE_CRONS[department.cadence][0]
        assert department.cadence in d.description and department.cadence in d.tags
    deployments = {name if flow == "ingest" else flow: d for (flow, name), d in deployments.items()}
    assert deployments["build-warehouse"].cron == "0 7 * * *"
    assert deployments["evaluate-kpis"].cron == "30 7 * * *"
    assert deployments["run-all"].cron is None and deployments["backfill"].cron is None
    if city == "mianyang":
        assert deployments["mianyang-energy"].cron == "0 6 15 3-6 *"  # yearly
        assert deployments["mianyang-industry"].cron == "0 6 3,12 * *"  # monthly


def test_prefect_yaml_is_the_deployment_list_and_agrees_with_serve(tmp_path):
    from prefect.flows import load_flow_from_entrypoint

    settings = _settings("mianyang", tmp_path)
    text = (PROJECT_ROOT / "prefect.yaml").read_text(encoding="utf-8")
    assert text == render_prefect_yaml(settings), \
        "prefect.yaml is out of date: regenerate it with `carbonpeak schedules --write-yaml prefect.yaml`"

    from_yaml = set()
    for d in yaml.safe_load(text)["deployments"]:
        # Prefect's own loader, as a worker uses it: every entry point must resolve to its flow
        flow = load_flow_from_entrypoint(str(PROJECT_ROOT / d["entrypoint"]))
        assert d["work_pool"]["name"] == "carbonpeak"
        assert d["work_pool"]["job_variables"]["env"]["CARBONPEAK_CONFIG_DIR"] == "config/mianyang"
        from_yaml.add((flow.name, d["name"], (PROJECT_ROOT / d["entrypoint"]).as_posix(),
                       tuple((s["cron"], s["timezone"]) for s in d["schedules"]),
                       d["description"], tuple(d["tags"]),
                       tuple(sorted((d.get("parameters") or {}).items()))))

    served = {(r.flow_name, r.name, Path(r.entrypoint.split(":")[0]).resolve().as_posix()
               + ":" + r.entrypoint.split(":")[1],
               tuple((s.schedule.cron, s.schedule.timezone) for s in r.schedules),
               r.description, tuple(r.tags), tuple(sorted(r.parameters.items())))
              for r in runner_deployments(settings)}
    assert from_yaml == served
    assert len(served) == len(build_deployments(settings)) == 15  # 11 departments, 4 other flows
    assert ("ingest", "mianyang-transport", f"{PROJECT_ROOT}/flows/ingest.py:ingest",
            (("0 6 3,12 * *", TIMEZONE),), (("department", "transport"),)) in {
        (*s[:4], s[6]) for s in served}


def test_the_lakes_own_deployments_are_the_province_daily_and_upkeep_weekly(tmp_path):
    from prefect.flows import load_flow_from_entrypoint

    from flows.deployments import province_deployments

    lake = dataclasses.replace(_settings("qingshui", tmp_path), warehouse=tmp_path / "warehouse.lake")
    doc = yaml.safe_load(render_prefect_yaml(lake, province=True))
    got = {(load_flow_from_entrypoint(str(PROJECT_ROOT / d["entrypoint"])).name, d["name"]):
           (d["schedules"][0]["cron"], d["schedules"][0]["timezone"], d["work_pool"]["name"],
            d["work_pool"]["job_variables"]["env"]["CARBONPEAK_PROVINCE_FILE"])
           for d in doc["deployments"]}
    province = "config/province.yml"
    assert got == {("build-province", "province"): ("0 8 * * *", TIMEZONE, "carbonpeak", province),
                   ("maintain-lake", "lake"): ("0 3 * * 0", TIMEZONE, "carbonpeak", province)}
    served = {(r.flow_name, r.name, r.schedules[0].schedule.cron) for r in runner_deployments(lake, True)}
    assert served == {(f, n, cron) for (f, n), (cron, *_) in got.items()}
    assert {d["work_pool"]["job_variables"]["env"]["CARBONPEAK_WAREHOUSE"] for d in doc["deployments"]} == {
        str(tmp_path / "warehouse.lake")}  # the lake itself: a worker left on the default file would fail
    assert "build-province" not in {d.flow_name for d in build_deployments(lake)}  # once per lake
    # a DuckDB file has no province: refused in one line, by the function and by the CLI
    with pytest.raises(ScheduleError, match="is a DuckDB file"):
        province_deployments(_settings("mianyang", tmp_path))
    env = {**os.environ, "CARBONPEAK_WAREHOUSE": str(tmp_path / "warehouse.duckdb")}
    done = subprocess.run([sys.executable, "-m", "cli.main", "schedules", "--province"], cwd=PROJECT_ROOT,
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "need a lake" in done.stderr, done.stderr


def test_backfill_evaluates_each_year_from_the_figures_up_to_it(prefect_harness, default_warehouse,
                                                                 monkeypatch):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId

    monkeypatch.setenv("CARBONPEAK_WAREHOUSE", str(default_warehouse))  # read-only here
    state = backfill(2018, 2020, return_state=True)
    assert state.is_completed(), state.message
    rows = state.result()

    con = connect(default_warehouse, read_only=True)
    today = read_kpi_status(con)
    latest = con.execute("select max(year) from kpi.kpi_series").fetchone()[0]
    through_latest = read_kpi_status_through(con, PROJECT_ROOT / "dbt_like_sql", latest)
    con.close()
    assert len(rows) == 3 * len(today)
    # the same rules as today's table: cut at the latest year, the history *is* today's table
    assert through_latest == today

    by_key = {(r["through_year"], r["kpi_id"], r["checkpoint_year"]): r for r in rows}
    clean_power = [by_key[(y, "clean_power_capacity", 2025)] for y in (2018, 2019, 2020)]
    assert [(r["latest_year"], r["latest_value"]) for r in clean_power] == [
        (2018, 139.42), (2019, 152.21), (2020, 165.0)]
    assert clean_power[0]["status"] == "at_risk" and clean_power[2]["status"] == "on_track"
    assert all(r["latest_year"] is None or r["latest_year"] <= r["through_year"] for r in rows)

    headers, table = status_history(rows)
    assert headers[-3:] == ["2018", "2019", "2020"] and len(table) == len(today)

    # one child run per year, visible in Prefect under the backfill run
    with get_client(sync_client=True) as client:
        children = client.read_flow_runs(flow_run_filter=FlowRunFilter(
            parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[state.state_details.flow_run_id])))
    assert sorted((c.name, c.state_type.value) for c in children) == [
        (f"evaluate-kpis-through-{y}", "COMPLETED") for y in (2018, 2019, 2020)]


def test_backfill_fails_in_one_line_on_a_reversed_range_or_a_missing_warehouse(
        prefect_harness, tmp_path, monkeypatch):
    state = backfill(2024, 2015, return_state=True)
    assert state.is_failed()
    assert state.message.startswith("backfill `--from 2024 --to 2015`: expected two years")

    monkeypatch.setenv("CARBONPEAK_WAREHOUSE", str(tmp_path / "none.duckdb"))
    state = backfill(2015, 2016, return_state=True)
    assert state.is_failed() and "does not exist yet; run `carbonpeak run` first" in state.message


def test_serve_refuses_the_temporary_server():
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.deployments import serve_all

    with temporary_settings(updates={PREFECT_API_URL: None}):
        with pytest.raises(ScheduleError, match="never schedules a run"):
            serve_all()


# --- a real server, a process worker, a deployment scheduled every minute ---------------------------
def test_a_deployment_scheduled_every_minute_runs_on_a_process_worker(warehouse_copy, tmp_path):
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        LogFilter,
        LogFilterFlowRunId,
    )

    con = connect(warehouse_copy, read_only=True)
    checkpoints = len(read_kpi_status(con))
    con.close()

    api = f"http://127.0.0.1:{_free_port()}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CARBONPEAK_", "PREFECT_"))}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-home"), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    client_env = {**env, "PREFECT_API_URL": api}
    worker_env = {**client_env, "PREFECT_WORKER_QUERY_SECONDS": "2",
                  "CARBONPEAK_WAREHOUSE": str(warehouse_copy)}
    server_log, worker_log = tmp_path / "server.log", tmp_path / "worker.log"
    server = worker = None

    def cli(*args: str) -> str:
        done = subprocess.run([PREFECT, *args], cwd=PROJECT_ROOT, env=client_env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, f"prefect {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    try:
        with server_log.open("w") as out:
            server = subprocess.Popen([PREFECT, "server", "start", "--host", "127.0.0.1", "--port",
                                       api.split(":")[-1].removesuffix("/api")], env=env,
                                      stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        _wait_healthy(api, server, timeout_s=90)  # a fresh database: 10-30 s on 2 busy cores
        cli("work-pool", "create", "carbonpeak", "--type", "process")
        with worker_log.open("w") as out:
            worker = subprocess.Popen([PREFECT, "worker", "start", "--pool", "carbonpeak", "--limit", "1"],
                                      cwd=PROJECT_ROOT, env=worker_env, stdout=out,
                                      stderr=subprocess.STDOUT, start_new_session=True)
        # The deployment of prefect.yaml, plus a schedule every 60 s anchored a little ahead, so the
        # first run is due about 30 s from now instead of at the next minute or day.
        anchor = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)).isoformat(timespec="seconds")
        cli("--no-prompt", "deploy", "--name", "evaluate-kpis/mianyang", "--interval", "60",
            "--anchor-date", anchor)

        with SyncPrefectClient(api) as client:
            deployment = client.read_deployment_by_name("evaluate-kpis/mianyang")
            schedules = {(s.schedule.cron, s.schedule.timezone) if hasattr(s.schedule, "cron")
                         else s.schedule.interval for s in deployment.schedules}
            assert schedules == {("30 7 * * *", TIMEZONE), dt.timedelta(seconds=60)}

            deadline, completed = time.monotonic() + 150, None
            while completed is None and time.monotonic() < deadline:
                runs = client.read_flow_runs(deployment_filter=DeploymentFilter(
                    id=DeploymentFilterId(any_=[deployment.id])))
                failed = [r for r in runs if r.state_type and r.state_type.value in ("FAILED", "CRASHED")]
                assert not failed, f"{failed[0].state}\n--- worker\n{_tail(worker_log)}"
                completed = next((r for r in runs if r.state_type and r.state_type.value == "COMPLETED"),
                                 None)
                time.sleep(2)
            assert completed is not None, (
                "no scheduled run of evaluate-kpis/mianyang completed within 150 s: "
                + ", ".join(f"{r.name} {r.state_name} at {r.expected_start_time}" for r in runs)
                + f"\n--- worker\n{_tail(worker_log)}\n--- server\n{_tail(server_log)}")
            logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[completed.id])))

        assert completed.auto_scheduled  # made by the server's scheduler, not by hand
        assert completed.flow_id == deployment.flow_id
        assert any(log.message.startswith(f"{checkpoints} checkpoints:") for log in logs), \
            [log.message for log in logs]
    finally:
        # a worker goes on after one SIGTERM (it even starts new runs): SIGINT after it
        _stop(worker, (signal.SIGTERM, 2), (signal.SIGINT, 15))
        _stop(server, (signal.SIGTERM, 15))


def test_worker_runs_get_the_settings_the_cli_sets():
    # retry and skip lines of our libraries (e.g. alerts.channels) reach the Prefect run logs only
    # when PREFECT_LOGGING_EXTRA_LOGGERS names them: a worker's run must get what the CLI sets
    import yaml

    from flows.settings import PREFECT_DEFAULTS, PROJECT_ROOT

    assert "flows" in PREFECT_DEFAULTS["PREFECT_LOGGING_EXTRA_LOGGERS"].split(",")
    doc = yaml.safe_load((PROJECT_ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    for deployment in doc["deployments"]:
        env = deployment["work_pool"]["job_variables"]["env"]
        assert {k: env.get(k) for k in PREFECT_DEFAULTS} == PREFECT_DEFAULTS, deployment["name"]
