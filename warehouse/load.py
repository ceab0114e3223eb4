"""Load validated batches into the raw layer: all of a department in one transaction.

A rerun of the same data writes no row (a fact identical to its current vintage is skipped);
a revised value becomes a new vintage and the old one is kept. Every load is accounted for:
rows in = loaded + quarantined + unchanged + duplicate + rejected, or the transaction is rolled
back. Each batch that arrived leaves one row in `meta.load_log` and its validation in
`meta.validation_runs` / `meta.validation_results`; a source with nothing new leaves none.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import uuid
from dataclasses import dataclass

import duckdb
import pandas as pd

from connectors.parse import ROW_NUMBER
from connectors.spec import DatasetSpec
from core.gc_pause import gc_paused
from expectations.gate import Batch, QuarantinedRow
from warehouse.backend import next_load_seq, retry_on_conflict
from warehouse.db import quote_ident, transaction
from warehouse.errors import AccountingError
from warehouse.native import SET_ASIDE, apply_verdict, point_partitions
from warehouse.raw import NATIVE_ROW_HASH, ensure_meta, ensure_raw_table

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class LoadResult:
    dataset: str
    load_id: str
    status: str
    rows_in: int
    rows_loaded: int
    rows_quarantined: int
    rows_unchanged: int
    rows_duplicate: int
    rows_rejected: int = 0
    detail: str | None = None


def load_batches(con: duckdb.DuckDBPyConnection, batches: list[Batch], run_id: str | None = None
                 ) -> list[LoadResult]:
    """Write every batch (or its rejection) in one transaction; on any error nothing is written.

    `run_id` (the Prefect flow run, when there is one) is kept in the load log.
    """
    ensure_meta(con)
    for batch in batches:
        ensure_raw_table(con, batch.spec)

    def write() -> list[LoadResult]:
        with transaction(con), gc_paused():  # quarantined rows in bulk: no collector walks
            return [_load_one(con, batch, run_id) for batch in batches]

    sources = ", ".join(sorted({b.spec.source_name for b in batches}))
    return retry_on_conflict(con, write, f"loading {sources}")


def _row_key(spec: DatasetSpec, raw: dict) -> str:
    return ", ".join(f"{c.name}={raw.get(c.source_field)}" for c in spec.columns
                     if c.name in spec.primary_key)


def _record_state(con: duckdb.DuckDBPyConnection, batch: Batch, now: dt.datetime) -> None:
    prov = batch.provenance
    _remember(con, batch.spec.table_name, prov.state_key or prov.url, prov.url, prov.etag,
              prov.last_modified, prov.sha256, now, prov.watermark)


def _remember(con: duckdb.DuckDBPyConnection, dataset: str, key: str, url: str, etag: str | None,
              last_modified: str | None, sha256: str, now: dt.datetime, watermark: str | None = None
              ) -> None:
    """What a source (a dataset's path, a landing file, a day file) held when last loaded."""
    con.execute("""
        merge into meta.source_state as t
        using (select ?::varchar as dataset, ?::varchar as source_key, ?::varchar as url,
                      ?::varchar as etag, ?::varchar as last_modified, ?::varchar as payload_sha256,
                      ?::timestamptz as now, ?::varchar as watermark) as s
        on t.dataset = s.dataset and t.source_key = s.source_key
        when matched then update set
            url = s.url, etag = s.etag, last_modified = s.last_modified, checked_at = s.now,
            watermark = coalesce(s.watermark, t.watermark),
            changed_at = if(t.payload_sha256 = s.payload_sha256, t.changed_at, s.now),
            payload_sha256 = s.payload_sha256
        when not matched then insert (dataset, source_key, url, etag, last_modified, payload_sha256,
                                      checked_at, changed_at, watermark)
            values (s.dataset, s.source_key, s.url, s.etag, s.last_modified, s.payload_sha256,
                    s.now, s.now, s.watermark)
    """, [dataset, key, url, etag, last_modified, sha256, now, watermark])


def _unchanged(con: duckdb.DuckDBPyConnection, batch: Batch, now: dt.datetime) -> LoadResult:
    """The source had nothing new (304, the same payload, nothing since the watermark).

    Remember that it was asked (`meta.source_state.checked_at`); nothing is loaded or logged.
    """
    spec, prov = batch.spec, batch.provenance
    _record_state(con, batch, now)
    log.info("raw.%s: unchanged since the last load (%s)", spec.table_name,
             "304 not modified" if prov.pages == 0 else "same payload")
    return LoadResult(spec.table_name, "-", "unchanged", prov.records, 0, 0, prov.records, 0)


def _load_one(con: duckdb.DuckDBPyConnection, batch: Batch, run_id: str | None) -> LoadResult:
    spec, prov = batch.spec, batch.provenance
    now = dt.datetime.now(dt.UTC)
    if prov.not_modified:
        return _unchanged(con, batch, now)
    if batch.staged is not None:
        return _load_staged(con, batch, run_id, now)
    status = "rejected" if batch.rejected_reason else "loaded"
    table = f"raw.{quote_ident(spec.table_name)}"
    load_seq = next_load_seq(con)
    load_id = f"{spec.table_name}-{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"

    inserted = 0
    if status == "loaded" and len(batch.rows):
        inserted = _insert_new_vintages(con, batch, load_id, load_seq, now)
    if status == "loaded" and batch.quarantined:
        _quarantine(con, batch, load_id, now)

    rows_in = prov.records
    passed = len(batch.rows) if status == "loaded" else 0
    quarantined = len(batch.quarantined) if status == "loaded" else 0
    unchanged = passed - inserted
    rejected = rows_in - batch.duplicates if status == "rejected" else 0
    if rows_in != inserted + quarantined + unchanged + batch.duplicates + rejected:
        raise AccountingError(
            f"`{spec.source_name}`: {rows_in} rows in but {inserted} loaded + {quarantined} "
            f"quarantined + {unchanged} unchanged + {batch.duplicates} duplicate + {rejected} "
            "rejected; nothing was written. This is a carbonpeak bug: please report it with the "
            "source payload.")
    result = LoadResult(spec.table_name, load_id, status, rows_in, inserted, quarantined,
                        unchanged, batch.duplicates, rejected, batch.rejected_reason)
    if status == "loaded" and prov.state_key:  # a replay is no news from the source
        _record_state(con, batch, now)
    con.execute("insert into meta.load_log values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [load_id, load_seq, run_id, spec.department, spec.table_name, status, prov.url,
                 prov.sha256, prov.fetched_at, now, rows_in, inserted, quarantined, unchanged,
                 batch.duplicates, rejected, batch.rejected_reason])
    _record_validation(con, batch, load_id, status, quarantined > 0)
    log.info("%s: %s; %d in, %d loaded, %d quarantined, %d unchanged, %d duplicate, %d rejected",
             table, status, rows_in, inserted, quarantined, unchanged, batch.duplicates, rejected)
    return result


def _load_staged(con: duckdb.DuckDBPyConnection, batch: Batch, run_id: str | None, now: dt.datetime
                 ) -> LoadResult:
    """Commit a natively read batch (warehouse/native.py), accounted like any other load.

    The gate's verdict is applied to its pending rows, then the accepted days become current.
    """
    spec, prov, staged = batch.spec, batch.provenance, batch.staged
    days = {f.day for f in staged.fetched.files}
    reject_all = bool(batch.rejected_reason) or (bool(days) and days <= set(batch.rejected_days))
    verdict = apply_verdict(con, staged, batch.failed_keys, batch.rejected_days, reject_all)
    status = "rejected" if reject_all else "loaded"
    loaded = sum(verdict.loaded_by_day.values())
    quarantined = verdict.quarantined
    rows_in, duplicates, rejected = staged.rows_in, staged.duplicates, verdict.rejected_rows
    if rows_in != loaded + quarantined + duplicates + rejected:
        raise AccountingError(
            f"`{spec.source_name}`: {rows_in} rows in but {loaded} loaded + {quarantined} "
            f"quarantined + {duplicates} duplicate + {rejected} rejected; nothing was written. "
            "This is a carbonpeak bug: please report it with the day files.")
    detail = batch.rejected_reason or "; ".join(
        f"{day} refused: {'; '.join(reasons)}" for day, reasons in sorted(batch.rejected_days.items())
    ) or None
    if quarantined:
        batch.quarantined = [QuarantinedRow(r.row_number, {"day": str(r.day), **r.raw}, (r.reason,))
                             for r in verdict.rejects]
        _quarantine(con, batch, staged.load_id, now, verdict.set_aside)
    kept = point_partitions(con, staged, verdict.loaded_by_day, now)
    if kept:  # loaded as a vintage, but the complete day it would have replaced stays current
        detail = "; ".join(filter(None, [detail, "not current: " + ", ".join(map(str, kept)) +
                                         " already held complete (its day file) or by a larger "
                                         "pull"]))
    _record_state(con, batch, now)  # the manifest (or landing folder): asked again next run
    for file in staged.fetched.files:
        if file.day in verdict.loaded_by_day:
            _remember(con, spec.table_name, file.state_key, file.url, file.etag, None, file.sha256, now)
    con.execute("insert into meta.load_log values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [staged.load_id, staged.load_seq, run_id, spec.department, spec.table_name, status,
                 prov.url, prov.sha256, prov.fetched_at, now, rows_in, loaded, quarantined, 0,
                 duplicates, rejected, detail])
    _record_validation(con, batch, staged.load_id, status, quarantined > 0)
    log.info("raw.%s: %s; %d in, %d loaded (%d day(s)), %d quarantined, %d duplicate, %d rejected",
             spec.table_name, status, rows_in, loaded, len(verdict.loaded_by_day), quarantined,
             duplicates, rejected)
    return LoadResult(spec.table_name, staged.load_id, status, rows_in, loaded, quarantined, 0,
                      duplicates, rejected, detail)


def _insert_new_vintages(con: duckdb.DuckDBPyConnection, batch: Batch, load_id: str, load_seq: int,
                         now: dt.datetime) -> int:
    """Insert the rows whose key is new or whose values differ from the current vintage."""
    spec, prov = batch.spec, batch.provenance
    table = f"raw.{quote_ident(spec.table_name)}"
    cols = [c.name for c in spec.columns]
    quoted = ", ".join(quote_ident(c) for c in cols)
    hashed = " || '|' || ".join(f"coalesce(cast(i.\"{c}\" as varchar), '∅')" for c in cols)
    key_match = " and ".join(f'c."{k}" is not distinct from i."{k}"' for k in spec.primary_key)
    partition = ", ".join(f'"{k}"' for k in spec.primary_key)
    con.register("_incoming", batch.rows[[ROW_NUMBER, *cols]])
    try:
        return con.execute(f"""
            insert into {table} ({quoted}, _row_hash, _load_id, _load_seq, _source,
                                 _source_url, _row_number, _fetched_at, _loaded_at)
            with hashed as (select i.*, md5({hashed}) as _row_hash from _incoming i),
            current as (
                select * from {table}
                qualify row_number() over (partition by {partition} order by _load_seq desc) = 1)
            select {", ".join(f'i."{c}"' for c in cols)}, i._row_hash, ?, ?, ?, ?,
                   i.{ROW_NUMBER}, ?, ?
            from hashed i
            where not exists (select 1 from current c
                              where {key_match} and c._row_hash = i._row_hash)
        """, [load_id, load_seq, spec.source_name, prov.url, prov.fetched_at, now]).fetchone()[0]
    finally:
        con.unregister("_incoming")


def _record_validation(con: duckdb.DuckDBPyConnection, batch: Batch, load_id: str, status: str,
                       quarantined: bool) -> None:
    """Keep what the suite said about this batch: one row per expectation, and GX's document."""
    if not batch.checks:
        return
    failed = [c for c in batch.checks if not c.success]
    errors = sum(c.severity == "error" for c in failed)
    warns = sum(c.severity == "warn" for c in failed)
    outcome = ("rejected" if status == "rejected" else "quarantined" if quarantined
               else "warned" if warns else "passed")
    at = batch.validated_at or dt.datetime.now(dt.UTC)
    con.execute("insert into meta.validation_runs values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [load_id, batch.spec.table_name, batch.spec.table_name, at, outcome,
                 len(batch.checks), errors, warns,
                 json.dumps(batch.gx_result, ensure_ascii=False, default=str)
                 if batch.gx_result else None])
    frame = pd.DataFrame([(load_id, batch.spec.table_name, c.expectation, c.expectation_type,
                           c.check, c.severity, c.success, c.unexpected_count, c.detail, at)
                          for c in batch.checks],
                         columns=["load_id", "dataset", "expectation", "expectation_type",
                                  "check_kind", "severity", "success", "unexpected_count",
                                  "detail", "validated_at"])
    frame["unexpected_count"] = frame["unexpected_count"].astype("Int64")
    con.register("_checks", frame)
    try:
        con.execute("insert into meta.validation_results select * from _checks")
    finally:
        con.unregister("_checks")


def _quarantine(con: duckdb.DuckDBPyConnection, batch: Batch, load_id: str, now: dt.datetime,
                set_aside: int = 0) -> None:
    """Upsert the batch's rejected rows in one statement (row-by-row inserts take minutes at 10^4).

    A row's hash is the md5 of its record as JSON, which makes a record seen again one row. A
    parsed batch hashes the JSON Python writes. A natively loaded one (day files) hashes the JSON
    DuckDB writes (`json()`, whoever wrote the record): its rows refused in Python (cast, clash)
    and those the gate set aside in DuckDB (`set_aside` rows in native.SET_ASIDE) hash alike.
    """
    spec, prov = batch.spec, batch.provenance
    native = batch.staged is not None
    records = []
    for order, row in enumerate(batch.quarantined):
        raw_json = json.dumps(row.raw, ensure_ascii=False, sort_keys=True)
        row_hash = None if native else hashlib.md5(raw_json.encode()).hexdigest()
        records.append((order, row_hash, _row_key(spec, row.raw), row.row_number,
                        "; ".join(row.failed_checks), raw_json))
    frame = pd.DataFrame(records, columns=["ord", "row_hash", "row_key", "row_number",
                                           "failed_checks", "raw_values"])
    parts = []
    if records:
        parts.append("select ord, row_hash, row_key, cast(row_number as bigint) as row_number, "
                     "failed_checks, cast(raw_values as varchar) as raw_values from _quarantined")
    if set_aside:
        parts.append(f"select {len(records)} + row_number() over () as ord, null as row_hash, row_key, "
                     "cast(null as bigint) as row_number, checks as failed_checks, "
                     f"cast(record as varchar) as raw_values from {SET_ASIDE}")
    row_hash = NATIVE_ROW_HASH if native else "row_hash"
    if records:
        con.register("_quarantined", frame)
    try:
        # the same record twice in one statement would break the merge: keep the first
        con.execute(f"""
            merge into meta.quarantine as t
            using (select ?::varchar as dataset, {row_hash} as row_hash, row_key, row_number,
                          ?::varchar as source_url, failed_checks, raw_values,
                          ?::varchar as load_id, ?::timestamptz as now
                   from ({" union all ".join(parts)}) as q
                   qualify row_number() over (partition by {row_hash} order by ord) = 1) as s
            on t.dataset = s.dataset and t.row_hash = s.row_hash
            when matched then update set last_seen_at = s.now,
                failed_checks = s.failed_checks, replayed_at = null, replay_load_id = null
            when not matched then insert values (
                s.dataset, s.row_hash, s.row_key, s.row_number, s.source_url, s.failed_checks,
                cast(s.raw_values as json), s.load_id, s.now, s.now, null, null)
        """, [spec.table_name, prov.url, load_id, now])
    finally:
        if records:
            con.unregister("_quarantined")
        if native:  # after a failed merge the transaction is aborted and its rollback drops it
            with contextlib.suppress(duckdb.Error):
                con.execute(f"drop table if exists {SET_ASIDE}")
