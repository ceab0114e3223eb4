"""Keeping a lake small: old snapshots expired, small files merged, files nobody references deleted.

Every commit on a lake is a snapshot and leaves Parquet files behind when a later one replaces
them; a killed writer leaves files that no snapshot references (docs/research/ducklake-findings.md
§5). Each namespace (a city's, the province's) is maintained in DuckLake's own order:
1. `ducklake_expire_snapshots`: snapshots older than `keep` go (time travel reaches back that far);
2. `ducklake_merge_adjacent_files`: a table's small files merged into larger ones (a load of a few
   rows is a file; a thousand small files made an aggregate 4 × slower, §7);
3. `ducklake_cleanup_old_files`: the files only expired snapshots or merged-away files referenced,
   once they have waited `grace` (a reader still inside an older snapshot may be reading them);
4. `ducklake_delete_orphaned_files`: files no snapshot ever referenced, older than `orphan_age`.
   Never younger: a writer that has not committed yet has files just like these, and deleting
   one breaks its table for good (§5, tried). So `orphan_age` must exceed the longest load.
Before them, the `stage` tables and views a killed run left (validation's scratch, dropped by the
run itself when it lives) are dropped once they were created more than `orphan_age` ago. On a
DuckDB file the next writer clears the stage (flows/writing.py); on a lake another writer's batch
may be in it, so only age tells a leftover from a running check, as with orphaned files. The
snapshot that created one says when; once that snapshot has expired, the oldest snapshot kept
bounds it (made before it). This step goes first, while the snapshots are still there.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import PurePath

import duckdb

from connectors.safety import IDENTIFIER
from warehouse.backend import retry_on_conflict
from warehouse.db import quote_ident, relations
from warehouse.lake import check_conninfo, is_namespace, lake_engine, quote_literal


@dataclass(frozen=True)
class Maintained:
    namespace: str
    snapshots_expired: int
    files_merged: int  # small files read into larger ones
    files_deleted: int  # no longer referenced by a kept snapshot
    orphans_deleted: int  # never referenced (a killed writer's)
    stage_dropped: int  # a killed run's stage tables and views


def list_namespaces(conninfo: str) -> list[str]:
    """The namespaces maintenance may touch: every city's (`city_<code>`) and the province's.

    Only those whose data path is their own folder, `<root>/<namespace>`: orphans are found by
    listing the data path recursively, and a lake whose data path holds other lakes' folders (the
    catalog's `public` one that `carbonpeak lake init` makes at the root) would take every other
    namespace's files for its orphans and delete them.
    """
    con = lake_engine()
    try:
        con.execute(f"ATTACH {quote_literal(check_conninfo(conninfo))} AS catalog_db "
                    "(TYPE postgres, READ_ONLY)")
        schemas = [r[0] for r in con.execute(
            "select distinct schema_name from duckdb_tables() where database_name = 'catalog_db' "
            "and table_name = 'ducklake_metadata' order by 1").fetchall()]
        found = []
        for schema in schemas:
            if not is_namespace(schema):
                continue
            path = con.execute(f'select value from catalog_db."{schema}".ducklake_metadata '
                               "where key = 'data_path'").fetchone()
            if path and PurePath(path[0].rstrip("/")).name == schema:
                found.append(schema)
        return found
    finally:
        con.close()


def maintain(con: duckdb.DuckDBPyConnection, namespace: str, keep: dt.timedelta, grace: dt.timedelta,
             orphan_age: dt.timedelta, alias: str = "lake") -> Maintained:
    """Run the steps of the module docstring on the lake attached to `con` as `alias`."""
    def before(age: dt.timedelta) -> str:  # a number only: nothing from outside reaches the SQL
        return f"now() - to_microseconds({int(age.total_seconds() * 1_000_000)})"

    lake = quote_literal(alias)
    dropped = _drop_stage_leftovers(con, lake, before(orphan_age), namespace)
    expired = con.execute(f"call ducklake_expire_snapshots({lake}, older_than => {before(keep)})"
                          ).fetchall()
    merged = retry_on_conflict(  # a rewrite of a table conflicts with a writer appending to it: again
        con, lambda: con.execute(f"call ducklake_merge_adjacent_files({lake})").fetchall(),
        f"merging the small files of `{namespace}`")
    deleted = con.execute(f"call ducklake_cleanup_old_files({lake}, older_than => {before(grace)})"
                          ).fetchall()
    orphans = con.execute(f"call ducklake_delete_orphaned_files({lake}, older_than => {before(orphan_age)})"
                          ).fetchall()
    return Maintained(namespace, len(expired), sum(r[2] for r in merged), len(deleted), len(orphans),
                      dropped)


def _drop_stage_leftovers(con: duckdb.DuckDBPyConnection, lake: str, cutoff: str, namespace: str) -> int:
    """Drop the stage tables and views created before `cutoff` that are still there; how many."""
    created = {name.removeprefix("stage."): when for name, when in con.execute(f"""
        select name, max(snapshot_time) from (
            select unnest(changes['tables_created']) as name, snapshot_time from ducklake_snapshots({lake})
            union all
            select unnest(changes['views_created']), snapshot_time from ducklake_snapshots({lake}))
        where starts_with(name, 'stage.') group by name""").fetchall()}
    oldest, cutoff_at = con.execute(f"select min(snapshot_time), {cutoff} from ducklake_snapshots({lake})"
                                    ).fetchone()
    views = {r[0] for r in con.execute("select view_name from duckdb_views() where schema_name = 'stage' "
                                       "and database_name = current_database()").fetchall()}
    # made before the cutoff; or before the oldest snapshot kept (its record expired), when that
    # one is itself older than the cutoff. Our own names only (`<dataset>__<id>`): nothing read
    # from the catalog is spliced in unchecked.
    old = sorted(name for name in set(relations(con, "stage"))
                 if IDENTIFIER.fullmatch(name) and created.get(name, oldest) < cutoff_at)
    for name in old:
        kind = "view" if name in views else "table"
        retry_on_conflict(con, lambda kind=kind, name=name: con.execute(
            f"drop {kind} if exists stage.{quote_ident(name)}"), f"dropping `stage.{name}` of `{namespace}`")
    return len(old)
