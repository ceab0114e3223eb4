"""The `replay-quarantine` flow: replay quarantined rows after a fix, rebuild and republish.

A fix is a corrected column map or unit in sources.yml, or a relaxed bound in a suite. A replay
parses the rows again from the values as received (connectors), checks them together with the
current rows (expectations), loads what passes and marks those rows replayed (warehouse).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import duckdb
from prefect import flow, get_run_logger

from connectors.parse import ROW_NUMBER, parse_records
from connectors.result import FetchResult, Provenance
from connectors.spec import DatasetSpec, SourcesConfig, load_city, load_sources
from core.errors import ConfigError
from expectations.gate import check_batch
from flows.build import build_warehouse
from flows.settings import Settings
from flows.writing import writing
from warehouse.load import load_batches
from warehouse.models import ensure_declared_sources
from warehouse.quarantine import QuarantinedRecord, current_rows, mark_replayed, read_quarantine


@dataclass(frozen=True)
class ReplayResult:
    dataset: str
    replayed: int  # rows taken out of the quarantine for another try
    loaded: int  # new facts or vintages written
    unchanged: int  # passed, and already in the warehouse as they are
    still_quarantined: int
    rejected: str | None = None  # a table-level check failed: nothing of this dataset was loaded


def replay_dataset(con: duckdb.DuckDBPyConnection, spec: DatasetSpec, records: list[QuarantinedRecord],
                   city: dict, as_of: dt.date | None, run_id: str | None = None) -> ReplayResult:
    numbers = list(range(1, len(records) + 1))
    raw = {n: r.raw_values for n, r in enumerate(records, start=1)}
    frame, rejects = parse_records(spec, list(raw.values()), row_numbers=numbers)
    digest = hashlib.sha256("".join(r.row_hash for r in records).encode()).hexdigest()
    provenance = Provenance(spec.source_name, f"quarantine replay of raw.{spec.table_name}",
                            dt.datetime.now(dt.UTC).replace(microsecond=0), digest, 1,
                            len(records), state_key="")  # no state: the source was not asked
    fetched = FetchResult(spec, frame, tuple(rejects), provenance, raw)
    batch = check_batch(fetched, con, params=city, as_of=as_of,
                        context=current_rows(con, spec, frame))
    [result] = load_batches(con, [batch], run_id)
    if result.status == "rejected":
        return ReplayResult(spec.table_name, len(records), 0, 0, len(records), result.detail)
    passed = set(batch.rows[ROW_NUMBER].astype(int))
    # exact repeats inside the replay pass with their first copy
    passed |= {n for n in numbers if n not in passed and n not in
               {q.row_number for q in batch.quarantined}}
    mark_replayed(con, spec.table_name, [records[n - 1].row_hash for n in sorted(passed)],
                  result.load_id)
    return ReplayResult(spec.table_name, len(records), result.rows_loaded, result.rows_unchanged,
                        len(batch.quarantined))


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
    with writing("replay-quarantine"):  # a writer like any other: one at a time
        con = settings.open_warehouse()
        try:
            ensure_declared_sources(con, settings.sql_dir)
            pending: dict[str, list[QuarantinedRecord]] = {}
            for record in read_quarantine(con, dataset):
                pending.setdefault(record.dataset, []).append(record)
            specs = {table: _spec_of(config, table) for table in pending}  # refuse before any load
            results = []
            for table in [t for t, spec in specs.items() if spec.partitions is not None]:
                # A day file's rows are not replayed one by one: the day is re-published whole
                # (the department re-sends the file, a new vintage of that day).
                logger.info("%s: %d quarantined row(s) kept: a day-file dataset is mended by the "
                            "department re-publishing the day", table, len(pending.pop(table)))
            for table, records in pending.items():
                result = replay_dataset(con, specs[table], records, city, settings.as_of, flow_run.id)
                logger.info("%s: %d replayed: %d loaded, %d unchanged, %d still quarantined%s", table,
                            result.replayed, result.loaded, result.unchanged, result.still_quarantined,
                            f"; rejected: {result.rejected}" if result.rejected else "")
                results.append(result)
        finally:
            con.close()
        if any(r.loaded for r in results):
            build_warehouse()  # rebuild and republish: analysts see the replayed rows too
    if not pending:
        logger.info("nothing waits in the quarantine%s", f" for {dataset}" if dataset else "")
    return results
