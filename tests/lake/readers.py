"""Reader loops on a lake while writers write: every committed load is whole, or not there at all."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from warehouse.db import quote_ident
from warehouse.lake import connect_lake


def half_loads(con) -> tuple[int, list[str]]:
    """In one snapshot: how many loads the log calls loaded, and those whose rows are not all in raw.

    A load's rows carry its number, and the log counts what it wrote (day files: what it kept
    after the gate), so the two agree for every committed load.
    """
    con.execute("begin transaction")  # one snapshot for the log and every table
    try:
        logged = con.execute("select load_id, load_seq, dataset, rows_loaded from meta.load_log "
                             "where status = 'loaded'").fetchall()
        held: dict[int, int] = {}
        for dataset in sorted({d for _, _, d, _ in logged}):
            held |= dict(con.execute(f"select _load_seq, count(*) from raw.{quote_ident(dataset)} "
                                     "group by all").fetchall())
    finally:
        con.execute("commit")
    return len(logged), [f"{load_id} ({dataset}): {loaded} rows logged, {held.get(seq, 0)} in raw"
                         for load_id, seq, dataset, loaded in logged if held.get(seq, 0) != loaded]


def read_loop(conninfo: str, stop: threading.Event, seen: list, problems: list,
              namespace: str | None = None) -> None:
    """Check `half_loads` again and again through the read-only role until `stop` is set."""
    con = connect_lake(conninfo, read_only=True, namespace=namespace)
    try:
        while not stop.is_set():
            loads, half = half_loads(con)
            seen.append(loads)
            problems += half
            stop.wait(0.2)  # paced: back to back, four loops take the writers' CPU
    except Exception as exc:  # a reader must never fail
        problems.append(f"reader failed: {exc}")
    finally:
        con.close()


@contextlib.contextmanager
def reading(conninfo: str, loops: int, namespaces: tuple[str | None, ...] = (None,)
            ) -> Iterator[tuple[list, list]]:
    """`loops` reader threads running `read_loop` for the block; yields (seen, problems).

    Each loop reads one of `namespaces` (the lake's cities), in turn.
    """
    stop, seen, problems = threading.Event(), [], []
    readers = [threading.Thread(target=read_loop, args=(conninfo, stop, seen, problems,
                                                        namespaces[i % len(namespaces)]))
               for i in range(loops)]
    for reader in readers:
        reader.start()
    try:
        yield seen, problems
    finally:
        stop.set()
        for reader in readers:
            reader.join(timeout=60)
