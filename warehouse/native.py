"""Day files read natively: DuckDB parses, casts and splits rejects; no row passes through pandas.

A partitioned dataset (`partitions:` in sources.yml) is loaded in three steps, so its rows are
written once, straight from the file into the raw table:

1. `stage_day_files` inserts every file's rows into `raw.<table>` under a new, *pending* load
   number, `_load_seq` (committed, so GX can read them through its own cursor). Nothing reads
   pending rows: the current rows of a day are those of the load `meta.partitions` names for it,
   and a pending load is named nowhere until step 3. Rows DuckDB cannot cast are kept with
   DuckDB's reason (its rejects table) for quarantine; exact repeats of a row inside a file are
   dropped and counted.
2. The gate validates the pending rows through the view `stage.<table>__<id>` (expectations/).
3. `commit_staged`, inside the department's load transaction, deletes the quarantined rows and
   the rows of rejected days, and points `meta.partitions` at the new load for every accepted
   day: a late or re-published day replaces only its own partition, and the old rows stay as
   the previous vintage. `discard_staged` (or the next load, for a killed run: `meta.pending_loads`
   lists every load from its first row to its commit) removes the rows of a load that never
   committed.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field

import duckdb

from connectors.day_files import DayFile, DayFiles
from connectors.errors import SourceRejected
from connectors.spec import DatasetSpec
from connectors.units import CONVERSIONS
from warehouse.backend import next_load_seq
from warehouse.db import quote_ident, sql_literal, transaction
from warehouse.held_files import held_files, plain_names
from warehouse.in_key_order import out_of_order_groups
from warehouse.raw import SQL_TYPES, ensure_meta, ensure_raw_table

MEMORY_LIMIT = "1GB"  # DuckDB spills to disk beyond this: a 10 M-row day stays in bounded memory



@dataclass(frozen=True)
class Reject:
    """A row set aside before or during validation, with why (DuckDB's cast error, a clash)."""

    day: dt.date
    row_number: int | None  # line of the file (CSV) or row (Parquet), when known
    raw: dict
    reason: str


@dataclass
class Staged:
    """A partitioned dataset's new days, inserted as a pending load, awaiting the gate's verdict."""

    spec: DatasetSpec
    fetched: DayFiles
    load_id: str
    load_seq: int
    rows_read: int = 0  # rows DuckDB read and inserted (pending)
    rejects: list[Reject] = field(default_factory=list)  # could not be cast, or clashed
    duplicates: int = 0  # exact repeats inside a file, dropped

    @property
    def rows_in(self) -> int:
        """Rows the files held: read (and still pending), refused or clashing, and repeats."""
        return self.rows_read + len(self.rejects) + self.duplicates

    @property
    def view(self) -> str:
        return f"stage.{quote_ident(self.spec.table_name + '__' + self.load_id[-8:])}"


CLASH = "duplicate key"


def raw_table(spec: DatasetSpec) -> str:
    return f"raw.{quote_ident(spec.table_name)}"


def of_load(staged: Staged, alias: str = "") -> str:
    """SQL true for the rows of the pending load: by its number, which no other load has.

    Day-file rows carry no load id (warehouse/raw.py, PARTITION_LINEAGE); the number is an
    integer whose row-group statistics let DuckDB skip every other load's rows.
    """
    return f"{alias}_load_seq = {int(staged.load_seq)}"


def stage_day_files(con: duckdb.DuckDBPyConnection, fetched: DayFiles) -> Staged:
    """Insert the new days' rows as a pending load (step 1); see the module docstring."""
    spec = fetched.dataset
    ensure_meta(con)
    ensure_raw_table(con, spec)
    discard_orphans(con, spec)
    con.execute(f"set memory_limit = '{MEMORY_LIMIT}'")
    load_seq = next_load_seq(con)
    now = dt.datetime.now(dt.UTC)
    load_id = f"{spec.table_name}-{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    # listed before any row is written: a run killed from here on leaves a known orphan
    con.execute("insert into meta.pending_loads (load_id, source, started_at, load_seq) "
                "values (?, ?, ?, ?)", [load_id, spec.source_name, now, load_seq])
    staged = Staged(spec, fetched, load_id, load_seq)
    try:
        for file in fetched.files:
            _insert_file(con, staged, file)
        _drop_repeats(con, staged)
    except BaseException:  # a later file refused (its header): the earlier files' rows go too
        con.execute(f"delete from {raw_table(spec)} where {of_load(staged)}")
        con.execute("delete from meta.pending_loads where load_id = ?", [load_id])
        raise
    columns = ", ".join(quote_ident(c.name) for c in spec.columns)
    con.execute("create schema if not exists stage")
    con.execute(f"create or replace view {staged.view} as select {columns} from {raw_table(spec)} "
                f"where {of_load(staged)}")
    return staged


def _insert_file(con: duckdb.DuckDBPyConnection, staged: Staged, file: DayFile) -> None:
    if file.chunks is None:
        _insert(con, staged, file, sql_literal(str(file.path)))
    else:  # a day pulled into memory: read from there (and then freed), never written to disk
        with held_files(con, file.chunks.take(), file.path.suffix) as names:
            _insert(con, staged, file, names)


def _insert(con: duckdb.DuckDBPyConnection, staged: Staged, file: DayFile, path: str) -> None:
    """Insert the rows of `file`, which DuckDB reads at `path` (a SQL string or list of them)."""
    spec = staged.spec
    try:
        source = _reader(con, spec, file, path)
    except duckdb.Error as exc:
        raise _unreadable(spec, file, exc) from None
    names = [quote_ident(c.name) for c in spec.columns]
    values = [_value(spec, c.name, file.day) for c in spec.columns]
    # Raw rows have no order (a day's current rows are found by load id and day). Letting the
    # threads append in any order fills whole row groups, where an ordered parallel insert leaves
    # partial ones that every later checkpoint spends seconds merging (1.3 s a 10 M-row day).
    ordered = con.execute("select current_setting('preserve_insertion_order')").fetchone()[0]
    con.execute("set preserve_insertion_order = false")
    try:
        # the day and the load are literals, not parameters: DuckDB folds a literal once, where a
        # parameter is cast again on every row (0.5 s of a 10 M-row day)
        inserted = con.execute(
            f"insert into {raw_table(spec)} ({', '.join(names)}, _load_seq) "
            f"select {', '.join(values)}, {int(staged.load_seq)} "
            f"from {source}").fetchone()[0]
    except duckdb.Error as exc:  # not a CSV / Parquet / JSON file DuckDB can read at all
        raise _unreadable(spec, file, exc) from None
    finally:  # as it was (a global setting): JSON lines are numbered in file order, after this
        con.execute(f"set preserve_insertion_order = {'true' if ordered else 'false'}")
    staged.rows_read += inserted
    if inserted != file.records:  # a counted file whose every record went in has no reject
        staged.rejects += _cast_rejects(con, spec, file, path)


def _unreadable(spec: DatasetSpec, file: DayFile, exc: duckdb.Error) -> Exception:
    text = plain_names(str(exc)).strip()  # a held page by its number, not its in-memory name
    first = text.splitlines()[0][:200] if text else type(exc).__name__
    return SourceRejected(spec.source_name, file.url, f"the {file.day} file cannot be read as "
                          f"{spec.format} ({first}); ask the department to publish it again, as "
                          "sources.yml describes it")


def _value(spec: DatasetSpec, name: str, day: dt.date) -> str:
    """The SQL for one canonical column read from the file (the partition's is the file's day)."""
    if name == spec.partitions.column:
        return f"date {sql_literal(day.isoformat())}"
    column = spec.column(name)
    value = f"src.{quote_ident(column.source_field)}"
    if column.unit:  # published in another unit: converted here, as connectors/units.py says
        value = f"{value} * {float(CONVERSIONS[column.unit][1])!r}"
    return value


def _reader(con: duckdb.DuckDBPyConnection, spec: DatasetSpec, file: DayFile, path: str) -> str:
    """`read_csv` / `read_parquet` / `read_json(...)` of the file, typed by name; refuses a changed header.

    Parquet and newline-delimited JSON (a day pulled from a paged API, `.ndjson`) are cast with
    `try_cast`, keeping only rows whose every non-null value fits; `_cast_rejects` finds the others.
    """
    mapped = [c for c in spec.columns if c.name != spec.partitions.column]
    if spec.format == "parquet" or file.path.suffix == ".ndjson":
        if spec.format == "parquet":
            source = f"read_parquet({path})"
            described = source
        else:  # every field read as text, so a value of the wrong type is a reject, not an error
            # the fields are those of the first page's records (up to 20,480): sampling up to 32
            # pages, DuckDB's default, took 0.14 s of a held day of 96 pages
            described = f"read_json({path}, format = 'newline_delimited', maximum_sample_files = 1)"
            text = ", ".join(f"{sql_literal(c.source_field)}: 'VARCHAR'" for c in mapped)
            source = f"read_json({path}, format = 'newline_delimited', columns = {{{text}}})"
        header = [r[0] for r in con.execute(f"describe select * from {described}").fetchall()]
        if spec.format != "parquet" and any(c.source_field not in header for c in mapped):
            # a field every record of the first page omits (null, left out) may be in a later
            # one: read every record of the day before calling the field renamed
            described = (f"read_json({path}, format = 'newline_delimited', "
                         "maximum_sample_files = -1, sample_size = -1)")
            header = [r[0] for r in con.execute(f"describe select * from {described}").fetchall()]
        _check_header(spec, file, header, mapped)
        casts = ", ".join(f"try_cast({quote_ident(c.source_field)} as {SQL_TYPES[c.type]}) as "
                          f"{quote_ident(c.source_field)}" for c in mapped)
        valid = " and ".join(f"({quote_ident(c.source_field)} is null or try_cast("
                             f"{quote_ident(c.source_field)} as {SQL_TYPES[c.type]}) is not null)"
                             for c in mapped)
        return f"(select {casts} from {source} where {valid}) src"
    header = [r[0] for r in con.execute(
        f"describe select * from read_csv({path}, header = true, all_varchar = true)").fetchall()]
    _check_header(spec, file, header, mapped)
    types = ", ".join(f"{sql_literal(c.source_field)}: {sql_literal(SQL_TYPES[c.type])}"
                      for c in mapped)
    return (f"read_csv({path}, header = true, types = {{{types}}}, store_rejects = true, "
            f"rejects_table = '_rejects', rejects_scan = '_reject_scans') src")


def _check_header(spec: DatasetSpec, file: DayFile, header: list[str], mapped: list) -> None:
    missing = [c for c in mapped if c.source_field not in header]
    if missing:
        names = ", ".join(f"`{c.source_field}` (column `{c.name}`)" for c in missing)
        raise SourceRejected(spec.source_name, file.url, f"the {file.day} file lacks {names}; the "
                             f"department may have renamed it. Header found: {', '.join(header)}. "
                             "Fix the column map in sources.yml")


def _cast_rejects(con: duckdb.DuckDBPyConnection, spec: DatasetSpec, file: DayFile, path: str
                  ) -> list[Reject]:
    """Rows the reader refused, with DuckDB's own reason (cast errors, broken lines)."""
    if spec.format == "parquet" or file.path.suffix == ".ndjson":
        mapped = [c for c in spec.columns if c.name != spec.partitions.column]
        bad = " or ".join(f"({quote_ident(c.source_field)} is not null and try_cast("
                          f"{quote_ident(c.source_field)} as {SQL_TYPES[c.type]}) is null)"
                          for c in mapped)
        if spec.format == "parquet":
            source = f"read_parquet({path}, file_row_number = true)"
            record = "to_json(src)"
        else:
            text = ", ".join(f"{sql_literal(c.source_field)}: 'VARCHAR'" for c in mapped)
            lines = f"read_json({path}, format = 'newline_delimited', columns = {{{text}}})"
            if not con.execute(f"select exists (select 1 from {lines} where {bad})").fetchone()[0]:
                return []  # the usual case: numbering the lines would double the cost of the scan
            # the line of the record: JSON lines are read in order
            source = f"(select *, row_number() over () - 1 as file_row_number from {lines})"
            record = "to_json(struct_pack({}))".format(", ".join(
                f"{quote_ident(c.source_field)} := {quote_ident(c.source_field)}" for c in mapped))
        rows = con.execute(f"select file_row_number + 1, {record} from {source} src where {bad}"
                           ).fetchall()
        return [Reject(file.day, n, json.loads(raw), "cast: a value does not fit its column's type")
                for n, raw in rows]
    # DuckDB keeps one row per error: a line with two bad cells is still one rejected row
    rows = con.execute("select line, string_agg(error_message, '; ' order by column_idx), "
                       "any_value(csv_line) from _rejects group by line order by line").fetchall()
    con.execute("drop table if exists _rejects")
    con.execute("drop table if exists _reject_scans")
    # the line number is part of the record: two identical bad lines are two rejected rows
    return [Reject(file.day, line, {"line": text, "line_number": line}, f"cast: {messages}")
            for line, messages, text in rows]


def _drop_repeats(con: duckdb.DuckDBPyConnection, staged: Staged) -> None:
    """Drop exact repeats of a row inside a day (counted); set aside a key with clashing values.

    A clash is set aside whole (every copy): which copy is right cannot be told.
    """
    spec, table = staged.spec, raw_table(staged.spec)
    key = [spec.partitions.column, *spec.primary_key]
    keys = ", ".join(quote_ident(k) for k in key)
    others = ", ".join(quote_ident(c.name) for c in spec.columns if c.name not in key) or "1"
    # Grouping 10 M rows by their key costs 0.7 s. But a repeat can only hide in a group (the
    # key but its last column: a meter-day) whose rows are not one run of rising last-column
    # values in the table's order, and one unsorted scan finds those (in_key_order.py). A semi
    # join, not `exists`: DuckDB decorrelates that by copying all 10 M rows (1–2 s).
    suspects = out_of_order_groups(table, of_load(staged), key[:-1], key[-1])
    inside = " and ".join(f"s.{quote_ident(k)} is not distinct from t.{quote_ident(k)}"
                          for k in key[:-1]) or "true"
    try:
        con.execute(f"create or replace temp table _suspects as {suspects}")
        # min = max of a hash of the other columns tells exact repeats from clashes without
        # keeping a set of values per key
        con.execute(f"""
            create or replace temp table _repeated as
            select {keys}, count(*) as copies,
                   if(min(hash({others})) = max(hash({others})), 1, 2) as versions
            from {table} t semi join _suspects s on {inside}
            where {of_load(staged, "t.")}
            group by all having count(*) > 1""")
        exact = con.execute("select coalesce(sum(copies - 1), 0) from _repeated where versions = 1"
                            ).fetchone()[0]
        if not exact and not con.execute("select count(*) from _repeated").fetchone()[0]:
            return
        match = " and ".join(f"t.{quote_ident(k)} is not distinct from d.{quote_ident(k)}" for k in key)
        by_key = ", ".join(f"t.{quote_ident(k)}" for k in key)
        # one join finds every row to drop: each copy of a clash (read, to set it aside) and
        # every copy of an exact repeat but its first. Row ids hold inside one transaction only
        # (a checkpoint may renumber them).
        with transaction(con):
            con.execute(f"""
                create or replace temp table _dropped as
                select t.rowid as row_id, if(d.versions > 1, to_json(t), null) as clash
                from {table} t join _repeated d on {match}
                where {of_load(staged, "t.")}
                qualify d.versions > 1 or row_number() over (partition by {by_key} order by t.rowid) > 1""")
            con.execute(f"delete from {table} where rowid in (select row_id from _dropped)")
            clashing = con.execute("select clash from _dropped where clash is not null").fetchall()
        for (raw,) in clashing:
            row = {k: v for k, v in json.loads(raw).items() if not k.startswith("_")}  # not lineage
            shown = ", ".join(f"{k}={row.get(k)}" for k in key)
            staged.rejects.append(Reject(dt.date.fromisoformat(str(row[key[0]])), None, row,
                                         f"{CLASH}: {shown} published more than once with "
                                         "different values"))
    finally:
        con.execute("drop table if exists _dropped")
        con.execute("drop table if exists _repeated")
        con.execute("drop table if exists _suspects")
    staged.duplicates += exact
    staged.rows_read -= exact + len(clashing)


def discard_orphans(con: duckdb.DuckDBPyConnection, spec: DatasetSpec) -> None:
    """Remove rows of loads that never committed (a killed run), as `meta.pending_loads` lists.

    Only one writer runs at a time (the run lock), and a run stages each dataset once, so a
    load of this dataset still listed when it stages again is dead. Another dataset filling the
    same table (the day-so-far API beside the day files) may have a load pending in this very
    run: loads are listed by dataset, not by table. Listing them costs nothing, where finding
    them in raw would scan it whole.
    """
    for load_id, load_seq in con.execute("select load_id, load_seq from meta.pending_loads "
                                         "where source = ?", [spec.source_name]).fetchall():
        if load_seq is not None:  # none: listed, then killed before its rows got a number
            con.execute(f"delete from {raw_table(spec)} where _load_seq = ?", [load_seq])
        con.execute("delete from meta.pending_loads where load_id = ?", [load_id])


def discard_staged(con: duckdb.DuckDBPyConnection, staged: Staged) -> None:
    """Remove a pending load's rows (the gate refused it, or the run failed before commit)."""
    con.execute(f"delete from {raw_table(staged.spec)} where {of_load(staged)}")
    con.execute("delete from meta.pending_loads where load_id = ?", [staged.load_id])
    con.execute(f"drop view if exists {staged.view}")


def current_rows_sql(spec: DatasetSpec) -> str:
    """The current vintage of every day: what models and checks read (never pending rows)."""
    return (f"select r.*, p.load_id as _load_id from {raw_table(spec)} r join meta.partitions p "
            f"on p.dataset = {sql_literal(spec.table_name)} and p.load_seq = r._load_seq "
            f"and p.partition_day = r.{quote_ident(spec.partitions.column)}")


# Rows that failed an error-level check leave raw for this temp table, as quarantine records
# (`record` json, `row_key`, `checks`), and stay in DuckDB until the load writes them to
# meta.quarantine (warehouse/load.py) in the same transaction and drops it.
SET_ASIDE = "_set_aside"


@dataclass(frozen=True)
class Verdict:
    """What the gate's verdict did to a pending load."""

    rejects: list[Reject]  # rows refused before the gate (cast, clash), to quarantine from Python
    set_aside: int  # rows that failed a check, waiting in SET_ASIDE as quarantine records
    rejected_rows: int  # rows of refused days (or of the whole batch)
    loaded_by_day: dict[dt.date, int]  # rows that stay, per accepted day

    @property
    def quarantined(self) -> int:
        return len(self.rejects) + self.set_aside


def apply_verdict(con: duckdb.DuckDBPyConnection, staged: Staged, failed_keys: dict[tuple, list[str]],
                  rejected_days: dict[dt.date, list[str]], reject_all: bool) -> Verdict:
    """Remove from the pending load what the gate refused (inside the load's transaction)."""
    spec, table, load = staged.spec, raw_table(staged.spec), of_load(staged)
    if reject_all:
        refused = con.execute(f"delete from {table} where {load}").fetchone()[0]
        return Verdict([], 0, refused + len(staged.rejects), {})
    # Refused days first: their rows are rejected with the day, not quarantined one by one.
    rejected = 0
    day = quote_ident(spec.partitions.column)
    for refused_day in rejected_days:
        rejected += con.execute(f"delete from {table} where {load} and {day} = ?",
                                [refused_day]).fetchone()[0]
    rejected += sum(r.day in rejected_days for r in staged.rejects)
    rejects = [r for r in staged.rejects if r.day not in rejected_days]
    failed_keys = {k: checks for k, checks in failed_keys.items() if k[0] not in rejected_days}
    set_aside = _set_aside(con, staged, failed_keys) if failed_keys else 0
    loaded = dict(con.execute(f"select {day}, count(*) from {table} where {load} "
                              "group by all").fetchall())
    for file in staged.fetched.files:  # a day whose every row was set aside is still a vintage
        if file.day not in rejected_days:
            loaded.setdefault(file.day, 0)
    return Verdict(rejects, set_aside, rejected, loaded)


def _set_aside(con: duckdb.DuckDBPyConnection, staged: Staged, failed_keys: dict[tuple, list[str]]
               ) -> int:
    """Move the rows named by key from the pending load to SET_ASIDE, as quarantine records.

    A record is the row as received (its columns and the file's `day`, keys sorted, no lineage),
    written by DuckDB: reading 18,000 rows of a 10 M-row day into Python to encode them there
    took 0.2 s. Returns how many rows were set aside.
    """
    import pandas as pd  # a few thousand keys at most: the rows themselves never leave DuckDB

    spec, table, load = staged.spec, raw_table(staged.spec), of_load(staged, "t.")
    key = [spec.partitions.column, *spec.primary_key]
    keys = pd.DataFrame([(*k, "; ".join(checks)) for k, checks in failed_keys.items()],
                        columns=[*key, "_checks"])
    match = " and ".join(f"t.{quote_ident(k)} is not distinct from f.{quote_ident(k)}" for k in key)
    fields = {c.name: f"t.{quote_ident(c.name)}" for c in spec.columns}
    fields.setdefault("day", f"cast(t.{quote_ident(spec.partitions.column)} as varchar)")
    record = "to_json(struct_pack({}))".format(
        ", ".join(f"{quote_ident(name)} := {value}" for name, value in sorted(fields.items())))
    row_key = " || ', ' || ".join(
        f"{sql_literal(c.name + '=')} || coalesce(cast(t.{quote_ident(c.name)} as varchar), 'None')"
        for c in spec.columns if c.name in spec.primary_key) or "''"
    con.register("_failed", keys)
    try:  # one join finds the rows, to keep and to delete (a second one cost 0.08 s a 10 M-row day)
        con.execute(f"create or replace temp table {SET_ASIDE} as select t.rowid as row_id, "
                    f"{record} as record, {row_key} as row_key, f._checks as checks "
                    f"from {table} t join _failed f on {match} where {load}")
        moved = con.execute(f"delete from {table} where rowid in (select row_id from {SET_ASIDE})"
                            ).fetchone()[0]
        if not moved:  # nothing for the quarantine to read
            con.execute(f"drop table {SET_ASIDE}")
        return moved
    finally:
        con.unregister("_failed")


def point_partitions(con: duckdb.DuckDBPyConnection, staged: Staged, loaded_by_day: dict[dt.date, int],
                     now: dt.datetime) -> list[dt.date]:
    """Make the new load the current vintage of every accepted day; it is pending no more.

    A provisional load (the day so far) does not replace a day a complete load already holds,
    nor a larger provisional pull (a lagging API must not shrink today): returns those days,
    whose current vintage stays as it was.
    """
    con.execute("delete from meta.pending_loads where load_id = ?", [staged.load_id])
    files = {f.day: f for f in staged.fetched.files}
    provisional = staged.spec.partitions.provisional
    for day, rows in sorted(loaded_by_day.items()):
        file = files[day]
        con.execute("""
            merge into meta.partitions as t
            using (select ?::varchar as dataset, ?::date as partition_day, ?::varchar as load_id,
                          ?::bigint as load_seq, ?::varchar as source_url, ?::varchar as sha256,
                          ?::bigint as rows_loaded, ?::timestamptz as loaded_at,
                          ?::boolean as provisional) as s
            on t.dataset = s.dataset and t.partition_day = s.partition_day
            when matched and (not s.provisional or (t.provisional and s.rows_loaded >= t.rows_loaded))
                then update set load_id = s.load_id, load_seq = s.load_seq, source_url = s.source_url,
                    sha256 = s.sha256, rows_loaded = s.rows_loaded, loaded_at = s.loaded_at,
                    provisional = s.provisional
            when not matched then insert values (s.dataset, s.partition_day, s.load_id, s.load_seq,
                                                 s.source_url, s.sha256, s.rows_loaded, s.loaded_at,
                                                 s.provisional)""",
                    [staged.spec.table_name, day, staged.load_id, staged.load_seq, file.url,
                     file.sha256, rows, now, provisional])
    if not provisional or not loaded_by_day:
        return []
    return [d for (d,) in con.execute(
        "select partition_day from meta.partitions where dataset = ? and load_id <> ? and "
        "partition_day in (select unnest(?::date[])) order by 1",
        [staged.spec.table_name, staged.load_id, sorted(loaded_by_day)]).fetchall()]