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
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from warehouse.backend import retry_on_conflict
from warehouse.lake import check_conninfo, lake_engine, quote_literal


@dataclass(frozen=True)
class Maintained:
    namespace: str
    snapshots_expired: int
    files_merged: int  # small files read into larger ones
    files_deleted: int  # no longer referenced by a kept snapshot
    orphans_deleted: int  # never referenced (a killed writer's)


def list_namespaces(conninfo: str) -> list[str]:
    """The lake's namespaces: every PostgreSQL schema of the catalog database holding a DuckLake."""
    con = lake_engine()
    try:
        con.execute(f"ATTACH {quote_literal(check_conninfo(conninfo))} AS catalog_db "
                    "(TYPE postgres, READ_ONLY)")
        return [r[0] for r in con.execute(
            "select distinct schema_name from duckdb_tables() where database_name = 'catalog_db' "
            "and table_name = 'ducklake_metadata' order by 1").fetchall()]
    finally:
        con.close()


def maintain(con: duckdb.DuckDBPyConnection, namespace: str, keep: dt.timedelta, grace: dt.timedelta,
             orphan_age: dt.timedelta, alias: str = "lake") -> Maintained:
    """Run the four steps (see the module docstring) on the lake attached to `con` as `alias`."""
    def before(age: dt.timedelta) -> str:  # a number only: nothing from outside reaches the SQL
        return f"now() - to_microseconds({int(age.total_seconds() * 1_000_000)})"

    lake = quote_literal(alias)
    expired = con.execute(f"call ducklake_expire_snapshots({lake}, older_than => {before(keep)})"
                          ).fetchall()
    merged = retry_on_conflict(  # a rewrite of a table conflicts with a writer appending to it: again
        con, lambda: con.execute(f"call ducklake_merge_adjacent_files({lake})").fetchall(),
        f"merging the small files of `{namespace}`")
    deleted = con.execute(f"call ducklake_cleanup_old_files({lake}, older_than => {before(grace)})"
                          ).fetchall()
    orphans = con.execute(f"call ducklake_delete_orphaned_files({lake}, older_than => {before(orphan_age)})"
                          ).fetchall()
    return Maintained(namespace, len(expired), sum(r[2] for r in merged), len(deleted), len(orphans))
