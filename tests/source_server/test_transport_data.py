"""The transport department's demo files (交通运输局 / 公安交管): layout, row twins, calibration."""

from __future__ import annotations

import io
from collections import defaultdict

import pandas as pd
import pytest

from source_server import transport_data as td

YEARS = list(range(2018, 2026))
MONTHS = list(range(1, 13))

# file name → (rows twin, header line, column map header → rows key, title)
SPECS = {
    "vehicles_by_county.csv": (
        td.vehicles_rows, "年份,月份,区县,燃料类型,保有量,新注册量",
        {"年份": "year", "月份": "month", "区县": "county", "燃料类型": "fuel", "保有量": "stock",
         "新注册量": "new_registrations"},
        "绵阳市机动车保有及新注册登记情况（分区县）"),
    "charging_points_by_county.csv": (
        td.charging_points_rows, "年份,月份,区县,公用充电桩,专用充电桩",
        {"年份": "year", "月份": "month", "区县": "county", "公用充电桩": "public_points",
         "专用充电桩": "dedicated_points"},
        "绵阳市公共充电设施统计（分区县）"),
    "charging_coverage.csv": (
        td.charging_coverage_rows, "年份,月份,设施类型,设施总数,具备快充（换电）条件数",
        {"年份": "year", "月份": "month", "设施类型": "facility_type", "设施总数": "facilities_total",
         "具备快充（换电）条件数": "facilities_with_fast_charging"},
        "绵阳市高速公路服务区及公路客运枢纽充电设施覆盖情况"),
    "freight_passenger_energy.csv": (
        td.freight_passenger_energy_rows, "年份,月份,换算周转量,汽油,柴油,天然气,电力",
        {"年份": "year", "月份": "month", "换算周转量": "converted_turnover_10k_tkm",
         "汽油": "gasoline_t", "柴油": "diesel_t", "天然气": "natural_gas_10k_m3",
         "电力": "electricity_10k_kwh"},
        "绵阳市营运交通工具换算周转量及能源消耗"),
    "airport_equipment.csv": (
        td.airport_equipment_rows, "年份,设备总数,电动设备数",
        {"年份": "year", "设备总数": "equipment_total", "电动设备数": "electric_equipment"},
        "绵阳南郊机场场内车辆设备统计"),
    "green_travel_survey.csv": (
        td.green_travel_survey_rows, "年份,步行,自行车,公共交通,小汽车,出租网约车,其他",
        {"年份": "year", "步行": "walk_pct", "自行车": "bike_pct", "公共交通": "public_transport_pct",
         "小汽车": "car_pct", "出租网约车": "taxi_pct", "其他": "other_pct"},
        "绵阳市中心城区居民出行方式调查"),
}
NAMES = list(SPECS)


def _lines(name: str) -> list[str]:
    text = td.FILES[name]().decode("utf-8-sig")
    assert text.endswith("\r\n")
    return text[:-2].split("\r\n")


def _frame(name: str) -> pd.DataFrame:
    data = td.FILES[name]()
    body = data[:-2].rsplit(b"\r\n", 1)[0] + b"\r\n"  # drop the 注 footnote line
    return pd.read_csv(io.BytesIO(body), encoding="utf-8-sig", header=2)


# --- layout ------------------------------------------------------------------------------------

def test_files_dict_lists_the_six_files():
    assert sorted(td.FILES) == sorted(SPECS)
    assert td.FILES["vehicles_by_county.csv"] is td.vehicles_csv


@pytest.mark.parametrize("name", NAMES)
def test_utf8_with_bom_and_crlf(name):
    data = td.FILES[name]()
    assert isinstance(data, bytes)
    assert data.startswith(b"\xef\xbb\xbf")
    data.decode("utf-8")  # valid UTF-8
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert b"\r" not in data.replace(b"\r\n", b"")


@pytest.mark.parametrize("name", NAMES)
def test_title_units_header_footnote(name):
    _, header, _, title = SPECS[name]
    lines = _lines(name)
    assert lines[0] == title
    assert lines[1].startswith("单位：")
    assert lines[2] == header
    assert lines[-1].startswith("注：")
    assert lines[-1].endswith("数据为演示用合成数据（synthetic demo data）。")


@pytest.mark.parametrize("name", NAMES)
def test_pandas_parses_and_matches_rows_twin(name):
    rows_fn, header, columns, _ = SPECS[name]
    frame = _frame(name)
    assert list(frame.columns) == header.split(",")
    rows = rows_fn()
    assert len(frame) == len(rows)
    renamed = frame.rename(columns=columns)
    for key in columns.values():
        assert renamed[key].tolist() == [row[key] for row in rows], key
    for row in rows:
        assert set(row) == set(columns.values())


@pytest.mark.parametrize("name", NAMES)
def test_rows_twin_matches_file_text(name):
    rows_fn, _, columns, _ = SPECS[name]
    decimals = 1 if name == "green_travel_survey.csv" else 2
    body = _lines(name)[3:-1]
    rows = rows_fn()
    assert len(body) == len(rows)
    for line, row in zip(body, rows, strict=True):
        expected = [f"{row[k]:.{decimals}f}" if isinstance(row[k], float) else str(row[k])
                    for k in columns.values()]
        assert line.split(",") == expected


@pytest.mark.parametrize("name", NAMES)
def test_deterministic(name):
    assert td.FILES[name]() == td.FILES[name]()


# --- 1. vehicles -------------------------------------------------------------------------------

def _vehicle_totals():
    stock: dict[tuple[int, int], int] = defaultdict(int)
    nev_stock: dict[tuple[int, int], int] = defaultdict(int)
    new: dict[tuple[int, int], int] = defaultdict(int)
    new_year: dict[int, int] = defaultdict(int)
    clean_new_year: dict[int, int] = defaultdict(int)
    for row in td.vehicles_rows():
        ym = (row["year"], row["month"])
        stock[ym] += row["stock"]
        new[ym] += row["new_registrations"]
        new_year[row["year"]] += row["new_registrations"]
        if row["fuel"] in ("纯电动", "插电混动", "燃料电池"):
            nev_stock[ym] += row["stock"]
        if row["fuel"] in ("纯电动", "插电混动", "燃料电池", "天然气"):
            clean_new_year[row["year"]] += row["new_registrations"]
    return stock, nev_stock, new, new_year, clean_new_year


def test_vehicles_layout():
    rows = td.vehicles_rows()
    assert len(rows) == 96 * 9 * 6
    first = rows[:54]
    assert [r["county"] for r in first[::6]] == ["涪城区", "游仙区", "安州区", "江油市", "三台县", "盐亭县",
                                                  "梓潼县", "北川羌族自治县", "平武县"]
    assert [r["fuel"] for r in first[:6]] == ["汽油", "柴油", "纯电动", "插电混动", "燃料电池", "天然气"]
    assert (rows[0]["year"], rows[0]["month"]) == (2018, 1)
    assert (rows[-1]["year"], rows[-1]["month"]) == (2025, 12)


def test_vehicle_stock_is_a_running_balance():
    previous: dict[tuple[str, str], int] = {}
    scrapped_total = 0
    for row in td.vehicles_rows():
        key = (row["county"], row["fuel"])
        assert row["stock"] >= 0 and row["new_registrations"] >= 0
        if key in previous:
            scrapped = previous[key] + row["new_registrations"] - row["stock"]
            assert scrapped >= 0
            assert scrapped <= 0.01 * previous[key] + 1  # a small share of last month's stock
            scrapped_total += scrapped
        previous[key] = row["stock"]
    assert scrapped_total > 0


def test_vehicle_calibration():
    stock, nev_stock, new, new_year, clean_new_year = _vehicle_totals()
    assert 1_000_000 < sum(stock[2018, m] for m in MONTHS) / 12 < 1_100_000
    assert 1_400_000 < stock[2025, 12] < 1_500_000
    assert 1.2 < sum(nev_stock[2018, m] / stock[2018, m] for m in MONTHS) / 12 * 100 < 1.8
    assert 10 < nev_stock[2025, 12] / stock[2025, 12] * 100 < 15
    for (year, month), value in new.items():
        if (year, month) not in ((2020, 2), (2020, 3)):  # the 2020 epidemic dip
            assert 8_500 <= value <= 11_500, (year, month, value)
    share = {y: clean_new_year[y] / new_year[y] * 100 for y in YEARS}
    assert share[2018] == pytest.approx(4.0, abs=0.5)
    assert share[2025] == pytest.approx(31.0, abs=1.0)
    for year in range(2020, 2026):  # rising ~4 points a year
        assert 3.5 < share[year] - share[year - 1] < 4.5


# --- 2. charging points ------------------------------------------------------------------------

def test_charging_points_ratio_to_ev_stock():
    _, nev_stock, _, _, _ = _vehicle_totals()
    points: dict[tuple[int, int], int] = defaultdict(int)
    rows = td.charging_points_rows()
    assert len(rows) == 96 * 9
    for row in rows:
        assert row["public_points"] >= 0 and row["dedicated_points"] >= 0
        points[row["year"], row["month"]] += row["public_points"] + row["dedicated_points"]
    assert points[2025, 12] / nev_stock[2025, 12] == pytest.approx(0.112, abs=0.003)
    assert points[2018, 1] / nev_stock[2018, 1] == pytest.approx(0.06, abs=0.005)
    months = sorted(points)
    assert all(points[a] <= points[b] for a, b in zip(months, months[1:], strict=False))


# --- 3. coverage -------------------------------------------------------------------------------

def test_charging_coverage():
    rows = td.charging_coverage_rows()
    assert len(rows) == 96 * 2
    by_kind: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_kind[row["facility_type"]].append(row)
    areas, hubs = by_kind["高速公路服务区"], by_kind["公路客运枢纽站"]
    assert {r["facilities_total"] for r in areas} == {24}
    assert {r["facilities_total"] for r in hubs} == {13}
    assert areas[-1]["facilities_with_fast_charging"] == 20  # 83 %, target 80 %
    assert hubs[-1]["facilities_with_fast_charging"] == 6  # 46 %, target 50 %
    assert {r["facilities_with_fast_charging"] for r in areas if r["year"] == 2018} == {6}
    assert {r["facilities_with_fast_charging"] for r in hubs if r["year"] == 2018} == {1}
    for series in (areas, hubs):
        counts = [r["facilities_with_fast_charging"] for r in series]
        assert counts == sorted(counts)


# --- 4. turnover and energy --------------------------------------------------------------------

def test_co2_intensity_of_converted_turnover():
    co2: dict[int, float] = defaultdict(float)
    turnover: dict[int, float] = defaultdict(float)
    rows = td.freight_passenger_energy_rows()
    assert len(rows) == 96
    for row in rows:
        co2[row["year"]] += sum(row[key] * factor for key, factor in td.CO2_FACTORS.items())
        turnover[row["year"]] += row["converted_turnover_10k_tkm"]
    intensity = {year: co2[year] / turnover[year] for year in YEARS}
    assert (intensity[2025] / intensity[2020] - 1) * 100 == pytest.approx(-5.1, abs=0.1)
    assert (intensity[2025] / intensity[2024] - 1) * 100 == pytest.approx(-1.0, abs=0.2)
    assert turnover[2018] / 12 == pytest.approx(120_000, rel=0.03)
    assert turnover[2025] / turnover[2021] == pytest.approx(1.05 ** 4, rel=0.02)


def test_co2_factors():
    assert td.CO2_FACTORS == {"gasoline_t": 2.925, "diesel_t": 3.096, "natural_gas_10k_m3": 21.62,
                              "electricity_10k_kwh": 5.568}


# --- 5. airport --------------------------------------------------------------------------------

def test_airport_equipment():
    rows = td.airport_equipment_rows()
    assert [r["year"] for r in rows] == YEARS
    share = {r["year"]: r["electric_equipment"] / r["equipment_total"] * 100 for r in rows}
    assert share[2025] == pytest.approx(27.0, abs=0.5)
    assert share[2018] == pytest.approx(8.0, abs=0.5)
    assert rows[0]["equipment_total"] == pytest.approx(210, abs=5)
    assert rows[-1]["equipment_total"] == pytest.approx(260, abs=5)


# --- 6. travel survey --------------------------------------------------------------------------

def test_green_travel_survey():
    rows = td.green_travel_survey_rows()
    assert [r["year"] for r in rows] == YEARS
    green = {}
    for row in rows:
        shares = [row[k] for k in ("walk_pct", "bike_pct", "public_transport_pct", "car_pct",
                                   "taxi_pct", "other_pct")]
        assert round(sum(shares), 1) == 100.0
        assert all(s > 0 for s in shares)
        green[row["year"]] = row["walk_pct"] + row["bike_pct"] + row["public_transport_pct"]
    assert green[2018] == pytest.approx(57.0, abs=0.1)
    assert green[2025] == pytest.approx(64.5, abs=0.1)
    for year in YEARS[1:]:  # ~1.1 points a year
        assert 0.9 < green[year] - green[year - 1] < 1.3
