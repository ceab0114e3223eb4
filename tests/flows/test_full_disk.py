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


def test_a_full_downloads_disk_names_the_download_and_blames_no_department(
        prefect_harness, small_disk, tmp_path, source_server, mianyang_sources, monkeypatch):
    from flows.run_all import run_all
    from warehouse.db import connect

    # the warehouse has room; the folder day files are downloaded into is a full disk of its own
    warehouse = tmp_path / "warehouse.duckdb"
    (tmp_path / "downloads").symlink_to(small_disk, target_is_directory=True)
    for department in mianyang_sources.departments:
        monkeypatch.setenv(department.url_env, source_server.url)
        monkeypatch.setenv(department.token_env, source_server.token)
    monkeypatch.setenv("CARBONPEAK_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("CARBONPEAK_AS_OF", "2026-03-01")
    fill(small_disk, leave_bytes=0)

    state = run_all(departments=["buildings"], return_state=True)
    assert state.is_failed()
    assert state.message.startswith("no space left on device writing `")
    assert str(tmp_path / "downloads") in state.message and "platform's own disk" in state.message
    assert "\n" not in state.message
    con = connect(warehouse, read_only=True)
    try:  # not the department's fault: nothing recorded against it, nothing pending
        failed = con.execute("select count(*) from meta.source_health where status = 'failed'").fetchone()[0]
        pending = con.execute("select count(*) from meta.pending_loads").fetchone()[0]
    finally:
        con.close()
    assert (failed, pending) == (0, 0)
