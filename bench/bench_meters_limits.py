"""Benchmark (issue 13): one day of 15-minute meter readings, today's file path against the limits.

Side by side in one run, each step in its own process so each peak RSS is its own:

* `duckdb read_csv`     the limit for a CSV file: DuckDB's reader into a table (no checks);
* `duckdb read_parquet` the same for the Parquet file;
* `carbonpeak csv path` what a CSV dataset goes through today (connectors/files.parse_file: the
                        file read into Python rows, parsed and cast in pandas), without
                        validation and load, so it is a floor of today's cost.

Prints rows/s, the ratio to DuckDB's read_csv, and peak RSS, and writes them to
`bench/results/meters_limits.json`. Not a test: it asserts nothing about time.

    .venv/bin/python bench/bench_meters_limits.py [buildings, default 1000 (~1 M rows)]
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DAY = dt.date(2025, 3, 3)

STEPS = {
    "duckdb read_csv": """
import duckdb, sys
import time
con = duckdb.connect()
t0 = time.perf_counter()
con.execute(f"create table t as select * from read_csv('{sys.argv[1]}')")
print(con.execute("select count(*) from t").fetchone()[0], time.perf_counter() - t0)
""",
    "duckdb read_parquet": """
import duckdb, sys
import time
con = duckdb.connect()
t0 = time.perf_counter()
con.execute(f"create table t as select * from read_parquet('{sys.argv[2]}')")
print(con.execute("select count(*) from t").fetchone()[0], time.perf_counter() - t0)
""",
    "carbonpeak csv path": """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from connectors.files import parse_file
from connectors.result import Provenance
from connectors.spec import ColumnSpec, DatasetSpec, TabularSpec
spec = DatasetSpec(
    name="readings", department="meters", format="csv", path="/files/meters.csv",
    primary_key=("meter_id", "ts"), tabular=TabularSpec(encoding="utf-8", header_rows=(1,)),
    columns=(ColumnSpec("building_id", "building_id", "varchar"),
             ColumnSpec("meter_id", "meter_id", "varchar"), ColumnSpec("ts", "ts", "varchar"),
             ColumnSpec("reading", "reading", "double"), ColumnSpec("unit", "unit", "varchar")))
import time
t0 = time.perf_counter()
payload = Path(sys.argv[1]).read_bytes()
import datetime as dt
now = dt.datetime.now(dt.UTC)
result = parse_file(spec, payload, Provenance("meters.readings", sys.argv[1], now, "", 1, 0))
print(len(result.frame), time.perf_counter() - t0)
""",
}
# peak RSS of the child, printed after its answer: VmHWM, not ru_maxrss (Linux carries ru_maxrss
# over exec, so a child would report at least its parent's peak)
RSS = "\nprint(open('/proc/self/status').read().split('VmHWM:')[1].split()[0])\n"


def run_step(code: str, csv: Path, parquet: Path) -> tuple[int, float, float]:
    """Rows, seconds of the work alone (the child times it, not its start-up), peak RSS in MiB."""
    done = subprocess.run([sys.executable, "-c", code + RSS, str(csv), str(parquet), str(ROOT)],
                          capture_output=True, text=True, check=True)
    rows, seconds, rss_kib = done.stdout.split()[-3:]
    return int(rows), float(seconds), int(rss_kib) / 1024


def main(buildings: int) -> None:
    sys.path.insert(0, str(ROOT))
    from source_server.meters_data import write_day_files

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        csv, parquet = write_day_files(DAY, Path(tmp), buildings=buildings)
        print(f"generated {DAY} for {buildings:,} buildings in {time.perf_counter() - started:.1f} s: "
              f"{csv.stat().st_size / 2**20:,.0f} MiB CSV, {parquet.stat().st_size / 2**20:,.1f} MiB Parquet")
        results = {}
        for name, code in STEPS.items():
            rows, seconds, rss = run_step(code, csv, parquet)
            results[name] = {"rows": rows, "seconds": round(seconds, 3),
                             "rows_per_s": round(rows / seconds), "peak_rss_mib": round(rss)}
    limit = results["duckdb read_csv"]["rows_per_s"]
    for name, r in results.items():
        print(f"{name:22} {r['rows']:>11,} rows  {r['seconds']:7.2f} s  {r['rows_per_s']:>11,} rows/s  "
              f"{r['rows_per_s'] / limit:6.3f} × read_csv  peak RSS {r['peak_rss_mib']:,} MiB")
    out = ROOT / "bench" / "results" / "meters_limits.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"date": dt.date.today().isoformat(), "machine": platform.platform(),
                               "buildings": buildings, "steps": results}, indent=2), encoding="utf-8")
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
