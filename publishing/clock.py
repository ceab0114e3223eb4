"""The city's clock: every time and "today" shown to a person is Beijing time (Asia/Shanghai).

Officials read Beijing time, and departments publish on it; DuckDB stores `timestamptz` in UTC and
the servers run on UTC. Left alone, a load at 09:00 Beijing time shows as 01:00, and "today" for
freshness turns over at 08:00 in the morning. Every surface converts here, and says which clock it
shows, so nobody has to guess.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

CITY_TIMEZONE = ZoneInfo("Asia/Shanghai")
CITY_TIME_LABEL = "北京时间 (UTC+8)"


def _in_city(ts: dt.datetime) -> dt.datetime:
    """`ts` on the city's clock; a naive datetime is taken as UTC (what DuckDB and the servers use)."""
    return (ts if ts.tzinfo else ts.replace(tzinfo=dt.UTC)).astimezone(CITY_TIMEZONE)


def city_time(ts: dt.datetime | None) -> str:
    """`2026-03-01 13:05 北京时间 (UTC+8)` for 05:05 UTC; `—` when there is no time."""
    if ts is None:
        return "—"
    return f"{_in_city(ts):%Y-%m-%d %H:%M} {CITY_TIME_LABEL}"


def city_day(ts: dt.datetime) -> str:
    """The date of `ts` in Beijing, `%Y-%m-%d`: 20:00 UTC on 1 March is already 2 March."""
    return f"{_in_city(ts):%Y-%m-%d}"


def city_today() -> dt.date:
    """Today's date in Beijing, whatever the machine's timezone."""
    return dt.datetime.now(CITY_TIMEZONE).date()
