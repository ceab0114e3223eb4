"""Chunks of bytes written in order: held in memory up to a bound, on disk beyond it.

A day pulled from a paged API is written page by page. Like `tempfile.SpooledTemporaryFile`,
a spool keeps what it is given in memory until it passes `memory_bytes`, then moves it to its
file and writes the rest there, so memory stays bounded whatever the day's size. Unlike it, the
chunks are kept as they came (no copy into one growing buffer), and DuckDB reads them as they
are (warehouse/native.py). Why not always disk: on the bench machine, writing a 100 MB day into
the page cache of a fresh process took 0.4 s, as long as pulling its pages.

On disk, each chunk is followed by `separator` (a line end), so the file holds the chunks'
lines one after another, as DuckDB reads them from memory, chunk by chunk.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

MEMORY_BYTES = 256 * 2**20  # ~2.5 M meter readings as NDJSON


class Spool:
    def __init__(self, path: Path, memory_bytes: int = MEMORY_BYTES, separator: bytes = b"\n") -> None:
        self.path, self.memory_bytes, self.separator = path, memory_bytes, separator
        self.chunks: list[bytes] = []  # while in memory
        self.size = 0  # bytes written, separators included
        self._file: BinaryIO | None = None

    @property
    def on_disk(self) -> bool:
        return self._file is not None

    def write(self, chunk: bytes) -> None:
        """Add one chunk (an empty one adds nothing: no empty line on disk)."""
        if not chunk:
            return
        self.size += len(chunk) + len(self.separator)
        if self._file is None and self.size > self.memory_bytes:
            self._file = self.path.open("wb")
            for held in self.chunks:
                self._put(held)
            self.chunks = []
        if self._file is not None:
            self._put(chunk)
        else:
            self.chunks.append(chunk)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()

    def discard(self) -> None:
        """Drop what was written, in memory or on disk."""
        self.close()
        self.chunks = []
        self.path.unlink(missing_ok=True)

    def _put(self, chunk: bytes) -> None:
        assert self._file is not None
        self._file.write(chunk)
        self._file.write(self.separator)


class Held:
    """A day's chunks held in memory, given once to the reader that loads them.

    A department's batches live until its load ends, the GX checks and its other datasets
    included; the day's bytes need not. `take()` hands them over and forgets them, so they are
    freed as soon as the warehouse has read them.
    """

    def __init__(self, chunks: list[bytes]) -> None:
        self._chunks: tuple[bytes, ...] | None = tuple(chunks)
        self.count = len(chunks)

    def take(self) -> tuple[bytes, ...]:
        if self._chunks is None:
            raise RuntimeError("this day's records were read into the warehouse already and are "
                               "no longer held; pull the day again")
        chunks, self._chunks = self._chunks, None
        return chunks
