"""A `carbonpeak run` stopped by SIGTERM (a service manager, a CI timeout) leaves no Prefect server."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from tests.flows.test_cli import BIN


def processes_with(marker: str) -> list[int]:
    """Processes whose environment carries `marker` (the run and every child it started)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if marker.encode() in (proc / "environ").read_bytes():
                    found.append(int(proc.name))
            except OSError:  # gone, or not ours to read
                pass
    return found


def test_sigterm_stops_the_temporary_prefect_server(tmp_path):
    home = tmp_path / "prefect-home-sigterm"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CARBONPEAK_", "PREFECT_API_URL"))}
    env |= {"PREFECT_HOME": str(home), "CARBONPEAK_WAREHOUSE": str(tmp_path / "w.duckdb")}
    run = subprocess.Popen([str(BIN / "carbonpeak"), "run"], env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        for line in run.stderr:  # wait until the temporary server is up, mid-run
            if "Starting temporary server" in line or time.monotonic() > deadline:
                break
        time.sleep(1)
        assert len(processes_with(str(home))) >= 2, "the run and its server should be up"
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=60) == 130
        assert "carbonpeak: interrupted" in run.stderr.read()
        time.sleep(1)
        assert processes_with(str(home)) == []  # no uvicorn left behind
    finally:
        for pid in processes_with(str(home)):
            os.kill(pid, signal.SIGKILL)
        run.kill()
