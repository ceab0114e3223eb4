"""Deterministic monthly energy consumption by variety of the statistics bureau (统计局), 2018–2025.

The bureau publishes a GB18030 CSV (CRLF line endings) with a title and a unit line on top, six
variety rows per month and a 合计 row after each month.

Everything here is synthetic demo data, but it is consistent with the yearly energy balance of
`source_server.energy_data` (whose real anchors are listed there): for each year and variety the
twelve monthly values add up exactly, after rounding to 2 decimals, to that year's 万吨标准煤 of
`energy_balance()` for the fuel. 一次电力及其他 (primary electricity) is the sum of the balance's
hydro_power + wind_power + solar_power + biomass_power. Note that although the title says
规模以上工业, the yearly totals are those of the whole-city balance.

The months follow a fixed seasonal pattern per variety (no random numbers): raw coal higher in
winter, a heating-season peak for natural gas in December/January, a hydro-driven peak of primary
electricity in July–September, oil products and coke nearly flat with a Spring Festival dip.
Monthly values are computed in whole hundredths (0.01 万吨标准煤); December takes the rounding
remainder. 累计消费量 is the year-to-date sum of the rounded monthly values.
"""

from __future__ import annotations

from collections.abc import Callable

from source_server.energy_data import energy_balance

FIRST_YEAR = 2018
LAST_YEAR = 2025
YEARS = range(FIRST_YEAR, LAST_YEAR + 1)
MONTHS = range(1, 13)

TITLE = "绵阳市规模以上工业分品种能源消费月度统计"
UNITS = "单位：万吨标准煤"
HEADER = ["年份", "月份", "能源品种", "当月消费量", "累计消费量"]
TOTAL_LABEL = "合计"
FOOTNOTE = "注：本表为演示用合成数据（synthetic demo data），月度数据与年度能源平衡表一致。"

PRIMARY_ELECTRICITY = "一次电力及其他"
# Variety label → the energy_data fuel codes it adds up, in the order the bureau lists them.
VARIETIES: dict[str, tuple[str, ...]] = {
    "原煤": ("raw_coal",),
    "焦炭": ("coke",),
    "汽油": ("gasoline",),
    "柴油": ("diesel",),
    "天然气": ("natural_gas",),
    PRIMARY_ELECTRICITY: ("hydro_power", "wind_power", "solar_power", "biomass_power"),
}

# Seasonal month weights in per mille (Jan … Dec); each row sums to 1000, i.e. the weights sum to 1.
MONTH_WEIGHTS_PER_MILLE: dict[str, tuple[int, ...]] = {
    # higher in winter: heating, and coal power filling in for low dry-season hydro
    "原煤": (95, 85, 84, 78, 76, 78, 82, 84, 80, 80, 86, 92),
    # nearly flat industrial use, Spring Festival dip in February
    "焦炭": (82, 74, 85, 84, 85, 84, 83, 84, 84, 85, 85, 85),
    # flat-ish, a little more in the summer/National Day travel months
    "汽油": (84, 80, 82, 82, 84, 83, 85, 86, 83, 86, 81, 84),
    # flat-ish, Spring Festival dip for freight and construction
    "柴油": (80, 74, 84, 85, 86, 85, 84, 84, 85, 86, 84, 83),
    # heating-season peak in December and January
    "天然气": (112, 98, 88, 76, 68, 64, 66, 66, 68, 78, 96, 120),
    # hydro-driven: wet-season peak in July–September
    PRIMARY_ELECTRICITY: (58, 54, 62, 74, 88, 100, 118, 122, 110, 90, 68, 56),
}
assert all(len(w) == 12 and sum(w) == 1000 for w in MONTH_WEIGHTS_PER_MILLE.values())
MONTH_WEIGHTS: dict[str, list[float]] = {
    variety: [w / 1000 for w in weights] for variety, weights in MONTH_WEIGHTS_PER_MILLE.items()
}

ROW_KEYS = ["year", "month", "variety", "monthly_10k_tce", "cumulative_10k_tce"]


def _cents(value: float) -> int:
    """A 2-decimal amount as a whole number of hundredths."""
    return round(value * 100)


def yearly_totals_cents() -> dict[tuple[int, str], int]:
    """Yearly 万吨标准煤 per (year, variety) from the energy balance, in hundredths."""
    by_fuel = {(row["year"], row["fuel_code"]): row["standard_coal_10k_tce"] for row in energy_balance()}
    return {
        (year, variety): sum(_cents(by_fuel[(year, code)]) for code in codes)
        for year in YEARS
        for variety, codes in VARIETIES.items()
    }


def _monthly_cents(total: int, weights: tuple[int, ...]) -> list[int]:
    """Split `total` hundredths by per-mille `weights`; December takes the rounding remainder."""
    months = [(total * w + 500) // 1000 for w in weights[:11]]  # round half up, integers only
    return months + [total - sum(months)]


def _table_cents() -> list[tuple[int, int, str, int, int]]:
    """(year, month, variety, monthly, cumulative) in hundredths, in CSV order (month, then variety)."""
    totals = yearly_totals_cents()
    monthly = {
        (year, variety): _monthly_cents(totals[(year, variety)], MONTH_WEIGHTS_PER_MILLE[variety])
        for year in YEARS
        for variety in VARIETIES
    }
    rows = []
    for year in YEARS:
        for month in MONTHS:
            for variety in VARIETIES:
                values = monthly[(year, variety)]
                rows.append((year, month, variety, values[month - 1], sum(values[:month])))
    return rows


def energy_monthly_rows() -> list[dict]:
    """Variety rows (no 合计 rows), 2018-01 … 2025-12, with the numbers exactly as in the CSV."""
    return [
        {"year": year, "month": month, "variety": variety,
         "monthly_10k_tce": monthly / 100, "cumulative_10k_tce": cumulative / 100}
        for year, month, variety, monthly, cumulative in _table_cents()
    ]


def _line(fields: list[object]) -> str:
    """One CSV line; a field is quoted only if it holds a comma, a quote or a line break."""
    out = []
    for field in fields:
        text = f"{field:.2f}" if isinstance(field, float) else str(field)
        if any(ch in text for ch in ',"\r\n'):
            text = '"' + text.replace('"', '""') + '"'
        out.append(text)
    return ",".join(out)


def energy_monthly_csv() -> bytes:
    """The table as the bureau publishes it: GB18030, CRLF, title and unit lines, a 合计 row per month."""
    lines = [TITLE, UNITS, _line(HEADER)]
    table = _table_cents()
    size = len(VARIETIES)
    for start in range(0, len(table), size):
        month_rows = table[start:start + size]
        for year, month, variety, monthly, cumulative in month_rows:
            lines.append(_line([year, month, variety, monthly / 100, cumulative / 100]))
        year, month = month_rows[0][0], month_rows[0][1]
        lines.append(_line([year, month, TOTAL_LABEL, sum(r[3] for r in month_rows) / 100,
                            sum(r[4] for r in month_rows) / 100]))
    lines.append(FOOTNOTE)
    return ("\r\n".join(lines) + "\r\n").encode("gb18030")


FILES: dict[str, Callable[[], bytes]] = {"energy_monthly.csv": energy_monthly_csv}
