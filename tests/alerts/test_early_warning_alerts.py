"""The year-to-date early warning (年度目标预警) as alerts, from real warehouses to a real webhook.

`warning_warehouse` holds the default scenario before the 2025 yearly energy statistics appear:
the warnings of 2025 are current (January–December), raw coal 一级 (red, projected ≈ 671 万吨
against ≤ 660), energy per unit GDP and the non-fossil share 三级 (green). Each test copies it,
changes what the model reads where it needs another level, and rebuilds.
"""

from __future__ import annotations

import shutil

import pytest

from alerts.config import read_alerts_config
from alerts.send import send_alerts
from flows.settings import PROJECT_ROOT
from publishing.status_words import WARNING_EN, WARNING_ZH, warning_label
from tests.alerts.support import MIANYANG_ALERTS, _alert_rows, _config
from tests.conftest import YEARLY_ENERGY_TABLES
from tests.helpers import build
from warehouse.db import connect

COAL = "warning:raw_coal_consumption:2025"


@pytest.fixture
def warehouse(warning_warehouse, tmp_path):
    """A private copy of `warning_warehouse` (alerts write their state into it)."""
    copy = tmp_path / "warning.duckdb"
    shutil.copyfile(warning_warehouse, copy)
    return copy


def _webhook(tmp_path, receiver, alert_at: str = "off_track"):
    return _config(tmp_path, f"""
alert_at: {alert_at}
channels:
  webhook: {{type: webhook, url: "{receiver.url}/hook"}}
""")


def _warnings(results) -> list[tuple]:
    return [(r.kind, r.subject, r.from_status, r.to_status) for r in results
            if r.subject.startswith("warning:")]


def _posted(receiver, path: str = "/hook") -> list[dict]:
    return [p["body"] for p in receiver.to(path) if p["body"]["subject"].startswith("warning:")]


def _states(con) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in con.execute(
        "select subject, last_status, alerted_status from meta.alert_state "
        "where subject like 'warning:%'").fetchall()}


def _footprint(con) -> tuple:
    return con.execute("select (select count(*) from meta.alerts), "
                       "(select max(changed_at) from meta.alert_state)").fetchone()


def _coal(con) -> tuple:
    """Raw coal's current warning of 2025: (level, projected value, through month)."""
    return con.execute("select warning_level, projected_value, through_month "
                       "from kpi.kpi_early_warning where kpi_id = 'raw_coal_consumption' "
                       "and year = 2025 and is_current").fetchone()


def _scale_raw_coal(con, sources, factor: float) -> None:
    """The statistics bureau revises 2025's monthly raw coal by `factor`; the models rebuild."""
    con.execute("update raw.energy__monthly set monthly_tce = monthly_tce * ? "
                "where year = 2025 and variety = '原煤'", [factor])
    build(con, sources)


def test_first_send_pages_the_red_warning_once_and_a_rerun_is_silent(
        warehouse, receiver, smtp_server, alert_env):
    config = read_alerts_config(MIANYANG_ALERTS)  # alert_at off_track: only 一级 pages
    con = connect(warehouse)
    results = send_alerts(con, config)
    assert _warnings(results) == [("worse", COAL, None, "warning_1")]
    [body] = _posted(receiver)  # the two green warnings never page
    assert body["title_zh"] == f"【碳达峰年度目标预警】原煤消费量（2025年1–12月）：{WARNING_ZH[1]}"
    assert body["title_en"] == ("[Carbon-peak early warning] raw coal consumption "
                                f"(January–December 2025): {WARNING_EN[1]}")
    zh, en = body["message_zh"], body["message_en"]
    assert "全年预计 671 万吨，2025 年目标 ≤ 660 万吨，差 11 万吨" in zh
    # the model's own reason, and the change of level
    assert ("原因：按2025年1–12月同比+0.5%推算，全年预计为671万吨（2024年实际：668）；"
            "2025年目标≤660，差11，且较上年无改善") in zh
    assert f"规划条款：二(一)4；预警等级：首次检查 → {WARNING_ZH[1]}。" in zh
    assert "Projected for 2025: 671 ×10⁴ t, the 2025 target ≤ 660 ×10⁴ t, short by 11 ×10⁴ t" in en
    assert "missed by 11, and no better than last year" in en
    fields = body["fields"]
    assert (fields["kpi_id"], fields["year"], fields["checkpoint_year"], fields["through_month"],
            fields["warning_level"]) == ("raw_coal_consumption", 2025, 2025, 12, 1)
    assert fields["projected_value"] == pytest.approx(671.0, abs=0.05)
    assert fields["required_value"] == 660.0 and fields["gap"] == pytest.approx(11.0, abs=0.05)
    assert fields["warning_label"] == warning_label(1) and fields["is_pageable"] is True
    # the e-mail: its table shows the warning's facts
    [mail] = [m for m in smtp_server.mails() if "年度目标预警" in m["Subject"]]
    page = mail.get_body(("html",)).get_content()
    assert "预警等级 warning level" in page and warning_label(1) in page
    assert "期间 months" in page and "2025年1–12月" in page
    # recorded per channel; the greens are remembered, nothing is outstanding for them
    # (a Prefect event too, when another test of the session started a Prefect API)
    rows = _alert_rows(con, f"subject = '{COAL}' and channel in ('webhook', 'email')")
    assert {(r["channel"], r["status"], r["kpi_id"], r["checkpoint_year"]) for r in rows} == {
        ("webhook", "sent", "raw_coal_consumption", 2025),
        ("email", "sent", "raw_coal_consumption", 2025)}
    assert _states(con) == {COAL: ("warning_1", "warning_1"),
                            "warning:energy_intensity_change:2025": ("warning_3", None),
                            "warning:nonfossil_energy_share:2025": ("warning_3", None)}

    # nothing changed: nothing sent, nothing written
    before, posts, mails = _footprint(con), len(receiver.posts), len(smtp_server.messages)
    assert send_alerts(con, config) == []
    assert (_footprint(con), len(receiver.posts), len(smtp_server.messages)) == (before, posts, mails)
    con.close()


def test_a_change_of_level_alerts_once_each_way(warehouse, receiver, tmp_path, mianyang_sources):
    config = _webhook(tmp_path, receiver)
    con = connect(warehouse)
    send_alerts(con, config)
    receiver.posts.clear()

    # 1 % less raw coal in 2025: projected 664.3, still short of 660 but better than 2024's 668
    _scale_raw_coal(con, mianyang_sources, 0.99)
    assert _coal(con)[0] == 2
    assert _warnings(send_alerts(con, config)) == [("recovery", COAL, "warning_1", "warning_2")]
    [body] = _posted(receiver)
    assert body["title_zh"] == f"【碳达峰年度目标预警降级】原煤消费量（2025年1–12月）：已转为{WARNING_ZH[2]}"
    assert body["title_en"].startswith("[Carbon-peak early warning eased] raw coal consumption")
    assert "全年预计 664.3 万吨，2025 年目标 ≤ 660 万吨，差 4.3 万吨" in body["message_zh"]
    assert f"预警等级：{WARNING_ZH[1]} → {WARNING_ZH[2]}。" in body["message_zh"]
    # 二级 is below alert_at: nothing is outstanding any more
    assert _states(con)[COAL] == ("warning_2", None)
    assert send_alerts(con, config) == [] and len(_posted(receiver)) == 1

    # the revision is withdrawn: red again, told once
    _scale_raw_coal(con, mianyang_sources, 1 / 0.99)
    assert _coal(con)[0] == 1
    assert _warnings(send_alerts(con, config)) == [("worse", COAL, "warning_2", "warning_1")]
    assert _posted(receiver)[-1]["title_zh"].endswith(WARNING_ZH[1])
    assert send_alerts(con, config) == [] and len(_posted(receiver)) == 2
    con.close()


def test_alert_at_at_risk_pages_yellow_and_lifts_at_green(warehouse, receiver, tmp_path,
                                                           mianyang_sources):
    config = _webhook(tmp_path, receiver, alert_at="at_risk")
    con = connect(warehouse)
    _scale_raw_coal(con, mianyang_sources, 0.99)  # 二级 yellow before anything was told
    assert _warnings(send_alerts(con, config)) == [("worse", COAL, None, "warning_2")]
    [body] = _posted(receiver)  # green still never pages
    assert body["title_zh"] == f"【碳达峰年度目标预警】原煤消费量（2025年1–12月）：{WARNING_ZH[2]}"
    assert "2025年目标≤660，差4.3，但较上年改善" in body["message_zh"]  # the model's reason
    assert _states(con)[COAL] == ("warning_2", "warning_2")

    _scale_raw_coal(con, mianyang_sources, 0.97)  # projected ≈ 644: meets ≤ 660
    assert _coal(con)[0] == 3
    assert _warnings(send_alerts(con, config)) == [("recovery", COAL, "warning_2", "warning_3")]
    body = _posted(receiver)[-1]
    assert body["title_zh"] == f"【碳达峰年度目标预警解除】原煤消费量（2025年1–12月）：已转为{WARNING_ZH[3]}"
    assert body["title_en"].endswith(f"now {WARNING_EN[3]}")
    assert "2025 年目标 ≤ 660 万吨，可达到" in body["message_zh"]
    assert _states(con)[COAL] == ("warning_3", None)
    assert send_alerts(con, config) == [] and len(_posted(receiver)) == 2
    con.close()


def test_a_warning_not_judged_never_alerts_and_keeps_what_was_told(
        warehouse, receiver, tmp_path, mianyang_sources):
    config = _webhook(tmp_path, receiver)
    con = connect(warehouse)
    send_alerts(con, config)
    # the monthly table of 2024 withdrawn: nothing to project 2025 from
    con.execute("delete from raw.energy__monthly where year = 2024")
    build(con, mianyang_sources)
    assert _coal(con) == (None, None, 12)
    assert _warnings(send_alerts(con, config)) == []
    assert len(_posted(receiver)) == 1
    assert _states(con)[COAL] == ("not_judged", "warning_1")  # still the last word on the year
    before = _footprint(con)
    assert send_alerts(con, config) == [] and _footprint(con) == before
    con.close()


def test_the_published_yearly_figure_closes_a_told_warning_once_and_ends_the_rest(
        warehouse, default_warehouse, receiver, tmp_path, mianyang_sources):
    config = _webhook(tmp_path, receiver)
    con = connect(warehouse)
    send_alerts(con, config)
    # the 2025 yearly statistics appear (those of the default scenario)
    con.execute(f"attach '{default_warehouse}' as published (read_only)")
    for table in YEARLY_ENERGY_TABLES:
        con.execute(f"insert into raw.{table} select * from published.raw.{table} where year = 2025")
    con.execute("detach published")
    build(con, mianyang_sources)
    assert _coal(con) is None  # no longer current: kpi_status judges the figure itself

    assert _warnings(send_alerts(con, config)) == [("closed", COAL, "warning_1", "published")]
    body = _posted(receiver)[-1]
    assert body["title_zh"] == ("【碳达峰年度目标预警结束】原煤消费量（2025年）："
                                "年度数据已发布，以年度数值为准")
    assert body["title_en"] == ("[Carbon-peak early warning closed] raw coal consumption (2025): "
                                "the yearly figure is published and now governs")
    assert ("2025年实际 671 万吨，2025 年目标 ≤ 660 万吨；2025 年目标的指标状态：偏离目标；"
            f"此前告知：{WARNING_ZH[1]}（按2025年1–12月推算全年 671 万吨）") in body["message_zh"]
    assert "status of the 2025 target: off track" in body["message_en"]
    assert body["fields"]["actual_value"] == 671.0
    # every warning of 2025 has ended, the two never told silently; nothing is outstanding
    assert _states(con) == {COAL: ("published", None),
                            "warning:energy_intensity_change:2025": ("published", None),
                            "warning:nonfossil_energy_share:2025": ("published", None)}
    before = _footprint(con)
    assert send_alerts(con, config) == [] and _footprint(con) == before

    # a channel added later gets the alerts still open, never the ended warning
    with_second = _config(tmp_path, f"""
channels:
  webhook: {{type: webhook, url: "{receiver.url}/hook"}}
  second: {{type: webhook, url: "{receiver.url}/second"}}
""")
    assert send_alerts(con, with_second) == []
    assert receiver.to("/second") and _posted(receiver, "/second") == []
    con.close()


def test_a_strive_warning_is_recorded_never_sent(warehouse, receiver, tmp_path, mianyang_sources):
    """No 力争 KPI has monthly data in Mianyang: a catalogue where the raw-coal target is strived for."""
    from source_server import SNAPSHOT_DATE
    from tests.helpers import MIANYANG_CITY
    from warehouse.catalogue import read_catalogue
    from warehouse.kpi_views import generated_models
    from warehouse.models import build_models
    from warehouse.seed import build_seed

    text = (PROJECT_ROOT / "config" / "mianyang" / "kpis.yml").read_text(encoding="utf-8")
    at_most = "target_value: 660\n        qualifier: at_most"
    assert text.count(at_most) == 1
    variant = tmp_path / "kpis.yml"
    variant.write_text(text.replace(at_most, "target_value: 660\n        qualifier: strive"),
                       encoding="utf-8")
    catalogue = read_catalogue(variant)

    con = connect(warehouse)
    build_models(con, PROJECT_ROOT / "dbt_like_sql", seed=build_seed(
        catalogue, MIANYANG_CITY, mianyang_sources, SNAPSHOT_DATE), generated=generated_models(catalogue))
    assert con.execute("select warning_level, is_pageable from kpi.kpi_early_warning where "
                       "kpi_id = 'raw_coal_consumption' and is_current").fetchone() == (1, False)

    config = _webhook(tmp_path, receiver)
    results = send_alerts(con, config)
    assert _warnings(results) == [("worse", COAL, None, "warning_1")]
    assert _posted(receiver) == []
    [row] = _alert_rows(con, f"subject = '{COAL}'")
    assert (row["channel"], row["status"]) == ("-", "suppressed")
    assert "力争 ≤ 660 万吨" in row["message_zh"] and "(stretch goal)" in row["message_en"]
    assert _states(con)[COAL] == ("warning_1", "warning_1")
    before = _footprint(con)
    assert send_alerts(con, config) == [] and _footprint(con) == before
    con.close()
