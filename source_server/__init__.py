"""The departmental source server carbonpeak ships as its embedded default (see DATA.md)."""

import datetime as _dt

# The embedded data is a frozen snapshot: the latest periods it holds (December 2025 for monthly
# series, 2025 or 2024 for yearly ones) are what departments had published by this date. A run
# against the embedded server judges freshness as of this date, not today (CARBONPEAK_AS_OF).
SNAPSHOT_DATE = _dt.date(2026, 3, 1)
