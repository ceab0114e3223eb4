"""The `carbonpeak` command as a user meets it: help, errors, the main job, the DuckDB CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import build_parser, main
from tests.helpers import fingerprint

BIN = Path(sys.executable).parent


def all_parsers(parser=None, path=()):
    parser = parser or build_parser()
    yield path, parser
    for action in parser._actions:
        if action.__class__.__name__ == "_SubParsersAction":
            for name, sub in action.choices.items():
                yield from all_parsers(sub, (*path, name))


@pytest.mark.parametrize("path, parser", list(all_parsers()), ids=lambda v: " ".join(v) if
                         isinstance(v, tuple) else None)
def test_every_command_help_has_an_example(path, parser):
    text = parser.format_help()
    assert "Examples:" in text and "carbonpeak" in text.split("Examples:")[1], path


def test_sql_error_is_one_line_and_nonzero(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CARBONPEAK_WAREHOUSE", str(tmp_path / "w.duckdb"))
    assert main(["sql", "select 1"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist yet; run `carbonpeak run` first" in err

    import duckdb
    duckdb.connect(str(tmp_path / "w.duckdb")).close()
    assert main(["sql", "select * from nowhere"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("carbonpeak: SQL error: Catalog Error") and err.count("\n") == 1


def test_unknown_department_is_a_clear_error(capsys):
    assert main(["ingest", "nuclear"]) == 1
    err = capsys.readouterr().err
    assert "unknown department `nuclear`; known: energy, forestry, waste, transport" in err


def run_cli(*args, env, timeout=300):
    return subprocess.run([str(BIN / "carbonpeak"), *args], env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_main_job_end_to_end_then_sql_the_duckdb_cli_and_a_dying_source(tmp_path, source_server,
                                                                       mianyang_sources):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARBONPEAK_")}
    env["CARBONPEAK_WAREHOUSE"] = str(tmp_path / "warehouse.duckdb")
    env["PREFECT_HOME"] = str(tmp_path / "prefect")

    done = run_cli("run", env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "embedded departmental source on http://127.0.0.1:" in done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("KPI 指标")
    assert any("清洁能源电力总装机容量" in line and "achieved 已实现" in line for line in lines)
    assert "41 checkpoint(s) shown" in done.stdout

    answer = run_cli("sql", "select count(*) as n, count(status_reason) as reasons from kpi.kpi_status",
                     "--csv", env=env)
    assert answer.returncode == 0 and answer.stdout.splitlines() == ["n,reasons", "41,41"]

    # The DuckDB command-line client can open the same file read-only once no flow runs.
    duck = subprocess.run([str(BIN / "duckdb"), "-readonly", "-csv", env["CARBONPEAK_WAREHOUSE"],
                           "select status from kpi.kpi_status where kpi_id = 'raw_coal_consumption'"],
                          capture_output=True, text=True, timeout=60)
    assert duck.returncode == 0, duck.stderr
    assert duck.stdout.split() == ["status", "off_track"]

    # A rerun against a source that dies mid-run: one clear error, the warehouse untouched.
    before = fingerprint(Path(env["CARBONPEAK_WAREHOUSE"]))
    source_server.set_faults(stop_after=3)
    env.update(CARBONPEAK_HTTP_MAX_ATTEMPTS="2", CARBONPEAK_HTTP_BACKOFF_S="0.05")
    for department in mianyang_sources.departments:
        env[department.url_env] = source_server.url
        env[department.token_env] = source_server.token
    failed = run_cli("run", env=env)
    assert failed.returncode == 1
    assert "Traceback" not in failed.stderr + failed.stdout
    last = failed.stderr.strip().splitlines()[-1]
    if "Stopping temporary server" in last:  # Prefect's own goodbye may come last
        last = failed.stderr.strip().splitlines()[-2]
    assert last.startswith("carbonpeak: run failed: every department failed; no data was loaded: "
                           "source `energy.")
    assert "connection" in last and source_server.url in last
    after = fingerprint(Path(env["CARBONPEAK_WAREHOUSE"]))
    # nothing was loaded: the failure is recorded (stale KPIs) and alerted, nothing else moves
    assert {t for t in before if before[t] != after[t]} <= {"meta.source_health", "meta.alert_state",
                                                            "meta.alerts"}
    assert before["meta.source_health"] != after["meta.source_health"]
    assert source_server.token not in failed.stderr + failed.stdout


def test_kpi_status_filters_and_explains_an_unbuilt_warehouse(tmp_path, monkeypatch, capsys,
                                                               warehouse_copy):
    warehouse = tmp_path / "empty.duckdb"
    monkeypatch.setenv("CARBONPEAK_WAREHOUSE", str(warehouse))
    import duckdb
    duckdb.connect(str(warehouse)).close()
    assert main(["kpi", "status"]) == 1
    assert "`kpi.kpi_status` does not exist yet" in capsys.readouterr().err

    monkeypatch.setenv("CARBONPEAK_WAREHOUSE", str(warehouse_copy))
    con = duckdb.connect(str(warehouse_copy), read_only=True)
    off_track = con.sql("select count(*) from kpi.kpi_status where status = 'off_track'").fetchone()[0]
    con.close()
    assert main(["kpi", "status", "--status", "off_track"]) == 0
    out = capsys.readouterr().out
    assert "原煤消费量 raw coal consumption" in out and "工业危险废物综合利用率" in out
    assert off_track >= 10 and f"{off_track} checkpoint(s) shown" in out
    assert main(["kpi", "status"]) == 0
    assert "41 checkpoint(s) shown" in capsys.readouterr().out


def test_busy_port_is_a_clear_error(source_server, capsys):
    port = int(source_server.url.rsplit(":", 1)[1])
    assert main(["source", "serve", "--port", str(port)]) == 1
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err
