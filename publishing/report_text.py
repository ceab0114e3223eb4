"""Small text helpers of the report and its sections: escaping, numbers, units."""

from __future__ import annotations

import math
from html import escape


def h(value: object) -> str:
    """HTML-escaped text (`None` is empty)."""
    return escape("" if value is None else str(value))


def number(value: object) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def is_relative(kpi: dict) -> bool:
    """A `% change vs base` KPI: its values are already changes against the base year."""
    return kpi.get("base_year") is not None and "change" in str(kpi.get("unit") or "")


def unit_text(kpi: dict) -> str:
    """`%`, `万千瓦`, or `% vs 2020` for a change against a base year."""
    return f"% vs {int(kpi['base_year'])}" if is_relative(kpi) else str(kpi.get("unit") or "")
