"""The one way a flow writes the warehouse: under its lock, after a killed run's leftovers.

A DuckDB file takes one writer: every writing flow holds the warehouse's run lock
(flows/run_lock.py) and the outermost holder clears a killed run's stage tables.

A DuckLake takes many writers (snapshot isolation; a conflicting load is rerun whole), and each
city writes a namespace of its own (warehouse/lake.city_namespace). There only one city's flows
that write the same things exclude each other, by `what`: one department's ingest
against another run of that department (a day's pending load must be its dataset's only one,
warehouse/native.discard_orphans), a model rebuild against another rebuild (two `CREATE OR
REPLACE` of one model always conflict). Each such scope is held two ways:
- a lock file beside the pointer (`<pointer>.<scope>.<what>.lock`, the scope a city's
  namespace `city_<code>` or `province`), for runs on this machine, whatever Prefect server
  each uses (`carbonpeak run` starts its own temporary one);
- when a Prefect server is configured (`PREFECT_API_URL`, as on every worker), a Prefect global
  concurrency limit of one slot, `carbonpeak-<scope>-<what>`, created when missing, for workers
  on other machines.
The stage is not cleared on a lake: another writer's batch may be in it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from prefect import get_run_logger

from flows.run_lock import depth, run_lock
from flows.settings import Settings
from warehouse.db import clear_stage, warehouse_problem
from warehouse.errors import WarehouseBusy
from warehouse.lake import is_pointer


@contextlib.contextmanager
def writing(what: str, scope: str | None = None) -> Iterator[None]:
    """Hold what this flow writes (see the module docstring); a full disk is one line.

    `scope` is which namespace of a lake it writes: the configured city's by default
    (`city_<code>`, so two config folders of one city exclude each other), or `province`.
    """
    settings = Settings.from_env()
    if is_pointer(settings.warehouse):
        held = _lake_scope(settings, scope or _city_scope(settings), what)
    else:
        held = _whole_file(settings, what)
    try:  # around the taking too: clearing a killed run's stage writes, and a disk may be full
        with held:
            yield
    except Exception as exc:
        problem = warehouse_problem(exc, settings.warehouse)
        if problem is None:
            raise
        raise problem from None  # a full disk is nobody's data: one line, no traceback


@contextlib.contextmanager
def _whole_file(settings: Settings, what: str) -> Iterator[None]:
    with run_lock(settings.warehouse, what, settings.lock_wait_s):
        if depth(settings.warehouse) == 1:
            con = settings.open_warehouse()
            try:
                left = clear_stage(con)
            finally:
                con.close()
            if left:
                get_run_logger().warning("removed %d batch(es) a killed run left in `stage`", left)
        yield


@contextlib.contextmanager
def _lake_scope(settings: Settings, scope: str, what: str) -> Iterator[None]:
    pointer = settings.warehouse  # another city's run of the same flow writes another namespace
    with run_lock(pointer.with_name(f"{pointer.name}.{scope}.{what}"), what, settings.lock_wait_s):
        if not os.environ.get("PREFECT_API_URL"):
            yield
            return
        name = concurrency_limit_name(scope, what)
        with _prefect_slot(name, settings.lock_wait_s):
            get_run_logger().info("holding the Prefect concurrency limit `%s`", name)
            yield
            get_run_logger().info("releasing the Prefect concurrency limit `%s`", name)


def _city_scope(settings: Settings) -> str:
    from warehouse.lake import city_namespace

    code = settings.city_code
    return city_namespace(code) if code else settings.config_dir.name  # no code: connect says so


def concurrency_limit_name(scope: str, what: str) -> str:
    return f"carbonpeak-{scope}-{what}"


@contextlib.contextmanager
def _prefect_slot(name: str, wait_s: float) -> Iterator[None]:
    from prefect.concurrency.sync import concurrency

    ensure_concurrency_limit(name)
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(concurrency(name, occupy=1, timeout_seconds=wait_s, strict=True))
        except TimeoutError:
            raise WarehouseBusy(f"`{name}` is held by another run of the same flow on the lake; "
                                f"waited {wait_s:g} s (CARBONPEAK_LOCK_WAIT_S). Try again when it "
                                "finishes (`prefect gcl inspect` shows it). Nothing was recorded "
                                "against any department") from None
        yield


def ensure_concurrency_limit(name: str) -> None:
    """Create the one-slot global concurrency limit `name` unless it exists (idempotent, race-safe)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            with contextlib.suppress(ObjectAlreadyExists):  # another worker made it meanwhile
                client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=1))
