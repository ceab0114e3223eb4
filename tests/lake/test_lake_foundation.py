"""The lake's foundations against a real PostgreSQL server: write, isolate, read-only, MERGE, quoting."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from lake import postgres
from lake.catalog import create_catalog, stored_data_path
from lake.errors import LakeError, PortBusy
from lake.postgres import free_port, init_server, server_status, start_server
from tests.lake.conftest import open_folder, stopped_at_exit
from warehouse.lake import (
    MAX_RETRY_COUNT,
    LakeConnectError,
    attach_sql,
    build_conninfo,
    check_conninfo,
    connect_lake,
    find_extension,
    parse_conninfo,
)

BIN = Path(sys.executable).parent
PROJECT = Path(__file__).resolve().parents[2]
ROWS = [("510700", 2020, 1.5), ("510700", 2021, 2.25), ("510800", 2020, 3.0)]


def test_write_through_the_lake_and_read_back(lake):
    con = connect_lake(lake.writer.conninfo)
    con.execute("create schema if not exists marts")
    con.execute("create table marts.co2 (city_code varchar not null, year integer, co2_tco2 double)")
    con.executemany("insert into marts.co2 values (?, ?, ?)", ROWS)
    # more than the 10 rows DuckLake inlines into PostgreSQL: these go to a Parquet file
    con.execute("insert into marts.co2 select '510900', 2000 + i, i * 0.5 from range(25) t(i)")
    con.close()

    reader = connect_lake(lake.writer.conninfo)
    assert reader.execute("select * from marts.co2 where city_code <> '510900' order by all"
                          ).fetchall() == ROWS
    assert reader.execute("select count(*), sum(co2_tco2) from marts.co2 where city_code = '510900'"
                          ).fetchone() == (25, 150.0)
    assert list((lake.data_path / "marts" / "co2").glob("ducklake-*.parquet"))
    assert stored_data_path(lake.folder).rstrip("/") == str(lake.data_path)
    with pytest.raises(duckdb.ConstraintException, match="NOT NULL"):
        reader.execute("insert into marts.co2 values (null, 2020, 1.0)")


def test_a_second_connection_sees_only_committed_transactions(lake):
    writer, other = connect_lake(lake.writer.conninfo), connect_lake(lake.writer.conninfo)
    writer.execute("create or replace table batches (batch_id integer, row_no integer)")
    writer.execute("insert into batches select 1, i from range(500) t(i)")
    writer.execute("begin")
    writer.execute("insert into batches select 2, i from range(500) t(i)")
    assert writer.execute("select count(*) from batches").fetchone() == (1000,)
    # while the second batch is written but not committed, the other side sees the first alone
    assert other.execute("select batch_id, count(*) from batches group by all").fetchall() == [(1, 500)]
    writer.execute("commit")
    assert other.execute("select batch_id, count(*) from batches group by all order by 1").fetchall() == [
        (1, 500), (2, 500)]
    writer.execute("begin")
    writer.execute("delete from batches where batch_id = 1")
    writer.execute("rollback")
    assert other.execute("select count(*) from batches").fetchone() == (1000,)


def test_the_analyst_reads_and_every_write_is_refused(lake):
    writer = connect_lake(lake.writer.conninfo)
    # made after the grants: DuckLake's new inlined-data table is readable through default privileges
    writer.execute("create or replace table status (kpi_id varchar, status varchar)")
    writer.execute("insert into status values ('coal_share_pct', 'on_track'), ('co2_tco2', 'at_risk')")

    analyst = connect_lake(lake.analyst.conninfo, read_only=True)
    assert analyst.execute("select * from status order by 1").fetchall() == [
        ("co2_tco2", "at_risk"), ("coal_share_pct", "on_track")]
    with pytest.raises(duckdb.InvalidInputException) as refused:
        analyst.execute("insert into status values ('x', 'y')")
    assert str(refused.value).count("\n") == 0
    assert 'Cannot execute statement of type "INSERT" on database "lake" which is attached in ' \
           "read-only mode!" in str(refused.value)

    # without READ_ONLY PostgreSQL itself refuses at commit: the role can only select
    careless = connect_lake(lake.analyst.conninfo)
    with pytest.raises(duckdb.TransactionException, match="permission denied for table ducklake_snapshot"):
        careless.execute("insert into status values ('x', 'y')")
    assert writer.execute("select count(*) from status").fetchone() == (2,)

    # the password is asked on 127.0.0.1: the analyst cannot pass for the writer, nor log in without it
    for conninfo in (build_conninfo(dbname="lake", host="127.0.0.1", port=lake.writer.port,
                                    user="lake_writer", passfile=lake.analyst.passfile),
                     build_conninfo(dbname="lake", host="127.0.0.1", port=lake.writer.port,
                                    user="analyst", password="guessed")):
        with pytest.raises(LakeConnectError, match="no password supplied|password authentication failed"
                           ) as denied:
            connect_lake(conninfo, read_only=True)
        assert "guessed" not in str(denied.value)


def test_keyed_merge_is_an_idempotent_upsert(lake):
    """DuckLake has no PRIMARY KEY: a load is a MERGE on the natural key, from a de-duplicated source."""
    con = connect_lake(lake.writer.conninfo)
    con.execute("create or replace table kpi_values (city_code varchar, kpi_id varchar, year integer, "
                "value double, loaded_at timestamp)")
    with pytest.raises(duckdb.NotImplementedException, match="PRIMARY KEY/UNIQUE"):
        con.execute("create table keyed (id integer primary key)")

    def upsert(source_sql: str) -> int:
        con.execute(f"create or replace temp table source as select * from ({source_sql}) "
                    "qualify row_number() over (partition by city_code, kpi_id, year) = 1")
        return con.execute("""
            merge into kpi_values t
            using source s on t.city_code = s.city_code and t.kpi_id = s.kpi_id and t.year = s.year
            when matched and t.value is distinct from s.value then update set value = s.value,
                loaded_at = now()
            when not matched then insert (city_code, kpi_id, year, value, loaded_at)
                values (s.city_code, s.kpi_id, s.year, s.value, now())""").fetchone()[0]

    first = ("select '510700' as city_code, 'k' || (i % 10) as kpi_id, 2000 + i // 10 as year, "
             "i * 1.0 as value from range(1000) t(i)")
    assert upsert(first) == 1000
    before = con.execute("select * from kpi_values order by all").fetchall()
    snapshots = con.execute("select count(*) from lake.snapshots()").fetchone()[0]

    assert upsert(first) == 0
    assert upsert(f"select * from ({first}) union all select * from ({first})") == 0  # duplicated source
    assert con.execute("select * from kpi_values order by all").fetchall() == before
    assert con.execute("select count(*) from lake.snapshots()").fetchone()[0] == snapshots

    # an overlapping revision: 10 values change, 5 keys are new, nothing is duplicated
    assert upsert(f"select city_code, kpi_id, year, value + (year = 2099)::int as value from ({first}) "
                  "union all select '510800', 'k0', 2000 + i, 1.0 from range(5) t(i)") == 15
    assert con.execute("select count(*), count(distinct (city_code, kpi_id, year)) from kpi_values"
                       ).fetchone() == (1005, 1005)


def test_a_second_init_of_the_catalog_changes_nothing(lake):
    passwords = {p: p.read_text() for p in lake.folder.glob("*.pgpass")}
    assert create_catalog(lake.folder) == (lake.writer, lake.analyst)
    assert init_server(lake.folder).port == lake.writer.port
    assert {p: p.read_text() for p in lake.folder.glob("*.pgpass")} == passwords
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in passwords)
    assert connect_lake(lake.writer.conninfo).execute("select 1").fetchone() == (1,)


def test_the_raised_retry_count_is_in_effect(lake):
    assert MAX_RETRY_COUNT == 100
    for con in (connect_lake(lake.writer.conninfo), connect_lake(lake.analyst.conninfo, read_only=True)):
        assert con.execute("select current_setting('ducklake_max_retry_count')").fetchone() == (100,)
        assert con.execute("select current_setting('autoinstall_known_extensions'), "
                           "current_setting('autoload_known_extensions')").fetchone() == (False, False)


def test_a_hostile_data_path_stays_a_path(lake):
    """A quote in the data path is part of the folder's name, never the end of the SQL string."""
    create_catalog(lake.folder, dbname="hostile")
    canary = connect_lake(lake.writer.conninfo)
    canary.execute("create or replace table canary as select 42 as answer")
    hostile = lake.data_path.parent / "it's'); drop table lake.canary; --"
    writer = build_conninfo(dbname="hostile", host="127.0.0.1", port=lake.writer.port,
                            user="lake_writer", passfile=lake.writer.passfile)
    con = connect_lake(writer, hostile)
    con.execute("create table t as select i from range(20) t(i)")
    assert con.execute("select sum(i) from t").fetchone() == (190,)
    assert list((hostile / "main" / "t").glob("*.parquet"))
    assert stored_data_path(lake.folder, "hostile").rstrip("/") == str(hostile)
    assert canary.execute("select * from canary").fetchall() == [(42,)]


@pytest.mark.parametrize("conninfo, problem", [
    ("dbname=lake' AS x (TYPE duckdb); ATTACH '/tmp/evil.db", "cannot read it at character 12"),
    ("dbname=lake\nhost=evil", "control character"),
    ("dbname=lake sslmode=disable foo=bar", "unknown key `foo`"),
    ("dbname='unterminated", "cannot read it"),
    ("postgresql://u@127.0.0.1/lake' AS x", "percent-encode"),
    ("", "empty"),
])
def test_a_hostile_conninfo_is_refused_in_one_line(conninfo, problem):
    with pytest.raises(LakeConnectError, match=re.escape(problem)) as refused:
        connect_lake(conninfo)
    assert "\n" not in str(refused.value)


def test_conninfo_values_are_quoted_and_read_back_unchanged():
    values = {"dbname": "lake", "host": "127.0.0.1", "port": "5432",
              "application_name": "it's a 'test' \\ x", "passfile": "/srv/my lake/w.pgpass"}
    conninfo = build_conninfo(**values)
    assert parse_conninfo(conninfo) == values
    assert check_conninfo(conninfo) == conninfo
    statement = attach_sql(conninfo, "/data/o'neil", read_only=True)
    assert statement.count("'") % 2 == 0 and "DATA_PATH '/data/o''neil'" in statement
    with pytest.raises(LakeConnectError, match="lowercase identifier"):
        attach_sql(conninfo, alias="lake; drop table x")


def test_a_missing_extension_wheel_is_named():
    with pytest.raises(LakeConnectError, match="wheel `duckdb-extension-nowhere` is not installed"):
        find_extension("duckdb_extension_nowhere", "nowhere")


def test_missing_binaries_and_closed_folders_are_one_line_errors(monkeypatch):
    postgres.find_bindir.cache_clear()
    monkeypatch.setattr(postgres.shutil, "which", lambda name: None)
    monkeypatch.setattr(postgres.glob, "glob", lambda pattern: [])
    try:
        with pytest.raises(LakeError, match=r"install them \(`apt-get install postgresql-15`\)"):
            postgres.find_bindir()
    finally:
        monkeypatch.undo()
        postgres.find_bindir.cache_clear()

    with open_folder("carbonpeak-closed-") as root:
        closed = root / "closed"
        closed.mkdir(mode=0o700)
        expected = "closed to other users" if os.geteuid() == 0 else "cannot create"
        if os.geteuid() != 0:
            closed.chmod(0o500)
        with pytest.raises(LakeError, match=expected) as refused:
            init_server(closed / "pg")
        assert "\n" not in str(refused.value)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "carbonpeak"), "lake", *args], capture_output=True, text=True,
                          timeout=120, env={k: v for k, v in os.environ.items() if k != "PGPASSWORD"})


def test_cli_init_status_stop_and_the_printed_analyst_lines_work_in_the_duckdb_cli():
    with open_folder("carbonpeak-cli-") as root, stopped_at_exit(root / "pg"):
        folder, port = root / "pg", free_port()
        init = run_cli("init", "--folder", str(folder), "--port", str(port), "--no-sync")
        assert init.returncode == 0, init.stderr
        assert f"dbname=lake host=127.0.0.1 port={port} user=lake_writer" in init.stdout
        assert f"data path:        {folder / 'parquet'}/" in init.stdout
        assert server_status(folder).running

        # the analyst's lines, as printed, in the DuckDB CLI: they read, and a write is refused
        lines = [line.strip() for line in init.stdout.splitlines() if line.startswith("  ")
                 and line.strip().split(" ")[0] in ("LOAD", "ATTACH", "USE")]
        assert len(lines) == 4 and "(READ_ONLY)" in lines[2]
        duck = subprocess.run([str(BIN / "duckdb"), "-csv", "-noheader"], text=True, capture_output=True,
                              timeout=60, input="\n".join(lines) + "\nselect count(*) > 0 from "
                              "ducklake_snapshots('lake');\ncreate table x (a integer);\n")
        assert duck.stdout.strip() == "true"
        assert "attached in read-only mode" in duck.stderr

        status = run_cli("status", "--folder", str(folder))
        assert status.returncode == 0 and f"runs on 127.0.0.1:{port}" in status.stdout

        assert run_cli("stop", "--folder", str(folder)).stdout.strip() == "stopped"
        status = run_cli("status", "--folder", str(folder))
        assert status.returncode == 3 and status.stdout.startswith("not running")

        with socket.socket() as squatter:
            squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past TIME_WAIT
            squatter.bind(("127.0.0.1", port))
            squatter.listen()
            with pytest.raises(PortBusy) as busy:
                start_server(folder)
        assert str(busy.value) == f"port {port} on 127.0.0.1 is busy; choose another with `--port`"
        assert not server_status(folder).running


@pytest.mark.skipif(os.geteuid() != 0 or not Path("/usr/bin/python3").exists(),
                    reason="needs root to act as another user, and a system python3")
def test_a_non_root_user_runs_the_server_as_itself():
    """Without root, initdb and pg_ctl run directly and the superuser is named after the user."""
    script = ("import sys; from pathlib import Path; from lake.postgres import *\n"
              "f = Path(sys.argv[1]); init_server(f, durable=False); start_server(f)\n"
              "try: print(run_sql(f, 'select current_user;').strip())\n"
              "finally: stop_server(f)\n")
    with open_folder("carbonpeak-nobody-") as root:
        os.chown(root, 65534, -1)
        # the project's interpreter lives under /root: the system python3 runs the stdlib-only module
        result = subprocess.run(
            ["runuser", "-u", "nobody", "--", "/usr/bin/python3", "-c", script, str(root / "pg")],
            capture_output=True, text=True, timeout=60, cwd=root,
            env={"PATH": os.environ["PATH"], "HOME": str(root), "PYTHONPATH": str(PROJECT)})
        try:
            assert result.returncode == 0, result.stderr
            assert result.stdout.strip() == "nobody"
            assert (root / "pg" / "data").stat().st_uid == 65534
        finally:  # the script stops its server; this is for a script that died half-way
            if (root / "pg" / "data" / "postmaster.pid").exists():
                subprocess.run(["runuser", "-u", "nobody", "--", str(postgres.find_bindir() / "pg_ctl"),
                                "-D", str(root / "pg" / "data"), "-m", "fast", "-w", "stop"],
                               capture_output=True, timeout=60, check=False)
