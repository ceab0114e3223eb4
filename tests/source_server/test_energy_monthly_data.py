"""The statistics bureau's monthly energy consumption CSV (GB18030), consistent with the yearly balance."""

from __future__ import annotations

import csv
import io
from collections import defaultdict

import pandas as pd
import pytest

from source_server.energy_data import energy_balance
from source_server.energy_monthly_data import (
    FILES,
    MONTH_WEIGHTS,
    MONTH_WEIGHTS_PER_MILLE,
    energy_monthly_csv,
    energy_monthly_rows,
)

YEARS = list(range(2018, 2026))
VARIETIES = ["原煤", "焦炭", "汽油", "柴油", "天然气", "一次电力及其他"]
FUEL_CODES = {
    "原煤": ["raw_coal"], "焦炭": ["coke"], "汽油": ["gasoline"], "柴油": ["diesel"],
    "天然气": ["natural_gas"],
    "一次电力及其他": ["hydro_power", "wind_power", "solar_power", "biomass_power"],
}
HEADER_LINE = "年份,月份,能源品种,当月消费量,累计消费量"
ROW_KEYS = ["year", "month", "variety", "monthly_10k_tce", "cumulative_10k_tce"]


@pytest.fixture(scope="module")
def data() -> bytes:
    return energy_monthly_csv()


@pytest.fixture(scope="module")
def lines(data: bytes) -> list[str]:
    text = data.decode("gb18030")
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")
    return text[:-2].split("\r\n")


@pytest.fixture(scope="module")
def records(lines: list[str]) -> list[list[str]]:
    """The data lines (variety and 合计 rows), parsed, without title, unit, header and footnote."""
    return list(csv.reader(lines[3:-1]))


def _yearly_balance() -> dict[tuple[int, str], float]:
    by_fuel = {(r["year"], r["fuel_code"]): r["standard_coal_10k_tce"] for r in energy_balance()}
    return {(year, variety): sum(by_fuel[(year, code)] for code in codes)
            for year in YEARS for variety, codes in FUEL_CODES.items()}


def test_files_map_and_determinism(data: bytes):
    assert FILES == {"energy_monthly.csv": energy_monthly_csv}
    assert energy_monthly_csv() == data
    assert energy_monthly_rows() == energy_monthly_rows()


def test_encoding_is_gb18030_not_utf8(data: bytes):
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    data.decode("gb18030")
    assert b"\r\n" in data


def test_title_unit_header_and_footnote(lines: list[str]):
    assert lines[0] == "绵阳市规模以上工业分品种能源消费月度统计"
    assert lines[1] == "单位：万吨标准煤"
    assert lines[2] == HEADER_LINE
    assert lines[-1].startswith("注：") and "synthetic demo data" in lines[-1]


def test_layout_months_varieties_and_total_rows(records: list[list[str]]):
    assert len(records) == len(YEARS) * 12 * 7
    expected_months = [(y, m) for y in YEARS for m in range(1, 13)]
    for i, (year, month) in enumerate(expected_months):
        block = records[i * 7:(i + 1) * 7]
        assert [r[2] for r in block] == VARIETIES + ["合计"]
        assert all(r[0] == str(year) and r[1] == str(month) for r in block)
        for r in block:
            assert len(r) == 5
            for cell in r[3:]:
                assert cell.count(".") == 1 and len(cell.split(".")[1]) == 2, cell
                assert float(cell) >= 0


def test_rows_match_csv(records: list[list[str]]):
    rows = energy_monthly_rows()
    assert all(list(row) == ROW_KEYS for row in rows)
    variety_records = [r for r in records if r[2] != "合计"]
    assert len(rows) == len(variety_records) == len(YEARS) * 12 * 6
    for row, rec in zip(rows, variety_records, strict=True):
        assert [str(row["year"]), str(row["month"]), row["variety"],
                f"{row['monthly_10k_tce']:.2f}", f"{row['cumulative_10k_tce']:.2f}"] == rec
        assert row["monthly_10k_tce"] == round(row["monthly_10k_tce"], 2)
        assert row["cumulative_10k_tce"] == round(row["cumulative_10k_tce"], 2)


def test_months_add_up_to_yearly_balance():
    balance = _yearly_balance()
    sums: dict[tuple[int, str], float] = defaultdict(float)
    for row in energy_monthly_rows():
        sums[(row["year"], row["variety"])] += row["monthly_10k_tce"]
    assert set(sums) == set(balance)
    for key, total in balance.items():
        assert sums[key] == pytest.approx(total, abs=0.005), key


def test_cumulative_is_year_to_date_and_december_is_yearly_total():
    balance = _yearly_balance()
    running: dict[tuple[int, str], float] = defaultdict(float)
    for row in energy_monthly_rows():
        key = (row["year"], row["variety"])
        running[key] += row["monthly_10k_tce"]
        assert row["cumulative_10k_tce"] == pytest.approx(running[key], abs=0.005)
        if row["month"] == 1:
            assert row["cumulative_10k_tce"] == row["monthly_10k_tce"]  # resets every January
        if row["month"] == 12:
            assert row["cumulative_10k_tce"] == pytest.approx(balance[key], abs=0.005), key


def test_total_rows_are_sums(records: list[list[str]]):
    for start in range(0, len(records), 7):
        block = records[start:start + 7]
        total = block[-1]
        assert total[2] == "合计"
        for col in (3, 4):
            assert float(total[col]) == pytest.approx(sum(float(r[col]) for r in block[:-1]),
                                                      abs=0.005)


def test_seasonal_patterns():
    for weights in MONTH_WEIGHTS_PER_MILLE.values():
        assert len(weights) == 12 and sum(weights) == 1000
    for weights in MONTH_WEIGHTS.values():
        assert sum(weights) == pytest.approx(1.0)
    gas = MONTH_WEIGHTS["天然气"]
    assert max(gas) in (gas[0], gas[11]) and min(gas[0], gas[11]) > max(gas[1:11])
    power = MONTH_WEIGHTS["一次电力及其他"]
    assert min(power[6:9]) > max(power[:6] + power[9:])
    coal = MONTH_WEIGHTS["原煤"]
    assert min(coal[0], coal[11]) > max(coal[3:9])
    for oil in ("汽油", "柴油"):
        assert max(MONTH_WEIGHTS[oil]) / min(MONTH_WEIGHTS[oil]) < 1.2  # flat-ish


def test_pandas_reads_it(data: bytes):
    frame = pd.read_csv(io.BytesIO(data), encoding="gb18030", header=2)
    assert list(frame.columns) == HEADER_LINE.split(",")
    body = frame[frame["能源品种"].notna()]
    assert len(body) == len(YEARS) * 12 * 7
    assert set(body["能源品种"]) == set(VARIETIES) | {"合计"}
    dec_2025 = body[(body["年份"].astype(float) == 2025) & (body["月份"].astype(float) == 12)
                    & (body["能源品种"] == "合计")]
    balance = _yearly_balance()
    assert float(dec_2025["累计消费量"].iloc[0]) == pytest.approx(
        sum(balance[(2025, v)] for v in VARIETIES), abs=0.01)
