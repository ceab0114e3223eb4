"""The quarantine: reading it, and replaying it after a fix.

A replayed row is parsed again from the values the department published, validated together with
the data it joins, and loaded if it now passes; it is then marked as replayed (nothing is deleted),
so a second replay has nothing left to do.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

import duckdb
import pandas as pd

from connectors.parse import ROW_NUMBER, parse_records
from connectors.result import FetchResult, Provenance
from connectors.spec import DatasetSpec
from expectations.gate import check_batch
from warehouse.db import quote_ident
from warehouse.load import load_batches


@dataclass(frozen=True)
class QuarantinedRecord:
    dataset: str
    row_hash: str
    row_key: str | None
    row_number: int | None
    source_url: str | None
    failed_checks: str
    raw_values: dict  # the record exactly as the department published it
    first_seen_at: dt.datetime
    replayed_at: dt.datetime | None


def read_quarantine(con: duckdb.DuckDBPyConnection, dataset: str | None = None,
                    include_replayed: bool = False) -> list[QuarantinedRecord]:
    """Quarantined rows, oldest first; by default only those still waiting for a replay."""
    if not con.execute("select count(*) from duckdb_columns() where schema_name = 'meta' and "
                       "table_name = 'quarantine' and column_name = 'replayed_at'").fetchone()[0]:
        return []  # nothing was ever quarantined in this warehouse (or it predates replays)
    rows = con.execute("""
        select dataset, row_hash, row_key, row_number, source_url, failed_checks,
               cast(raw_values as varchar), first_seen_at, replayed_at
        from meta.quarantine
        where (? is null or dataset = ?) and (? or replayed_at is null)
        order by dataset, first_seen_at, row_number
    """, [dataset, dataset, include_replayed]).fetchall()
    return [QuarantinedRecord(*r[:6], json.loads(r[6]), *r[7:]) for r in rows]


def current_rows(con: duckdb.DuckDBPyConnection, spec: DatasetSpec, except_keys: pd.DataFrame
                 ) -> pd.DataFrame:
    """The current vintage of every fact of `spec`'s raw table, minus the keys in `except_keys`,
    numbered -1, -2, … (context rows for a replay, never loaded again)."""
    columns = ", ".join(quote_ident(c.name) for c in spec.columns)
    keys = ", ".join(f'"{k}"' for k in spec.primary_key)
    con.register("_replayed_keys", except_keys[list(spec.primary_key)])
    try:
        frame = con.execute(f"""
            select -row_number() over (order by {keys}) as {ROW_NUMBER}, {columns}
            from (select * from raw.{quote_ident(spec.table_name)}
                  qualify row_number() over (partition by {keys} order by _load_seq desc) = 1) c
            where not exists (select 1 from _replayed_keys k where """
            + " and ".join(f'k."{k}" is not distinct from c."{k}"' for k in spec.primary_key)
            + ")").df()
    finally:
        con.unregister("_replayed_keys")
    return frame


def mark_replayed(con: duckdb.DuckDBPyConnection, dataset: str, row_hashes: list[str], load_id: str
                  ) -> None:
    con.execute("""
        update meta.quarantine set replayed_at = now(), replay_load_id = ?
        where dataset = ? and row_hash in (select unnest(?::varchar[]))
    """, [load_id, dataset, row_hashes])


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
    raw = {n: r.raw_values for n, r in zip(numbers, records)}
    frame, rejects = parse_records(spec, list(raw.values()), row_numbers=numbers)
    digest = hashlib.sha256("".join(r.row_hash for r in records).encode()).hexdigest()
    provenance = Provenance(spec.source_name, f"quarantine replay of raw.{spec.table_name}",
                            dt.datetime.now(dt.timezone.utc).replace(microsecond=0), digest, 1,
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
