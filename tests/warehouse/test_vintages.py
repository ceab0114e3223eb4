"""Vintages: every published value is kept with the load that brought it.

`meta.as_of_load` and `meta.as_of_date` give a raw table as it stood after load N or at a time.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from flows.settings import PROJECT_ROOT
from tests.helpers import ingest_and_build
from warehouse.db import connect
from warehouse.model_properties import read_sources
from warehouse.models import create_vintage_macros, discover, raw_keys

PROJECT = PROJECT_ROOT / "dbt_like_sql"
GDP_2020 = "select gdp_2020_prices_cny from meta.as_of_{kind}('raw.energy__gdp', ?) where year = 2020"


def test_as_of_the_first_load_gives_the_old_value_and_as_of_now_the_revised_one(
        warehouse_copy, source_server, mianyang_sources):
    source_server.set_faults(revise={"year": 2020, "field": "gdp_2020_prices_100m_cny", "factor": 1.01})
    ingest_and_build(mianyang_sources, source_server.url, source_server.token, warehouse_copy)
    con = connect(warehouse_copy, read_only=True)
    (first_seq, first_at), (revised_seq, revised_at) = con.execute(
        "select load_seq, loaded_at from meta.load_log where dataset = 'energy__gdp' "
        "order by load_seq").fetchall()

    def gdp_2020(kind, when):
        return [r[0] for r in con.execute(GDP_2020.format(kind=kind), [when]).fetchall()]

    assert gdp_2020("load", first_seq) == [pytest.approx(3010e8)]
    assert gdp_2020("load", revised_seq - 1) == [pytest.approx(3010e8)]
    assert gdp_2020("load", revised_seq) == [pytest.approx(3040.1e8)]
    assert gdp_2020("date", first_at) == [pytest.approx(3010e8)]
    assert gdp_2020("date", dt.datetime.now(dt.UTC)) == [pytest.approx(3040.1e8)]
    assert gdp_2020("date", first_at - dt.timedelta(seconds=1)) == []  # before anything was loaded
    # a string works too (as typed in `carbonpeak sql`), in the session's time zone
    assert con.execute("select count(*) from meta.as_of_date('raw.energy__gdp', ?)",
                       [revised_at.isoformat()]).fetchone()[0] == 21

    # one row per year either way; the raw table keeps both vintages of 2020
    for seq in (first_seq, revised_seq):
        assert con.execute("select count(*), count(distinct year) from meta.as_of_load('raw.energy__gdp', ?)",
                           [seq]).fetchone() == (21, 21)
    assert con.execute("select count(*) from raw.energy__gdp").fetchone()[0] == 22
    # as of now = what the models use; other years keep their first vintage
    assert con.execute("select year, gdp_2020_prices_cny from meta.as_of_load('raw.energy__gdp', ?) "
                       "except select year, gdp_2020_prices_cny from staging.stg_energy__gdp",
                       [revised_seq]).fetchall() == []
    assert con.execute("select count(*) from meta.as_of_load('raw.energy__gdp', ?) where _load_seq = ?",
                       [revised_seq, first_seq]).fetchone()[0] == 20
    con.close()


def test_as_of_now_is_the_current_vintage_of_every_raw_table(default_warehouse, mianyang_sources):
    con = connect(default_warehouse, read_only=True)
    last = con.execute("select max(load_seq) from meta.load_log").fetchone()[0]
    for spec in mianyang_sources.datasets():
        if spec.partitions is not None:  # vintages per day: meta.partitions, not these macros
            continue
        table = f"raw.{spec.table_name}"
        keys = ", ".join(spec.primary_key)
        current = con.execute(f"select count(distinct ({keys})) from {table}").fetchone()[0]
        assert con.execute("select count(*) from meta.as_of_load(?, ?)", [table, last]).fetchone()[0] == \
            current > 0, table
        assert con.execute("select count(*) from meta.as_of_date(?, now())", [table]).fetchone()[0] == \
            current, table
    con.close()


def test_each_raw_table_key_is_the_grain_of_its_staging_model(mianyang_sources):
    # the as-of macros partition by these: they must be the keys the loader uses
    keys = raw_keys(discover(PROJECT), read_sources(PROJECT))
    for spec in mianyang_sources.datasets():
        if spec.partitions is not None:  # vintages per day (meta.partitions): no as-of macro
            assert f"raw.{spec.table_name}" not in keys
            continue
        assert keys[f"raw.{spec.table_name}"] == spec.primary_key, spec.table_name


def test_a_table_with_no_known_key_is_refused(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    con.execute("create schema raw; create table raw.t as select 1 as x, 1 as _load_seq")
    create_vintage_macros(con, {"raw.other": ("x",)})
    with pytest.raises(duckdb.BinderException, match=r"meta.raw_key\('raw.t'\).*empty set of columns"):
        con.execute("select * from meta.as_of_load('raw.t', 1)")
    con.close()
