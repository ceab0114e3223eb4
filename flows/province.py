"""The `build-province` flow: every city's KPIs of the lake side by side, the additive ones added up."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger

from flows.settings import Settings
from flows.writing import writing
from warehouse.lake import require_lake
from warehouse.province import build_province, connect_province, read_province


@flow(name="build-province")
def build_province_flow(province_file: str | None = None) -> dict:
    """Build the province's namespace of the lake from its cities' (see warehouse/province.py)."""
    settings = Settings.from_env()
    require_lake(settings.warehouse, "the province's builds")
    province = read_province(Path(province_file) if province_file else settings.province_file)
    with writing("build-province", scope="province"):
        con = connect_province(settings.warehouse, province)
        try:
            built = build_province(con, province)
        finally:
            con.close()
    get_run_logger().info("province %s: %d cities, %d checkpoint rows, %d marts, %d roll-up rows",
                          province.name_zh, built.cities, built.status_rows, built.marts, built.rollup_rows)
    return {"cities": built.cities, "status_rows": built.status_rows, "marts": built.marts,
            "rollup_rows": built.rollup_rows}
