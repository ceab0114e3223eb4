"""The data-quality gate between a connector and the warehouse: dedupe, validate, split.

Exact repeats of a record are dropped (counted), records that failed parsing or an error-level
row expectation are set aside for quarantine, and a batch failing an error-level table
expectation is marked rejected, so nothing of it is loaded.

The batch is validated inside the warehouse: it is staged as `stage.<table>__<id>` (and the totals
the department published beside it, e.g. its 合计 rows, as `..._totals`), checked there with GX,
and the stage tables are dropped again. Nothing is written to the raw layer here.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from connectors.day_files import DayFiles
from connectors.parse import ROW_NUMBER
from connectors.result import FetchResult, Provenance
from connectors.spec import DatasetSpec
from expectations.derived import build_derived
from expectations.rejection import explain_rejection
from expectations.suites import SUITES_DIR, load_suite
from expectations.validate import CheckRecord, Finding, validate_table
from publishing.clock import city_today
from warehouse.native import Staged, discard_staged, stage_day_files

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QuarantinedRow:
    row_number: int
    raw: dict
    failed_checks: tuple[str, ...]


@dataclass
class Batch:
    """A dataset's checked batch, ready to load (or to record as rejected)."""

    spec: DatasetSpec
    provenance: Provenance
    rows: pd.DataFrame  # rows that passed: canonical columns + _row_number
    quarantined: list[QuarantinedRow] = field(default_factory=list)
    duplicates: int = 0
    rejected_reason: str | None = None  # set when an error-level table expectation failed
    warnings: list[Finding] = field(default_factory=list)
    checks: list[CheckRecord] = field(default_factory=list)  # every expectation's result
    gx_result: dict | None = None  # GX's result document, for Data Docs
    validated_at: dt.datetime | None = None
    # A natively read (partitioned) batch: its rows wait in raw as a pending load; the verdict
    # names them by key, and whole days that failed (warehouse/native.py applies it).
    staged: Staged | None = None
    failed_keys: dict[tuple, list[str]] = field(default_factory=dict)
    rejected_days: dict[dt.date, list[str]] = field(default_factory=dict)


def _stage(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame, like: str | None = None
           ) -> str:
    table = f"stage.{name}"
    con.register("_staged", frame)
    try:
        if like and frame.empty:  # no totals published: an empty table of the batch's shape
            con.execute(f"create table {table} as select * from {like} limit 0")
        else:
            con.execute(f"create table {table} as select * from _staged")
    finally:
        con.unregister("_staged")
    return table


def check_batch(fetched: FetchResult, con: duckdb.DuckDBPyConnection, suites_dir: Path = SUITES_DIR,
                params: dict | None = None, as_of: dt.date | None = None,
                context: pd.DataFrame | None = None) -> Batch:
    """Run the dataset's suite on a fetched batch, inside the warehouse `con`, and sort its rows.

    `params` are the city's facts (`config/<city>/city.yml`) that suites refer to as `$name`;
    `as_of` is the date freshness is judged on (default today). `context` rows (canonical
    columns, negative `_row_number`) are validated with the batch but are not part of it: a
    replay of a few quarantined rows is judged together with the data they join, so checks of
    the whole table (continuity, every county present) still make sense.
    """
    spec = fetched.dataset
    if fetched.provenance.not_modified:  # nothing new arrived: nothing to check
        return Batch(spec, fetched.provenance, fetched.frame)
    frame = fetched.frame
    columns = [c.name for c in spec.columns]
    unique = frame.drop_duplicates(subset=columns, keep="first")
    duplicates = len(frame) - len(unique)
    if duplicates:
        log.warning("%s: dropped %d exact duplicate record(s)", spec.source_name, duplicates)
    con.execute("create schema if not exists stage")
    name = f"{spec.table_name}__{uuid.uuid4().hex[:8]}"
    staged, staged_totals = f"stage.{name}", f"stage.{name}__totals"
    try:
        _stage(con, name, unique if context is None else
               pd.concat([unique, context[unique.columns]], ignore_index=True))
        totals = fetched.totals if fetched.totals is not None else unique.iloc[0:0]
        _stage(con, f"{name}__totals", totals, like=staged)
        facts = {**dataset_facts(spec, params, as_of), "totals": staged_totals}
        outcome = validate_table(con, "stage", name, load_suite(spec.table_name, suites_dir, facts))
    finally:  # stage tables never outlive the check (they would reach the analyst snapshot)
        con.execute(f"drop table if exists {staged}")
        con.execute(f"drop table if exists {staged_totals}")
    validated_at = dt.datetime.now(dt.UTC)
    if outcome.rejected:
        reason = explain_rejection(spec.source_name, fetched.provenance.url, outcome)
        log.error("%s", reason)
        return Batch(spec, fetched.provenance, unique.iloc[0:0], duplicates=duplicates,
                     rejected_reason=reason, warnings=outcome.warnings(),
                     checks=outcome.checks, gx_result=outcome.gx_result,
                     validated_at=validated_at)
    failed = {n: checks for n, checks in outcome.quarantine().items() if n > 0}  # not context
    quarantined = [QuarantinedRow(r.row_number, r.raw, (f"{r.check}: {r.reason}",))
                   for r in fetched.rejects]
    quarantined += [QuarantinedRow(number, fetched.raw_record(number), tuple(checks))
                    for number, checks in sorted(failed.items())]
    if quarantined:
        log.warning("%s: %d row(s) quarantined", spec.source_name, len(quarantined))
    rows = unique[~unique[ROW_NUMBER].isin(failed)]
    return Batch(spec, fetched.provenance, rows, quarantined, duplicates,
                 warnings=outcome.warnings(), checks=outcome.checks, gx_result=outcome.gx_result,
                 validated_at=validated_at)


def dataset_facts(spec: DatasetSpec, params: dict | None, as_of: dt.date | None) -> dict:
    """What a suite's checks may name as `${fact}` besides the city's: one list for every caller."""
    return {**(params or {}), "as_of": (as_of or city_today()).isoformat(),
            "raw_table": f"raw.{spec.table_name}", "publication_lag_days": spec.publication_lag_days,
            # the day so far (a provisional pull) is short by design: checks of whole days skip it
            "whole_days": "false" if spec.partitions and spec.partitions.provisional else "true"}


def check_staged(staged: Staged, con: duckdb.DuckDBPyConnection, suites_dir: Path = SUITES_DIR,
                 params: dict | None = None, as_of: dt.date | None = None) -> Batch:
    """Run the suite on a partitioned dataset's pending rows (staged natively in raw).

    Failing rows are named by key (the day and the primary key), days that fail a per-day check
    by their day; nothing is moved here (warehouse/native.py applies the verdict at load).
    """
    spec, prov = staged.spec, staged.fetched.provenance
    schema, view = staged.view.split(".", 1)
    view = view.strip('"')
    facts = {**dataset_facts(spec, params, as_of), "batch_table": f"{schema}.{view}"}
    day = spec.partitions.column
    loaded = load_suite(spec.table_name, suites_dir, facts)
    try:
        build_derived(con, loaded.prepare, staged.view)  # derived once, read by several checks
        outcome = validate_table(con, schema, view, loaded, identity=(day, *spec.primary_key),
                                 partition=day)
    finally:  # the view and its tables never outlive the check (they would reach the snapshot)
        for table, _ in loaded.prepare:
            con.execute(f"drop table if exists {table}")
        con.execute(f"drop view if exists {staged.view}")
    batch = Batch(spec, prov, pd.DataFrame(), duplicates=staged.duplicates,
                  warnings=outcome.warnings(), checks=outcome.checks, gx_result=outcome.gx_result,
                  validated_at=dt.datetime.now(dt.UTC), staged=staged)
    if outcome.rejected:
        batch.rejected_reason = explain_rejection(spec.source_name, prov.url, outcome)
        log.error("%s", batch.rejected_reason)
        return batch
    batch.failed_keys = outcome.quarantine()
    batch.rejected_days = {d: reasons for d, reasons in outcome.rejected_partitions().items()}
    if batch.failed_keys:
        log.warning("%s: %d row(s) fail an error-level check", spec.source_name, len(batch.failed_keys))
    for rejected, reasons in batch.rejected_days.items():
        log.error("%s: the %s file is refused: %s", spec.source_name, rejected, "; ".join(reasons))
    return batch


def check_fetched(fetched: FetchResult | DayFiles, con: duckdb.DuckDBPyConnection, city: dict,
                  as_of: dt.date | None) -> Batch:
    """One fetched batch through the gate, as the ingest's validate task checks it.

    Day files are staged natively first (DuckDB reads them straight into raw as a pending load,
    warehouse/native.py); if the check fails, their pending rows are removed.
    """
    if not isinstance(fetched, DayFiles):
        return check_batch(fetched, con, params=city, as_of=as_of)
    if not fetched.files:  # every listed day is loaded already: nothing moves
        return Batch(fetched.dataset, fetched.provenance, pd.DataFrame())
    staged = stage_day_files(con, fetched)
    try:
        return check_staged(staged, con, params=city, as_of=as_of)
    except BaseException:
        discard_staged(con, staged)
        raise
