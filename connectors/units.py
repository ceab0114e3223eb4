"""Units departments publish in, and the canonical unit carbonpeak stores each one as.

One table: a published unit, the canonical unit of the column it fills and the factor to multiply
by. Canonical units are the suffixes of column names (`_ha`, `_t`, `_tce`, `_mwh`, `_mw`, `_m3`,
`_m2`, `_cny`, `_persons`, `_pct`). Aliases (`km²` for 平方公里) are separate keys with the same
entry, so `sources.yml` may use either spelling.
"""

from __future__ import annotations

# 1 亩 = 666.67 m²: the statistical yearbooks' own rounding, kept so reruns hash the same.
_MU_HA = 0.06666667

# published unit -> (canonical unit, factor to multiply by)
CONVERSIONS: dict[str, tuple[str, float]] = {
    # area
    "平方公里": ("ha", 100.0),
    "km²": ("ha", 100.0),
    "km2": ("ha", 100.0),
    "公顷": ("ha", 1.0),
    "万亩": ("ha", 666.6667),
    "亩": ("ha", _MU_HA),
    "平方米": ("m2", 1.0),
    "万平方米": ("m2", 1e4),
    # volume
    "立方米": ("m3", 1.0),
    "万立方米": ("m3", 1e4),
    "亿立方米": ("m3", 1e8),
    # mass
    "千克": ("t", 1e-3),
    "吨": ("t", 1.0),
    "万吨": ("t", 1e4),
    # energy as standard coal
    "吨标准煤": ("tce", 1.0),
    "万吨标准煤": ("tce", 1e4),
    # electricity
    "千瓦时": ("MWh", 1e-3),
    "万千瓦时": ("MWh", 10.0),
    "亿千瓦时": ("MWh", 1e5),
    # power (installed capacity)
    "千瓦": ("MW", 1e-3),
    "万千瓦": ("MW", 10.0),
    # money
    "元": ("CNY", 1.0),
    "万元": ("CNY", 1e4),
    "亿元": ("CNY", 1e8),
    # people
    "人": ("persons", 1.0),
    "万人": ("persons", 1e4),
    # transport work
    "万吨公里": ("tkm", 1e4),
    # shares: stored in percent
    "%": ("pct", 1.0),
    "‰": ("pct", 0.1),
}


def known_units() -> list[str]:
    return sorted(CONVERSIONS)


def to_canonical(value: float | None, unit: str) -> float | None:
    """Convert a value published in `unit` to carbonpeak's canonical unit for it."""
    if value is None:
        return None
    # Round away float noise (979.38 × 1e4 = 9793800.000000002) so reruns hash identically.
    return round(value * CONVERSIONS[unit][1], 6)
