"""The words of an alert: Chinese first, then English, with the structured facts beside them.

A KPI alert names the KPI and checkpoint, the latest value, the target, the value expected on
the plan's path (when `kpi.kpi_status` has `expected_value`), the trend's projection, the gap,
the reason (`status_reason_zh` / `status_reason_en` of `kpi.kpi_status`) and the plan section.
An early-warning alert names the KPI, the year and its months so far, the level in the words of
publishing/status_words.py, the year's projection against what the plan requires of it, and the
reason (`warning_reason_zh` / `_en` of `kpi.kpi_early_warning`). Titles carry 碳达峰, the keyword
the city's DingTalk robots are secured with.
"""

from __future__ import annotations

import datetime as dt

from alerts.channels import Message
from alerts.state import NOT_JUDGED, PUBLISHED
from publishing.clock import city_day
from publishing.status_words import (
    STATUS_EN,
    STATUS_ZH,
    WARNING_EN,
    WARNING_ZH,
    status_zh,
    target_symbol,
    warning_label,
)

UNIT_EN = {"万千瓦": "×10⁴ kW", "万吨": "×10⁴ t", "亿立方米": "×10⁸ m³"}
PERCENT_UNITS = ("%", "% change vs base")
EVENTS = {"worse": "carbonpeak.kpi.status-changed", "recovery": "carbonpeak.kpi.status-changed",
          "reminder": "carbonpeak.kpi.still-off-track",
          "data_quality": "carbonpeak.data.quality-failed"}
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")  # not the locale's


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
        change_zh = f"状态：{STATUS_ZH.get(from_status, from_status or '首次检查')} → {STATUS_ZH[status]}"
        change_en = f"status: {status_en(from_status)} → {status_en(status)}"
    text_zh = (f"{title_zh}。{'，'.join(parts_zh)}；原因：{r['status_reason_zh']}；"
               f"规划条款：{r['plan_section']}；{change_zh}。")
    text_en = (f"{title_en}. {', '.join(parts_en)}; reason: {r['status_reason_en']}; "
               f"plan section: {r['plan_section']}; {change_en}.")
    return Message(alert_id, kind, f"kpi:{r['kpi_id']}:{year}", from_status, status, title_zh,
                   title_en, text_zh, text_en, EVENTS[kind],
                   f"carbonpeak.kpi.{r['kpi_id']}.{year}", dict(r), now)


def _warning_words(status: str | None) -> tuple[str, str]:
    """A warning's status in Chinese and English; the levels in status_words' words."""
    if status and status.startswith("warning_"):
        level = int(status.removeprefix("warning_"))
        return WARNING_ZH[level], WARNING_EN[level]
    return {None: ("首次检查", "first check"), NOT_JUDGED: ("尚未判断", "not judged"),
            PUBLISHED: ("年度数据已发布", "yearly figure published")}.get(status, (status, status))


def _period(year: int, month: int) -> tuple[str, str]:
    """`2025年1–12月`, `January–December 2025` (the months the year's projection rests on)."""
    if month == 1:
        return f"{year}年1月", f"January {year}"
    return f"{year}年1–{month}月", f"January–{MONTHS_EN[month - 1]} {year}"


def _sig(value: float | None, digits: int = 4) -> float | None:
    """A projection's meaningful digits (the model's reason shows 4 significant, gaps 3)."""
    return None if value is None else float(f"{value:.{digits}g}")


def _base(r: dict) -> tuple[str, str]:
    """A change vs base says against which year: `（较2020年）`, ` (vs 2020)`."""
    if r["unit"] != "% change vs base":
        return "", ""
    return f"（较{r['base_year']}年）", f" (vs {r['base_year']})"


def _required(r: dict) -> tuple[str, str]:
    """What the plan requires of the year: `2025 年目标 ≤ 660 万吨`, `the 2025 target ≤ 660 ×10⁴ t`.

    The target's own sign in its checkpoint year (≈ 左右, > 超过, 力争), else the KPI's direction.
    """
    year, cp, unit, kind = r["year"], r["checkpoint_year"], r["unit"], r["requirement_kind"]
    sign = target_symbol(r["qualifier"] if kind == "target" else "at_least", r["direction"])
    what_zh = {"target": f"{cp} 年目标", "path": f"按规划路径 {year} 年应",
               "after_last_checkpoint": f"{cp} 年后应不差于上年"}.get(kind, "要求")
    what_en = {"target": f"the {cp} target", "path": f"the plan's path for {year}",
               "after_last_checkpoint": f"after {cp} at least last year's"}.get(kind, "required")
    base_zh, base_en = _base(r)
    stretch = " (stretch goal)" if sign.startswith("力争") else ""
    return (f"{what_zh} {sign} {_with_unit(r['required_value'], unit, 'zh')}{base_zh}",
            f"{what_en} {sign.removeprefix('力争 ')} {_with_unit(r['required_value'], unit, 'en')}"
            f"{base_en}{stretch}")


def render_warning(alert_id: str, kind: str, r: dict, status: str, from_status: str | None,
                   now: dt.datetime) -> Message:
    """Words for a change of a year's early-warning level, or its end (`r`: its latest row)."""
    year, unit, cp = r["year"], r["unit"], r["checkpoint_year"]
    name_zh, name_en = r["name_zh"] or r["kpi_id"], r["name_en"] or r["kpi_id"]
    period_zh, period_en = _period(year, r["through_month"])
    to_zh, to_en = _warning_words(status)
    from_zh, from_en = _warning_words(from_status)
    required_zh, required_en = _required(r)
    base_zh, base_en = _base(r)
    projected_zh = _with_unit(_sig(r["projected_value"]), unit, "zh") + base_zh
    projected_en = _with_unit(_sig(r["projected_value"]), unit, "en") + base_en
    section = r.get("plan_section") or "—"
    if kind == "closed":
        title_zh = f"【碳达峰年度目标预警结束】{name_zh}（{year}年）：年度数据已发布，以年度数值为准"
        title_en = (f"[Carbon-peak early warning closed] {name_en} ({year}): the yearly figure is "
                    "published and now governs")
        actual_zh = _with_unit(_sig(r["actual_value"]), unit, "zh") + base_zh
        actual_en = _with_unit(_sig(r["actual_value"]), unit, "en") + base_en
        checkpoint = r.get("checkpoint_status")  # kpi_status now judges the figure itself
        judged_zh, judged_en = (
            (f"；{cp} 年目标的指标状态：{status_zh(checkpoint)}",
             f"; status of the {cp} target: {STATUS_EN.get(checkpoint, checkpoint)}")
            if checkpoint else ("", ""))
        text_zh = (f"{title_zh}。{year}年实际 {actual_zh}，{required_zh}{judged_zh}；此前告知：{from_zh}"
                   f"（按{period_zh}推算全年 {projected_zh}）；此后不再发送{year}年的年度目标预警；"
                   f"规划条款：{section}。")
        text_en = (f"{title_en}. {year} actual {actual_en}, {required_en}{judged_en}; last told: "
                   f"{from_en} ({period_en} projected {projected_en}); no more early warnings for "
                   f"{year}; plan section: {section}.")
        event = "carbonpeak.kpi.early-warning-closed"
    else:
        if kind == "worse":
            title_zh = f"【碳达峰年度目标预警】{name_zh}（{period_zh}）：{to_zh}"
            title_en = f"[Carbon-peak early warning] {name_en} ({period_en}): {to_en}"
        else:  # recovery: green lifts the warning, yellow only eases it
            lifted = r["warning_level"] == 3
            title_zh = (f"【碳达峰年度目标预警{'解除' if lifted else '降级'}】{name_zh}（{period_zh}）："
                        f"已转为{to_zh}")
            title_en = (f"[Carbon-peak early warning {'lifted' if lifted else 'eased'}] {name_en} "
                        f"({period_en}): now {to_en}")
        # how far short, unsigned (the sign of projected − required depends on the direction)
        short = None if r["gap"] is None else _sig(abs(r["gap"]), 3)
        meets = r["warning_level"] == 3
        text_zh = (f"{title_zh}。全年预计 {projected_zh}，{required_zh}，"
                   f"{'可达到' if meets else '差 ' + _gap(short, unit, 'zh').lstrip('+')}；"
                   f"原因：{r['warning_reason_zh']}；规划条款：{section}；预警等级：{from_zh} → {to_zh}。")
        text_en = (f"{title_en}. Projected for {year}: {projected_en}, {required_en}, "
                   f"{'met' if meets else 'short by ' + _gap(short, unit, 'en').lstrip('+')}; "
                   f"reason: {r['warning_reason_en']}; "
                   f"plan section: {section}; warning level: {from_en} → {to_en}.")
        event = "carbonpeak.kpi.early-warning-changed"
    fields = dict(r) | {"warning_label": warning_label(r["warning_level"]),
                        "period_zh": period_zh, "period_en": period_en}
    return Message(alert_id, kind, f"warning:{r['kpi_id']}:{year}", from_status, status, title_zh,
                   title_en, text_zh, text_en, event,
                   f"carbonpeak.kpi.{r['kpi_id']}.early-warning.{year}", fields, now)


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
