"""The `maintain-lake` flow: every namespace of the lake kept small (warehouse/maintenance.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from prefect import flow, get_run_logger

from flows.settings import Settings
from flows.writing import writing
from warehouse.errors import WarehouseError
from warehouse.lake import connect_lake, read_pointer, require_lake
from warehouse.maintenance import list_namespaces, maintain

# A writer that has not committed yet has files just like a killed writer's, and a city's build
# writes every model in one transaction: the youngest orphan that may be deleted must be older
# than any load or build could take.
MIN_ORPHAN_HOURS = 6.0


@flow(name="maintain-lake")
def maintain_lake(keep_days: float = 7.0, grace_hours: float = 24.0, orphan_hours: float = 24.0
                  ) -> list[dict]:
    """Expire snapshots older than `keep_days`, merge small files, delete unreferenced ones."""
    settings = Settings.from_env()
    require_lake(settings.warehouse, "maintenance runs")  # a DuckDB file checkpoints itself
    if min(keep_days, grace_hours) < 0 or orphan_hours < MIN_ORPHAN_HOURS:
        raise WarehouseError(f"keep_days and grace_hours must be 0 or more, and orphan_hours at least "
                             f"{MIN_ORPHAN_HOURS:g} (files younger than that may be a running load's)")
    pointer = read_pointer(settings.warehouse)
    if pointer.read_only:
        raise WarehouseError(f"`{settings.warehouse}` is the analysts' read-only pointer; maintain the "
                             "lake through the writer's (data/warehouse.lake)")
    logger, results = get_run_logger(), []
    for namespace in list_namespaces(pointer.catalog):
        with writing("maintain-lake", scope=namespace):
            con = connect_lake(pointer.catalog, namespace=namespace)
            try:
                done = maintain(con, namespace, dt.timedelta(days=keep_days), dt.timedelta(hours=grace_hours),
                                dt.timedelta(hours=orphan_hours))
            finally:
                con.close()
        logger.info("%s: %d snapshots expired, %d small files merged, %d old files and %d orphans "
                    "deleted, %d stage leftovers of killed runs dropped", namespace, done.snapshots_expired,
                    done.files_merged, done.files_deleted, done.orphans_deleted, done.stage_dropped)
        results.append(dataclasses.asdict(done))
    return results
