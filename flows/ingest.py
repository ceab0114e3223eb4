"""The `ingest` flow: one department's datasets, extracted, validated, then loaded all at once.

One flow for every department of any city (the department is its parameter, the run is named
`ingest-<department>`), so each can be deployed at the cadence it publishes (flows/deployments.py).
Tasks are thin: each calls one function of connectors/, expectations/ or warehouse/. Transient
source failures are retried in the HTTP layer only, so tasks have no Prefect retries. A department
whose source fails ends as a Failed state with one clear message, recorded in meta.source_health.
"""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.states import Failed
from prefect.utilities.annotations import quote

from connectors.day_files import DayFiles
from connectors.fetch import fetch_dataset
from connectors.result import FetchResult, SourceState
from connectors.spec import DatasetSpec, DepartmentSpec, load_city, load_sources
from core.errors import CarbonpeakError, ConfigError
from expectations.gate import Batch, check_fetched
from expectations.suites import check_suite_columns
from flows.settings import (
    Settings,
    download_folder,
    landing_folder,
    source_token,
    source_url,
    with_http_overrides,
)
from flows.writing import writing
from warehouse.errors import WarehouseError
from warehouse.health import record_health
from warehouse.load import LoadResult, load_batches
from warehouse.model_properties import read_declared_sources
from warehouse.models import ensure_declared_sources
from warehouse.native import discard_staged
from warehouse.raw import check_contract
from warehouse.state import read_source_states, states_of


@task(name="extract", cache_policy=NO_CACHE, task_run_name="extract-{spec.name}")
def extract(spec: DatasetSpec, department: DepartmentSpec, states: dict[str, SourceState]
            ) -> list[FetchResult | DayFiles]:
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
                         landing, download_folder(spec))


@task(name="validate", cache_policy=NO_CACHE, task_run_name="validate-{spec.name}")
def validate(spec: DatasetSpec, fetched: list[FetchResult | DayFiles], city: dict) -> list[Batch]:
    """Check each batch inside the warehouse (staged, validated, unstaged; raw is untouched).

    Day files are the exception: DuckDB reads them straight into raw as a pending load, which
    nothing reads until the load commits it (warehouse/native.py); a failure here removes it.
    """
    settings = Settings.from_env()
    con = settings.open_warehouse()
    try:
        # Suites may look at other raw tables (cross-dataset checks): they must exist, if empty.
        ensure_declared_sources(con, settings.sql_dir)
        return [check_fetched(f, con, city, settings.as_of) for f in fetched]
    finally:
        con.close()


@task(name="load", cache_policy=NO_CACHE)
def load(batches: list[Batch], department: DepartmentSpec) -> list[LoadResult]:
    from prefect.runtime import flow_run

    con = Settings.from_env().open_warehouse()
    try:
        try:
            results = load_batches(con, batches, run_id=flow_run.id)
        except BaseException:  # rolled back: pending day files must not wait for the next load
            for batch in batches:
                if batch.staged is not None:
                    discard_staged(con, batch.staged)
            raise
        record_health(con, department)
    finally:
        con.close()
    for batch in batches:
        if batch.staged is not None:
            batch.staged.fetched.remove_downloads()
    return results


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
    con = settings.open_warehouse()
    try:
        states = read_source_states(con)
    finally:
        con.close()
    batches = []
    # quote(): Prefect would otherwise walk every field of these specs, results and batches at each
    # task call, looking for futures to wait on (there are none: each task is called in turn); the
    # tasks get the same objects, and the UI no longer draws extract -> validate -> load links
    for spec in department.datasets:
        fetched = extract(quote(spec), quote(department), quote(states_of(states, spec.table_name)))
        batches += validate(quote(spec), quote(fetched), quote(city))
    results = load(quote(batches), quote(department))
    for r in results:
        logger.info("%s: %s, %d in = %d loaded + %d quarantined + %d unchanged + %d duplicate + "
                    "%d rejected", r.dataset, r.status, r.rows_in, r.rows_loaded, r.rows_quarantined,
                    r.rows_unchanged, r.rows_duplicate, r.rows_rejected)
    return results


def _record_failure(name: str, exc: CarbonpeakError) -> None:
    """Keep the reason in the warehouse: the department's KPIs show as stale until it answers."""
    settings = Settings.from_env()
    try:
        department = load_sources(settings.sources_file).department(name)
    except CarbonpeakError:
        return  # the configuration itself is broken: nothing to attach the failure to
    con = settings.open_warehouse()
    try:
        record_health(con, department, str(exc))
    finally:
        con.close()


@flow(name="ingest", flow_run_name="ingest-{department}")
def ingest(department: str) -> list[LoadResult]:
    """Ingest one department of the configured city (its name in sources.yml, e.g. energy)."""
    try:
        with writing(f"ingest-{department}"):
            return ingest_department(department)
    except WarehouseError:
        raise  # busy, full or read-only: not the department's failure; nothing is recorded
    except CarbonpeakError as exc:
        _record_failure(department, exc)
        get_run_logger().error("%s", exc)
        return Failed(message=str(exc))
