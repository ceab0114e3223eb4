"""The `run-all` flow: every department (a failing one does not stop the others), build, evaluate, alert."""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.states import Failed

from connectors.spec import load_sources
from flows.build import build_warehouse
from flows.evaluate import evaluate_kpis
from flows.ingest import ingest
from flows.settings import Settings
from flows.writing import writing
from warehouse.errors import WarehouseError


def _exception_of(state: object) -> BaseException | None:
    """The exception a failed flow run raised, if it raised one."""
    if not state.is_failed():
        return None
    try:
        result = state.result(raise_on_failure=False)
    except Exception as exc:  # noqa: BLE001 - a result that cannot be read is not an exception
        return exc if isinstance(exc, WarehouseError) else None
    return result if isinstance(result, BaseException) else None


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
    from flows.alerting import alert

    logger = get_run_logger()
    config = load_sources(Settings.from_env().sources_file)
    chosen = [config.department(name) for name in departments] if departments else config.departments
    failures, refused = {}, 0
    for department in chosen:
        name = department.name
        state = ingest(department.name, return_state=True)
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
