"""Departments ingested by two Prefect process workers at once into one lake; rebuilds take turns.

A real `prefect server start`, the `carbonpeak` process work pool with two workers (one run
each at a time), the deployments of prefect.yaml. Two departments' ingests are started at
once: they run on both workers side by side, and the lake's raw tables equal the DuckDB file's.
Then two rebuilds (of one model: the whole build is tested on a lake elsewhere) are started at
once: each holds the Prefect global concurrency limit
`carbonpeak-mianyang-build-warehouse` (flows/writing.py), one after the other, and both complete
(two `CREATE OR REPLACE` of one model at once always conflict on a lake).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from flows.settings import PROJECT_ROOT
from source_server import SNAPSHOT_DATE
from tests.lake.catalogs import ready_catalog
from tests.lake.compare import raw_tables, rows
from tests.lake.readers import reading
from tests.prefect_server import free_port, stop, tail, wait_healthy
from warehouse.db import connect
from warehouse.lake import LakePointer, connect_lake, write_pointer

PREFECT = str(Path(sys.executable).parent / "prefect")
DEPARTMENTS = ("energy", "forestry")  # one each on the two workers, at once
WORKERS = ("worker-1", "worker-2")
READERS = 4  # reader loops on the analysts' role while the workers write


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


def test_two_workers_ingest_departments_side_by_side_and_rebuilds_take_turns(
        lake, tmp_path, source_server, default_warehouse, mianyang_sources):
    from prefect.client.orchestration import SyncPrefectClient

    writer, analyst = ready_catalog(lake.folder, "workers_lake", tmp_path / "parquet")
    pointer = write_pointer(tmp_path / "warehouse.lake", LakePointer(writer.conninfo))

    api = f"http://127.0.0.1:{free_port()}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CARBONPEAK_", "PREFECT_"))}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-home"), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    client_env = {**env, "PREFECT_API_URL": api}
    worker_env = {**client_env, "PREFECT_WORKER_QUERY_SECONDS": "1", "CARBONPEAK_WAREHOUSE": str(pointer),
                  "CARBONPEAK_AS_OF": SNAPSHOT_DATE.isoformat()}
    for department in mianyang_sources.departments:
        worker_env[department.url_env] = source_server.url
        worker_env[department.token_env] = source_server.token
    server_log = tmp_path / "server.log"
    worker_logs = [tmp_path / f"{name}.log" for name in WORKERS]
    server, workers = None, []

    def cli(*args: str) -> None:
        done = subprocess.run([PREFECT, *args], cwd=PROJECT_ROOT, env=client_env, capture_output=True,
                              text=True, timeout=180)
        assert done.returncode == 0, f"prefect {' '.join(args)}:\n{done.stdout}\n{done.stderr}"

    try:
        with server_log.open("w") as out:
            server = subprocess.Popen([PREFECT, "server", "start", "--host", "127.0.0.1", "--port",
                                       api.split(":")[-1].removesuffix("/api")], env=env, stdout=out,
                                      stderr=subprocess.STDOUT, start_new_session=True)
        wait_healthy(api, server, timeout_s=90)
        cli("work-pool", "create", "carbonpeak", "--type", "process")
        for name, log in zip(WORKERS, worker_logs, strict=True):
            with log.open("w") as out:
                workers.append(subprocess.Popen(
                    [PREFECT, "worker", "start", "--pool", "carbonpeak", "--limit", "1", "--name", name],
                    cwd=PROJECT_ROOT, env=worker_env, stdout=out, stderr=subprocess.STDOUT,
                    start_new_session=True))
        names = [f"ingest/mianyang-{d}" for d in DEPARTMENTS] + ["build-warehouse/mianyang"]
        cli("--no-prompt", "deploy", *[arg for name in names for arg in ("--name", name)])

        with SyncPrefectClient(api) as client, reading(analyst.conninfo, READERS) as (seen, problems):
            ingests = [client.create_flow_run_from_deployment(
                client.read_deployment_by_name(f"ingest/mianyang-{d}").id) for d in DEPARTMENTS]
            ingests = wait_for(client, ingests, 300, [server_log, *worker_logs])
            # side by side: two of the runs overlapped in time, on the two workers
            spans = sorted((r.start_time, r.end_time) for r in ingests)
            assert any(later[0] < earlier[1] for earlier, later in zip(spans, spans[1:], strict=False)), spans
            for log in worker_logs:
                assert any(str(r.id) in log.read_text(encoding="utf-8") for r in ingests), tail(log)

            build = client.read_deployment_by_name("build-warehouse/mianyang").id
            # a rebuild of one model (its seed and tests too) keeps the test short: two at once
            # would conflict on a lake as two whole builds do (the same CREATE OR REPLACE)
            builds = wait_for(client, [client.create_flow_run_from_deployment(build, parameters={
                "select": "stg_forestry__forest_resources"}) for _ in range(2)], 300,
                [server_log, *worker_logs])
            first, second = sorted(held_between(client, r) for r in builds)
            assert first[1] <= second[0], (first, second)  # the second took it once the first had built
            limit = client.read_global_concurrency_limit_by_name("carbonpeak-mianyang-build-warehouse")
            assert (limit.limit, limit.active_slots) == (1, 0)
    finally:
        for worker in workers:  # a worker goes on after one SIGTERM: SIGINT after it
            stop(worker, (signal.SIGTERM, 2), (signal.SIGINT, 15))
        stop(server, (signal.SIGTERM, 15))

    assert not problems, problems[:3]  # no reader saw half a load, none failed
    assert len(seen) > READERS and max(seen) > 0  # they read while loads were committed

    con = connect_lake(writer.conninfo)
    file = connect(default_warehouse, read_only=True)
    try:
        for relation in raw_tables(mianyang_sources, DEPARTMENTS):
            assert rows(con, relation) == rows(file, relation), relation
    finally:
        file.close()
        con.close()
