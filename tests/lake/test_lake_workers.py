"""Three cities ingested by two Prefect process workers at once into one lake; rebuilds take turns.

A real `prefect server start`, the `carbonpeak` process work pool with two workers (one run each
at a time) and each city's deployments, rendered from its own config folder as `prefect.yaml`
is (flows/deployments.py), all deployed at once. Four runs start together: two departments of
Mianyang (the embedded source), Qingshui's power department (its own JSON layout) and Lanxi's
whole pipeline on its forestry department (a GB18030 landing file; ingest, build, evaluate and
alerts on the lake). Reader loops on the analysts' role check meanwhile, one city each, that
every committed load is whole. Then Mianyang's and Qingshui's builds run with a second Mianyang
rebuild beside them: the two Mianyang runs hold the Prefect global concurrency limit
`carbonpeak-city_510700-build-warehouse` one after the other (two `CREATE OR REPLACE` of one model
always conflict on a lake), while Qingshui builds on its own. Then the province is built from
the three namespaces, and read back through the CLI on the analysts' role.

Each city's namespace must equal a single-file run of the same departments, row for row (raw
tables, marts, KPI status and series); the province's tables must agree with the three files.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from connectors.spec import load_city, load_sources
from flows.deployments import render_prefect_yaml
from flows.settings import PROJECT_ROOT, Settings
from source_server import SNAPSHOT_DATE
from tests.config.test_quirky_city import write_forest_csv
from tests.config.test_second_city import static_site, write_power_json  # noqa: F401
from tests.lake.catalogs import ready_catalog
from tests.lake.compare import comparable, raw_tables, rows
from tests.lake.readers import reading
from tests.prefect_server import free_port, stop, tail, wait_healthy
from warehouse.db import connect
from warehouse.db import relations as db_relations
from warehouse.lake import LakePointer, city_namespace, write_pointer

BIN = Path(sys.executable).parent
PREFECT = str(BIN / "prefect")
CITIES = {"mianyang": (PROJECT_ROOT / "config" / "mianyang", ("forestry", "power")),
          "qingshui": (PROJECT_ROOT / "config" / "qingshui", ("power",)),
          "lanxi": (PROJECT_ROOT / "tests" / "config" / "lanxi", ("forestry",))}
# started at once: three departments' ingests, and Lanxi's whole pipeline on its one department
# (ingest, build, evaluate, alerts: the run-all deployment); then the other two cities' builds
INGESTS = (("ingest/mianyang-forestry", None), ("ingest/mianyang-power", None),
           ("ingest/qingshui-power", None), ("run-all/lanxi", {"departments": ["forestry"]}))
BUILT = ("mianyang", "qingshui")
WORKERS = ("worker-1", "worker-2")
READERS = 3  # reader loops on the analysts' role, one per city, while the workers write


def wait_for(client, runs: list, timeout_s: float, logs: list[Path]) -> list:
    """The flow runs once every one is final; fails with the workers' logs if one is not COMPLETED."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        now = [client.read_flow_run(r.id) for r in runs]
        if all(r.state and r.state.is_final() for r in now):
            bad = [r for r in now if not r.state.is_completed()]
            assert not bad, f"{bad[0].name}: {bad[0].state}\n" + "\n".join(tail(p) for p in logs)
            return now
        time.sleep(1)
    raise AssertionError(f"not final within {timeout_s:.0f} s\n" + "\n".join(tail(p) for p in logs))


def held_between(client, run) -> tuple:
    """When the run took the build's concurrency limit, and when it had built (still holding it).

    Read from the run's own logs, which reach the server a little after the run is final (they
    are sent in batches): asked again for up to 60 s.
    """
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    deadline = time.monotonic() + 60
    while True:
        logs: list = []  # page by page: a build logs more lines than the server returns at once
        while True:
            page = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id])), limit=200,
                                    offset=len(logs))
            logs += page
            if len(page) < 200:
                break
        took = [log.timestamp for log in logs if log.message.startswith("holding the Prefect concurrency")]
        built = [log.timestamp for log in logs if log.message.startswith("built ")]
        if (took and built) or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert len(took) == len(built) == 1, [log.message for log in logs][-8:]
    return took[0], built[0]


def overlap(spans: list[tuple]) -> bool:
    """Whether two of the (start, end) spans overlap in time."""
    spans = sorted(spans)
    return any(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:], strict=False))


@pytest.fixture
def city_sources(tmp_path, source_server, static_site, mianyang_sources) -> dict[str, str]:  # noqa: F811
    """Every city's sources, as environment variables.

    Mianyang's embedded source, Qingshui's JSON site (other field names, kilowatts), Lanxi's
    landing folder (GB18030 CSV with a title line, a unit line and thousands separators).
    """
    site, url = static_site
    write_power_json(site)
    forest = tmp_path / "lanxi-forest"
    forest.mkdir()
    for year in (2024, 2025):
        write_forest_csv(forest, year)
    env = {"QINGSHUI_POWER_URL": url, "QINGSHUI_POWER_TOKEN": "unused", "LANXI_FORESTRY_LANDING": str(forest)}
    for department in mianyang_sources.departments:
        env[department.url_env], env[department.token_env] = source_server.url, source_server.token
    return env


def single_file_runs(tmp_path, env: dict[str, str], monkeypatch) -> dict[str, Path]:
    """Each city's departments into a DuckDB file of its own, built: what the lake must equal."""
    from flows.run_all import run_all

    files = {}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("CARBONPEAK_AS_OF", SNAPSHOT_DATE.isoformat())
    for city, (folder, departments) in CITIES.items():
        files[city] = tmp_path / "files" / city / "warehouse.duckdb"
        monkeypatch.setenv("CARBONPEAK_CONFIG_DIR", str(folder))
        monkeypatch.setenv("CARBONPEAK_WAREHOUSE", str(files[city]))
        state = run_all(departments=list(departments), return_state=True)
        assert state.is_completed(), (city, state.message)
    return files


def compared_relations(file) -> list[str]:
    """The file's mart tables and its KPI status and series (raw tables are listed by department)."""
    return ["kpi.kpi_status", "kpi.kpi_series"] + [f"{s}.{t}" for s, t in file.execute(
        "select schema_name, table_name from duckdb_tables() where schema_name in ('marts', 'kpi') "
        "order by 1, 2").fetchall()]


def test_three_cities_on_two_workers_equal_three_single_files_and_rebuilds_take_turns(
        lake, tmp_path, city_sources, prefect_harness, monkeypatch):
    from prefect.client.orchestration import SyncPrefectClient

    codes = {city: load_city(folder / "city.yml")["code"] for city, (folder, _) in CITIES.items()}
    namespaces = tuple(city_namespace(code) for code in codes.values())
    writer, analyst = ready_catalog(lake.folder, "cities_lake", tmp_path / "parquet", namespaces)
    pointer = write_pointer(tmp_path / "warehouse.lake",
                            LakePointer(writer.conninfo, str(tmp_path / "parquet")))
    write_pointer(tmp_path / "analyst" / "warehouse.lake", LakePointer(analyst.conninfo, read_only=True))
    province_file = tmp_path / "province.yml"
    province_file.write_text(
        "name: test\nname_zh: 测试省\ncities: [" + ", ".join(str(f) for f, _ in CITIES.values()) + "]\n"
        "adds_up: [clean_power_capacity, forest_stock_volume]\n", encoding="utf-8")

    api = f"http://127.0.0.1:{free_port()}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CARBONPEAK_", "PREFECT_"))}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-home"), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    client_env = {**env, "PREFECT_API_URL": api, "CARBONPEAK_WAREHOUSE": str(pointer)}
    worker_env = {**client_env, **city_sources, "PREFECT_WORKER_QUERY_SECONDS": "1",
                  "CARBONPEAK_AS_OF": SNAPSHOT_DATE.isoformat()}
    server_log = tmp_path / "server.log"
    worker_logs = [tmp_path / f"{name}.log" for name in WORKERS]
    server, workers = None, []

    def cli(program: str, *args: str) -> subprocess.CompletedProcess:
        done = subprocess.run([str(BIN / program), *args], cwd=PROJECT_ROOT, env=client_env,
                              capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, f"{program} {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done

    try:
        with server_log.open("w") as out:
            server = subprocess.Popen([PREFECT, "server", "start", "--host", "127.0.0.1", "--port",
                                       api.split(":")[-1].removesuffix("/api")], env=env, stdout=out,
                                      stderr=subprocess.STDOUT, start_new_session=True)
        wait_healthy(api, server, timeout_s=90)
        cli("prefect", "work-pool", "create", "carbonpeak", "--type", "process")
        for name, log in zip(WORKERS, worker_logs, strict=True):
            with log.open("w") as out:
                workers.append(subprocess.Popen(
                    [PREFECT, "worker", "start", "--pool", "carbonpeak", "--limit", "1", "--name", name],
                    cwd=PROJECT_ROOT, env=worker_env, stdout=out, stderr=subprocess.STDOUT,
                    start_new_session=True))
        # each city's prefect.yaml as rendered, their deployments in one file: one `prefect deploy`
        # and the lake's own (`carbonpeak schedules --province`): the province's build
        merged: dict = {}
        settings = dataclasses.replace(Settings.from_env(), warehouse=pointer, province_file=province_file)
        texts = [render_prefect_yaml(dataclasses.replace(settings, config_dir=folder))
                 for folder, _ in CITIES.values()] + [render_prefect_yaml(settings, province=True)]
        for text in texts:
            doc = yaml.safe_load(text)
            merged.setdefault("deployments", []).extend(doc.pop("deployments"))
            merged.update(doc)
        rendered = tmp_path / "prefect.yaml"
        rendered.write_text(yaml.safe_dump(merged, allow_unicode=True), encoding="utf-8")
        # the province's by its name alone: Prefect matches `flow/name` on the entry point's function
        # name (build_province_flow), not on the flow's name
        names = [name for name, _ in INGESTS] + [f"build-warehouse/{city}" for city in BUILT] + ["province"]
        cli("prefect", "--no-prompt", "deploy", "--prefect-file", str(rendered),
            *[arg for name in names for arg in ("--name", name)])

        with SyncPrefectClient(api) as client:
            with reading(analyst.conninfo, READERS, namespaces) as (seen, problems):
                ingests = [client.create_flow_run_from_deployment(
                    client.read_deployment_by_name(name).id, parameters=parameters)
                    for name, parameters in INGESTS]
                ingests = wait_for(client, ingests, 420, [server_log, *worker_logs])
                assert overlap([(r.start_time, r.end_time) for r in ingests])  # side by side
                for log in worker_logs:  # on both workers
                    assert any(str(r.id) in log.read_text(encoding="utf-8") for r in ingests), tail(log)

                # the other cities' builds, and a second Mianyang rebuild (of one model: shorter)
                builds = [client.create_flow_run_from_deployment(
                    client.read_deployment_by_name(f"build-warehouse/{city}").id) for city in BUILT]
                builds.append(client.create_flow_run_from_deployment(
                    builds[0].deployment_id, parameters={"select": "stg_forestry__forest_resources"}))
                builds = wait_for(client, builds, 420, [server_log, *worker_logs])
            first, second = sorted(held_between(client, r) for r in (builds[0], builds[-1]))
            assert first[1] <= second[0], (first, second)  # the second took it once the first had built
            limit = client.read_global_concurrency_limit_by_name("carbonpeak-city_510700-build-warehouse")
            assert (limit.limit, limit.active_slots) == (1, 0)
            # the province, built by its deployment on a worker (its file from the job's env)
            wait_for(client, [client.create_flow_run_from_deployment(
                client.read_deployment_by_name("build-province/province").id)], 300,
                [server_log, *worker_logs])
        # other cities built meanwhile: a city's limit holds back its own rebuilds only
        assert overlap([(r.start_time, r.end_time) for r in builds])

        shown = cli("carbonpeak", "province", "status").stdout
        # a city's read commands read its namespace through the analysts' role
        client_env["CARBONPEAK_CONFIG_DIR"] = str(CITIES["lanxi"][0])
        lanxi = cli("carbonpeak", "kpi", "status", "--kpi", "forest_coverage").stdout
        assert "森林覆盖率 forest coverage" in lanxi and "46.55 (2025)" in lanxi, lanxi
        # the analysts' pointer is the read-only role: a write is refused in one line
        refused = subprocess.run([str(BIN / "carbonpeak"), "sql", "create table meta.x as select 1 as a"],
                                 env=client_env, capture_output=True, text=True, timeout=120)
        assert refused.returncode == 1 and refused.stderr.count("\n") == 1, refused.stderr
        assert "read-only" in refused.stderr and "Traceback" not in refused.stderr
    finally:
        for worker in workers:  # a worker goes on after one SIGTERM: SIGINT after it
            stop(worker, (signal.SIGTERM, 2), (signal.SIGINT, 15))
        stop(server, (signal.SIGTERM, 15))

    assert not problems, problems[:3]  # no reader saw half a load, none failed
    assert len(seen) > READERS and max(seen) > 0  # they read while loads were committed
    assert all(name in shown for name in CITIES) and "全省合计" in shown

    files = single_file_runs(tmp_path, city_sources, monkeypatch)
    province = connect_province_reader(pointer, province_file)
    try:
        cities = province.execute("select city_code from meta.cities order by 1").fetchall()
        assert cities == sorted((code,) for code in codes.values())
        assert len(db_relations(province, "marts")) > 10
        for city, (folder, departments) in CITIES.items():
            lake_con = connect(pointer, read_only=True, city_code=codes[city])
            file = connect(files[city], read_only=True)
            try:
                relations = raw_tables(load_sources(folder / "sources.yml"), departments)
                relations += compared_relations(file)
                lake_con.execute("begin transaction")  # one snapshot: the catalog is read once
                for relation in relations:
                    assert rows(lake_con, relation) == rows(file, relation), (city, relation)
                lake_con.execute("commit")
                # the province holds the city's statuses as its file does, its code in front
                expected = rows(file, "kpi.kpi_status")
                got = comparable(province.execute(
                    "select * exclude (city_name, city_name_zh) from kpi.kpi_status where city_code = ?",
                    [codes[city]]).fetchall())
                assert got == expected and len(got) > 0, city
                statuses = dict(file.execute("select kpi_id || checkpoint_year, status from kpi.kpi_status"
                                             ).fetchall())
                side = dict(province.execute(f"select kpi_id || checkpoint_year, {city} from "
                                             f"kpi.kpi_status_by_city where {city} is not null").fetchall())
                assert side == statuses, city
            finally:
                file.close()
                lake_con.close()

        # the roll-up: Mianyang's and Qingshui's clean-power capacity added up, year by year
        capacity = {}
        for city in ("mianyang", "qingshui"):
            file = connect(files[city], read_only=True)
            for year, value in file.execute("select year, value from kpi.kpi_series "
                                            "where kpi_id = 'clean_power_capacity'").fetchall():
                capacity.setdefault(year, []).append(value)
            file.close()
        rolled = {y: (v, n, complete) for y, v, n, complete in province.execute(
            "select year, value, cities_reporting, is_complete from kpi.kpi_rollup "
            "where kpi_id = 'clean_power_capacity'").fetchall()}
        assert rolled.keys() == capacity.keys() and len(capacity) > 3
        for year, values in capacity.items():
            assert rolled[year] == (pytest.approx(sum(values)), len(values), len(values) == 2), year
        stock = province.execute("select distinct cities_with_kpi from kpi.kpi_rollup "
                                 "where kpi_id = 'forest_stock_volume'").fetchall()
        assert stock == [(1,)]  # in Mianyang's plan only
    finally:
        province.close()


def connect_province_reader(pointer: Path, province_file: Path):
    from warehouse.province import connect_province, read_province

    return connect_province(pointer.parent / "analyst" / pointer.name, read_province(province_file),
                            read_only=True)
