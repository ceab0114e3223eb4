"""One run at a time on a warehouse: the lock every writing flow takes before it touches anything.

DuckDB lets one process write a file. Two overlapping runs (a cron overlap, `serve` plus a
manual run) used to collide inside the ingest, where the second run's "cannot open the
warehouse" was recorded as every department failing, and officials were paged for it. Now the
second run waits for the first (up to `CARBONPEAK_LOCK_WAIT_S` seconds), then stops with one line
naming the run that holds the warehouse; nothing is recorded against any source.

An OS lock (`flock`) on `<warehouse>.lock` is released by the kernel when its holder dies, so a
killed run never leaves the warehouse locked. The file also says who holds it, for the message.
Re-entrant within a process: `run-all` holds it while its child flows take it again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from publishing.clock import CITY_TIMEZONE
from warehouse.errors import WarehouseBusy

_held: dict[Path, tuple[int, int]] = {}  # lock path -> (file descriptor, depth)
_guard = threading.Lock()


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


@contextlib.contextmanager
def run_lock(warehouse: Path, what: str, wait_s: float, poll_s: float = 0.5) -> Iterator[None]:
    """Hold the warehouse's run lock for `what` (a flow name); wait up to `wait_s` seconds."""
    path = lock_path(warehouse.resolve())
    with _guard:
        if path in _held:
            fd, depth = _held[path]
            _held[path] = (fd, depth + 1)
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _guard:
                fd, depth = _held[path]
                _held[path] = (fd, depth - 1)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, path, warehouse, wait_s, poll_s)
        _write_holder(fd, what)
        with _guard:
            _held[path] = (fd, 1)
        try:
            yield
        finally:
            with _guard:
                del _held[path]
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def depth(warehouse: Path) -> int:
    """How many nested holders in this process hold the warehouse's lock (0: not held)."""
    with _guard:
        return _held.get(lock_path(warehouse.resolve()), (0, 0))[1]


def _acquire(fd: int, path: Path, warehouse: Path, wait_s: float, poll_s: float) -> None:
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise WarehouseBusy(_busy_message(path, warehouse, wait_s)) from None
            time.sleep(poll_s)


def _write_holder(fd: int, what: str) -> None:
    try:
        from prefect.runtime import flow_run

        run_id = flow_run.id
    except Exception:  # noqa: BLE001 - outside a flow run there is simply no id to record
        run_id = None
    holder = {"flow": what, "flow_run_id": run_id, "pid": os.getpid(),
              "started_at": dt.datetime.now(CITY_TIMEZONE).isoformat(timespec="seconds")}
    os.ftruncate(fd, 0)
    try:
        os.pwrite(fd, json.dumps(holder).encode(), 0)
    except OSError:
        # The lock is held (flock); only the note of who holds it is lost. On a full disk the
        # warehouse write that follows says so in its own one line, naming the warehouse.
        pass


def read_holder(warehouse: Path) -> dict:
    """Who holds the run lock, as its holder wrote it ({} when unknown)."""
    try:
        return json.loads(lock_path(warehouse.resolve()).read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}


def _busy_message(path: Path, warehouse: Path, wait_s: float) -> str:
    holder = read_holder(warehouse)
    who = (f"`{holder.get('flow', '?')}` (Prefect flow run {holder.get('flow_run_id') or '-'}, pid "
           f"{holder.get('pid', '?')}, started {holder.get('started_at', '?')} Beijing time)"
           if holder else "another run")
    return (f"warehouse `{warehouse}` is busy: {who} holds it; waited {wait_s:g} s "
            "(CARBONPEAK_LOCK_WAIT_S). Try again when it finishes; analysts read the snapshot "
            f"`{warehouse.parent / 'analyst' / warehouse.name}`. Nothing was recorded against any "
            "department")
