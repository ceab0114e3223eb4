"""Prefect flows: ingest a department, build the warehouse, evaluate the KPIs, and all three.

Tasks are thin: each calls one function of connectors/, expectations/ or warehouse/. Transient
source failures are retried in the HTTP layer only, so tasks have no Prefect retries.
A department whose source fails ends as a Failed state with one clear message; the others go on.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import duckdb
from prefect import Flow, flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.states import Failed

from connectors.fetch import fetch_dataset
from connectors.result import FetchResult, SourceState
from connectors.spec import DatasetSpec, DepartmentSpec, load_city, load_sources
from core.errors import CarbonpeakError, ConfigError
from expectations.gate import Batch, check_batch
from expectations.suites import check_suite_columns
from flows.run_lock import depth, run_lock
from flows.settings import Settings, landing_folder, source_token, source_url, with_http_overrides
from publishing.clock import city_today
from warehouse.catalogue import load_catalogue, read_catalogue
from warehouse.db import clear_stage, connect, warehouse_problem
from warehouse.errors import WarehouseError
from warehouse.freshness import seed_data_age
from warehouse.health import record_health
from warehouse.kpi import check_kpi_status, read_kpi_status
from warehouse.kpi_views import GeneratedModel, generated_models
from warehouse.load import LoadResult, load_batches
from warehouse.models import build_models, ensure_declared_sources, read_declared_sources
from warehouse.raw import check_contract
from warehouse.snapshot import publish_snapshot
from warehouse.state import read_source_states, states_of


@task(name="extract", cache_policy=NO_CACHE, task_run_name="extract-{spec.name}")
def extract(spec: DatasetSpec, department: DepartmentSpec, states: dict[str, SourceState]
            ) -> list[FetchResult]:
    landing = landing_folder(spec)
    url = source_url(department)
    if landing is None:
        file = Settings.from_env().sources_file.name
        if url is None:
            raise ConfigError(file, department.name, department.url_env,
                              "is not set: point it at the department's server, or use "
                              "`carbonpeak run`, which starts the embedded one")
        if not url.startswith(("http://", "https://")):
            raise ConfigError(file, department.name, department.url_env,
                              f"`{url}` is not an http(s) URL, e.g. http://127.0.0.1:8765")
    return fetch_dataset(spec, with_http_overrides(department), url, source_token(department), states,
                         landing)


@task(name="validate", cache_policy=NO_CACHE, task_run_name="validate-{spec.name}")
def validate(spec: DatasetSpec, fetched: list[FetchResult], city: dict) -> list[Batch]:
    """Check each batch inside the warehouse (staged, validated, unstaged; raw is untouched)."""
    settings = Settings.from_env()
    con = connect(settings.warehouse)
    try:
        # Suites may look at other raw tables (cross-dataset checks): they must exist, if empty.
        ensure_declared_sources(con, settings.sql_dir)
        return [check_batch(f, con, params=city, as_of=settings.as_of) for f in fetched]
    finally:
        con.close()


@task(name="load", cache_policy=NO_CACHE)
def load(batches: list[Batch], department: DepartmentSpec) -> list[LoadResult]:
    from prefect.runtime import flow_run

    con = connect(Settings.from_env().warehouse)
    try:
        results = load_batches(con, batches, run_id=flow_run.id)
        record_health(con, department)
        return results
    finally:
        con.close()


def ingest_department(name: str) -> list[LoadResult]:
    """Extract every dataset of a department, validate each, then load them all at once.

    Nothing is written until every dataset has been fetched, so a source that dies mid-run
    leaves the warehouse exactly as it was.
    """
    logger = get_run_logger()
    settings = Settings.from_env()
    config = load_sources(settings.sources_file)
    city = load_city(settings.city_file)
    declared = read_declared_sources(settings.sql_dir)
    raw_tables = {table: s.columns for (src, table), s in declared.items() if src == "raw"}
    check_contract(config, raw_tables)
    check_suite_columns(config, {t: [c for c, _ in cols] for t, cols in raw_tables.items()})
    department = config.department(name)
    con = connect(settings.warehouse)
    try:
        states = read_source_states(con)
    finally:
        con.close()
    batches = []
    for spec in department.datasets:
        batches += validate(spec, extract(spec, department, states_of(states, spec.table_name)), city)
    results = load(batches, department)
    for r in results:
        logger.info("%s: %s, %d in = %d loaded + %d quarantined + %d unchanged + %d duplicate + "
                    "%d rejected", r.dataset, r.status, r.rows_in, r.rows_loaded, r.rows_quarantined,
                    r.rows_unchanged, r.rows_duplicate, r.rows_rejected)
    return results


@contextlib.contextmanager
def writing(what: str) -> Iterator[None]:
    """Hold the warehouse's run lock; the outermost holder first clears a killed run's leftovers."""
    settings = Settings.from_env()
    with run_lock(settings.warehouse, what, settings.lock_wait_s):
        try:
            if depth(settings.warehouse) == 1:
                con = connect(settings.warehouse)
                try:
                    left = clear_stage(con)
                finally:
                    con.close()
                if left:
                    get_run_logger().warning("removed %d batch(es) a killed run left in `stage`", left)
            yield
        except Exception as exc:
            problem = warehouse_problem(exc, settings.warehouse)
            if problem is None:
                raise
            raise problem from None  # a full disk is nobody's data: one line, no traceback


def _record_failure(name: str, exc: CarbonpeakError) -> None:
    """Keep the reason in the warehouse: the department's KPIs show as stale until it answers."""
    settings = Settings.from_env()
    try:
        department = load_sources(settings.sources_file).department(name)
    except CarbonpeakError:
        return  # the configuration itself is broken: nothing to attach the failure to
    con = connect(settings.warehouse)
    try:
        record_health(con, department, str(exc))
    finally:
        con.close()


def _exception_of(state: object) -> BaseException | None:
    """The exception a failed flow run raised, if it raised one."""
    if not state.is_failed():
        return None
    try:
        result = state.result(raise_on_failure=False)
    except Exception as exc:  # noqa: BLE001 - a result that cannot be read is not an exception
        return exc if isinstance(exc, WarehouseError) else None
    return result if isinstance(result, BaseException) else None


def _as_failed_state(exc: CarbonpeakError) -> Failed:
    get_run_logger().error("%s", exc)
    return Failed(message=str(exc))


def _ingest_flow(department: str, description: str) -> Flow:
    def ingest() -> list[LoadResult]:
        try:
            with writing(f"ingest-{department}"):
                return ingest_department(department)
        except WarehouseError:
            raise  # busy, full or read-only: not the department's failure; nothing is recorded
        except CarbonpeakError as exc:
            _record_failure(department, exc)
            return _as_failed_state(exc)

    ingest.__name__ = ingest.__qualname__ = f"ingest_{department}"
    return flow(ingest, name=f"ingest-{department}", description=description)


# One flow per department, so each can be scheduled at the cadence it publishes (sources.yml).
# Mianyang's are named here (deployment entry points); another city's are made from its config.
ingest_energy = _ingest_flow("energy", "发展改革委 / 统计局: energy balance, GDP, raw coal, capacity.")
ingest_forestry = _ingest_flow("forestry", "林业局: forest area, coverage and stock per county.")
ingest_waste = _ingest_flow("waste", "生态环境局: industrial solid and hazardous waste ledger.")
INGEST_FLOWS = {"energy": ingest_energy, "forestry": ingest_forestry, "waste": ingest_waste}


def ingest_flow(department: DepartmentSpec) -> Flow:
    """The ingest flow of a department of the configured city."""
    if department.name not in INGEST_FLOWS:
        INGEST_FLOWS[department.name] = _ingest_flow(department.name, department.name_zh)
    return INGEST_FLOWS[department.name]


@dataclass(frozen=True)
class BuildInputs:
    """What every build takes from the city's configuration, read before the build starts.

    `seed` writes the KPI catalogue and what the age of the data is judged on; `generated` are
    the KPI views kpis.yml declares (and kpi_series). A broken kpis.yml or sources.yml stops the
    build with one line, before anything is written.
    """

    seed: Callable[[duckdb.DuckDBPyConnection], None]
    generated: list[GeneratedModel]


def build_inputs(settings: Settings) -> BuildInputs:
    catalogue = read_catalogue(settings.kpis_file)
    sources = load_sources(settings.sources_file)
    as_of = settings.as_of or city_today()

    def seed(con: duckdb.DuckDBPyConnection) -> None:
        load_catalogue(con, catalogue)
        seed_data_age(con, sources, as_of)

    return BuildInputs(seed, generated_models(catalogue, settings.kpis_file.name))


@flow(name="build-warehouse")
def build_warehouse(select: str | None = None) -> list[str]:
    """Build the SQL models, then publish the analysts' read-only snapshot of the warehouse.

    The KPI catalogue and every model (staging → marts → kpi) are built in one transaction; the
    snapshot is published only once that transaction has committed.
    """
    from prefect.runtime import flow_run

    logger = get_run_logger()
    settings = Settings.from_env()
    inputs = build_inputs(settings)
    with writing("build-warehouse"):
        con = connect(settings.warehouse)
        try:
            built = build_models(con, settings.sql_dir, select, seed=inputs.seed,
                                 generated=inputs.generated)
        finally:
            con.close()
        logger.info("built %d models", len(built))
        snapshot = publish_snapshot(settings.warehouse, settings.snapshot, build_id=flow_run.id)
    logger.info("published the analyst snapshot %s; open it with `duckdb -readonly %s`",
                snapshot, snapshot)
    return [m.relation for m in built]


@flow(name="evaluate-kpis")
def evaluate_kpis() -> list[dict]:
    """Read `kpi.kpi_status` and report how many checkpoints are in each status."""
    logger = get_run_logger()
    con = connect(Settings.from_env().warehouse, read_only=True)
    try:
        rows = read_kpi_status(con)
    finally:
        con.close()
    check_kpi_status(rows)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    logger.info("%d checkpoints: %s", len(rows),
                ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    return rows


@flow(name="run-all")
def run_all(departments: list[str] | None = None) -> list[dict]:
    """Ingest every department (a failing one does not stop the others), build, evaluate, alert.

    One run at a time: a run that finds another holding the warehouse waits, then stops without
    recording anything against any department. A warehouse error (busy, full, read-only) stops
    the run at once: no build, no alerts, since no department is at fault.
    """
    try:
        with writing("run-all"):
            return _run_all(departments)
    except WarehouseError as exc:
        get_run_logger().error("%s", exc)
        return Failed(message=str(exc))


def _run_all(departments: list[str] | None) -> list[dict]:
    from flows.alerts import alert

    logger = get_run_logger()
    config = load_sources(Settings.from_env().sources_file)
    chosen = [config.department(name) for name in departments] if departments else config.departments
    failures, refused = {}, 0
    for department in chosen:
        name = department.name
        state = ingest_flow(department)(return_state=True)
        raised = _exception_of(state)
        if isinstance(raised, WarehouseError):
            raise raised  # the warehouse, not the department: stop here, record nothing
        if state.is_failed():
            failures[name] = state.message
        else:
            refused += sum(r.status == "rejected" for r in state.result())
    if len(failures) == len(chosen):
        alert()  # failed departments are news even when nothing could be built
        return Failed(message="every department failed; no data was loaded: "
                      + "; ".join(failures.values()))
    build_warehouse()
    rows = evaluate_kpis()
    alert()
    if failures:
        logger.error("built with the data of the departments that succeeded; failed: %s",
                     "; ".join(failures.values()))
    # each refused batch was logged once, on one line, by the gate (file, what failed, what to change)
    if failures or refused:
        problems = list(failures.values()) + ([f"{refused} batch(es) refused (see above)"]
                                              if refused else [])
        return Failed(message="; ".join(problems))
    return rows
