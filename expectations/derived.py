"""The small tables a suite derives from its batch once (`meta.prepare`), built side by side.

Each is a scan of the whole batch, and some scans run on one thread (the steps table's
`lag() over ()` is a streaming window): built one after the other, the two costliest of a
10 M-row day took 0.83–0.91 s; built at once, each on its own cursor, 0.62–0.67 s. A table
whose query reads an earlier one waits for it, and only for it.

On a lake each table is a catalog commit, and two commits at once may conflict: there they are
built one after the other, as before.
"""

from __future__ import annotations

import re
from concurrent.futures import Future, ThreadPoolExecutor

import duckdb

from warehouse.backend import is_lake


def build_derived(con: duckdb.DuckDBPyConnection, prepared: tuple[tuple[str, str], ...],
                  batch: str) -> None:
    """Create each `(table, query)` of `prepared` with `{batch}` read as the relation `batch`.

    The batch must be committed (a pending load's view is): the other cursors read it.
    """
    queries = [(table, f"create or replace table {table} as {query.replace('{batch}', batch)}")
               for table, query in prepared]
    if len(queries) < 2 or is_lake(con):
        for _, sql in queries:
            con.execute(sql)
        return
    built: dict[str, Future] = {}
    with ThreadPoolExecutor(max_workers=len(queries), thread_name_prefix="derive") as pool:
        for table, sql in queries:
            needs = [built[t] for t in built if re.search(re.escape(t) + r"\b", sql)]
            built[table] = pool.submit(_build, con, sql, needs)
    for future in built.values():  # every thread has ended: the first error, as raised
        future.result()


def _build(con: duckdb.DuckDBPyConnection, sql: str, needs: list[Future]) -> None:
    for need in needs:
        need.result()  # an earlier table failed: this one is not built (its error is raised)
    cursor = con.cursor()
    try:
        cursor.execute(sql)
    finally:
        cursor.close()
