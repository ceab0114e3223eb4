"""Hostile or careless `sources.yml`: refused when read, in one line naming file, source and key."""

from __future__ import annotations

import pytest
import yaml

from connectors.spec import load_sources
from core.errors import ConfigError


def write(tmp_path, dataset: dict, department: str = "forestry", dataset_name: str = "survey"):
    body = {"departments": {department: {
        "cadence": "yearly", "url_env": "X_URL", "token_env": "X_TOKEN",
        "datasets": {dataset_name: {"format": "csv", "path": "/files/survey.csv",
                                    "tabular": {"header_rows": [1]}, "primary_key": ["year"],
                                    "columns": {"year": {"from": "年份", "type": "integer"},
                                                "area_ha": {"from": "面积", "type": "double"}},
                                    **dataset}}}}}
    path = tmp_path / "sources.yml"
    path.write_text(yaml.safe_dump(body, allow_unicode=True), encoding="utf-8")
    return path


def refusal(path) -> ConfigError:
    with pytest.raises(ConfigError) as err:
        load_sources(path)
    assert "\n" not in str(err.value)
    assert str(path) in str(err.value)
    return err.value


@pytest.mark.parametrize("bad", ["/files/../../etc/passwd", "files/survey.csv", "//evil.example/x.csv",
                                 "http://evil.example/x.csv", "/files/x@evil.example/a.csv",
                                 "/files\\..\\x.csv", "/files/a\nb.csv", "/a/./b.csv"])
def test_a_path_that_leaves_the_server_is_refused(tmp_path, bad):
    err = refusal(write(tmp_path, {"path": bad}))
    assert err.key == "path" and err.source == "forestry.survey"
    assert "e.g. /files/" in str(err)


def test_a_plain_path_loads(tmp_path):
    config = load_sources(write(tmp_path, {"path": "/files/林业/森林资源_2024.csv"}))
    assert config.datasets()[0].path == "/files/林业/森林资源_2024.csv"


@pytest.mark.parametrize("bad", ["../*.csv", "/etc/*", "sub/*.csv", "**/*.csv", "~root/*"])
def test_a_landing_pattern_that_leaves_its_folder_is_refused(tmp_path, bad):
    err = refusal(write(tmp_path, {"landing_pattern": bad, "landing_env": "X_LANDING"}))
    assert err.key == "landing_pattern"


INJECTION = 'year" ; drop table raw.energy__gdp; --'


def test_a_column_name_with_sql_is_refused(tmp_path):
    columns = {"year": {"from": "年份", "type": "integer"}, INJECTION: {"from": "面积", "type": "double"}}
    err = refusal(write(tmp_path, {"columns": columns}))
    assert err.key == f"columns.{INJECTION}"
    assert "is not an identifier" in str(err)


def test_a_dataset_and_a_department_name_with_sql_are_refused(tmp_path):
    assert refusal(write(tmp_path, {}, dataset_name=INJECTION)).key == "datasets"
    assert refusal(write(tmp_path, {}, department="Energy; drop")).key == "departments"


def test_a_table_override_with_sql_is_refused(tmp_path):
    assert refusal(write(tmp_path, {"table": "energy__gdp; drop table x"})).key == "table"


@pytest.mark.parametrize(("expr", "why"), [
    ("__import__('os').system('id')", "may use only"),
    ("year.bit_length()", "may use only"),
    ("area_ha ** 2", "may use only"),
    ("'1; drop table x'", "may use only"),
    ("area_ha * nope", "`nope`, which is not another column"),
    ("area_ha *", "is not an arithmetic expression"),
])
def test_an_expression_beyond_arithmetic_is_refused(tmp_path, expr, why):
    columns = {"year": {"from": "年份", "type": "integer"}, "area_ha": {"from": "面积", "type": "double"},
               "half_ha": {"expr": expr, "type": "double"}}
    err = refusal(write(tmp_path, {"columns": columns}))
    assert err.key == "columns.half_ha" and why in str(err)


@pytest.mark.parametrize(("column", "why"), [
    ({"from_filename": "(\\d{4}", "type": "integer"}, "not a valid regular expression"),
    ({"from_filename": "\\d{4}", "type": "integer"}, "has 0 group(s)"),
    ({"from_filename": "(\\d{4})", "from": "年份"}, "give one of"),
    ({"from_sheet": "(\\d+)月", "type": "integer"}, "has no sheet"),  # a csv has no sheet
    ({"expr": "area_ha / 100", "unit": "%", "type": "double"}, "takes no `unit`"),
])
def test_derivations_are_checked_when_read(tmp_path, column, why):
    columns = {"year": {"from": "年份", "type": "integer"}, "area_ha": {"from": "面积", "type": "double"},
               "extra": column}
    assert why in str(refusal(write(tmp_path, {"columns": columns})))
