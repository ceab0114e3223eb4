"""A real PostgreSQL 15 server for the lake's catalog, on a free port, for this package's tests.

The folder is made with `tempfile.mkdtemp` in /tmp and opened to other users (0755): as root the
server runs as `postgres`, which cannot enter pytest's own tmp folders (mode 0700). Teardown stops
the server whatever the tests did, and a failing set-up stops it too.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lake.catalog import Catalog, create_catalog
from lake.errors import LakeError
from lake.postgres import init_server, start_server, stop_server
from warehouse.lake import connect_lake


@dataclass(frozen=True)
class Lake:
    """A running catalog server with its lake created: where it is and how each role gets in."""

    folder: Path
    writer: Catalog
    analyst: Catalog
    data_path: Path


@contextlib.contextmanager
def open_folder(prefix: str) -> Iterator[Path]:
    """A fresh folder under /tmp that the `postgres` user can enter; removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    root.chmod(0o755)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def stopped_at_exit(folder: Path) -> Iterator[None]:
    """Stop the server of `folder` on the way out, even after a failure half-way."""
    try:
        yield
    finally:
        with contextlib.suppress(LakeError):  # no cluster was made: nothing runs
            stop_server(folder)


@pytest.fixture(scope="session")
def lake() -> Iterator[Lake]:
    with open_folder("carbonpeak-lake-") as root, stopped_at_exit(root / "pg"):
        folder = root / "pg"
        init_server(folder, durable=False)  # no fsync: a throwaway server, seconds faster
        start_server(folder)
        writer, analyst = create_catalog(folder)
        data_path = root / "parquet"
        connect_lake(writer.conninfo, data_path).close()  # creates the catalog's tables
        yield Lake(folder, writer, analyst, data_path)
