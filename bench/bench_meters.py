"""Benchmark (issue 13, performance acceptance): one day file of meter readings, natively loaded.

Side by side in one run, for a CSV and a Parquet day file of the same rows, each step in its own
process so each peak RSS (ru_maxrss) is its own:

* `limit csv` / `limit parquet`   DuckDB's reader into a table of a fresh database *file*
                                  (`create table t as select * from read_csv/read_parquet`);
* `carbonpeak csv` / `… parquet`  what the ingest flow does with a landed day file, into a fresh
                                  warehouse file: landing_day_files → stage_day_files →
                                  check_staged (GX) → load_batches (one transaction), with the
                                  time of each phase and the LoadResult's row accounting;
* `carbonpeak csv rerun`          the same flow again on that warehouse: the day's sha256 equals
                                  the one loaded, so nothing is read;
* `dlt …` (`--with-dlt`)          dlt's fast paths into a duckdb destination file, in a venv of
                                  its own (`.venv-bench-dlt`; dlt is no dependency of carbonpeak):
                                  the filesystem source's `read_csv_duckdb` / `read_parquet`
                                  readers yielding Arrow batches, and Arrow batches read with
                                  pyarrow handed to a resource; both written as Parquet load files.

Prints the table with the acceptance targets and writes `bench/results/meters_native.json`.
Not a test: it asserts nothing about time.

    .venv/bin/python bench/bench_meters.py [--buildings 10000] [--with-dlt]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DLT_VENV = ROOT / ".venv-bench-dlt"
DAY = dt.date(2025, 3, 3)
TARGET_ROWS_PER_S = 1_500_000
TARGET_LIMIT_SHARE = 0.5
TARGET_RSS_MIB = 1536
TARGET_RERUN_SHARE = 0.05

# Every child gets: argv[1] the file, argv[2] a work folder of its own, argv[3] the repo root,
# argv[4] the format; it fills `result` (rows, seconds, …) and the footer adds its peak RSS.
# The peak is VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec, so a child would report
# at least the RSS of this (forking) process, which holds the generated day in memory.
FOOTER = """
import json, resource
status = open("/proc/self/status").read().split("VmHWM:")[1]
rss_kib = max(int(status.split()[0]), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print("RESULT", json.dumps({**result, "peak_rss_mib": rss_kib / 1024}))
"""

LIMIT = """
import sys, time, duckdb
path, work, fmt = sys.argv[1], sys.argv[2], sys.argv[4]
reader = "read_parquet" if fmt == "parquet" else "read_csv"
t0 = time.perf_counter()
con = duckdb.connect(f"{work}/limit.duckdb")
con.execute(f"create table t as select * from {reader}('{path}')")
rows = con.execute("select count(*) from t").fetchone()[0]
con.close()
result = {"rows": rows, "seconds": time.perf_counter() - t0}
"""

# The ingest flow's steps for one landed day file (flows/ingest.py), each phase timed. A rerun
# (argv[5] == "rerun") finds the day unchanged and, like the flow, loads an empty batch.
CARBONPEAK = """
import dataclasses, datetime as dt, logging, sys, time
from pathlib import Path
path, work, root, fmt = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
sys.path.insert(0, str(root))
import pandas as pd
from connectors.day_files import landing_day_files
from connectors.spec import load_city, load_sources
from expectations.gate import Batch, check_staged
from warehouse.db import connect
from warehouse.load import load_batches
from warehouse.models import ensure_declared_sources
from warehouse.native import stage_day_files
from warehouse.state import read_source_states, states_of
import great_expectations  # noqa: F401 - imported before the clock, as dlt is in its steps
logging.disable(logging.WARNING)
department = load_sources(root / "config/mianyang/sources.yml").department("buildings")
spec = next(s for s in department.datasets if s.name == "meter_readings")
spec = dataclasses.replace(spec, format=fmt)
city = load_city(root / "config/mianyang/city.yml")
cap = int(department.max_body_mb * 2**20)
from bench.phases import Phases
if not (work / "warehouse.duckdb").exists():  # the building register, as its dataset loads it
    # before the clock: floor areas for the plausible-load check (kW per m²), which an empty
    # register would skip
    from source_server.meters_data import building_register
    register = pd.DataFrame(building_register(int(sys.argv[7])))
    with connect(work / "warehouse.duckdb") as setup:
        ensure_declared_sources(setup, root / "dbt_like_sql")
        setup.execute("insert into raw.buildings__monitored_buildings (building_id, county_name, "
                      "building_use, floor_area_m2, is_public_institution, monitoring_since, "
                      "_row_hash, _load_id, _load_seq, _source, _loaded_at) select building_id, "
                      "county, use, floor_area_m2, is_public_institution, monitoring_since, "
                      "md5(building_id), 'register', 0, 'buildings.monitored_buildings', now() "
                      "from register")
phase = Phases()
con = connect(work / "warehouse.duckdb")
ensure_declared_sources(con, root / "dbt_like_sql")
states = states_of(read_source_states(con), spec.table_name)
phase("open")
# the department's cap (http.max_body_mb) is lifted here: the bench measures the load
fetched = landing_day_files(spec, path.parent, states, max(cap, path.stat().st_size))
phase("landing (sha256)")
if fetched.files:
    staged = stage_day_files(con, fetched)
    phase("stage (read into raw)")
    batch = check_staged(staged, con, params=city, as_of=dt.date.fromisoformat(sys.argv[6]))
    phase("check (GX)")
else:  # every day is loaded already: what flows/ingest.py hands the load
    batch = Batch(fetched.dataset, fetched.provenance, pd.DataFrame())
(loaded,) = load_batches(con, [batch])
phase("load (commit)")
con.close()
phase("close")
result = {"rows": loaded.rows_in if fetched.files else 0, "seconds": phase.total,
          "phases": phase.seconds, "status": loaded.status, "files_read": len(fetched.files),
          "over_department_cap": path.stat().st_size > cap,
          "accounting": {"rows_in": loaded.rows_in, "loaded": loaded.rows_loaded,
                         "quarantined": loaded.rows_quarantined, "duplicate": loaded.rows_duplicate,
                         "rejected": loaded.rows_rejected, "unchanged": loaded.rows_unchanged}}
"""

# dlt's filesystem source with its DuckDB CSV reader / pyarrow Parquet reader, Arrow batches out.
DLT_FILESYSTEM = """
import sys, time
from pathlib import Path
path, work, fmt = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[4]
import dlt
from dlt.sources.filesystem import filesystem, read_csv_duckdb, read_parquet
t0 = time.perf_counter()
files = filesystem(bucket_url=path.parent.as_uri(), file_glob=path.name)
reader = (read_parquet(chunksize=100_000, use_pyarrow=True) if fmt == "parquet"
          else read_csv_duckdb(chunk_size=100_000, use_pyarrow=True))
pipeline = dlt.pipeline("bench_meters", destination=dlt.destinations.duckdb(str(work / "dlt.duckdb")),
                        dataset_name="raw", pipelines_dir=str(work / "pipelines"))
info = pipeline.run((files | reader).with_name("meter_readings"), loader_file_format="parquet")
info.raise_on_failed_jobs()
seconds = time.perf_counter() - t0
with pipeline.sql_client() as client:
    rows = client.execute_sql("select count(*) from meter_readings")[0][0]
result = {"rows": rows, "seconds": seconds}
"""

# Arrow batches read with pyarrow (streaming CSV reader, Parquet row groups) handed to a resource.
DLT_ARROW = """
import sys, time
from pathlib import Path
path, work, fmt = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[4]
import dlt
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
t0 = time.perf_counter()
@dlt.resource(name="meter_readings")
def readings():
    if fmt == "parquet":
        yield from pq.ParquetFile(path).iter_batches(batch_size=100_000)
    else:
        yield from pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=16 << 20))
pipeline = dlt.pipeline("bench_meters", destination=dlt.destinations.duckdb(str(work / "dlt.duckdb")),
                        dataset_name="raw", pipelines_dir=str(work / "pipelines"))
info = pipeline.run(readings(), loader_file_format="parquet")
info.raise_on_failed_jobs()
seconds = time.perf_counter() - t0
with pipeline.sql_client() as client:
    rows = client.execute_sql("select count(*) from meter_readings")[0][0]
result = {"rows": rows, "seconds": seconds}
"""


def run_step(python: Path | str, code: str, file: Path, work: Path, fmt: str, *extra: str) -> dict:
    """Run one step in a fresh process; its own timing (not its start-up) and peak RSS."""
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "RUNTIME__DLTHUB_TELEMETRY": "false"}  # no phoning home from dlt
    done = subprocess.run([str(python), "-c", code + FOOTER, str(file), str(work), str(ROOT), fmt,
                           *extra], capture_output=True, text=True, env=env, cwd=work)
    if done.returncode:
        raise RuntimeError(f"step failed ({fmt}):\n{done.stderr[-3000:]}")
    # DuckDB's progress bar (\r, no newline) may precede the result on its line
    _, found, answer = done.stdout.rpartition("RESULT ")
    if not found:
        raise RuntimeError(f"step gave no result ({fmt}):\n{done.stdout[-3000:]}")
    result = json.loads(answer.strip())
    print(f"  {fmt} step done: {result['rows']:,} rows in {result['seconds']:.2f} s", flush=True)
    return result


def ensure_dlt_venv(install: bool) -> Path | None:
    """The dlt venv's python, created on request; None (and why, printed) when there is none."""
    python = DLT_VENV / "bin" / "python"
    if python.exists():
        return python
    if not install:
        print("dlt: skipped (no .venv-bench-dlt; pass --with-dlt to create it)")
        return None
    started = time.perf_counter()
    # the project's duckdb version, so dlt's destination writes with the same engine as the limit
    pins = ["dlt[duckdb]", "pyarrow", f"duckdb=={version('duckdb')}"]
    try:
        subprocess.run([sys.executable, "-m", "venv", str(DLT_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *pins], check=True)
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(DLT_VENV, ignore_errors=True)
        print(f"dlt: skipped, it could not be installed ({exc})")
        return None
    print(f"dlt: installed {' '.join(pins)} into .venv-bench-dlt in {time.perf_counter() - started:.0f} s")
    return python


def write_files(tmp: Path, buildings: int) -> dict[str, Path]:
    """The day's CSV and Parquet file, each alone in its folder (a landing folder holds one day)."""
    from source_server.meters_data import day_readings, write_day_files

    readings = day_readings(DAY, buildings)
    return {fmt: write_day_files(DAY, tmp / fmt, buildings, formats=(fmt,), readings=readings)[0]
            for fmt in ("csv", "parquet")}


def run_all(files: dict[str, Path], tmp: Path, dlt_python: Path | None, buildings: int
            ) -> dict[str, dict]:
    steps: dict[str, dict] = {}
    as_of = (DAY + dt.timedelta(days=1)).isoformat()
    for fmt, file in files.items():
        steps[f"limit {fmt}"] = run_step(sys.executable, LIMIT, file, tmp / f"limit-{fmt}", fmt)
        work = tmp / f"carbonpeak-{fmt}"
        steps[f"carbonpeak {fmt}"] = run_step(sys.executable, CARBONPEAK, file, work, fmt, "first", as_of,
                                              str(buildings))
        if fmt == "csv":
            steps["carbonpeak csv rerun"] = run_step(sys.executable, CARBONPEAK, file, work, fmt,
                                                     "rerun", as_of, str(buildings))
        if dlt_python is not None:
            for variant, code in (("filesystem", DLT_FILESYSTEM), ("arrow", DLT_ARROW)):
                steps[f"dlt {fmt} ({variant})"] = run_step(dlt_python, code, file,
                                                           tmp / f"dlt-{variant}-{fmt}", fmt)
        shutil.rmtree(tmp / f"limit-{fmt}", ignore_errors=True)  # keep the disk use to one format
    return steps


def judge(steps: dict[str, dict]) -> None:
    """Add each step's rows/s, its ratio to its format's limit, and the acceptance verdicts."""
    for name, step in steps.items():
        fmt = "parquet" if "parquet" in name else "csv"
        step["rows_per_s"] = step["rows"] / step["seconds"] if step["rows"] else 0
        step["to_limit"] = step["rows_per_s"] / steps[f"limit {fmt}"]["rows_per_s"]
    for fmt in ("csv", "parquet"):
        ours = steps[f"carbonpeak {fmt}"]
        dlt = [s["rows_per_s"] for n, s in steps.items() if n.startswith(f"dlt {fmt}")]
        ours["targets"] = {
            f"≥ {TARGET_ROWS_PER_S / 1e6:.1f} M rows/s": ours["rows_per_s"] >= TARGET_ROWS_PER_S,
            f"≥ {TARGET_LIMIT_SHARE} × limit": ours["to_limit"] >= TARGET_LIMIT_SHARE,
            "faster than dlt": ours["rows_per_s"] > max(dlt) if dlt else None,
            f"peak RSS ≤ {TARGET_RSS_MIB} MiB": ours["peak_rss_mib"] <= TARGET_RSS_MIB,
        }
    rerun = steps["carbonpeak csv rerun"]
    rerun["share_of_first_load"] = rerun["seconds"] / steps["carbonpeak csv"]["seconds"]
    rerun["targets"] = {f"≤ {TARGET_RERUN_SHARE:.0%} of the first load":
                        rerun["share_of_first_load"] <= TARGET_RERUN_SHARE}


def verdicts(step: dict) -> str:
    marks = {True: "ok", False: "MISSED", None: "n/a"}
    return "; ".join(f"{target} {marks[ok]}" for target, ok in step.get("targets", {}).items())


def show(steps: dict[str, dict]) -> None:
    print(f"\n{'step':28} {'rows':>11} {'seconds':>8} {'rows/s':>11} {'× limit':>8} {'peak RSS MiB':>13}"
          "  targets")
    for name, s in steps.items():
        ratio = (f"{s['share_of_first_load']:7.1%}*" if "share_of_first_load" in s
                 else f"{s['to_limit']:8.3f}")
        print(f"{name:28} {s['rows']:>11,} {s['seconds']:>8.2f} {s['rows_per_s']:>11,.0f} {ratio} "
              f"{s['peak_rss_mib']:>13,.0f}  {verdicts(s)}")
    print("* the rerun's share of the first CSV load's time")
    for name, s in steps.items():
        if "phases" in s:
            phases = ", ".join(f"{p} {t:.2f} s" for p, t in s["phases"].items())
            print(f"{name}: {phases}")
            if s["files_read"]:
                print(f"{'':{len(name) + 2}}{s['status']}: " + ", ".join(
                    f"{k} {v:,}" for k, v in s["accounting"].items()))
            if s["over_department_cap"]:
                print(f"{'':{len(name) + 2}}note: the file is over the buildings department's "
                      "`http.max_body_mb` cap; the flow would refuse it unread")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--buildings", type=int, default=10_000,
                        help="buildings in the day file (~960 rows each; default 10000 ≈ 9.6 M rows)")
    parser.add_argument("--with-dlt", action="store_true",
                        help="create .venv-bench-dlt (pip install dlt[duckdb] pyarrow) if missing")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    dlt_python = ensure_dlt_venv(args.with_dlt)
    tmp = Path(tempfile.mkdtemp(prefix="bench_meters_"))
    try:
        started = time.perf_counter()
        files = write_files(tmp, args.buildings)
        print(f"generated {DAY} for {args.buildings:,} buildings in {time.perf_counter() - started:.1f} s: "
              f"{files['csv'].stat().st_size / 2**20:,.0f} MiB CSV, "
              f"{files['parquet'].stat().st_size / 2**20:,.1f} MiB Parquet")
        steps = run_all(files, tmp, dlt_python, args.buildings)
        sizes = {fmt: file.stat().st_size for fmt, file in files.items()}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    judge(steps)
    show(steps)
    out = ROOT / "bench" / "results" / "meters_native.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({
        "date": dt.date.today().isoformat(),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "duckdb": version("duckdb"), "buildings": args.buildings,
        "rows": steps["limit csv"]["rows"], "file_bytes": sizes,
        "steps": steps}, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
