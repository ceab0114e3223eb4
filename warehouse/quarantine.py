"""The quarantine: reading it, and replaying it after a fix.

A replayed row is parsed again from the values the department published, validated together with
the data it joins, and loaded if it now passes; it is then marked as replayed (nothing is deleted),
so a second replay has nothing left to do.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import duckdb
import pandas as pd

from connectors.parse import ROW_NUMBER
from connectors.spec import DatasetSpec
from warehouse.db import quote_ident


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
    """The current vintage of every fact of `spec`'s raw table, minus the keys in `except_keys`.

    Rows are numbered -1, -2, …: context rows for a replay, never loaded again.
    """
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
