"""Benchmark (issue 14): the same city's data into the DuckDB file and into a DuckLake, one run.

Side by side, from the same source server (the demo's scenario, real HTTP on loopback):

* `file`  the embedded default: every department fetched, checked (GX) and loaded into a fresh
          DuckDB file, then every model built;
* `lake`  the same into a fresh DuckLake: catalog in a PostgreSQL 15 server started here (fsync
          on, as `carbonpeak lake init` makes it), Parquet files in a local data path;

each phase timed (fetch is the source's, the same for both; check, load and build are the
warehouse's), then the analysts' side: `kpi.kpi_status` and a count over the readings, each
queried 5 times through a read-only connection (the file itself; the lake through the read-only
`analyst` role), the median kept. Prints the figures with lake ÷ file ratios and writes
`bench/results/lake.json`. Not a test: it asserts nothing about time.

    .venv/bin/python bench/bench_lake.py
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUERIES = {
    "kpi_status (every checkpoint)": "select * from kpi.kpi_status",
    "readings per building (raw)": "select building_id, count(*), sum(reading) "
                                   "from raw.buildings__meter_readings group by all",
}
REPEATS = 5


def ingest(con, config, server, downloads: Path) -> dict:
    """Every department fetched, checked and loaded on `con`; seconds per phase, rows loaded."""
    from connectors.fetch import fetch_dataset
    from expectations.gate import check_fetched
    from source_server import SNAPSHOT_DATE
    from warehouse.load import load_batches
    from warehouse.models import ensure_declared_sources
    from warehouse.state import read_source_states, states_of

    city = _city()
    seconds = {"fetch": 0.0, "check": 0.0, "load": 0.0}
    loaded = 0
    ensure_declared_sources(con, ROOT / "dbt_like_sql")
    states = read_source_states(con)
    for department in config.departments:
        for spec in department.datasets:
            started = time.perf_counter()
            fetched = fetch_dataset(spec, department, server.url, server.token,
                                    states_of(states, spec.table_name),
                                    download_dir=downloads / spec.table_name)
            seconds["fetch"] += time.perf_counter() - started
            started = time.perf_counter()
            batches = [check_fetched(f, con, city, SNAPSHOT_DATE) for f in fetched]
            seconds["check"] += time.perf_counter() - started
            started = time.perf_counter()
            loaded += sum(r.rows_loaded for r in load_batches(con, batches))
            seconds["load"] += time.perf_counter() - started
    return {"seconds": seconds, "rows_loaded": loaded}


def build(con, config) -> float:
    from connectors.spec import load_city
    from source_server import SNAPSHOT_DATE
    from warehouse.catalogue import read_catalogue
    from warehouse.kpi_views import generated_models
    from warehouse.models import build_models
    from warehouse.seed import build_seed

    catalogue = read_catalogue(ROOT / "config" / "mianyang" / "kpis.yml")
    seed = build_seed(catalogue, load_city(ROOT / "config" / "mianyang" / "city.yml"), config, SNAPSHOT_DATE)
    started = time.perf_counter()
    build_models(con, ROOT / "dbt_like_sql", seed=seed, generated=generated_models(catalogue))
    return time.perf_counter() - started


def query_times(con) -> dict:
    times = {}
    for name, sql in QUERIES.items():
        runs = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            rows = con.execute(sql).fetchall()
            runs.append(time.perf_counter() - started)
        times[name] = {"median_s": statistics.median(runs), "rows": len(rows)}
    return times


def _city() -> dict:
    from connectors.spec import load_city

    return load_city(ROOT / "config" / "mianyang" / "city.yml")


def main() -> None:
    sys.path.insert(0, str(ROOT))
    import great_expectations  # noqa: F401 - start-up, paid before the clock as in every bench

    logging.disable(logging.WARNING)  # the demo's faults are logged as they are quarantined

    from connectors.spec import load_sources
    from lake.catalog import create_catalog, grant_reads
    from lake.postgres import init_server, start_server, stop_server
    from source_server.server import SourceServer
    from warehouse.db import connect
    from warehouse.lake import connect_lake

    config = load_sources(ROOT / "config" / "mianyang" / "sources.yml")
    root = Path(tempfile.mkdtemp(prefix="bench-lake-"))
    root.chmod(0o755)  # as root the server runs as `postgres`, which must enter the folder
    results: dict[str, dict] = {}
    try:
        init_server(root / "pg")
        start_server(root / "pg")
        writer, analyst = create_catalog(root / "pg")
        with SourceServer() as server:
            for target in ("file", "lake"):
                con = (connect(root / "warehouse.duckdb") if target == "file"
                       else connect_lake(writer.conninfo, root / "parquet"))
                try:
                    done = ingest(con, config, server, root / f"downloads-{target}")
                    done["seconds"]["build"] = build(con, config)
                finally:
                    con.close()
                if target == "lake":
                    grant_reads(root / "pg")
                reader = (connect(root / "warehouse.duckdb", read_only=True) if target == "file"
                          else connect_lake(analyst.conninfo, read_only=True))
                try:
                    done["queries"] = query_times(reader)
                finally:
                    reader.close()
                results[target] = done
                print(f"  {target}: {sum(done['seconds'].values()):.1f} s", flush=True)
    finally:
        stop_server(root / "pg")
        shutil.rmtree(root, ignore_errors=True)
    show(results)
    out = ROOT / "bench" / "results" / "lake.json"
    out.write_text(json.dumps({
        "date": dt.date.today().isoformat(),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "duckdb": version("duckdb"), "results": results}, indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")


def show(results: dict[str, dict]) -> None:
    file, lake = results["file"], results["lake"]
    print(f"\n{'phase':34} {'file s':>8} {'lake s':>8} {'lake ÷ file':>12}")
    for phase in file["seconds"]:
        a, b = file["seconds"][phase], lake["seconds"][phase]
        print(f"{phase:34} {a:8.2f} {b:8.2f} {b / a:12.2f}")
    a, b = sum(file["seconds"].values()), sum(lake["seconds"].values())
    print(f"{'ingest + build':34} {a:8.2f} {b:8.2f} {b / a:12.2f}")
    for target, done in results.items():
        rate = done["rows_loaded"] / (done["seconds"]["check"] + done["seconds"]["load"])
        print(f"{target}: {done['rows_loaded']:,} rows loaded, {rate:,.0f} rows/s checked and loaded")
    heading = f"query (median of {REPEATS})"
    print(f"\n{heading:34} {'file ms':>8} {'lake ms':>8} {'lake ÷ file':>12}")
    for name in file["queries"]:
        a, b = file["queries"][name]["median_s"], lake["queries"][name]["median_s"]
        print(f"{name:34} {a * 1000:8.1f} {b * 1000:8.1f} {b / a:12.2f}")


if __name__ == "__main__":
    main()
