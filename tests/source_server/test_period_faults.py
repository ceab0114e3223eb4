"""The missing-period faults, as an HTTP client sees them.

A month or a year left out of a JSON dataset, a cursor feed and a published file (its 合计 row
too), and the latest periods of a department that stopped publishing. Everything else must come
through untouched.
"""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
import requests

from source_server.files import FILES


def get(server, path: str, **params) -> requests.Response:
    response = requests.get(server.url + path, params=params, timeout=30,
                            headers={"Authorization": f"Bearer {server.token}"})
    assert response.status_code == 200, response.text[:200]
    return response


def json_records(server, department: str, dataset: str) -> list[dict]:
    return get(server, f"/api/v1/{department}/{dataset}", page=1, page_size=1000).json()["data"]


def csv_rows(server, name: str) -> list[list[str]]:
    text = get(server, f"/files/{name}").content.decode(FILES[name].encoding)
    return list(csv.reader(io.StringIO(text)))


def test_dropped_year_leaves_a_json_dataset_and_its_etag(source_server):
    before = get(source_server, "/api/v1/energy/gdp", page=1, page_size=100)
    source_server.set_faults(drop_period={"year": 2020})
    after = get(source_server, "/api/v1/energy/gdp", page=1, page_size=100)

    body = after.json()
    assert body["total"] == len(body["data"]) == 20  # 2005-2025 without 2020
    assert [r for r in before.json()["data"] if r["year"] != 2020] == body["data"]
    assert after.headers["ETag"] != before.headers["ETag"]  # a conditional GET sees the change


def test_latest_years_missing_from_a_paged_json_dataset(source_server):
    all_rows = json_records(source_server, "energy", "energy_balance")
    source_server.set_faults(latest_periods_missing=2)
    page_1 = get(source_server, "/api/v1/energy/energy_balance", page=1, page_size=100).json()
    page_2 = get(source_server, "/api/v1/energy/energy_balance", page=2, page_size=100).json()

    # nine fuels a year: 2024 and 2025 go, and the paging follows the shorter dataset
    assert page_1["total"] == 189 - 2 * 9 and page_2["next_page"] is None
    assert page_1["data"] + page_2["data"] == [r for r in all_rows if r["year"] <= 2023]


def test_monthly_cursor_feed_loses_one_month_or_its_latest_months(source_server):
    def feed() -> list[dict]:
        return get(source_server, "/api/v1/power/generation", limit=1000).json()["items"]

    everything = feed()
    assert len(everything) == 11 * 12 * 6  # 2015-2025, six plant types
    source_server.set_faults(drop_period={"year": 2024, "month": 7})
    assert feed() == [r for r in everything if (r["year"], r["month"]) != (2024, 7)]

    source_server.set_faults(latest_periods_missing=3)
    rows = feed()
    assert len(rows) == len(everything) - 3 * 6
    assert max((r["year"], r["month"]) for r in rows) == (2025, 9)


def test_dropped_month_leaves_a_gb18030_csv_with_its_total_row(source_server):
    name = "energy/energy_monthly.csv"
    before = csv_rows(source_server, name)
    source_server.set_faults(drop_period={"year": 2024, "month": 7})
    after = csv_rows(source_server, name)

    july = [r for r in before if r[:2] == ["2024", "7"]]
    assert len(july) == 7 and july[-1][2] == "合计"  # six energy varieties and the month's total
    assert after == [r for r in before if r[:2] != ["2024", "7"]]  # title, header, footnote stay
    assert after[2] == ["年份", "月份", "能源品种", "当月消费量", "累计消费量"]
    assert after[-1][0].startswith("注")


def test_latest_year_missing_from_a_yearly_csv(source_server):
    name = "forestry/forest_resources_by_county.csv"
    before = csv_rows(source_server, name)
    source_server.set_faults(latest_periods_missing=1)
    after = csv_rows(source_server, name)

    assert len(before) - len(after) == 10  # nine counties and 合计 of 2024
    assert {r[0] for r in after[3:-1]} == {str(y) for y in range(2005, 2024)}


def test_dropped_year_leaves_a_monthly_xlsx_whose_footnote_stays_merged(source_server):
    name = "waste/industrial_waste_ledger.xlsx"

    def sheet():
        payload = get(source_server, f"/files/{name}").content
        return openpyxl.load_workbook(io.BytesIO(payload)).worksheets[0]

    before = sheet()
    source_server.set_faults(drop_period={"year": 2019})
    after = sheet()

    rows_before = [[c.value for c in row] for row in before.iter_rows()]
    rows_after = [[c.value for c in row] for row in after.iter_rows()]
    gone = [r for r in rows_before if r[0] == 2019]
    assert len(gone) == 12 * 25  # each month: 24 enterprises and the 合计 row
    assert sum(1 for r in gone if r[2] == "合计") == 12
    assert rows_after == [r for r in rows_before if r[0] != 2019]
    # the footnote row moved up with its merge, and total rows keep their bold
    last = after.max_row
    assert str(rows_after[-1][0]).startswith("注") and f"A{last}:K{last}" in after.merged_cells
    total = next(row for row in after.iter_rows(min_row=4) if row[2].value == "合计")
    assert total[0].value == 2015 and total[4].font.bold


@pytest.mark.parametrize("faults", [{"drop_period": {"month": 7}},
                                    {"drop_period": {"year": 2024, "day": 1}},
                                    {"latest_periods_missing": -1}])
def test_malformed_period_fault_is_refused_with_what_to_send(source_server, faults):
    response = requests.post(source_server.url + "/_faults", json=faults, timeout=5,
                             headers={"Authorization": f"Bearer {source_server.token}"})
    assert response.status_code == 400
    assert "drop_period" in response.json()["faults"]
    assert "give" in response.json()["error"]
