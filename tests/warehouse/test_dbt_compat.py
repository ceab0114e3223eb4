"""dbt-core builds and tests dbt_like_sql/ exactly as our runner does (issue 12).

The dbt that `bash bootstrap.sh test` installs in `.venv/dbt` (dbt-core < 1.12 with dbt-duckdb;
kept apart from .venv, whose pins it would move) runs `dbt build` on a copy of the default
warehouse, offline: every model builds, every test our runner ran runs and passes, and the KPI
status comes out the same.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
import yaml

from flows.settings import PROJECT_ROOT
from warehouse.catalogue import read_catalogue
from warehouse.db import connect
from warehouse.kpi_views import export_dbt_project, generated_models
from warehouse.model_tests import KINDS
from warehouse.models import discover

PROJECT = PROJECT_ROOT / "dbt_like_sql"


def find_dbt() -> Path | None:
    """bootstrap.sh's `.venv/dbt/bin/dbt`, else a `dbt` on PATH; only one that has dbt-duckdb."""
    on_path = shutil.which("dbt")
    for dbt in (PROJECT_ROOT / ".venv" / "dbt" / "bin" / "dbt", Path(on_path) if on_path else None):
        if dbt is not None and dbt.exists() and any(
                dbt.resolve().parent.parent.glob("lib/python3*/site-packages/dbt/adapters/duckdb")):
            return dbt
    return None


DBT = find_dbt()
pytestmark = pytest.mark.skipif(DBT is None, reason="dbt-duckdb not found: `bash bootstrap.sh test` "
                                "installs it in .venv/dbt")


def run_dbt(command: str, project: Path, warehouse: Path, work: Path) -> subprocess.CompletedProcess:
    """`dbt <command>` on the project against `warehouse`; profile, target and logs under `work`."""
    profile = {"carbonpeak": {"target": "test", "outputs": {"test": {
        "type": "duckdb", "path": str(warehouse), "threads": 2,
        # as warehouse.db.connect: never download an extension
        "settings": {"autoinstall_known_extensions": False, "autoload_known_extensions": False}}}}}
    (work / "profiles.yml").write_text(yaml.safe_dump(profile), encoding="utf-8")
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_PARTIAL_PARSE": "false",
           "DBT_USE_COLORS": "false"}
    return subprocess.run(
        [str(DBT), command, "--project-dir", str(project), "--profiles-dir", str(work),
         "--target-path", str(work / "target"), "--log-path", str(work / "logs"), "--threads", "2"],
        capture_output=True, text=True, env=env, timeout=600, check=False)


def test_dbt_builds_and_tests_the_project_as_our_runner_does(warehouse_copy, tmp_path):
    con = connect(warehouse_copy)
    status_before = con.execute("select * from kpi.kpi_status order by all").fetchall()
    ours = con.execute("select model, test_type, column_name, severity, status "
                       "from meta.model_test_results").fetchall()
    con.close()
    assert len(ours) > 300 and {r[4] for r in ours} == {"pass"}

    # the KPI views kpis.yml declares are generated; `carbonpeak dbt-project` writes them as files
    generated = generated_models(read_catalogue(PROJECT_ROOT / "config" / "mianyang" / "kpis.yml"))
    project = export_dbt_project(PROJECT, generated, tmp_path / "project")
    # 33 declared views, the series and the year-to-date series, beside peak, age, path, trend, the
    # early warning and status
    assert len(list((project / "kpi").glob("*.sql"))) == 35 + 6
    done = run_dbt("build", project, warehouse_copy, tmp_path)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]

    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text(encoding="utf-8"))
    results = json.loads((tmp_path / "target" / "run_results.json").read_text(encoding="utf-8"))
    nodes = manifest["nodes"]
    status = {r["unique_id"]: r["status"] for r in results["results"]}
    relation = {uid: f"{n['schema']}.{n['name']}" for uid, n in nodes.items()
                if n["resource_type"] == "model"}
    # every model, each in its folder's schema, built
    assert sorted(relation.values()) == sorted(m.relation for m in discover(PROJECT, generated).values())
    assert {uid: status.get(uid) for uid in relation} == dict.fromkeys(relation, "success")
    # every test our runner ran ran under dbt too (same model, kind, column and severity) and passed
    theirs = []
    for uid, node in nodes.items():
        if node["resource_type"] == "test":
            name = node["test_metadata"]["name"]
            theirs.append((relation[node["attached_node"]], KINDS.get(name, name), node["column_name"],
                           node["config"]["severity"].lower(), status.get(uid)))
    assert Counter(theirs) == Counter(ours)

    con = connect(warehouse_copy, read_only=True)
    assert con.execute("select * from kpi.kpi_status order by all").fetchall() == status_before
    con.close()
    # dbt wrote nothing into the project folder
    assert not {"target", "logs", "dbt_packages"} & {p.name for p in project.iterdir()}
