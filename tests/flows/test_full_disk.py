"""A full disk is nobody's data: one true line, the previous warehouse unchanged, no department failed."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.helpers import fingerprint


@pytest.fixture
def small_disk(tmp_path):
    """A real file system of 40 MiB (tmpfs): ENOSPC comes from the kernel, as on a full server."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root, as CI has): {done.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk, leave_bytes: int) -> None:
    """Fill the disk to `leave_bytes` free, to the byte: a leftover MiB holds a small load's WAL."""
    with open(disk / "filler", "wb") as f:
        f.truncate(0)
        for size in (1 << 20, 1 << 12, 1):
            chunk = b"\0" * size
            while shutil.disk_usage(disk).free - size >= leave_bytes:
                try:
                    f.write(chunk)
                    f.flush()
                except OSError:  # the kernel's own accounting says full: go to smaller chunks
                    break


def test_a_full_disk_stops_the_run_in_one_line_and_changes_nothing(
        prefect_harness, small_disk, source_server, mianyang_sources, monkeypatch):
    from flows.run_all import run_all

    warehouse = small_disk / "warehouse.duckdb"
    for department in mianyang_sources.departments:
        monkeypatch.setenv(department.url_env, source_server.url)
        monkeypatch.setenv(department.token_env, source_server.token)
    monkeypatch.setenv("CARBONPEAK_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("CARBONPEAK_AS_OF", "2026-03-01")
    assert run_all(departments=["forestry"], return_state=True).is_completed()
    before = fingerprint(warehouse)

    fill(small_disk, leave_bytes=0)  # the first department's rows will not fit
    state = run_all(return_state=True)
    assert state.is_failed()
    assert state.message.startswith("no space left on device writing the warehouse `")
    assert "the previous warehouse is unchanged" in state.message and "\n" not in state.message
    assert "kpi_status" not in state.message and "rollback" not in state.message.lower()

    (small_disk / "filler").unlink()
    after = fingerprint(warehouse)
    assert after == before  # no source marked failed, no alert recorded, no half-loaded batch
