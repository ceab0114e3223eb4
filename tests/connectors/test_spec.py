"""Misconfigurations are reported before any data moves, naming the file, the source and the key."""

from __future__ import annotations

import pytest

from connectors.spec import load_sources
from core.errors import ConfigError

GOOD = """
departments:
  energy:
    cadence: yearly
    url_env: X_URL
    token_env: X_TOKEN
    datasets:
      gdp:
        format: {format}
        path: /api/v1/energy/gdp
        primary_key: [{key}]
        columns:
          year: {{type: integer}}
          gdp_cny: {{from: gdp_current_100m_cny, type: double, unit: {unit}}}
"""


def write(tmp_path, format="json_api", unit="亿元", key="year"):
    path = tmp_path / "sources.yml"
    path.write_text(GOOD.format(format=format, unit=unit, key=key), encoding="utf-8")
    return path


def test_valid_config_loads(tmp_path):
    config = load_sources(write(tmp_path))
    spec = config.datasets()[0]
    assert spec.table_name == "energy__gdp"
    assert spec.column("gdp_cny").unit == "亿元"


@pytest.mark.parametrize("kwargs, key, words", [
    ({"format": "xslx"}, "format", "unknown format `xslx`; expected one of json_api"),
    ({"unit": "万斤"}, "columns.gdp_cny.unit", "unknown unit `万斤`"),
    ({"key": "county"}, "primary_key", "`county` is not one of the columns"),
])
def test_mistakes_name_file_source_and_key(tmp_path, kwargs, key, words):
    path = write(tmp_path, **kwargs)
    with pytest.raises(ConfigError) as err:
        load_sources(path)
    assert err.value.file == str(path)
    assert err.value.source == "energy.gdp"
    assert err.value.key == key
    assert words in str(err.value)


def test_the_period_and_publication_lag_of_a_dataset(tmp_path):
    path = write(tmp_path)
    spec = load_sources(path).datasets()[0]
    # a yearly department: 180 days by default; the period is the `year` column
    assert (spec.period_grain, spec.period_year, spec.publication_lag_days) == ("year", "year", 180)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("    cadence: yearly\n",
                                 "    cadence: yearly\n    publication_lag_days: 120\n")
                    .replace("        format:", "        publication_lag_days: 30\n        format:"),
                    encoding="utf-8")
    assert load_sources(path).datasets()[0].publication_lag_days == 30  # the dataset's own wins
    path.write_text(text.replace("        format:", "        period: {year: permit_year}\n        format:"),
                    encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_sources(path)
    assert (err.value.key, err.value.source) == ("period.year", "energy.gdp")
    assert "`permit_year` is not one of the columns" in str(err.value)
    path.write_text(text.replace("    cadence: yearly\n",
                                 "    cadence: yearly\n    publication_lag_days: soon\n"),
                    encoding="utf-8")
    with pytest.raises(ConfigError, match="not a whole number of days"):
        load_sources(path)


def test_missing_file_says_which_variable_to_set(tmp_path):
    with pytest.raises(ConfigError, match="CARBONPEAK_CONFIG_DIR"):
        load_sources(tmp_path / "nope.yml")


def test_mianyang_config_declares_every_dataset_the_server_publishes(mianyang_sources):
    from source_server.files import FILES
    from source_server.meters_feed import REGISTERS, TODAY_DATASET
    from source_server.server import DEPARTMENTS

    served = {f"/api/v1/{dept}/{name}" for dept, datasets in DEPARTMENTS.items() for name in datasets}
    served |= {f"/files/{name}" for name in FILES}
    served |= {f"/api/v1/buildings/{name}" for name in REGISTERS}  # the meters' feed
    served.add("/api/v1/buildings/meter_days?format=csv")
    served.add(f"/api/v1/buildings/{TODAY_DATASET}")  # the readings of the day so far
    configured = {spec.path for spec in mianyang_sources.datasets()}
    assert served == configured
