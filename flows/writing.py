"""The one way a flow writes the warehouse: under the run lock, after a killed run's leftovers."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from prefect import get_run_logger

from flows.run_lock import depth, run_lock
from flows.settings import Settings
from warehouse.db import clear_stage, connect, warehouse_problem


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
