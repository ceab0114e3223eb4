"""Bytes held in memory, read by DuckDB as files (fsspec's in-memory file system).

A day pulled from a paged API stays in memory when it is small enough (connectors/spool.py):
writing it to disk only for DuckDB to read it back cost as long as pulling it. DuckDB reads a
Python file system registered on its connection; each chunk goes into fsspec's in-memory store
under a name no other load uses (the store is shared by the whole process), is read as one file
of a list, in order, and leaves the store when the block ends. The chunks are not copied in:
an in-memory file shares its bytes until it is written to, and these never are.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import duckdb
from fsspec.implementations.memory import MemoryFileSystem

from warehouse.db import sql_literal

PROTOCOL = "memory"


@contextlib.contextmanager
def held_files(con: duckdb.DuckDBPyConnection, chunks: tuple[bytes, ...], suffix: str) -> Iterator[str]:
    """The SQL list of file names (`['memory://…', …]`) under which DuckDB reads `chunks`."""
    store = MemoryFileSystem()
    if PROTOCOL not in con.list_filesystems():
        con.register_filesystem(store)
    folder = f"/carbonpeak-{uuid.uuid4().hex}"
    names = [f"{folder}/{number:06d}{suffix}" for number in range(len(chunks))]
    try:
        for name, chunk in zip(names, chunks, strict=True):
            store.pipe_file(name, chunk)
        yield "[" + ", ".join(sql_literal(f"{PROTOCOL}://{name}") for name in names) + "]"
    finally:
        for name in names:  # (pipe_file makes no directory entries: nothing else to remove)
            store.store.pop(name, None)
