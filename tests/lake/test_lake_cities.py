"""Cities as namespaces of one lake: codes, grants, a new city's first writers, the province's config."""

from __future__ import annotations

import threading

import pytest

from connectors.spec import load_city
from core.errors import ConfigError
from lake.catalog import create_catalog
from warehouse.db import connect
from warehouse.errors import WarehouseError
from warehouse.lake import LakeConnectError, LakePointer, city_namespace, connect_pointer, write_pointer
from warehouse.province import read_province


def city_yml(folder, name="mianyang", code='"510700"'):
    folder.mkdir(parents=True, exist_ok=True)
    text = f"name: {name}\nname_zh: 测试\ncounties: [甲县]\n" + (f"code: {code}\n" if code else "")
    (folder / "city.yml").write_text(text, encoding="utf-8")
    return folder / "city.yml"


@pytest.mark.parametrize("code", ["51070", "5107000", "'510700; drop table x'", "true", "[510700]",
                                  "'../../etc'"])
def test_a_city_code_is_six_digits_or_refused_naming_the_file(tmp_path, code):
    with pytest.raises(ConfigError) as err:
        load_city(city_yml(tmp_path, code=code))
    assert err.value.key == "code" and "six-digit" in str(err.value) and "city.yml" in str(err.value)


def test_an_unquoted_code_is_read_as_the_same_text(tmp_path):
    assert load_city(city_yml(tmp_path, code="510700"))["code"] == "510700"
    assert "code" not in load_city(city_yml(tmp_path, code=None))  # a file warehouse needs none


@pytest.mark.parametrize("code", ["51070", "x10700", "510700 ", "510700'--", None])
def test_a_namespace_is_only_ever_made_of_six_digits(code):
    with pytest.raises(LakeConnectError, match="six-digit"):
        city_namespace(code)


def test_a_lake_without_the_citys_code_is_one_line(tmp_path):
    pointer = write_pointer(tmp_path / "warehouse.lake", LakePointer("dbname=lake host=127.0.0.1"))
    with pytest.raises(WarehouseError) as err:
        connect(pointer)
    assert "has no `code:`" in str(err.value) and "\n" not in str(err.value)


def test_two_cities_are_apart_and_the_analyst_reads_each(lake, tmp_path):
    writer, analyst = create_catalog(lake.folder, dbname="cities_apart")
    pointer = write_pointer(tmp_path / "w.lake", LakePointer(writer.conninfo, str(tmp_path / "files")))
    reader = write_pointer(tmp_path / "a.lake", LakePointer(analyst.conninfo, read_only=True))
    for code, rows in (("510700", 3), ("519901", 5)):
        con = connect(pointer, city_code=code)
        con.execute(f"create schema raw; create table raw.t as select range as x from range({rows})")
        con.close()
    for code, rows in (("510700", 3), ("519901", 5)):
        # the namespaces were made after `create_catalog`: default privileges let the analyst in
        con = connect(reader, city_code=code)
        assert con.execute("select count(*) from raw.t").fetchone()[0] == rows
        with pytest.raises(Exception, match="read-only"):
            con.execute("insert into raw.t values (1)")
        con.close()
    # each city's files in a folder of its own under the lake's data path
    assert {p.name for p in (tmp_path / "files").iterdir()} == {"city_510700", "city_519901"}
    with pytest.raises(LakeConnectError, match="no `city_519902` yet"):
        connect(reader, city_code="519902")


def test_a_new_citys_first_writers_may_start_together(lake, tmp_path):
    """Two departments of a city that never wrote, started at once: both make it in."""
    writer, _ = create_catalog(lake.folder, dbname="cities_race")
    pointer = write_pointer(tmp_path / "w.lake", LakePointer(writer.conninfo, str(tmp_path / "files")))
    start, problems = threading.Barrier(3), []

    def first_writer():
        start.wait()
        try:
            connect_pointer(pointer, city_namespace("519903")).close()
        except Exception as exc:  # the test's point: none may fail
            problems.append(str(exc))

    threads = [threading.Thread(target=first_writer) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert problems == []


@pytest.mark.parametrize(("body", "problem"), [
    ("cities: [a, a]\n", "two cities share a code"),
    ("cities: [a, nocode]\n", "has no `code:`"),
    ("cities: [a]\nadds_up: [\"x; drop table y\"]\n", "list of KPI ids"),
    ("cities: [../../a]\n", "city file not found"),
    ("cities: []\n", "list of city config folders"),
    ("cities: [a]\nextra: 1\n", "expected the keys"),
])
def test_a_wrong_province_file_is_one_line_naming_the_key(tmp_path, body, problem):
    city_yml(tmp_path / "a")
    city_yml(tmp_path / "nocode", name="nocode", code=None)
    (tmp_path / "province.yml").write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        read_province(tmp_path / "province.yml")
    assert problem in str(err.value) and ".yml`" in str(err.value)  # the file at fault


@pytest.mark.parametrize("name", ["'x\"; drop table y; --'", "kpi_id", "Mianyang"])
def test_a_city_name_that_cannot_be_a_column_is_refused(tmp_path, name):
    city_yml(tmp_path / "a", name=name)  # its status column in kpi.kpi_status_by_city
    (tmp_path / "province.yml").write_text("cities: [a]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="lowercase identifier"):
        read_province(tmp_path / "province.yml")


@pytest.mark.parametrize(("command", "what"), [(("province", "build"), "the province's builds"),
                                               (("lake", "maintain"), "maintenance runs")])
def test_a_lake_command_on_a_duckdb_file_is_one_line_without_a_traceback(tmp_path, command, what):
    """The flow's refusal reaches the console as the one line, not Prefect's traceback of it."""
    import os
    import subprocess
    import sys

    from flows.settings import PROJECT_ROOT

    env = {**os.environ, "CARBONPEAK_WAREHOUSE": str(tmp_path / "warehouse.duckdb")}
    done = subprocess.run([sys.executable, "-m", "cli.main", *command], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert [line for line in done.stderr.splitlines() if line.startswith("carbonpeak:")] == [
        f"carbonpeak: `{tmp_path / 'warehouse.duckdb'}` is a DuckDB file, not a lake: "
        f"{what} need a lake; run `carbonpeak lake init`, then set CARBONPEAK_WAREHOUSE to the pointer "
        "it wrote (data/warehouse.lake)"]
