"""One writer process of tests/lake/test_lake_parallel.py: ingest one department into a lake.

    python -m tests.lake.parallel_worker <conninfo> <department> <url> <token> <downloads>

Prints one JSON line: the load results (dataset, status, rows loaded).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from connectors.fetch import fetch_dataset
from connectors.spec import load_sources
from flows.ingest import check_fetched
from flows.settings import PROJECT_ROOT
from source_server import SNAPSHOT_DATE
from tests.helpers import MIANYANG_CITY
from warehouse.lake import connect_lake
from warehouse.load import load_batches
from warehouse.state import read_source_states, states_of


def main(conninfo: str, name: str, url: str, token: str, downloads: str) -> None:
    department = load_sources(PROJECT_ROOT / "config" / "mianyang" / "sources.yml").department(name)
    con = connect_lake(conninfo)
    try:
        states = read_source_states(con)
        batches = []
        for spec in department.datasets:
            fetched = fetch_dataset(spec, department, url, token, states_of(states, spec.table_name),
                                    download_dir=Path(downloads) / spec.table_name)
            batches += [check_fetched(f, con, MIANYANG_CITY, SNAPSHOT_DATE) for f in fetched]
        results = load_batches(con, batches)
    finally:
        con.close()
    sys.stdout.write(json.dumps([[r.dataset, r.status, r.rows_loaded] for r in results]) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:6])
