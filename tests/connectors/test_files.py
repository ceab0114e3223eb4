"""File connectors against the live source.

GB18030 CSV, merged-header XLSX, conditional GET, faults, landing folders, and a plain static web
server standing in for the departments.
"""

from __future__ import annotations

import dataclasses
import io
import socket
import subprocess
import sys
import time

import openpyxl
import pytest

from connectors.errors import SourceRejected
from connectors.fetch import fetch_dataset
from connectors.files import fetch_file
from connectors.http import RetryPolicy
from connectors.result import SourceState
from connectors.tabular import read_csv, read_xlsx
from source_server import forestry_data, waste_data
from tests.helpers import check

FAST = RetryPolicy(timeout_connect_s=1, timeout_read_s=5, max_attempts=3, backoff_s=0.05)


def spec_of(config, name):
    return next(s for s in config.datasets() if s.name == name)


def dept_of(config, name):
    return config.department(spec_of(config, name).department)


def test_gb18030_csv_with_title_unit_rows_totals_and_footnote(source_server, mianyang_sources):
    spec = spec_of(mianyang_sources, "forest_resources")
    table = read_csv(spec.tabular, forestry_data.forest_resources_csv())
    assert table.encoding == "gb18030"  # detected: the file is not UTF-8
    assert table.header == ("年份", "区县", "土地面积", "森林面积", "森林覆盖率", "森林蓄积量")
    assert table.dropped == 20 + 1  # a 合计 row per year and the 注 footnote
    assert table.row_numbers[0] == 4  # the file's own line numbers

    result = fetch_file(spec, source_server.url, source_server.token, FAST)
    assert result.provenance.records == 180 and not result.rejects
    row = result.frame[(result.frame.year == 2024) & (result.frame.county_name == "北川羌族自治县")]
    published = next(r for r in forestry_data.forest_resources_rows()
                     if r["year"] == 2024 and r["county"] == "北川羌族自治县")
    assert row.stock_volume_m3.iloc[0] == pytest.approx(published["stock_volume_10k_m3"] * 1e4)
    assert row.forest_coverage_pct.iloc[0] == pytest.approx(published["forest_coverage_pct"])


def test_utf8_csv_with_bom_is_read_with_auto_encoding(mianyang_sources):
    spec = spec_of(mianyang_sources, "forest_resources")
    payload = "标题\n单位：公顷\n年份,区县,土地面积,森林面积,森林覆盖率,森林蓄积量\n2024,涪城区,1,0.5,50,1\n"
    table = read_csv(spec.tabular, b"\xef\xbb\xbf" + payload.encode("utf-8"))
    assert table.encoding == "utf-8" and table.records == [
        {"年份": "2024", "区县": "涪城区", "土地面积": "1", "森林面积": "0.5", "森林覆盖率": "50",
         "森林蓄积量": "1"}]


def test_xlsx_merged_two_row_header_is_flattened(source_server, mianyang_sources):
    spec = spec_of(mianyang_sources, "industrial_waste")
    table = read_xlsx(spec.tabular, waste_data.industrial_waste_ledger_xlsx())
    assert table.header[:4] == ("基本信息_年份", "基本信息_月份", "基本信息_区县", "基本信息_企业名称")
    assert "危险废物（吨）_利用量" in table.header and "一般工业固体废物（吨）_产生量" in table.header
    assert table.dropped == 11 * 12 + 1  # monthly 合计 rows and the footnote
    result = fetch_file(spec, source_server.url, source_server.token, FAST)
    assert result.provenance.records == 24 * 12 * 11
    first = waste_data.industrial_waste_rows()[0]
    got = result.frame.iloc[0]
    assert (got.year, got.month, got.enterprise_name) == (first["year"], first["month"], first["enterprise"])
    assert got.hazardous_utilized_t == pytest.approx(first["hazardous_utilized_t"])


def test_merged_body_cells_are_filled_down(mianyang_sources):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["年份", "区县", "值"])
    sheet.append([2024, "涪城区", 1])
    sheet.append([None, "游仙区", 2])
    sheet.merge_cells("A2:A3")  # the year written once for two rows, as ledgers do
    out = io.BytesIO()
    book.save(out)
    spec = dataclasses.replace(spec_of(mianyang_sources, "industrial_waste").tabular, header_rows=(1,),
                               sheet=None)
    table = read_xlsx(spec, out.getvalue())
    assert [r["年份"] for r in table.records] == [2024, 2024]


def test_conditional_get_downloads_nothing_when_unchanged(source_server, mianyang_sources):
    spec = spec_of(mianyang_sources, "forest_resources")
    first = fetch_file(spec, source_server.url, source_server.token, FAST)
    assert first.provenance.etag and first.provenance.last_modified == "Thu, 12 Mar 2026 01:00:00 GMT"
    state = SourceState(first.provenance.state_key, first.provenance.etag, first.provenance.last_modified,
                        first.provenance.sha256)
    again = fetch_file(spec, source_server.url, source_server.token, FAST, previous=state)
    assert again.provenance.not_modified and again.provenance.records == 0 and again.frame.empty
    # a changed file (here: a renamed header) has a new ETag and is downloaded in full
    source_server.set_faults(duplicate_rows=1)
    changed = fetch_file(spec, source_server.url, source_server.token, FAST, previous=state)
    assert not changed.provenance.not_modified and changed.provenance.etag != state.etag


def test_renamed_header_is_refused_naming_the_column(source_server, mianyang_sources):
    source_server.set_faults(rename_field={"森林覆盖率": "覆盖率(%)"})
    with pytest.raises(SourceRejected) as err:
        fetch_file(spec_of(mianyang_sources, "forest_resources"), source_server.url,
                   source_server.token, FAST)
    message = str(err.value)
    assert "forestry.forest_resources" in message
    assert "lacks `森林覆盖率` (column `forest_coverage_pct`)" in message and "覆盖率(%)" in message


def test_duplicated_rows_in_a_workbook_are_dropped_once(source_server, mianyang_sources, tmp_path):
    source_server.set_faults(duplicate_rows=3)
    result = fetch_file(spec_of(mianyang_sources, "industrial_waste"), source_server.url,
                        source_server.token, FAST)
    batch = check(result, tmp_path / "w.duckdb")
    assert batch.duplicates == 3 and not batch.quarantined and len(batch.rows) == 3168


def test_5xx_burst_and_truncated_file_are_retried(source_server, mianyang_sources):
    spec = spec_of(mianyang_sources, "industrial_waste")
    source_server.set_faults(fail_next=2, fail_status=502)
    assert fetch_file(spec, source_server.url, source_server.token, FAST).provenance.records == 3168
    source_server.set_faults(truncate_next=1)
    assert fetch_file(spec, source_server.url, source_server.token, FAST).provenance.records == 3168


def test_landing_folder_reads_each_file_once(tmp_path, mianyang_sources):
    spec = spec_of(mianyang_sources, "industrial_waste")
    department = dept_of(mianyang_sources, "industrial_waste")
    (tmp_path / "2026-02 台账.xlsx").write_bytes(waste_data.industrial_waste_ledger_xlsx())
    (tmp_path / "readme.txt").write_text("not a ledger")
    [first] = fetch_dataset(spec, department, None, None, {}, landing=tmp_path)
    assert first.provenance.records == 3168 and first.provenance.url.endswith("2026-02 台账.xlsx")
    state = {first.provenance.state_key: SourceState(first.provenance.state_key, None, None,
                                                     first.provenance.sha256)}
    [again] = fetch_dataset(spec, department, None, None, state, landing=tmp_path)
    assert again.provenance.not_modified


def test_missing_landing_folder_is_a_clear_error(tmp_path, mianyang_sources):
    spec = spec_of(mianyang_sources, "industrial_waste")
    message = "landing folder does not exist; check `CARBONPEAK_WASTE_LANDING`"
    with pytest.raises(SourceRejected, match=message):
        fetch_dataset(spec, dept_of(mianyang_sources, "industrial_waste"), None, None, {},
                      landing=tmp_path / "nope")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_plain_static_web_server_can_stand_in_for_the_departments(tmp_path, mianyang_sources):
    from source_server.server import export_static
    from tests.helpers import ingest_and_build, small_meters

    export_static(tmp_path / "site", small_meters())
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                               "--directory", str(tmp_path / "site")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port}"
        results = ingest_and_build(mianyang_sources, url, "unused", tmp_path / "w.duckdb")
        assert len(results) == len(mianyang_sources.datasets()) and all(r.rows_loaded for r in results)
        loaded = {r.dataset: r.rows_loaded for r in results}
        assert (loaded["energy__balance"], loaded["forestry__forest_resources"],
                loaded["waste__industrial_waste"], loaded["buildings__building_projects"]) == \
            (189, 180, 3168, 1247)
        # http.server honours If-Modified-Since: the files come back 304 the second time
        again = ingest_and_build(mianyang_sources, url, "unused", tmp_path / "w.duckdb")
        assert all(r.status == "unchanged" and r.rows_loaded == 0 for r in again)
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_unit_slip_in_a_csv_is_quarantined_not_loaded(source_server, mianyang_sources, tmp_path):
    # 万立方米 published as 立方米 (× 10 000): every county's stock is out of range
    source_server.set_faults(scale_field={"森林蓄积量": 10_000})
    result = fetch_file(spec_of(mianyang_sources, "forest_resources"), source_server.url,
                        source_server.token, FAST)
    batch = check(result, tmp_path / "w.duckdb")
    assert len(batch.quarantined) == 180 and batch.rows.empty
    assert all("stock_volume_m3" in " ".join(q.failed_checks) for q in batch.quarantined)


def test_revised_past_year_in_a_workbook_becomes_a_new_vintage(source_server, mianyang_sources,
                                                                  warehouse_copy):
    from tests.helpers import ingest_and_build
    from warehouse.db import connect

    warehouse = warehouse_copy  # the default scenario, loaded from a server with the same data
    source_server.set_faults(revise={"year": 2020, "field": "利用量", "factor": 1.1})
    results = ingest_and_build(mianyang_sources, source_server.url, source_server.token, warehouse)
    waste = next(r for r in results if r.dataset == "waste__industrial_waste")
    assert (waste.rows_loaded, waste.rows_unchanged) == (24 * 12, 3168 - 24 * 12)  # 2020's rows
    con = connect(warehouse, read_only=True)
    vintages = con.execute("select count(*) from raw.waste__industrial_waste where year = 2020").fetchone()[0]
    current, first = con.execute("""
        select (select sum(hazardous_utilized_t) from staging.stg_waste__industrial_waste where year = 2020),
               (select sum(hazardous_utilized_t) from raw.waste__industrial_waste
                where year = 2020 and _load_seq = (select min(_load_seq) from raw.waste__industrial_waste))
    """).fetchone()
    con.close()
    assert vintages == 2 * 24 * 12  # the old vintage is kept beside the new one
    assert current == pytest.approx(first * 1.1, rel=1e-4)
