"""The one table of status words: every place that shows a KPI status to a person reads it here.

The CLI, the report, the data dictionary and the alerts used to carry their own copies, and they
disagreed (已实现 in the report, 已达成 in the alerts). Officials read the same word everywhere.
"""

from __future__ import annotations

STATUS_ZH: dict[str, str] = {
    "achieved": "已实现",
    "on_track": "按计划推进",
    "at_risk": "有风险",
    "off_track": "偏离目标",
    "insufficient_data": "数据不足",
    "stale": "数据过期",
}

STATUS_EN: dict[str, str] = {
    "achieved": "achieved",
    "on_track": "on track",
    "at_risk": "at risk",
    "off_track": "off track",
    "insufficient_data": "insufficient data",
    "stale": "stale",
}


def status_zh(status: str) -> str:
    """The Chinese word for a status; an unknown status is shown as it is (never a KeyError)."""
    return STATUS_ZH.get(status, status)


def status_label(status: str) -> str:
    """Chinese then English, as every table and page shows it: `偏离目标 off track`."""
    return f"{status_zh(status)} {STATUS_EN.get(status, status)}"


# The plan's qualifiers (kpis.yml), as a person reads them: the words of the plan, then English.
QUALIFIER_WORDS: dict[str, str] = {
    "about": "左右 about",
    "at_least": "以上 at least",
    "more_than": "超过 more than",
    "stay_at_least": "稳定在…以上 stay at or above",
    "at_most": "不超过 at most",
    "strive": "力争 strive",
    "full": "全部 full",
}


def target_symbol(qualifier: str, direction: str | None) -> str:
    """The sign before a target: ≈ 左右, > 超过, = full, else ≥ / ≤ in the KPI's direction.

    A lower-is-better `at_least` is a cut at least this large (≤ -14 % change vs base).
    """
    better = "≤" if direction == "lower_is_better" else "≥"
    return {"about": "≈", "more_than": ">", "at_most": "≤", "full": "=",
            "strive": f"力争 {better}"}.get(qualifier, better)


# The year-to-date early warning (kpi.kpi_early_warning), in the NDRC barometer's words
# (节能目标完成情况晴雨表): level 1 is the most severe.
WARNING_ZH: dict[int, str] = {
    1: "一级预警（红色）：形势十分严峻",
    2: "二级预警（黄色）：形势比较严峻",
    3: "三级（绿色）：进展基本顺利",
}

WARNING_EN: dict[int, str] = {
    1: "level 1 (red): very severe",
    2: "level 2 (yellow): fairly severe",
    3: "level 3 (green): broadly on course",
}

WARNING_SHORT: dict[int, str] = {1: "一级 red", 2: "二级 yellow", 3: "三级 green"}


def warning_label(level: int | None) -> str:
    """`一级预警（红色）：形势十分严峻 level 1 (red): very severe`; `—` when there is no level."""
    if level is None:
        return "—"
    return f"{WARNING_ZH.get(level, str(level))} {WARNING_EN.get(level, '')}".strip()
