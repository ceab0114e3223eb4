"""The `carbonpeak` command as a user meets it: help, errors, the main job, the DuckDB CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flows.cli import build_parser, main

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
    assert main(["ingest", "forestry"]) == 1
    assert "unknown department `forestry`; known: energy" in capsys.readouterr().err


def run_cli(*args, env, timeout=300):
    return subprocess.run([str(BIN / "carbonpeak"), *args], env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_main_job_end_to_end_then_sql_and_the_duckdb_cli(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARBONPEAK_")}
    env["CARBONPEAK_WAREHOUSE"] = str(tmp_path / "warehouse.duckdb")
    env["PREFECT_HOME"] = str(tmp_path / "prefect")

    done = run_cli("run", env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "embedded departmental source on http://127.0.0.1:" in done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("KPI 指标")
    assert any("清洁能源电力总装机容量" in l and "achieved 已实现" in l for l in lines)
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
