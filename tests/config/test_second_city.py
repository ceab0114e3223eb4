"""A second, fictional city (config/qingshui) loads with no code change.

Other headers, other units, a landing folder, another JSON layout, its own KPI catalogue.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import pytest

from flows.settings import PROJECT_ROOT
from warehouse.db import connect

QINGSHUI = PROJECT_ROOT / "config" / "qingshui"


def write_forestry_csv(folder):
    lines = ["清水市森林资源年度统计",
             "统计年度,县区,国土面积(万亩),有林地面积(万亩),覆盖率(%),活立木蓄积(立方米)"]
    for year in range(2018, 2026):
        for k, (county, land_mu) in enumerate({"东城区": 45.0, "西山县": 135.0, "南河县": 90.0}.items()):
            forest = land_mu * (0.30 + 0.1 * k + 0.01 * (year - 2018))
            lines.append(f"{year},{county},{land_mu},{forest:.2f},{100 * forest / land_mu:.2f},"
                         f"{forest * 40000:.0f}")
        lines.append(f"{year},合计,,,,")
    lines.append("注：示例数据。")
    (folder / "森林资源2025.csv").write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")


def write_power_json(site):
    items = [{"yr": year, "kind": kind, "kind_zh": kind, "kw": kw * (1 + 0.1 * (year - 2018))}
             for year in range(2018, 2026)
             for kind, kw in {"hydro": 600_000, "solar": 150_000, "coal": 900_000}.items()]
    path = site / "api" / "power" / "capacity"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"items": items, "next": None}), encoding="utf-8")
    return items


@pytest.fixture
def static_site(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                               "--directory", str(site)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    for _ in range(100):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    yield site, f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(timeout=10)


def test_second_city_runs_on_configuration_alone(prefect_harness, static_site, tmp_path, monkeypatch):
    from flows.run_all import run_all

    site, url = static_site
    landing = tmp_path / "landing"
    landing.mkdir()
    write_forestry_csv(landing)
    items = write_power_json(site)
    warehouse = tmp_path / "qingshui.duckdb"
    monkeypatch.setenv("CARBONPEAK_CONFIG_DIR", str(QINGSHUI))
    monkeypatch.setenv("CARBONPEAK_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("QINGSHUI_FORESTRY_LANDING", str(landing))
    monkeypatch.setenv("QINGSHUI_POWER_URL", url)
    monkeypatch.setenv("QINGSHUI_POWER_TOKEN", "unused")

    state = run_all(return_state=True)
    assert state.is_completed(), state.message
    rows = {(r["kpi_id"], r["checkpoint_year"]): r for r in state.result()}
    assert set(rows) == {("forest_coverage", 2025), ("clean_power_capacity", 2025)}

    clean_2025_kw = sum(i["kw"] for i in items if i["yr"] == 2025 and i["kind"] in ("hydro", "solar"))
    assert rows[("clean_power_capacity", 2025)]["latest_value"] == pytest.approx(clean_2025_kw / 1e4)
    assert rows[("clean_power_capacity", 2025)]["status"] == "achieved"  # 127.5 万千瓦 ≥ 120
    # 2025 forest: (45·0.37 + 135·0.47 + 90·0.57) / 270 = 48.67 % ≥ 45
    assert rows[("forest_coverage", 2025)]["latest_value"] == pytest.approx(48.67, abs=0.01)
    assert rows[("forest_coverage", 2025)]["status"] == "achieved"

    con = connect(warehouse, read_only=True)
    land_ha = con.execute("select sum(land_area_ha) from raw.forestry__forest_resources "
                          "where year = 2025").fetchone()[0]
    empty = con.execute("select count(*) from raw.energy__balance").fetchone()[0]
    # its own code (city.yml) on its statuses and marts, not Mianyang's
    codes = con.execute("select list(distinct city_code) from (select city_code from kpi.kpi_status "
                        "union all select city_code from marts.mart_power__capacity_yearly "
                        "union all select city_code from marts.mart_forestry__forest_yearly)").fetchone()[0]
    con.close()
    assert codes == ["519901"]
    assert land_ha == pytest.approx(270 * 666.6667, rel=1e-6)  # 万亩 converted to ha
    assert empty == 0  # Mianyang-only datasets exist, empty, so every model still builds


def test_a_city_mapping_an_unknown_column_is_refused_before_anything_moves(tmp_path, monkeypatch):
    from core.errors import ConfigError
    from flows.ingest import ingest_department

    text = (QINGSHUI / "sources.yml").read_text(encoding="utf-8").replace("capacity_mw:", "capacity_gw:")
    (tmp_path / "sources.yml").write_text(text, encoding="utf-8")
    (tmp_path / "city.yml").write_text((QINGSHUI / "city.yml").read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("CARBONPEAK_CONFIG_DIR", str(tmp_path))
    from prefect.logging import disable_run_logger

    with disable_run_logger(), pytest.raises(ConfigError) as err:
        ingest_department("power")
    assert "`raw.energy__power_capacity` has no column `capacity_gw`" in str(err.value)
    assert err.value.key == "columns.capacity_gw"
