"""Alerts, sent to real receivers on 127.0.0.1 from a private copy of the default warehouse.

The receivers: an HTTP server (the JSON webhook and the robots' endpoints) and a minimal SMTP
server, enough for smtplib.

Why ~430 lines: every alert kind end to end against a real webhook and SMTP server.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import time
import urllib.parse

import pytest

from alerts.config import AlertsConfigError, read_alerts_config
from flows.settings import PROJECT_ROOT
from tests.alerts.support import (
    MIANYANG_ALERTS,
    _alert_rows,
    _closed_port,
    _config,
    _keys,
)
from warehouse.db import connect

# --- acceptance ------------------------------------------------------------------------------

def test_default_run_alerts_each_off_track_checkpoint_once_then_recovery(
        warehouse_copy, receiver, smtp_server, alert_env, scenario):
    from alerts.send import send_alerts
    from warehouse.catalogue import load_catalogue, read_catalogue
    from warehouse.kpi_views import generated_models
    from warehouse.models import build_models

    off_track, strive = scenario["off_track"], scenario["strive"]
    config = read_alerts_config(MIANYANG_ALERTS)
    assert [c.name for c in config.channels if c.type != "prefect_event"] == ["webhook", "email"]
    con = connect(warehouse_copy)

    results = send_alerts(con, config)
    posts = receiver.to("/hook")
    assert len(posts) == len(off_track) and _keys(posts) == off_track
    assert len(smtp_server.messages) == len(off_track)
    assert all(m["to"] == ["<ops@example.org>", "<fgw@example.org>"] for m in smtp_server.messages)
    coal = next(p["body"] for p in posts if p["body"]["fields"]["kpi_id"] == "raw_coal_consumption")
    assert coal["kind"] == "worse" and coal["to_status"] == "off_track"
    assert coal["fields"]["latest_value"] == 671.0 and coal["fields"]["target_value"] == 660.0
    assert coal["message_zh"].startswith("【碳达峰预警】原煤消费量（2025 年目标）：偏离目标。")
    # value, target, the plan's path value (the status engine's expected_value) and the gap
    assert "最新值 671 万吨（2025 年），目标 ≤ 660 万吨，按规划路径应为 660 万吨，差距 +11 万吨" \
        in coal["message_zh"]
    assert "规划条款：二(一)4" in coal["message_zh"]
    assert "[Carbon-peak alert] raw coal consumption (2025 target): off track" in coal["message_en"]
    mail = next(m for m in smtp_server.mails() if "原煤消费量" in m["Subject"])
    assert "target ≤ 660 ×10⁴ t" in mail.get_body(("plain",)).get_content()
    # a mail servers accept and an official can read: dated, identified, a plain and an HTML part
    assert mail["Date"] and mail["Date"].datetime.utcoffset().total_seconds() == 8 * 3600
    assert mail["Message-ID"].startswith("<") and mail["Message-ID"].endswith("@example.org>")
    assert mail.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in mail.iter_parts()] == ["text/plain", "text/html"]
    page = mail.get_body(("html",)).get_content()
    assert "<table" in page
    assert "<th style='text-align:left;padding:4px 8px;background:#f1f5f9'>指标 KPI" in page
    assert "偏离目标 off track" in page and "671.0" in page and "660.0" in page
    # strive targets: decided and recorded, never sent
    suppressed = _alert_rows(con, "status = 'suppressed'")
    assert {(r["kpi_id"], r["checkpoint_year"]) for r in suppressed} == strive
    assert not _keys(posts) & strive
    assert len(results) == len(off_track) + len(strive)
    recorded = _alert_rows(con, "channel in ('webhook', 'email')")
    assert len(recorded) == 2 * len(off_track) and {r["status"] for r in recorded} == {"sent"}

    # an identical second run: nothing sent, nothing written
    counts = con.execute("select (select count(*) from meta.alerts), "
                         "(select max(changed_at) from meta.alert_state)").fetchone()
    assert send_alerts(con, config) == []
    assert len(receiver.posts) == len(off_track) and len(smtp_server.messages) == len(off_track)
    assert con.execute("select (select count(*) from meta.alerts), "
                       "(select max(changed_at) from meta.alert_state)").fetchone() == counts

    # the public institutions cut their 2025 energy use by 3 %: per capita now beats its -6 % target
    con.execute("update raw.public_institutions__energy_use set energy_tce = energy_tce * 0.97 "
                "where year = 2025")
    catalogue = read_catalogue(PROJECT_ROOT / "config" / "mianyang" / "kpis.yml")
    build_models(con, PROJECT_ROOT / "dbt_like_sql", "mart_public_institutions__energy_yearly+",
                 seed=lambda c: load_catalogue(c, catalogue), generated=generated_models(catalogue))
    assert con.execute("select status from kpi.kpi_status where kpi_id = "
                       "'public_inst_energy_per_capita'").fetchone() == ("achieved",)
    results = send_alerts(con, config)
    assert [(r.kind, r.subject, r.from_status, r.to_status) for r in results] == [
        ("recovery", "kpi:public_inst_energy_per_capita:2025", "off_track", "achieved")]
    [post] = receiver.posts[len(off_track):]
    assert post["body"]["kind"] == "recovery"
    assert post["body"]["title_zh"] == "【碳达峰预警解除】公共机构人均综合能耗（2025 年目标）：已转为已实现"
    assert len(smtp_server.messages) == len(off_track) + 1
    assert send_alerts(con, config) == []
    con.close()


def test_reminder_every_30_days_while_off_track(warehouse_copy, receiver, tmp_path, scenario):
    from alerts.send import send_alerts

    off_track, strive = scenario["off_track"], scenario["strive"]
    config = _config(tmp_path, f"""
remind_every_days: 30
channels:
  webhook: {{type: webhook, url: "{receiver.url}/hook"}}
""")
    con = connect(warehouse_copy)
    t0 = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
    assert len(send_alerts(con, config, now=t0)) == len(off_track) + len(strive)
    assert send_alerts(con, config, now=t0 + dt.timedelta(days=29)) == []
    reminders = send_alerts(con, config, now=t0 + dt.timedelta(days=30))
    assert {r.kind for r in reminders} == {"reminder"}
    posts = receiver.posts[len(off_track):]
    assert _keys(posts) == off_track and len(posts) == len(off_track)
    assert all("自 2026-03-01 起持续偏离目标" in p["body"]["title_zh"] for p in posts)
    assert send_alerts(con, config, now=t0 + dt.timedelta(days=45)) == []
    assert len(send_alerts(con, config, now=t0 + dt.timedelta(days=61))) == len(reminders)
    con.close()


def test_alert_at_at_risk_also_alerts_at_risk_checkpoints(warehouse_copy, receiver, tmp_path, scenario):
    from alerts.send import send_alerts

    off_track = scenario["off_track"]
    config = _config(tmp_path, f"""
alert_at: at_risk
channels:
  webhook: {{type: webhook, url: "{receiver.url}/hook"}}
""")
    con = connect(warehouse_copy)
    send_alerts(con, config)
    con.close()
    assert _keys(receiver.posts) == off_track | scenario["at_risk"]


# --- channels ----------------------------------------------------------------------------------

def test_dingtalk_signed_and_wecom_robots_get_their_payloads(warehouse_copy, receiver, tmp_path, scenario):
    from alerts.send import send_alerts

    off_track = scenario["off_track"]
    secret = "SEC0123456789abcdef+/="
    config = _config(tmp_path, f"""
channels:
  dingtalk:
    type: dingtalk
    base_url: {receiver.url}/robot/send
    token_env: DINGTALK_TOKEN
    secret_env: DINGTALK_SECRET
  wecom:
    type: wecom
    base_url: {receiver.url}/cgi-bin/webhook/send
    key_env: WECOM_KEY
""", env={"DINGTALK_TOKEN": "tok-ding", "DINGTALK_SECRET": secret, "WECOM_KEY": "key-wecom"})
    con = connect(warehouse_copy)
    before = time.time() * 1000
    send_alerts(con, config)
    con.close()

    ding, wecom = receiver.to("/robot/send"), receiver.to("/cgi-bin/webhook/send")
    assert len(ding) == len(wecom) == len(off_track)
    for post in ding:
        query = urllib.parse.parse_qs(post["query"])  # decodes once: DingTalk's reading
        assert query["access_token"] == ["tok-ding"]
        timestamp = query["timestamp"][0]
        assert before - 1000 <= int(timestamp) <= time.time() * 1000
        expected = base64.b64encode(hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(),
                                             hashlib.sha256).digest()).decode()
        assert query["sign"] == [expected]
        assert "%25" not in post["query"]  # encoded once, not twice
        assert post["body"].keys() == {"msgtype", "text"} and post["body"]["msgtype"] == "text"
    for post in wecom:
        assert urllib.parse.parse_qs(post["query"]) == {"key": ["key-wecom"]}
        assert post["body"]["msgtype"] == "text" and post["body"]["text"].keys() == {"content"}
    content = next(p["body"]["text"]["content"] for p in wecom if "原煤" in p["body"]["text"]["content"])
    zh, en = content.split("\n\n")
    assert zh.startswith("【碳达峰预警】原煤消费量") and en.startswith("[Carbon-peak alert] raw coal")


def test_failing_channels_are_retried_recorded_and_do_not_block_the_others(
        warehouse_copy, receiver, smtp_server, tmp_path, scenario):
    from alerts.send import send_alerts

    off_track = scenario["off_track"]
    closed = _closed_port()
    config = _config(tmp_path, f"""
retry: {{attempts: 3, backoff_s: 0.01}}
channels:
  webhook: {{type: webhook, url: "{receiver.url}/fail/hook"}}
  dingtalk:
    type: dingtalk
    base_url: http://127.0.0.1:{closed}/robot/send
    token_env: DINGTALK_TOKEN
    retry: {{attempts: 2}}
  slack_like: {{type: webhook, url_env: HOOK_URL, retry: {{attempts: 1}}}}
  email: {{type: smtp, host: 127.0.0.1, port: {smtp_server.port}, security: none,
           from: carbonpeak@example.org, to: ops@example.org}}
""", env={"DINGTALK_TOKEN": "very-secret-token",
          # a webhook whose URL path is the secret: requests' errors quote the path alone
          "HOOK_URL": f"http://127.0.0.1:{closed}/hooks/T000/B000/SUPERSECRETXYZ"})
    con = connect(warehouse_copy)
    results = send_alerts(con, config)
    assert len(smtp_server.messages) == len(off_track)  # e-mail delivered every alert
    sent = [r for r in results if r.sent]
    assert len(sent) == len(off_track)
    # the first alert tries the webhook 3 times; once it is known down, later ones try once
    assert len(receiver.to("/fail/hook")) == 3 + len(off_track) - 1
    webhook = _alert_rows(con, "channel = 'webhook'")
    assert [r["attempts"] for r in webhook] == [3] + [1] * (len(off_track) - 1)
    assert {r["status"] for r in webhook} == {"failed"} and "HTTP 500" in webhook[0]["error"]
    ding = _alert_rows(con, "channel = 'dingtalk'")
    assert ding[0]["attempts"] == 2 and {r["status"] for r in ding} == {"failed"}
    assert "ConnectionError" in ding[0]["error"]
    assert not any("very-secret-token" in r["error"] for r in ding)  # redacted
    hook = _alert_rows(con, "channel = 'slack_like'")
    assert hook and {r["status"] for r in hook} == {"failed"}
    assert not any("SUPERSECRETXYZ" in r["error"] or "/hooks/" in r["error"] for r in hook)
    # delivered by e-mail: not sent again, the webhook's failure stays on record
    assert send_alerts(con, config) == []
    con.close()


def test_an_alert_no_channel_delivered_is_sent_at_the_next_run(warehouse_copy, receiver, tmp_path, scenario):
    from alerts.send import send_alerts

    off_track = scenario["off_track"]
    broken = _config(tmp_path, f"""
retry: {{attempts: 1}}
channels:
  webhook: {{type: webhook, url: "{receiver.url}/fail/hook"}}
""")
    con = connect(warehouse_copy)
    assert not any(r.sent for r in send_alerts(con, broken))
    fixed = _config(tmp_path, f"""
channels:
  webhook: {{type: webhook, url: "{receiver.url}/hook"}}
""")
    results = send_alerts(con, fixed)
    assert _keys(receiver.to("/hook")) == off_track
    assert {(r.from_status, r.to_status) for r in results} == {(None, "off_track")}
    con.close()


# --- data problems -----------------------------------------------------------------------------

def test_failed_department_late_dataset_and_refused_batch_alert_once_then_recover(
        warehouse_copy, receiver, tmp_path, mianyang_sources):
    from alerts.send import send_alerts
    from warehouse.health import record_health

    config = _config(tmp_path, f"""
channels:
  webhook: {{type: webhook, url: "{receiver.url}/hook"}}
""")
    con = connect(warehouse_copy)
    send_alerts(con, config)
    receiver.posts.clear()
    energy = mianyang_sources.department("energy")
    now = dt.datetime.now(dt.UTC)
    record_health(con, energy, "source `energy.balance` (http://127.0.0.1:1): connection failed")
    seq = con.execute("select nextval('meta.load_seq')").fetchone()[0]
    con.execute("insert into meta.load_log values ('forestry__forest_resources-bad', ?, null, "
                "'forestry', 'forestry__forest_resources', 'rejected', 'http://127.0.0.1:1/f.csv', "
                "'abc', ?, ?, 12, 0, 0, 0, 0, 12, 'columns missing: 森林覆盖率')", [seq, now, now])
    con.execute("insert into meta.validation_results values "
                "('forestry__forest_resources-bad', 'forestry__forest_resources', "
                "'expect_table_columns_to_match_set(...)', 'expect_table_columns_to_match_set', "
                "'expect_table_columns_to_match_set', 'error', false, null, 'missing: coverage_pct', ?)",
                [now])
    # the vehicle register stopped after June 2025: judged by age (the model is a view)
    con.execute("update config.datasets set latest_period_end = date '2025-06-30' "
                "where dataset = 'transport__vehicles'")
    assert con.execute("select count(*) from kpi.kpi_status where kpi_id = 'raw_coal_consumption' "
                       "and status = 'stale'").fetchone()[0] == 1

    results = send_alerts(con, config, departments={"energy": "发展改革委 / 统计局"})
    assert sorted((r.kind, r.subject, r.to_status) for r in results) == [
        ("data_quality", "load:forestry__forest_resources-bad", "rejected"),
        ("late_source", "late:transport__vehicles", "late"),
        ("late_source", "source:energy", "failed")]  # stale KPIs say nothing by themselves
    source = next(p["body"] for p in receiver.posts if p["body"]["subject"] == "source:energy")
    assert source["message_zh"].startswith("【数据采集失败】发展改革委 / 统计局（energy）")
    assert "connection failed" in source["message_en"]
    refused = next(p["body"] for p in receiver.posts if p["body"]["kind"] == "data_quality")
    assert "整批拒收" in refused["message_zh"] and "missing: coverage_pct" in refused["message_en"]
    assert send_alerts(con, config) == []

    late = next(p["body"] for p in receiver.posts if p["body"]["subject"] == "late:transport__vehicles")
    assert late["message_zh"].startswith(
        "【数据迟报告警】交通运输局 / 公安交管（transport）："
        "交通运输局 / 公安交管（transport）的transport__vehicles数据"
        "自2025-06以来没有更新：月度数据应在期末后45天内发布，2025-07数据应于2025-09-14前发布")
    assert "so 2025-07 was due by 2025-09-14" in late["message_en"]
    assert "新能源" in late["message_zh"]  # the KPIs it feeds are named

    record_health(con, energy)
    con.execute("update config.datasets set latest_period_end = date '2025-12-31' "
                "where dataset = 'transport__vehicles'")
    results = send_alerts(con, config)
    # energy recovers; raw coal is off_track again, as was last told: no new KPI alert
    assert sorted((r.kind, r.subject, r.from_status, r.to_status) for r in results) == [
        ("recovery", "late:transport__vehicles", "late", "ok"),
        ("recovery", "source:energy", "failed", "ok")]
    con.close()


# --- Prefect -------------------------------------------------------------------------------------

def test_alert_flow_emits_prefect_events(prefect_harness, warehouse_copy, receiver, alert_env,
                                         monkeypatch, scenario):
    from prefect.client.orchestration import get_client
    from prefect.events.filters import EventFilter, EventNameFilter, EventOccurredFilter

    off_track = scenario["off_track"]
    from flows.alerting import alert

    monkeypatch.setenv("CARBONPEAK_WAREHOUSE", str(warehouse_copy))
    start = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    results = alert()
    ids = {r.alert_id for r in results if r.sent}
    assert len(ids) == len(off_track)
    assert all("prefect sent" in " ".join(f"{d.channel} {d.status}" for d in r.deliveries)
               for r in results if r.sent)
    wanted = EventFilter(event=EventNameFilter(name=["carbonpeak.kpi.status-changed"]),
                         occurred=EventOccurredFilter(since=start))
    events = []
    with get_client(sync_client=True) as client:
        for _ in range(60):  # the server persists events in batches: about 1-5 s
            events = [e for e in client.read_events(wanted, limit=50).events
                      if e.payload.get("alert_id") in ids]
            if len(events) == len(ids):
                break
            time.sleep(0.25)
    assert {e.resource.id for e in events} == {f"carbonpeak.kpi.{k}.{y}" for k, y in off_track}
    coal = next(e for e in events if e.resource.id == "carbonpeak.kpi.raw_coal_consumption.2025")
    assert coal.payload["fields"]["gap"] == 11.0 and coal.payload["kind"] == "worse"


# --- configuration ---------------------------------------------------------------------------------

def test_config_rules(tmp_path, warehouse_copy):
    from alerts.send import send_alerts

    with pytest.raises(AlertsConfigError, match=r"channel `robot`, key `token`: secrets do not go"):
        _config(tmp_path, "channels:\n  robot: {type: dingtalk, token: abc}\n")
    with pytest.raises(AlertsConfigError, match="unknown type `slack`"):
        _config(tmp_path, "channels:\n  chat: {type: slack}\n")
    config = _config(tmp_path, "channels:\n  webhook: {type: webhook, url_env: NOT_SET}\n"
                     "  mail: {type: smtp, enabled: false, host: h, from: a, to: b}\n")
    assert config.channels == () and dict(config.skipped) == {
        "webhook": "`NOT_SET` is not set", "mail": "disabled in alerts.yml"}
    # no channel can send: nothing is recorded as told, so a channel set up later gets the alerts
    con = connect(warehouse_copy)
    assert send_alerts(con, config) and not con.execute("select count(*) from meta.alerts "
                                                        "where channel <> '-'").fetchone()[0]
    # a city without alerts.yml sends nothing and writes nothing
    assert read_alerts_config(PROJECT_ROOT / "config" / "qingshui" / "alerts.yml") is None
    assert send_alerts(con, None) == []
    con.close()


def test_alerts_list_shows_the_latest_attempts(warehouse_copy, receiver, tmp_path, monkeypatch, capsys):
    from alerts.send import send_alerts
    from cli.main import main

    config = _config(tmp_path, f"""
channels:
  webhook: {{type: webhook, url: "{receiver.url}/hook"}}
""")
    con = connect(warehouse_copy)
    assert any(r.sent for r in send_alerts(con, config))
    attempts = con.execute("select count(*) from meta.alerts").fetchone()[0]
    con.close()
    monkeypatch.setenv("CARBONPEAK_WAREHOUSE", str(warehouse_copy))
    assert main(["alerts", "list", "--limit", "100"]) == 0
    out = capsys.readouterr().out
    assert "原煤消费量" in out and "webhook" in out and "sent" in out
    assert f"{min(attempts, 100)} attempt(s) shown" in out
    assert main(["alerts", "list", "--limit", "2"]) == 0
    assert "2 attempt(s) shown" in capsys.readouterr().out


def test_a_department_that_stops_publishing_turns_stale_and_pages_once(
        warehouse_copy, receiver, tmp_path, mianyang_sources):
    """Nothing new arrives from forestry after 2022: no batch, no validation; its age alone tells."""
    from alerts.send import send_alerts
    from tests.helpers import build
    from warehouse.kpi import read_kpi_status_through

    config = _config(tmp_path, f"""
channels:
  webhook: {{type: webhook, url: "{receiver.url}/hook"}}
""")
    con = connect(warehouse_copy)
    send_alerts(con, config)  # what the default run already told
    receiver.posts.clear()
    con.execute("delete from raw.forestry__forest_resources where year > 2022")
    build(con, mianyang_sources)  # judged on 2026-03-01, the embedded data's date
    rows = {(r[0], r[1]): r[2:] for r in con.execute(
        "select kpi_id, checkpoint_year, status, performance_status, status_reason_en, "
        "status_reason_zh from kpi.kpi_status").fetchall()}
    stale = sorted(k for k, r in rows.items() if r[0] == "stale")
    assert stale == [("forest_coverage", 2025), ("forest_coverage", 2030),
                     ("forest_stock_volume", 2025), ("forest_stock_volume", 2030)]
    _, performance, reason_en, reason_zh = rows["forest_coverage", 2025]
    assert reason_en.startswith(
        "stale: late data: no new data from forestry (forestry__forest_resources) since 2022: "
        "yearly periods are due 180 days after they end, so 2023 was due by 2024-06-28 and 2024 by "
        "2025-06-29 (as of 2026-03-01). The last values show ")
    assert reason_zh.startswith("数据过期：数据迟报：林业局（forestry）的forestry__forest_resources数据"
                                "自2022年以来没有更新")

    results = send_alerts(con, config, departments={"forestry": "林业局"})
    assert [(r.kind, r.subject, r.to_status) for r in results] == [
        ("late_source", "late:forestry__forest_resources", "late")]
    (post,) = [p["body"] for p in receiver.posts]
    assert post["message_zh"].startswith("【数据迟报告警】林业局（forestry）：")
    assert "森林覆盖率 forest coverage" in post["message_zh"]
    assert send_alerts(con, config) == []  # once

    # the status as it stood at the end of each year, with what was held then
    through = {y: {(r["kpi_id"], r["checkpoint_year"]): r["status"]
                   for r in read_kpi_status_through(con, PROJECT_ROOT / "dbt_like_sql", y)}
               for y in (2023, 2024)}
    assert through[2023]["forest_coverage", 2025] != "stale"  # 2023 was not due before mid-2024
    assert through[2024]["forest_coverage", 2025] == "stale"
    assert through[2024]["clean_power_capacity", 2025] != "stale"
    con.close()
