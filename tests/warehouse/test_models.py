"""The SQL-model runner: dependency order, selection, and clear errors for bad refs."""

from __future__ import annotations

import pytest

from warehouse.db import connect
from warehouse.errors import ModelError
from warehouse.models import build_models, build_order, discover

SOURCES = """
sources:
  - name: raw
    schema: raw
    tables:
      - name: numbers
"""


def project(tmp_path, models: dict[str, str]):
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "sources.yml").write_text(SOURCES, encoding="utf-8")
    for path, sql in models.items():
        file = tmp_path / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(sql, encoding="utf-8")
    return tmp_path


MODELS = {
    # named so that alphabetical order is the wrong build order
    "kpi/a_total.sql": "{{ config(materialized='view') }}\nselect sum(n) as total from {{ ref('z_doubled') }}",
    "marts/z_doubled.sql": "{{ config(materialized='table') }}\nselect n * 2 as n from {{ ref('m_clean') }}",
    "staging/m_clean.sql": "select n from {{ source('raw', 'numbers') }} where n is not null",
}


def test_builds_in_dependency_order_with_values(tmp_path):
    proj = project(tmp_path / "p", MODELS)
    con = connect(tmp_path / "w.duckdb")
    con.execute("create schema raw; create table raw.numbers as select * from (values (1), (2), (null)) t(n)")
    built = build_models(con, proj)
    assert [m.relation for m in built] == ["staging.m_clean", "marts.z_doubled", "kpi.a_total"]
    assert con.execute("select total from kpi.a_total").fetchone()[0] == 6
    kinds = dict(con.execute("select table_name, 'table' from duckdb_tables() where schema_name='marts' "
                             "union all select view_name, 'view' from duckdb_views() "
                             "where schema_name in ('staging', 'kpi')").fetchall())
    assert kinds == {"z_doubled": "table", "m_clean": "view", "a_total": "view"}
    con.close()


def test_select_with_plus_builds_the_model_and_its_children(tmp_path):
    models = discover(project(tmp_path, MODELS))
    assert [m.name for m in build_order(models, "z_doubled+")] == ["z_doubled", "a_total"]
    assert [m.name for m in build_order(models, "z_doubled")] == ["z_doubled"]


def test_unknown_ref_fails_listing_known_models(tmp_path):
    proj = project(tmp_path, {**MODELS, "kpi/b.sql": "select * from {{ ref('z_dubled') }}"})
    with pytest.raises(ModelError) as err:
        build_order(discover(proj))
    assert err.value.model == "b"
    assert "ref('z_dubled')" in str(err.value)
    assert "known models: a_total, b, m_clean, z_doubled" in str(err.value)


def test_cycle_is_reported(tmp_path):
    proj = project(tmp_path, {"staging/x.sql": "select * from {{ ref('y') }}",
                              "staging/y.sql": "select * from {{ ref('x') }}"})
    with pytest.raises(ModelError, match="cycle"):
        build_order(discover(proj))


def test_undeclared_source_is_reported(tmp_path):
    proj = project(tmp_path, {"staging/x.sql": "select * from {{ source('raw', 'letters') }}"})
    con = connect(tmp_path / "w.duckdb")
    with pytest.raises(ModelError, match=r"source\('raw', 'letters'\)` is not declared.*raw.numbers"):
        build_models(con, proj)
    con.close()


def test_failing_model_leaves_the_previous_build(tmp_path):
    proj = project(tmp_path / "p", MODELS)
    con = connect(tmp_path / "w.duckdb")
    con.execute("create schema raw; create table raw.numbers as select * from (values (1), (2)) t(n)")
    build_models(con, proj)
    (proj / "kpi" / "a_total.sql").write_text("select sum(nope) from {{ ref('z_doubled') }}")
    con.execute("insert into raw.numbers values (10)")
    with pytest.raises(ModelError, match="a_total.sql` failed to build"):
        build_models(con, proj)
    # z_doubled was rebuilt inside the failed transaction: rolled back, still 2 rows
    assert con.execute("select count(*) from marts.z_doubled").fetchone()[0] == 2
    assert con.execute("select total from kpi.a_total").fetchone()[0] == 6
    con.close()
