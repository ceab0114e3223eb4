"""Bytes held in memory, read by DuckDB as files, through a file system of their own.

A day pulled from a paged API stays in memory when it is small enough (connectors/spool.py):
writing it to disk only for DuckDB to read it back cost as long as pulling it. DuckDB reads any
fsspec file system registered on its connection. Each load registers one of its own, under a
protocol name no other load uses, holding just its chunks, one file each, and unregisters it
when the block ends. Not fsspec's `memory://`: its store is shared by the whole process, scanned
whole on every size lookup (quadratic in the files), and copies a file's bytes to tell its size.
Here a file is opened as a `BytesIO` over the chunk, which shares its bytes: nothing is copied.
"""

from __future__ import annotations

import contextlib
import io
import re
import uuid
from collections.abc import Iterator, Sequence

import duckdb
from fsspec import AbstractFileSystem

from warehouse.db import sql_literal

_NAME = re.compile(r'(?:file )?"?held[0-9a-f]{12}://page-0*(\d+)[.\w]*"?')


class _Held(AbstractFileSystem):
    """Read-only files named `page-000001.ndjson` …, one per chunk (a pulled page)."""

    cachable = False  # one per load, never looked up again

    def __init__(self, protocol: str) -> None:
        # fsspec hashes every constructor argument (its instance cache), cachable or not: the
        # chunks are given after construction, not to it (hashing a 100 MB day took 0.4 s)
        super().__init__()
        self.protocol = protocol  # the name DuckDB routes `<protocol>://…` paths by
        self.files: dict[str, bytes] = {}

    def _bytes(self, path: str) -> bytes:
        name = path.split("://", 1)[-1].lstrip("/")
        if name not in self.files:
            raise FileNotFoundError(path)
        return self.files[name]

    def _open(self, path: str, mode: str = "rb", **kwargs) -> io.BytesIO:
        if mode != "rb":
            raise PermissionError(f"{path}: held in memory, read-only")
        return io.BytesIO(self._bytes(path))

    def info(self, path: str, **kwargs) -> dict:
        return {"name": path, "size": len(self._bytes(path)), "type": "file"}

    def ls(self, path: str, detail: bool = True, **kwargs) -> list:
        return [self.info(name) if detail else name for name in self.files]

    def glob(self, path: str, **kwargs) -> list[str]:  # names are given whole, never patterns
        return [path] if path.split("://", 1)[-1].lstrip("/") in self.files else []


@contextlib.contextmanager
def held_files(con: duckdb.DuckDBPyConnection, chunks: Sequence[bytes], suffix: str) -> Iterator[str]:
    """The SQL list of file names (`['held…://page-000001…', …]`) under which DuckDB reads `chunks`."""
    protocol = f"held{uuid.uuid4().hex[:12]}"
    files = {f"page-{number:06d}{suffix}": chunk for number, chunk in enumerate(chunks, 1)}
    held = _Held(protocol)
    held.files = files
    con.register_filesystem(held)
    try:
        yield "[" + ", ".join(sql_literal(f"{protocol}://{name}") for name in files) + "]"
    finally:
        con.unregister_filesystem(protocol)


def plain_names(message: str) -> str:
    """DuckDB's `message` with each held file named as its page ("page 5 of the pull").

    A pulled page holds at least one record (json_pages.py refuses a short page), so the Nth
    chunk is the pull's page N.
    """
    return _NAME.sub(lambda match: f"page {int(match.group(1))} of the pull", message)
