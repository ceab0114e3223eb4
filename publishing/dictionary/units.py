"""A column's unit, read from its name: carbonpeak's columns carry their unit (`_mwh`, `_pct`, …)."""

from __future__ import annotations

import re

# name suffix -> unit as the dictionary shows it
SUFFIXES = {
    "pct": "%", "t": "t", "tce": "tce", "kgce": "kgce", "tco2": "tCO₂", "kg": "kg", "mw": "MW",
    "mwh": "MWh", "m2": "m²", "m3": "m³", "ha": "ha", "cny": "CNY", "tkm": "t·km", "tpd": "t/day",
}
_PER = re.compile(r"^(?:(\d+)(k?)_)?(\w+)$")


def infer_unit(column: str) -> str:
    """`forest_area_ha` -> `ha`, `energy_kgce_per_m2` -> `kgce/m²`, `county_name` -> ``."""
    if "_per_" in column:
        head, _, tail = column.rpartition("_per_")
        numerator = SUFFIXES.get(head.rsplit("_", 1)[-1])
        denominator = _denominator(tail)
        return f"{numerator}/{denominator}" if numerator and denominator else ""
    return SUFFIXES.get(column.rsplit("_", 1)[-1], "") if "_" in column else ""


def _denominator(text: str) -> str:
    """`m2` -> `m²`, `10k_cny` -> `10,000 CNY`, `10_tkm` -> `10 t·km`, `person` -> `person`."""
    match = _PER.match(text)
    if not match:
        return ""
    count, thousands, unit = match.groups()
    unit = SUFFIXES.get(unit, unit if unit.isalpha() else "")
    if not unit or not count:
        return unit
    return f"{int(count) * (1000 if thousands else 1):,} {unit}"
