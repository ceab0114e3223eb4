"""The contract both ways: a column the suite checks but the map does not fill is a config error.

Raised before anything is downloaded, never a GX or DuckDB binder error later.
"""

from __future__ import annotations

import pytest

from core.errors import ConfigError
from tests.conftest import MIANYANG


def test_a_suite_column_the_map_does_not_fill_is_refused_before_any_download(tmp_path, monkeypatch):
    from prefect.logging import disable_run_logger

    from flows.ingest import ingest_department

    text = (MIANYANG / "sources.yml").read_text(encoding="utf-8")
    line = ('          land_area_ha: {from: 土地面积, type: double, unit: 公顷, '
            'description: "Land area, ha"}\n')
    assert text.count(line) >= 1
    start = text.index("  forestry:")
    text = text[:start] + text[start:].replace(line, "", 1)  # forestry no longer maps its land area
    (tmp_path / "sources.yml").write_text(text, encoding="utf-8")
    for name in ("city.yml", "kpis.yml"):
        (tmp_path / name).write_text((MIANYANG / name).read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("CARBONPEAK_CONFIG_DIR", str(tmp_path))
    monkeypatch.setenv("CARBONPEAK_WAREHOUSE", str(tmp_path / "w.duckdb"))
    monkeypatch.setenv("CARBONPEAK_FORESTRY_URL", "http://127.0.0.1:9")  # nothing listens: not asked

    with disable_run_logger(), pytest.raises(ConfigError) as err:
        ingest_department("forestry")
    message = str(err.value)
    assert err.value.source == "forestry.forest_resources" and err.value.key == "columns.land_area_ha"
    assert "`expectations/forestry__forest_resources.json` checks `land_area_ha`" in message
    assert "map it with `from: <published header>`" in message and "`expr:`" in message
    assert "connection" not in message  # refused before the source was asked
