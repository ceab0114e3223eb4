"""One writer process of tests/lake/test_lake_parallel.py: ingest one department into a lake.

    python -m tests.lake.parallel_worker <conninfo> <department> <url> <token> <downloads> [until]

With `until` (seconds since the epoch) it ingests again and again until then: after the first
round the sources answer 304 and each round writes the bookkeeping (source state) beside the
other writers. Prints one JSON line: every round's load results (dataset, status, rows loaded).
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from connectors.spec import load_sources
from flows.settings import PROJECT_ROOT
from tests.helpers import fetch_and_check_on
from warehouse.lake import connect_lake
from warehouse.load import load_batches


def start(conninfo: str, name: str, server, downloads: Path, until: float | None = None
          ) -> subprocess.Popen:
    """A writer process (this module) ingesting department `name` from `server`."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    args = [conninfo, name, server.url, server.token, str(downloads)] + ([str(until)] if until else [])
    return subprocess.Popen([sys.executable, "-m", "tests.lake.parallel_worker", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def main(conninfo: str, name: str, url: str, token: str, downloads: str, until: str | None = None) -> None:
    config = load_sources(PROJECT_ROOT / "config" / "mianyang" / "sources.yml")
    one = dataclasses.replace(config, departments=(config.department(name),))
    con = connect_lake(conninfo)
    results = []
    try:
        while True:
            results += load_batches(con, fetch_and_check_on(con, one, url, token, Path(downloads)))
            if until is None or time.time() >= float(until):
                break
    finally:
        con.close()
    sys.stdout.write(json.dumps([[r.dataset, r.status, r.rows_loaded] for r in results]) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:7])
