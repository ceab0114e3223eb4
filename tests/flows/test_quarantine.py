"""`carbonpeak quarantine list / replay`: rows set aside by the gate, replayed once after a fix."""

from __future__ import annotations

import shutil

import pytest

from cli.main import main
from flows.settings import PROJECT_ROOT
from source_server import energy_data
from warehouse.db import connect


@pytest.fixture
def city_copy(tmp_path, monkeypatch):
    """A copy of Mianyang's configuration that the test can "fix"."""
    folder = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config" / "mianyang", folder)
    monkeypatch.setenv("CARBONPEAK_CONFIG_DIR", str(folder))
    return folder


def test_replay_after_a_corrected_unit_loads_the_rows_once(prefect_harness, sources_env, source_server,
                                                           city_copy, capsys):
    # The energy bureau starts publishing capacity in 千瓦 under the old 万千瓦 header: every
    # non-zero row is 10 000 times too large and is quarantined.
    source_server.set_faults(scale_field={"capacity_10mw": 10_000})
    assert main(["ingest", "energy"]) == 0
    capsys.readouterr()
    assert main(["quarantine", "list", "--dataset", "energy__power_capacity", "--limit", "0"]) == 0
    listed = capsys.readouterr().out
    con = connect(sources_env, read_only=True)
    waiting = con.execute("select count(*) from meta.quarantine where replayed_at is null").fetchone()[0]
    loaded_before = con.execute("select count(*) from raw.energy__power_capacity").fetchone()[0]
    con.close()
    assert waiting > 80 and loaded_before == 126 - waiting
    assert f"{waiting} row(s)" in listed and "year=2021, plant_type=wind" in listed
    assert "capacity_mw" in listed and "waiting" in listed

    # Replaying before the fix changes nothing: the rows fail again and stay.
    assert main(["quarantine", "replay"]) == 0
    assert f"energy__power_capacity: {waiting} replayed: 0 loaded" in capsys.readouterr().out

    # The fix: the column's unit in sources.yml is now 千瓦.
    sources = city_copy / "sources.yml"
    text = sources.read_text(encoding="utf-8")
    old = 'capacity_mw: {from: capacity_10mw, type: double, unit: 万千瓦'
    assert old in text
    sources.write_text(text.replace(old, old.replace("万千瓦", "千瓦")), encoding="utf-8")

    assert main(["quarantine", "replay"]) == 0
    out = capsys.readouterr().out
    assert f"energy__power_capacity: {waiting} replayed: {waiting} loaded, 0 already there, " \
           "0 still quarantined" in out
    con = connect(sources_env, read_only=True)
    rows = con.execute("select count(*), count(distinct _load_id) from raw.energy__power_capacity"
                       ).fetchone()
    wind_2021 = con.execute("select capacity_mw from raw.energy__power_capacity where year = 2021 "
                            "and plant_type = 'wind'").fetchone()[0]
    kpi = con.execute("select value from kpi.kpi_power__clean_power_capacity where year = 2025"
                      ).fetchone()[0]
    replayed = con.execute("select count(*) from meta.quarantine where replay_load_id is not null"
                           ).fetchone()[0]
    logged = con.execute("select rows_in, rows_loaded, rows_quarantined from meta.load_log "
                         "where source_url like 'quarantine replay%' order by loaded_at").fetchall()
    con.close()
    assert rows == (126, 2) and replayed == waiting
    published = next(r["capacity_10mw"] for r in energy_data.power_capacity()
                     if r["year"] == 2021 and r["plant_type"] == "wind")
    assert wind_2021 == pytest.approx(published * 10)  # 万千瓦 → MW, as before the slip
    assert kpi == 218.7  # the rebuilt KPI is the one the clean data gives
    assert logged == [(waiting, 0, waiting), (waiting, waiting, 0)]

    # A second replay has nothing left to do.
    assert main(["quarantine", "replay"]) == 0
    assert "nothing waits in the quarantine" in capsys.readouterr().out
    con = connect(sources_env, read_only=True)
    assert con.execute("select count(*) from raw.energy__power_capacity").fetchone()[0] == 126
    con.close()
