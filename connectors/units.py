"""Units departments publish in, and the canonical unit carbonpeak stores each one as."""

from __future__ import annotations

# published unit -> (canonical unit, factor to multiply by)
CONVERSIONS: dict[str, tuple[str, float]] = {
    "万吨标准煤": ("tce", 1e4),
    "吨标准煤": ("tce", 1.0),
    "万千瓦": ("MW", 10.0),
    "千瓦": ("MW", 1e-3),
    "万吨": ("t", 1e4),
    "吨": ("t", 1.0),
    "亿元": ("CNY", 1e8),
    "万元": ("CNY", 1e4),
    "亿立方米": ("m3", 1e8),
    "万立方米": ("m3", 1e4),
    "亿千瓦时": ("MWh", 1e5),
    "万千瓦时": ("MWh", 10.0),
    "公顷": ("ha", 1.0),
    "万亩": ("ha", 666.6667),
    "立方米": ("m3", 1.0),
    "万吨公里": ("tkm", 1e4),
    "平方米": ("m2", 1.0),
    "%": ("pct", 1.0),
}


def known_units() -> list[str]:
    return sorted(CONVERSIONS)


def to_canonical(value: float | None, unit: str) -> float | None:
    """Convert a value published in `unit` to carbonpeak's canonical unit for it."""
    if value is None:
        return None
    # Round away float noise (979.38 × 1e4 = 9793800.000000002) so reruns hash identically.
    return round(value * CONVERSIONS[unit][1], 6)
