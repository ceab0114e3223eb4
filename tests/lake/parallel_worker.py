"""One writer process of tests/lake/test_lake_parallel.py: ingest one department into a lake.

    python -m tests.lake.parallel_worker <conninfo> <department> <url> <token> <downloads>

Prints one JSON line: the load results (dataset, status, rows loaded).
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

from connectors.spec import load_sources
from flows.settings import PROJECT_ROOT
from tests.helpers import fetch_and_check_on
from warehouse.lake import connect_lake
from warehouse.load import load_batches


def main(conninfo: str, name: str, url: str, token: str, downloads: str) -> None:
    config = load_sources(PROJECT_ROOT / "config" / "mianyang" / "sources.yml")
    one = dataclasses.replace(config, departments=(config.department(name),))
    con = connect_lake(conninfo)
    try:
        results = load_batches(con, fetch_and_check_on(con, one, url, token, Path(downloads)))
    finally:
        con.close()
    sys.stdout.write(json.dumps([[r.dataset, r.status, r.rows_loaded] for r in results]) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:6])
