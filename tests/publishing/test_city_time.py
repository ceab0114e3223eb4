"""Every time shown to a person is Beijing time: officials read it; DuckDB keeps timestamptz in UTC."""

from __future__ import annotations

import datetime as dt
import re

from flows.deployments import TIMEZONE
from flows.settings import PROJECT_ROOT
from publishing.clock import CITY_TIMEZONE, city_day, city_time, city_today
from publishing.dictionary.catalog import Catalog
from publishing.dictionary.render import page
from publishing.report import write_report
from warehouse.db import connect

KPIS_FILE = PROJECT_ROOT / "config" / "mianyang" / "kpis.yml"


def test_a_utc_time_is_shown_on_the_beijing_clock():
    assert city_time(dt.datetime(2026, 3, 1, 5, 5, tzinfo=dt.UTC)) == "2026-03-01 13:05 北京时间 (UTC+8)"
    # the same moment given in another zone reads the same
    new_york = dt.datetime(2026, 3, 1, 0, 5, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert city_time(new_york) == "2026-03-01 13:05 北京时间 (UTC+8)"
    assert city_time(None) == "—"


def test_the_day_turns_over_at_midnight_in_beijing_not_in_utc():
    assert city_day(dt.datetime(2026, 3, 1, 15, 59, tzinfo=dt.UTC)) == "2026-03-01"
    assert city_day(dt.datetime(2026, 3, 1, 20, 0, tzinfo=dt.UTC)) == "2026-03-02"


def test_a_naive_time_is_taken_as_utc():
    assert city_time(dt.datetime(2026, 3, 1, 5, 5)) == "2026-03-01 13:05 北京时间 (UTC+8)"
    assert city_day(dt.datetime(2026, 3, 1, 20, 0)) == "2026-03-02"


def test_today_is_beijings_date():
    before = dt.datetime.now(dt.UTC).astimezone(CITY_TIMEZONE).date()
    today = city_today()
    after = dt.datetime.now(dt.UTC).astimezone(CITY_TIMEZONE).date()
    assert today in {before, after}


def test_schedules_use_the_same_clock_as_a_plain_string():
    assert TIMEZONE == "Asia/Shanghai" and isinstance(TIMEZONE, str)


def test_the_report_says_when_in_beijing_time(default_warehouse, tmp_path):
    out = write_report(default_warehouse, tmp_path / "report.html", kpis_file=KPIS_FILE,
                       generated_at=dt.datetime(2026, 3, 1, 5, 5, tzinfo=dt.UTC))
    html = out.read_text(encoding="utf-8")
    line = re.search(r"<p class=\"muted\">生成于 generated (.*?)</p>", html, re.DOTALL).group(1)
    assert line.startswith("2026-03-01 13:05 北京时间 (UTC+8) · ")
    assert " UTC" not in line and line.count("北京时间") == 2
    con = connect(default_warehouse, read_only=True)
    try:
        loaded = con.execute("select max(loaded_at) from meta.load_log").fetchone()[0]
    finally:
        con.close()
    assert f"数据最近加载 data last loaded {city_time(loaded)} ·" in line


def test_the_dictionary_says_when_in_beijing_time():
    catalog = Catalog(relations={}, kpis=(), edges={}, city="绵阳市",
                      data_as_of=dt.datetime(2026, 3, 1, 20, 0, tzinfo=dt.UTC))
    html = page("index", [], "", catalog)
    assert "data loaded up to 数据更新至 2026-03-02 04:00 北京时间 (UTC+8)" in html
    assert " UTC" not in html
