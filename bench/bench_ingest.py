"""Benchmark: a large paginated JSON dataset through connector → GX (inside DuckDB) → DuckDB load.

Prints throughput and peak memory per stage, and ratios against the baseline figures of this
machine kind (shared/notes/baseline.md). The source server runs in this process and competes
for the GIL, so fetch figures are a floor. One row in ten is broken on purpose, to measure the
quarantine path too. Not a test: it asserts nothing about time.

    .venv/bin/python bench/bench_ingest.py [rows, default 200000]
"""

from __future__ import annotations

import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connectors.json_api import fetch_json_api  # noqa: E402
from connectors.spec import ColumnSpec, DatasetSpec, PaginationSpec  # noqa: E402
from expectations.gate import check_batch  # noqa: E402
from source_server.server import SourceServer  # noqa: E402
from warehouse.db import connect  # noqa: E402
from warehouse.load import load_batches  # noqa: E402

BASELINE_REQUESTS_ROWS_S = 374_000  # requests, one Session, pages in order -> DataFrame
BASELINE_GX_PANDAS_ROWS_S = 263_000  # GX on pandas, 10 expectations
BASELINE_GX_DUCKDB_ROWS_S = 3_460_000  # GX SQL data source on DuckDB with the fix, 10 checks, 10 M
COUNTIES = ["涪城区", "游仙区", "安州区", "江油市", "三台县", "盐亭县", "梓潼县", "北川羌族自治县", "平武县"]

SPEC = DatasetSpec(
    name="readings", department="bench", format="json_api", path="/api/v1/energy/energy_balance",
    primary_key=("meter_id",), pagination=PaginationSpec(page_size=1000),
    columns=(ColumnSpec("meter_id", "meter_id", "integer"), ColumnSpec("county", "county", "varchar"),
             ColumnSpec("year", "year", "integer"), ColumnSpec("is_public", "is_public", "boolean"),
             ColumnSpec("energy_tce", "energy_10k_tce", "double", "万吨标准煤")))
SUITE = {"name": "bench__readings", "expectations": [
    {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}},
    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "meter_id"}},
    {"type": "unexpected_rows_expectation", "kwargs": {
        "description": "unique key (meter_id)",
        "unexpected_rows_query": "select * from {batch} qualify count(*) over (partition by meter_id) > 1"}},
    {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "county", "value_set": COUNTIES}},
    {"type": "expect_column_values_to_be_between", "kwargs": {"column": "year", "min_value": 2005,
                                                              "max_value": 2025}},
    {"type": "expect_column_values_to_be_between", "kwargs": {"column": "energy_tce", "min_value": 0}},
]}


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_records(n: int) -> list[dict]:
    rng = random.Random(42)
    return [{"meter_id": i, "county": COUNTIES[i % 9], "year": 2005 + i % 21, "is_public": i % 3 == 0,
             "energy_10k_tce": rng.uniform(0, 3) if i % 10 else -1.0} for i in range(n)]


def report(stage: str, seconds: float, rows: int, baseline: tuple[str, int] | None = None) -> None:
    line = f"{stage:<14}: {seconds:6.2f} s {rows / seconds:>10,.0f} rows/s"
    if baseline:
        line += f"  ({baseline[0]} {baseline[1]:,} rows/s: ratio {rows / seconds / baseline[1]:.2f})"
    print(line + f"  peak RSS {peak_rss_mib():,.0f} MiB")


def main(rows: int) -> None:
    server = SourceServer().start()
    server._pages["energy"]["energy_balance"] = make_records(rows)  # the big feed to measure
    print(f"{rows:,} records in pages of 1,000 from {server.url}; one in ten out of range")
    with tempfile.TemporaryDirectory() as tmp:
        suites = Path(tmp)
        (suites / "bench__readings.json").write_text(json.dumps(SUITE), encoding="utf-8")

        t = time.perf_counter()
        fetched = fetch_json_api(SPEC, server.url, server.token)
        server.stop()
        report("fetch + parse", time.perf_counter() - t, rows,
               ("requests→DataFrame", BASELINE_REQUESTS_ROWS_S))

        con = connect(Path(tmp) / "bench.duckdb")
        t = time.perf_counter()
        import great_expectations  # noqa: F401  (a one-off ~2.5 s per process, not per batch)
        print(f"{'import GX':<14}: {time.perf_counter() - t:6.2f} s (once per process)")
        t = time.perf_counter()
        batch = check_batch(fetched, con, suites)  # staged in DuckDB, validated there by GX
        seconds = time.perf_counter() - t
        report("GX validate", seconds, rows, ("GX in DuckDB", BASELINE_GX_DUCKDB_ROWS_S))
        print(f"{'':<14}  (vs GX on pandas {BASELINE_GX_PANDAS_ROWS_S:,} rows/s: ratio "
              f"{rows / seconds / BASELINE_GX_PANDAS_ROWS_S:.2f}; includes staging the batch and "
              "naming every failing row)")

        t = time.perf_counter()
        [first] = load_batches(con, [batch])
        report("DuckDB load", time.perf_counter() - t, rows)
        t = time.perf_counter()
        [again] = load_batches(con, [batch])
        report("rerun (no-op)", time.perf_counter() - t, rows)
        con.close()
    print(f"first load: {first.rows_loaded:,} loaded, {first.rows_quarantined:,} quarantined; "
          f"rerun: {again.rows_loaded:,} loaded, {again.rows_unchanged:,} unchanged")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000)
