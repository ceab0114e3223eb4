"""Benchmark (issue 13): today's readings pulled as paged JSON, natively loaded.

The source server runs in a process of its own (1,000 buildings, `now` 23:45: ~960,000 readings
in ~96 pages of 10,000), built and warmed up before any step is timed. Each step runs in a fresh
process, so each peak RSS (VmHWM) is its own:

* `limit sequential` / `limit 8 threads`   a plain `requests` pull of the same pages, bytes only
                                           (no parsing, nothing written): one session in order,
                                           or 8 threads with a session each;
* `limit … .json()`                        the same pull decoding each page with
                                           `response.json()`, as a requests user gets records
                                           (the issue's "plain requests pull"; both are shown);
* `carbonpeak`                             what the ingest flow does: fetch_json_day (8 threads,
                                           NDJSON on disk) → stage_day_files (read_json into raw)
                                           → check_staged (GX) → load_batches, each phase timed;
* `carbonpeak rerun (304)`                 the same again on that warehouse: page 1 answers 304;

then the limits and carbonpeak again with 100 ms of latency on every page (the server's
`delay_seconds` fault with `delay_next: 0`). Prints the table with the issue's targets and writes
`bench/results/meters_json.json`. Not a test: it asserts nothing about time.

    .venv/bin/python bench/bench_meters_json.py [--buildings 1000] [--now 23:45]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
DAY = dt.date(2026, 3, 10)
PAGE_SIZE = 10_000
LATENCY_S = 0.1
TARGET_ROWS_PER_S = 300_000
TARGET_LIMIT_SHARE = 0.8
# (name, threads, "json" to decode every page or "bytes" not to)
LIMITS = (("limit sequential", "1", "bytes"), ("limit 8 threads", "8", "bytes"),
          ("limit 8 threads .json()", "8", "json"))
TARGET_LATENCY_ROWS_PER_S = 200_000

SERVER = """
import datetime as dt, sys
sys.path.insert(0, sys.argv[1])
from source_server.meters_feed import MetersFeed
from source_server.server import SourceServer
day, buildings, now = dt.date.fromisoformat(sys.argv[2]), int(sys.argv[3]), dt.time.fromisoformat(sys.argv[4])
server = SourceServer(meters=MetersFeed(buildings=buildings, start=day, as_of=day, now=now))
server.meters.today()  # encoded before anything is timed
print("READY", server.url, server.token, flush=True)
server.serve_forever()
"""

# Every child gets argv[1] the server's URL, argv[2] its token, argv[3] the pages, argv[4] a work
# folder, argv[5] the repo root; it fills `result` and the footer adds its peak RSS (VmHWM: Linux
# carries ru_maxrss over exec, so a child would report at least its parent's).
FOOTER = """
status = open("/proc/self/status").read().split("VmHWM:")[1]
print("RESULT", json.dumps({**result, "peak_rss_mib": int(status.split()[0]) / 1024}))
"""

LIMIT = """
import json, sys, threading, time
from concurrent.futures import ThreadPoolExecutor
import requests
url, token, pages, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[6])
page_size, decode = int(sys.argv[7]), sys.argv[8] == "json"
path = url + "/api/v1/buildings/meter_readings_today"
local = threading.local()
def get(page):
    session = getattr(local, "session", None)
    if session is None:
        session = local.session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
    response = session.get(path, params={"page": page, "page_size": page_size}, timeout=60)
    response.raise_for_status()
    if decode:  # the records as Python objects, nothing more done with them
        response.json()
    return len(response.content)
t0 = time.perf_counter()
if threads == 1:
    size = sum(get(page) for page in range(1, pages + 1))
else:
    with ThreadPoolExecutor(threads) as pool:
        size = sum(pool.map(get, range(1, pages + 1)))
result = {"seconds": time.perf_counter() - t0, "bytes": size, "pages": pages}
"""

CARBONPEAK = """
import dataclasses, datetime as dt, json, logging, sys, time
from pathlib import Path
url, token, work, root = sys.argv[1], sys.argv[2], Path(sys.argv[4]), Path(sys.argv[5])
sys.path.insert(0, str(root))
import pandas as pd
from connectors.fetch import retry_policy
from connectors.json_pages import fetch_json_day
from connectors.spec import load_city, load_sources
from expectations.gate import Batch, check_staged
from warehouse.db import connect
from warehouse.load import load_batches
from warehouse.models import ensure_declared_sources
from warehouse.native import stage_day_files
from warehouse.state import read_source_states, states_of
import great_expectations  # noqa: F401 - before the clock, as in bench_meters.py: start-up, not the pull
logging.disable(logging.WARNING)
department = load_sources(root / "config/mianyang/sources.yml").department("buildings")
spec = next(s for s in department.datasets if s.name == "meter_readings_today")
city = load_city(root / "config/mianyang/city.yml")
policy = dataclasses.replace(retry_policy(department), timeout_read_s=60)
from bench.phases import Phases
phase = Phases()
con = connect(work / "warehouse.duckdb")
ensure_declared_sources(con, root / "dbt_like_sql")
states = states_of(read_source_states(con), spec.table_name)
phase("open")
fetched = fetch_json_day(spec, url, token, policy, states, work / "downloads")
phase("fetch (8 threads → NDJSON)")
if fetched.files:
    staged = stage_day_files(con, fetched)
    phase("stage (read_json into raw)")
    batch = check_staged(staged, con, params=city, as_of=fetched.files[0].day)
    phase("check (GX)")
else:  # 304: what flows/ingest.py hands the load
    batch = Batch(fetched.dataset, fetched.provenance, pd.DataFrame())
(loaded,) = load_batches(con, [batch])
phase("load (commit)")
con.close()
phase("close")
fetched.remove_downloads()
result = {"rows": loaded.rows_in if fetched.files else 0, "seconds": phase.total,
          "phases": phase.seconds, "status": loaded.status, "pages": fetched.provenance.pages,
          "ndjson_bytes": sum(f.size for f in fetched.files),
          "accounting": {"rows_in": loaded.rows_in, "loaded": loaded.rows_loaded,
                         "quarantined": loaded.rows_quarantined, "duplicate": loaded.rows_duplicate,
                         "rejected": loaded.rows_rejected, "unchanged": loaded.rows_unchanged}}
"""


def run_step(code: str, server: dict, work: Path, *extra: str) -> dict:
    """One step in a fresh process: its own timing (not its start-up) and peak RSS."""
    work.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([sys.executable, "-c", "import json\n" + code + FOOTER, server["url"],
                           server["token"], str(server["pages"]), str(work), str(ROOT), *extra],
                          capture_output=True, text=True, cwd=work)
    _, found, answer = done.stdout.rpartition("RESULT ")
    if done.returncode or not found:
        raise RuntimeError(f"step failed:\n{done.stderr[-3000:]}{done.stdout[-1000:]}")
    return json.loads(answer.strip())


def start_server(buildings: int, now: str) -> tuple[subprocess.Popen, dict]:
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", SERVER, str(ROOT), DAY.isoformat(),
                                str(buildings), now], stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    if not line.startswith("READY"):
        process.kill()
        raise RuntimeError(f"the source server did not start: {line!r}")
    _, url, token = line.split()
    first = requests.get(url + "/api/v1/buildings/meter_readings_today",
                         params={"page_size": PAGE_SIZE}, timeout=60,
                         headers={"Authorization": f"Bearer {token}"}).json()
    info = {"url": url, "token": token, "pid": process.pid, "pages": first["pages"],
            "rows": first["total"], "build_seconds": time.perf_counter() - started}
    return process, info


def set_latency(server: dict, seconds: float) -> None:
    body = {"delay_seconds": seconds, "delay_next": 0} if seconds else {}
    response = requests.post(server["url"] + "/_faults", json=body, timeout=10,
                             headers={"Authorization": f"Bearer {server['token']}"})
    response.raise_for_status()


def server_rss_mib(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text().split("VmHWM:")[1]
    return int(status.split()[0]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--buildings", type=int, default=1000)
    parser.add_argument("--now", default="23:45")
    args = parser.parse_args()
    process, server = start_server(args.buildings, args.now)
    rows = server["rows"]
    print(f"server: {rows:,} rows in {server['pages']} pages, built in {server['build_seconds']:.1f} s")
    steps: dict[str, dict] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-meters-json-") as tmp:
            work = Path(tmp)
            for latency in (0.0, LATENCY_S):
                set_latency(server, latency)
                suffix = f", {latency * 1000:.0f} ms/page" if latency else ""
                for name, threads, decode in LIMITS:
                    step = run_step(LIMIT, server, work / f"{name}{suffix}", threads, str(PAGE_SIZE),
                                    decode)
                    steps[name + suffix] = {**step, "rows": rows}
                    print(f"  {name + suffix}: {step['seconds']:.2f} s", flush=True)
                step = run_step(CARBONPEAK, server, work / f"carbonpeak{suffix}")
                steps["carbonpeak" + suffix] = step
                print(f"  carbonpeak{suffix}: {step['seconds']:.2f} s", flush=True)
                if not latency:
                    rerun = run_step(CARBONPEAK, server, work / "carbonpeak")
                    steps["carbonpeak rerun (304)"] = rerun
                    print(f"  carbonpeak rerun (304): {rerun['seconds']:.2f} s", flush=True)
        server["peak_rss_mib"] = server_rss_mib(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=10)
    for step in steps.values():
        step["rows_per_s"] = step["rows"] / step["seconds"] if step["rows"] else 0
    for suffix in ("", f", {LATENCY_S * 1000:.0f} ms/page"):
        ours, limit = steps["carbonpeak" + suffix], steps["limit 8 threads" + suffix]
        ours["to_limit_8_threads"] = ours["rows_per_s"] / limit["rows_per_s"]
        ours["to_limit_sequential"] = ours["rows_per_s"] / steps["limit sequential" + suffix]["rows_per_s"]
        ours["to_limit_json_8_threads"] = (ours["rows_per_s"]
                                           / steps["limit 8 threads .json()" + suffix]["rows_per_s"])
        ours["targets"] = ({f"≥ {TARGET_LATENCY_ROWS_PER_S:,} rows/s": ours["rows_per_s"]
                            >= TARGET_LATENCY_ROWS_PER_S} if suffix else {
            f"≥ {TARGET_ROWS_PER_S:,} rows/s": ours["rows_per_s"] >= TARGET_ROWS_PER_S,
            f"≥ {TARGET_LIMIT_SHARE} × plain pull, bytes only (8 threads)": ours["to_limit_8_threads"]
            >= TARGET_LIMIT_SHARE,
            f"≥ {TARGET_LIMIT_SHARE} × plain pull with .json() (8 threads)":
            ours["to_limit_json_8_threads"] >= TARGET_LIMIT_SHARE})
    print_table(steps, server)
    out = ROOT / "bench" / "results" / "meters_json.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "date": dt.date.today().isoformat(),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "load_average_1_5_15": os.getloadavg()},
        "duckdb": version("duckdb"), "requests": version("requests"),
        "buildings": args.buildings, "now": args.now, "page_size": PAGE_SIZE, "rows": rows,
        "server": {k: v for k, v in server.items() if k not in ("token", "url", "pid")},
        "steps": steps}, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")


def print_table(steps: dict[str, dict], server: dict) -> None:
    print(f"\n{'step':<34} {'rows':>9} {'s':>7} {'rows/s':>9} {'MB/s':>6} {'RSS MiB':>8}  vs limit")
    for name, step in steps.items():
        size = step.get("bytes") or step.get("ndjson_bytes") or 0
        share = step.get("to_limit_8_threads")
        print(f"{name:<34} {step['rows']:>9,} {step['seconds']:>7.2f} {step['rows_per_s']:>9,.0f} "
              f"{size / 2**20 / step['seconds']:>6.0f} {step['peak_rss_mib']:>8.0f}  "
              + (f"{share:.2f} × 8 threads, {step['to_limit_sequential']:.2f} × sequential, "
                 f"{step['to_limit_json_8_threads']:.2f} × 8 threads .json()" if share else ""))
        for phase, seconds in step.get("phases", {}).items():
            print(f"    {phase:<30} {seconds:>16.2f}")
        for target, met in step.get("targets", {}).items():
            print(f"    target {target}: {'met' if met else 'NOT met'}")
    print("load average (1, 5, 15 min) at the end: " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    print(f"source server (its own process): peak RSS {server['peak_rss_mib']:.0f} MiB, "
          f"encoded the day in {server['build_seconds']:.1f} s (not timed)")


if __name__ == "__main__":
    main()
