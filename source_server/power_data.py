"""Deterministic monthly power generation by plant type of the grid company (国网绵阳供电公司).

Served as a cursor-paginated JSON API with an `updated_since` filter, the way grid data platforms
publish incremental feeds. Generation follows the installed capacity of `energy_data` times a
monthly capacity factor per plant type (hydro peaks in the wet season, solar in summer); all
values are synthetic. Every record carries `updated_at`: the first day of the following month,
when the figures were published.
"""

from __future__ import annotations

import math

from source_server.energy_data import CAPACITY_10MW, PLANT_TYPES, interpolate

FIRST_YEAR = 2015
LAST_YEAR = 2025

# Yearly capacity factors (synthetic, typical of Sichuan): share of the 8,760 hours at full load.
CAPACITY_FACTOR = {"hydro": 0.48, "wind": 0.24, "solar": 0.13, "biomass": 0.60, "coal": 0.52, "gas": 0.30}
# Seasonal swing, +/- this share of the mean, peaking in the given month.
SEASON = {"hydro": (0.35, 8), "wind": (0.15, 3), "solar": (0.25, 7), "biomass": (0.05, 1),
          "coal": (0.20, 1), "gas": (0.10, 1)}
DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def generation_records() -> list[dict]:
    """One record per month and plant type: generation in 万千瓦时 and when it was published."""
    records = []
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        for month in range(1, 13):
            for plant, anchors in CAPACITY_10MW.items():
                capacity_10mw = interpolate(anchors, year)
                amplitude, peak = SEASON[plant]
                season = amplitude * math.cos(2 * math.pi * (month - peak) / 12)
                factor = CAPACITY_FACTOR[plant] * (1 + season)
                hours = DAYS[month - 1] * 24
                # 万千瓦 × hours = 万千瓦时
                generation = round(capacity_10mw * hours * factor, 2)
                next_year, next_month = (year + 1, 1) if month == 12 else (year, month + 1)
                records.append({
                    "year": year, "month": month, "plant_type": plant,
                    "plant_type_name": PLANT_TYPES[plant], "generation_10k_kwh": generation,
                    "updated_at": f"{next_year:04d}-{next_month:02d}-01T08:00:00+08:00",
                })
    return sorted(records, key=lambda r: (r["updated_at"], r["plant_type"]))


DATASETS = {"generation": generation_records}
