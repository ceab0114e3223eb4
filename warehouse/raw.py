"""DDL of the raw layer and of the load bookkeeping (`meta.load_log`, `meta.quarantine`)."""

from __future__ import annotations

import duckdb

from connectors.spec import DatasetSpec, SourcesConfig
from core.errors import ConfigError
from warehouse.backend import portable_ddl
from warehouse.db import ensure_schemas, quote_ident, sql_literal, transaction

SQL_TYPES = {"integer": "BIGINT", "double": "DOUBLE", "varchar": "VARCHAR", "boolean": "BOOLEAN",
             "date": "DATE", "timestamp": "TIMESTAMP"}
# Columns every raw row carries besides the dataset's own.
LINEAGE_COLUMNS = {
    "_row_hash": "VARCHAR NOT NULL",  # md5 of the canonical values: same hash = same fact
    "_load_id": "VARCHAR NOT NULL",
    "_load_seq": "BIGINT NOT NULL",  # orders vintages: the highest is the current one
    "_source": "VARCHAR NOT NULL",
    "_source_url": "VARCHAR",
    "_row_number": "BIGINT",  # position in the feed it came from
    "_fetched_at": "TIMESTAMPTZ",
    "_loaded_at": "TIMESTAMPTZ NOT NULL",
}

# What a row of day files carries instead: vintages are told apart per day, in meta.partitions,
# so rows need no hash, and their provenance is the day's (meta.partitions). The load is named by
# its number alone: meta.load_log, meta.partitions and meta.pending_loads give its id. A 50-character
# id on each of 10 M rows cost more than the rest of the insert beyond DuckDB's own read
# (0.6 s of 2.9 s a day, bench/bench_meters.py); the staging model shows it, joined.
PARTITION_LINEAGE = {"_load_seq": "BIGINT NOT NULL"}

# meta.quarantine's row_hash for day-file rows: the md5 of the record as DuckDB writes JSON, so a
# record quarantined from Python (cast, clash) and one set aside inside DuckDB hash alike
# (warehouse/load.py). Before, Python's json.dumps was hashed: `_drop_partition_load_ids` rehashes.
NATIVE_ROW_HASH = "md5(cast(json(raw_values) as varchar))"

META_DDL = """
create sequence if not exists meta.load_seq;
create table if not exists meta.load_log (
    -- One row per dataset and run that received something new (a run that got 304, or no new
    -- records since the watermark, writes none: meta.source_state.checked_at says when it asked).
    load_id varchar primary key,
    load_seq bigint not null,
    run_id varchar,                     -- the Prefect flow run that loaded it, when run by a flow
    department varchar not null,
    dataset varchar not null,
    status varchar not null,            -- loaded | rejected
    source_url varchar,
    payload_sha256 varchar not null,
    fetched_at timestamptz,
    loaded_at timestamptz not null,
    rows_in bigint not null,            -- records received
    rows_loaded bigint not null,        -- new facts or new vintages written to raw
    rows_quarantined bigint not null,   -- failed parsing or an error-level row expectation
    rows_unchanged bigint not null,     -- identical to the current vintage: skipped
    rows_duplicate bigint not null,     -- exact repeats inside the batch: skipped
    rows_rejected bigint not null,      -- refused with the whole batch (table-level error)
    detail varchar,
    check (rows_in = rows_loaded + rows_quarantined + rows_unchanged + rows_duplicate + rows_rejected)
);
create table if not exists meta.validation_runs (
    load_id varchar primary key,        -- the load (or rejection) this validation decided
    dataset varchar not null,
    suite varchar not null,             -- expectations/<suite>.json
    validated_at timestamptz not null,
    outcome varchar not null,           -- passed | warned | quarantined | rejected
    expectations integer not null,
    failed_error integer not null,
    failed_warn integer not null,
    gx_result json                      -- GX's own result document (Data Docs render it)
);
create table if not exists meta.validation_results (
    load_id varchar not null,           -- one row per run, suite and expectation
    dataset varchar not null,
    expectation varchar not null,       -- type and arguments, e.g. expect_column_values_to_be_between(...)
    expectation_type varchar not null,
    check_kind varchar not null,        -- the suite's meta.check: continuity, freshness, ...
    severity varchar not null,          -- error | warn
    success boolean not null,
    unexpected_count bigint,
    detail varchar,
    validated_at timestamptz not null
);
create table if not exists meta.source_state (
    dataset varchar not null,
    source_key varchar not null,        -- the dataset's path on its server, or a landing file's path
    url varchar,                        -- where it was fetched from last
    etag varchar,
    last_modified varchar,
    payload_sha256 varchar not null,
    watermark varchar,                  -- incremental feeds: newest change timestamp loaded
    checked_at timestamptz not null,    -- last time the source was asked
    changed_at timestamptz not null,    -- last time it had something new
    primary key (dataset, source_key)
);
create table if not exists meta.source_health (
    dataset varchar primary key,        -- raw table the dataset fills
    department varchar not null,
    status varchar not null,            -- ok | failed
    checked_at timestamptz not null,
    last_success_at timestamptz,
    error varchar                       -- the last failure, kept until the next success
);
create table if not exists meta.quarantine (
    dataset varchar not null,
    row_hash varchar not null,          -- md5 of the raw record as received
    row_key varchar,                    -- primary-key fields as received, e.g. year=2021, fuel_code=coal
    row_number bigint,
    source_url varchar,
    failed_checks varchar not null,     -- the expectations (or parse errors) it failed
    raw_values json not null,
    load_id varchar not null,
    first_seen_at timestamptz not null,
    last_seen_at timestamptz not null,
    replayed_at timestamptz,            -- set when `carbonpeak quarantine replay` loaded it
    replay_load_id varchar,             -- ... by this load (meta.load_log)
    primary key (dataset, row_hash)
);
create table if not exists meta.pending_loads (
    -- Loads of day files whose rows are in raw but not yet committed (warehouse/native.py): a
    -- load still listed when the next one starts was killed, and its rows are removed.
    load_id varchar primary key,
    source varchar not null,            -- the dataset, e.g. buildings.meter_readings
    started_at timestamptz not null,
    load_seq bigint                     -- its rows' _load_seq (empty only when carried over)
);
create table if not exists meta.partitions (
    -- The current vintage of each day of a partitioned dataset: its rows in raw are those of
    -- load_id. A re-published day points here at its new load; the old rows stay in raw.
    dataset varchar not null,
    partition_day date not null,
    load_id varchar not null,
    load_seq bigint not null,
    source_url varchar,
    sha256 varchar not null,
    rows_loaded bigint not null,
    loaded_at timestamptz not null,
    provisional boolean not null default false,  -- from a partial source (the day so far)
    primary key (dataset, partition_day)
);
"""


def ensure_meta(con: duckdb.DuckDBPyConnection) -> None:
    ensure_schemas(con)
    _migrate_load_log(con)
    con.execute(portable_ddl(con, META_DDL))
    # added with quarantine replay; older warehouses get the columns empty
    con.execute("alter table meta.quarantine add column if not exists replayed_at timestamptz")
    con.execute("alter table meta.quarantine add column if not exists replay_load_id varchar")
    # added with the day-so-far API; warehouses from before hold complete days only
    con.execute("alter table meta.partitions add column if not exists provisional boolean "
                "default false")
    # added when day-file rows stopped carrying their load id (PARTITION_LINEAGE)
    con.execute("alter table meta.pending_loads add column if not exists load_seq bigint")


def _migrate_load_log(con: duckdb.DuckDBPyConnection) -> None:
    """Carry over a load log from before the per-run log, one row per payload, as the loads they were.

    Warehouses made before the per-run log kept one row per payload (with times_seen).
    """
    old = con.execute("select count(*) from duckdb_columns() where schema_name = 'meta' and "
                      "table_name = 'load_log' and column_name = 'times_seen' and "
                      "database_name = current_database()").fetchone()[0]
    if not old:
        return
    with transaction(con):  # all or nothing: never an empty log beside the old one
        _carry_over_load_log(con)


def _carry_over_load_log(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("alter table meta.load_log rename to load_log_before_runs")
    con.execute(portable_ddl(con, META_DDL))
    con.execute("""
        insert into meta.load_log
        select load_id, load_seq, null, department, dataset, status, source_url, payload_sha256,
               fetched_at, first_seen_at, rows_in, rows_loaded, rows_quarantined, rows_unchanged,
               rows_duplicate, case when status = 'rejected' then rows_in - rows_duplicate else 0 end,
               detail
        from meta.load_log_before_runs""")
    con.execute("drop table meta.load_log_before_runs")


def ensure_raw_table(con: duckdb.DuckDBPyConnection, spec: DatasetSpec) -> None:
    """Create `raw.<department>__<dataset>` from its spec (new columns need a migration)."""
    columns = [f"{quote_ident(c.name)} {SQL_TYPES[c.type]}" for c in spec.columns]
    if spec.partitions is None:
        lineage = LINEAGE_COLUMNS
        vintages = "Every vintage is kept; the highest _load_seq per key is current."
    else:  # day files (warehouse/native.py): vintages per day, in meta.partitions
        lineage = PARTITION_LINEAGE
        vintages = ("One file per day. A day's current rows are those of the load meta.partitions "
                    "names for it (older loads are earlier vintages; a load named nowhere is "
                    "pending or was discarded).")
    columns += [f"{name} {ddl}" for name, ddl in lineage.items()]
    con.execute(f"create table if not exists raw.{quote_ident(spec.table_name)} ({', '.join(columns)})")
    if spec.partitions is not None:
        _drop_partition_load_ids(con, spec.table_name)
    comment = f"{spec.description} Source: {spec.source_name}. {vintages}"
    con.execute(f"comment on table raw.{quote_ident(spec.table_name)} is {sql_literal(comment)}")


def _drop_partition_load_ids(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """Drop the per-row `_load_id` of a day-file table from before PARTITION_LINEAGE; lose nothing.

    Every committed load is in meta.load_log with its number. A pending load (killed, or staged
    earlier in this run by another dataset of the table) gets its number in meta.pending_loads
    first, so it can still be discarded, by number, as every load is now. The table's quarantined
    records are hashed as they are hashed since (NATIVE_ROW_HASH): one seen again stays one row.
    Views over the table (the staging model) still select the column and would fail when read:
    they are dropped, and the build that follows the load in every run re-creates them.
    """
    held = con.execute("select count(*) from duckdb_columns() where schema_name = 'raw' and "
                       "table_name = ? and column_name = '_load_id' and "
                       "database_name = current_database()", [table]).fetchone()[0]
    if not held:
        return
    raw = f"raw.{quote_ident(table)}"
    with transaction(con):
        con.execute(f"""
            update meta.pending_loads as p set load_seq = r._load_seq
            from (select distinct _load_id, _load_seq from {raw}
                  where _load_id in (select load_id from meta.pending_loads)) as r
            where p.load_id = r._load_id and p.load_seq is null""")
        con.execute(f"alter table {raw} drop column _load_id")
        con.execute(f"update meta.quarantine set row_hash = {NATIVE_ROW_HASH} where dataset = ?", [table])
        for schema, view in con.execute(
                "select schema_name, view_name from duckdb_views() where not internal and "
                "database_name = current_database() and contains(sql, ?)", [table]).fetchall():
            con.execute(f"drop view {quote_ident(schema)}.{quote_ident(view)}")


def check_contract(config: SourcesConfig, declared: dict[str, tuple[tuple[str, str], ...]]) -> None:
    """A city's datasets must fill the raw tables the SQL models expect: same names and types.

    `declared` maps raw table name -> (column, data_type) pairs from dbt_like_sql/sources.yml.
    """
    for spec in config.datasets():
        columns = declared.get(spec.table_name)
        if columns is None:
            raise ConfigError(config.file, spec.source_name, "datasets",
                              f"no raw table `raw.{spec.table_name}` is declared in "
                              f"dbt_like_sql/sources.yml; declared: {', '.join(sorted(declared))}")
        types = dict(columns)
        for column in spec.columns:
            if column.name not in types:
                raise ConfigError(config.file, spec.source_name, f"columns.{column.name}",
                                  f"`raw.{spec.table_name}` has no column `{column.name}`; its "
                                  f"columns: {', '.join(types)}")
            if SQL_TYPES[column.type].lower() != types[column.name].lower():
                raise ConfigError(config.file, spec.source_name, f"columns.{column.name}.type",
                                  f"`{column.type}` but `raw.{spec.table_name}.{column.name}` is "
                                  f"{types[column.name]}")
