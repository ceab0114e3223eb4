"""The `replay-quarantine` flow: replay quarantined rows after a fix, rebuild and republish.

A fix is a corrected column map or unit in sources.yml, or a relaxed bound in a suite. What a
replay does to a dataset is `warehouse.quarantine.replay_dataset`.
"""

from __future__ import annotations

from prefect import flow, get_run_logger

from connectors.spec import DatasetSpec, SourcesConfig, load_city, load_sources
from core.errors import ConfigError
from flows.build import build_inputs
from flows.settings import Settings
from warehouse.db import connect
from warehouse.models import build_models, ensure_declared_sources
from warehouse.quarantine import QuarantinedRecord, ReplayResult, read_quarantine, replay_dataset
from warehouse.snapshot import publish_snapshot


def _spec_of(config: SourcesConfig, table: str) -> DatasetSpec:
    for spec in config.datasets():
        if spec.table_name == table:
            return spec
    raise ConfigError(config.file, None, "datasets",
                      f"quarantined rows of `raw.{table}` but no dataset of this city loads it; "
                      "restore its entry to replay them")


@flow(name="replay-quarantine")
def replay_quarantine(dataset: str | None = None) -> list[ReplayResult]:
    """Re-validate every quarantined row (or one dataset's) and load what now passes; rebuild."""
    from prefect.runtime import flow_run

    logger = get_run_logger()
    settings = Settings.from_env()
    config = load_sources(settings.sources_file)
    city = load_city(settings.city_file)
    con = connect(settings.warehouse)
    try:
        ensure_declared_sources(con, settings.sql_dir)
        pending: dict[str, list[QuarantinedRecord]] = {}
        rebuild = False
        for record in read_quarantine(con, dataset):
            pending.setdefault(record.dataset, []).append(record)
        specs = {table: _spec_of(config, table) for table in pending}  # refuse before any load
        results = []
        for table, records in pending.items():
            result = replay_dataset(con, specs[table], records, city, settings.as_of, flow_run.id)
            logger.info("%s: %d replayed: %d loaded, %d unchanged, %d still quarantined%s", table,
                        result.replayed, result.loaded, result.unchanged, result.still_quarantined,
                        f"; rejected: {result.rejected}" if result.rejected else "")
            results.append(result)
        rebuild = any(r.loaded for r in results)
        if rebuild:
            inputs = build_inputs(settings)
            build_models(con, settings.sql_dir, seed=inputs.seed, generated=inputs.generated)
    finally:
        con.close()
    if rebuild:  # analysts see the replayed rows too
        publish_snapshot(settings.warehouse, settings.snapshot, build_id=flow_run.id)
    if not pending:
        logger.info("nothing waits in the quarantine%s", f" for {dataset}" if dataset else "")
    return results
