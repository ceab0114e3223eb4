"""SQL in configuration names never reaches the warehouse.

Every command that builds SQL from `sources.yml` refuses it in one line, and the warehouse is
left exactly as it was.
"""

from __future__ import annotations

import pytest

from tests.conftest import MIANYANG
from tests.helpers import fingerprint

INJECTION = 'year" ; drop table raw.energy__gdp; --'

VARIANTS = {
    "column": lambda text: text.replace("          year: {from: 年份, type: integer",
                                        f"          '{INJECTION}': {{from: 年份, type: integer", 1),
    "dataset": lambda text: text.replace("      forest_resources:", f"      '{INJECTION}':", 1),
    "table": lambda text: text.replace("      forest_resources:\n",
                                       f"      forest_resources:\n        table: '{INJECTION}'\n", 1),
}
COMMANDS = [["ingest", "forestry"], ["quarantine", "replay"], ["quality", "docs"], ["docs"]]


@pytest.fixture
def hostile_city(tmp_path, warehouse_copy, monkeypatch):
    def make(variant: str):
        folder = tmp_path / variant
        folder.mkdir()
        text = (MIANYANG / "sources.yml").read_text(encoding="utf-8")
        hostile = VARIANTS[variant](text)
        assert hostile != text
        (folder / "sources.yml").write_text(hostile, encoding="utf-8")
        for name in ("city.yml", "kpis.yml", "alerts.yml"):
            (folder / name).write_text((MIANYANG / name).read_text(encoding="utf-8"), encoding="utf-8")
        monkeypatch.setenv("CARBONPEAK_CONFIG_DIR", str(folder))
        return folder
    monkeypatch.setenv("CARBONPEAK_WAREHOUSE", str(warehouse_copy))
    return make


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_command_refuses_sql_in_names_and_leaves_the_warehouse(
        prefect_harness, hostile_city, warehouse_copy, tmp_path, capfd, variant):
    from cli.main import main

    before = fingerprint(warehouse_copy)
    folder = hostile_city(variant)
    for command in COMMANDS:
        out = ["--out", str(tmp_path / "out" / command[0])] if command[-1] in ("docs",) else []
        assert main([*command, *out]) == 1, command
        err = capfd.readouterr().err
        lines = [line for line in err.splitlines() if line.startswith("carbonpeak:")]
        assert len(lines) == 1, (command, err)
        assert "is not an identifier" in lines[0] and str(folder / "sources.yml") in lines[0], command
    assert fingerprint(warehouse_copy) == before


def test_the_refusal_is_one_line_without_a_traceback(hostile_city, warehouse_copy):
    import os
    import subprocess

    from tests.flows.test_cli import BIN

    folder = hostile_city("column")
    before = fingerprint(warehouse_copy)
    done = subprocess.run([str(BIN / "carbonpeak"), "quarantine", "replay"], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PREFECT_HOME": str(folder)})
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    lines = [line for line in done.stderr.splitlines() if line.startswith("carbonpeak:")]
    assert len(lines) == 1 and "is not an identifier" in lines[0]
    assert fingerprint(warehouse_copy) == before


def test_a_name_that_slipped_through_stays_a_name(tmp_path):
    # defence in depth: the loader quotes every name from sources.yml as DuckDB does
    from warehouse.db import connect, quote_ident

    con = connect(tmp_path / "w.duckdb")
    con.execute("create schema raw")
    con.execute("create table raw.energy__gdp as select 1 as year")
    con.execute(f"create table raw.{quote_ident(INJECTION)} ({quote_ident(INJECTION)} integer)")
    names = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
    con.close()
    assert names == {"energy__gdp", INJECTION}
