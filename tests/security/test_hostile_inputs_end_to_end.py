"""Each hostile file, dropped where a department delivers, through the real ingest flow.

The department fails with one line naming the file and the reason, recorded in
`meta.source_health`; nothing else in the warehouse moves, and the other department still loads.
"""

from __future__ import annotations

import pytest

from tests.config.test_quirky_city import lanxi_landing, write_forest_csv  # noqa: F401 (fixture)
from tests.connectors.test_hostile_files import write_bomb
from tests.helpers import fingerprint
from warehouse.db import connect

LOGIN_PAGE = "<!DOCTYPE html><html><head><title>统一身份认证 - 登录</title></head><body></body></html>"


def bomb(folder):
    write_bomb(folder / "生活垃圾处理台账2025年13月.xlsx", 1 << 30)


CASES = {
    "zip bomb": ("waste", bomb, "city_management", "possible zip bomb"),
    "corrupt workbook": ("waste",
                         lambda f: (f / "生活垃圾处理台账2025年13月.xlsx").write_bytes(b"PK\x03\x04junk"),
                         "city_management", "not a readable .xlsx file"),
    "huge CSV field": ("forest", lambda f: (f / "岚溪市2026年森林资源统计表.csv").write_bytes(
        ("t\nu\n区县,土地面积\n城关区,\"" + "9" * 200_000 + "\"\n").encode("gb18030")),
        "forestry", "not a readable CSV file"),
    "NUL byte": ("forest", lambda f: (f / "岚溪市2026年森林资源统计表.csv").write_bytes(b"t\nu\n\x00\n"),
                 "forestry", "NUL bytes"),
    "login page": ("forest", lambda f: (f / "岚溪市2026年森林资源统计表.csv").write_text(LOGIN_PAGE),
                   "forestry", "HTML page ('统一身份认证 - 登录')"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_hostile_file_fails_its_department_only(prefect_harness, lanxi_landing, case):  # noqa: F811
    from connectors.spec import load_sources
    from flows.ingest import ingest
    from flows.settings import Settings

    folder_name, plant, department, reason = CASES[case]
    settings = Settings.from_env()
    config = load_sources(settings.sources_file)
    other = next(d for d in config.departments if d.name != department)
    assert ingest(other.name, return_state=True).is_completed()  # the other department loads
    before = fingerprint(lanxi_landing)

    plant(lanxi_landing.parent / folder_name)
    state = ingest(department, return_state=True)
    assert state.is_failed()
    assert reason in state.message and "\n" not in state.message
    assert "Traceback" not in state.message
    after = fingerprint(lanxi_landing)
    assert {t for t in after if after[t] != before.get(t)} == {"meta.source_health"}
    con = connect(lanxi_landing, read_only=True)
    try:
        health = dict(con.execute("select department, any_value(error) from meta.source_health "
                                  "group by department").fetchall())
    finally:
        con.close()
    assert reason in health[department] and health[other.name] is None
