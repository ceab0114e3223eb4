"""The words of an alert: Chinese first, then English, with the structured facts beside them.

A KPI alert names the KPI and checkpoint, the latest value, the target, the value expected on
the plan's path (when `kpi.kpi_status` has `expected_value`), the trend's projection, the gap,
the reason (`status_reason_zh` / `status_reason_en` of `kpi.kpi_status`) and the plan section.
"""

from __future__ import annotations

import datetime as dt

from alerts.channels import Message
from publishing.clock import city_day
from publishing.status_words import STATUS_ZH, target_symbol

UNIT_EN = {"万千瓦": "×10⁴ kW", "万吨": "×10⁴ t", "亿立方米": "×10⁸ m³"}
PERCENT_UNITS = ("%", "% change vs base")
EVENTS = {"worse": "carbonpeak.kpi.status-changed", "recovery": "carbonpeak.kpi.status-changed",
          "reminder": "carbonpeak.kpi.still-off-track",
          "data_quality": "carbonpeak.data.quality-failed"}


def status_en(status: str | None) -> str:
    return (status or "first check").replace("_", " ")


def number(value: float | None) -> str:
    if value is None:
        return "—"
    text = f"{round(float(value), 4):.4f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _with_unit(value: float | None, unit: str, lang: str) -> str:
    if value is None:
        return "—"
    if unit in PERCENT_UNITS:
        return f"{number(value)}%"
    if unit in ("ratio", "year"):
        return number(value)
    return f"{number(value)} {UNIT_EN.get(unit, unit) if lang == 'en' else unit}"


def _gap(value: float | None, unit: str, lang: str) -> str:
    if value is None:
        return "—"
    text = ("+" if value > 0 else "") + number(value)
    if unit in PERCENT_UNITS:
        return f"{text} 个百分点" if lang == "zh" else f"{text} percentage points"
    return f"{text} {UNIT_EN.get(unit, unit) if lang == 'en' else unit}".rstrip()


def render_kpi(alert_id: str, kind: str, r: dict, from_status: str | None, now: dt.datetime,
               since: dt.datetime | None = None) -> Message:
    """Words for a change of a KPI checkpoint's status (`r` is its kpi_status row)."""
    year, unit, status = r["checkpoint_year"], r["unit"], r["status"]
    if kind == "worse":
        title_zh = f"【碳达峰预警】{r['name_zh']}（{year} 年目标）：{STATUS_ZH[status]}"
        title_en = f"[Carbon-peak alert] {r['name_en']} ({year} target): {status_en(status)}"
    elif kind == "recovery":
        title_zh = f"【碳达峰预警解除】{r['name_zh']}（{year} 年目标）：已转为{STATUS_ZH[status]}"
        title_en = (f"[Carbon-peak recovery] {r['name_en']} ({year} target): now "
                    f"{status_en(status)}")
    else:
        day = city_day(since) if since else "?"  # the official's calendar, not UTC's
        title_zh = f"【碳达峰预警提醒】{r['name_zh']}（{year} 年目标）：自 {day} 起持续偏离目标"
        title_en = f"[Carbon-peak reminder] {r['name_en']} ({year} target): off track since {day}"
    sign = target_symbol(r["qualifier"], r.get("direction"))  # the report's and dictionary's too
    target_zh = f"{sign} {_with_unit(r['target_value'], unit, 'zh')}"
    target_en = f"{sign.removeprefix('力争 ')} {_with_unit(r['target_value'], unit, 'en')}"
    if r["qualifier"] == "strive":
        target_en = f"{target_en} (stretch goal)"
    if unit == "% change vs base":
        target_zh, target_en = f"{target_zh}（较基准年）", f"{target_en} (change vs base year)"
    parts_zh = [f"最新值 {_with_unit(r['latest_value'], unit, 'zh')}（{r['latest_year']} 年）",
                f"目标 {target_zh}"]
    parts_en = [f"latest {_with_unit(r['latest_value'], unit, 'en')} ({r['latest_year']})",
                f"target {target_en}"]
    if r.get("expected_value") is not None:
        parts_zh.append(f"按规划路径应为 {_with_unit(r['expected_value'], unit, 'zh')}")
        parts_en.append(f"expected on the plan's path {_with_unit(r['expected_value'], unit, 'en')}")
    if r["latest_year"] is not None and r["latest_year"] < year and r["projected_value"] is not None:
        parts_zh.append(f"预计 {year} 年 {_with_unit(r['projected_value'], unit, 'zh')}")
        parts_en.append(f"projected for {year} {_with_unit(r['projected_value'], unit, 'en')}")
    parts_zh.append(f"差距 {_gap(r['gap'], unit, 'zh')}")
    parts_en.append(f"gap {_gap(r['gap'], unit, 'en')}")
    if kind == "reminder":
        change_zh, change_en = "状态：持续偏离目标", "status: still off track"
    else:
        change_zh = f"状态：{STATUS_ZH.get(from_status, from_status)} → {STATUS_ZH[status]}"
        change_en = f"status: {status_en(from_status)} → {status_en(status)}"
    text_zh = (f"{title_zh}。{'，'.join(parts_zh)}；原因：{r['status_reason_zh']}；"
               f"规划条款：{r['plan_section']}；{change_zh}。")
    text_en = (f"{title_en}. {', '.join(parts_en)}; reason: {r['status_reason_en']}; "
               f"plan section: {r['plan_section']}; {change_en}.")
    return Message(alert_id, kind, f"kpi:{r['kpi_id']}:{year}", from_status, status, title_zh,
                   title_en, text_zh, text_en, EVENTS[kind],
                   f"carbonpeak.kpi.{r['kpi_id']}.{year}", dict(r), now)


def render_data(alert_id: str, kind: str, subject: str, facts: dict, from_status: str | None,
                now: dt.datetime) -> Message:
    """Words for a data problem and its recovery.

    A refused or partly quarantined batch, a late dataset, a department whose source failed.
    """
    who_zh = f"{facts.get('department_zh') or facts['department']}（{facts['department']}）"
    who_en = facts["department"]
    status = facts["status"]
    if subject.startswith("load:"):
        dataset, detail = facts["dataset"], facts.get("detail") or ""
        checks = "; ".join(facts.get("failed_checks") or []) or "—"
        if status == "rejected":
            what_zh = f"数据集 {dataset} 的一批数据未通过校验，整批拒收，原有数据保留不变"
            what_en = f"a batch of {dataset} failed validation and was refused; the previous data stays"
        else:
            what_zh = (f"数据集 {dataset} 有 {facts['rows_quarantined']} 行未通过校验，已隔离，"
                       "其余已入库（`carbonpeak quarantine list` 查看）")
            what_en = (f"{facts['rows_quarantined']} rows of {dataset} failed validation and were "
                       "quarantined; the rest loaded (see `carbonpeak quarantine list`)")
        title_zh, title_en = f"【数据质量告警】{who_zh}", f"[Data-quality alert] {who_en}"
        text_zh = (f"{title_zh}：{what_zh}。{detail}；失败的检查：{checks}；批次 {facts['load_id']}，"
                   f"来源 {facts.get('source_url') or '—'}。")
        text_en = (f"{title_en}: {what_en}. {detail}; failed checks: {checks}; load "
                   f"{facts['load_id']}, source {facts.get('source_url') or '—'}.")
        resource, event = f"carbonpeak.dataset.{dataset}", EVENTS["data_quality"]
    elif subject.startswith("late:"):
        dataset = facts["dataset"]
        if kind == "recovery":
            title_zh, title_en = f"【数据恢复】{who_zh}", f"[Data recovered] {who_en}"
            text_zh = f"{title_zh}：数据集 {dataset} 已按发布周期更新。"
            text_en = f"{title_en}: {dataset} is up to date again."
        else:
            title_zh, title_en = f"【数据迟报告警】{who_zh}", f"[Late data alert] {who_en}"
            kpis = facts.get("kpis") or "—"
            text_zh = (f"{title_zh}：{facts.get('reason_zh') or dataset + ' 未按发布周期更新'}。"
                       f"相关指标显示为“数据过期”，数值为最近一次的结果：{kpis}。")
            text_en = (f"{title_en}: {facts.get('reason_en') or dataset + ' is late'}. The KPIs "
                       f"built from it show as stale, with their last values: {kpis}.")
        resource = f"carbonpeak.dataset.{dataset}"
        event = "carbonpeak.source.recovered" if kind == "recovery" else "carbonpeak.source.late"
    else:
        if kind == "recovery":
            title_zh, title_en = f"【数据恢复】{who_zh}", f"[Data recovered] {who_en}"
            text_zh = f"{title_zh}：数据来源已恢复，上次采集成功。"
            text_en = f"{title_en}: the source answered again at the last run."
        else:
            title_zh, title_en = f"【数据采集失败】{who_zh}", f"[Source failure] {who_en}"
            text_zh = (f"{title_zh}：上次采集失败：{facts.get('error') or '—'}；其数据集 "
                       f"{facts['datasets']} 保留上次成功采集的数据，相关指标状态显示为“数据过期”。")
            text_en = (f"{title_en}: the last fetch failed: {facts.get('error') or '—'}; "
                       f"{facts['datasets']} keep the last good data and their KPIs show as stale.")
        resource = f"carbonpeak.department.{facts['department']}"
        event = "carbonpeak.source.recovered" if kind == "recovery" else "carbonpeak.source.failed"
    return Message(alert_id, kind, subject, from_status, status, title_zh, title_en, text_zh,
                   text_en, event, resource, facts, now)
