"""The JSON-API connector against the live embedded source.

Pagination, retries, timeouts, errors, conditional GETs (ETag / 304), and a plain static web
server that sends no ETag.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from connectors import json_api
from connectors.errors import SourceRejected, SourceUnavailable
from connectors.http import RetryPolicy
from connectors.json_api import fetch_json_api
from connectors.result import SourceState
from source_server import energy_data
from source_server.server import export_static

FAST = RetryPolicy(timeout_connect_s=1, timeout_read_s=2, max_attempts=3, backoff_s=0.05)


def spec_of(config, name, **changes):
    spec = next(s for s in config.datasets() if s.name == name)
    if "page_size" in changes:
        pagination = dataclasses.replace(spec.pagination, page_size=changes.pop("page_size"))
        spec = dataclasses.replace(spec, pagination=pagination)
    return dataclasses.replace(spec, **changes)


def test_fetches_every_page_with_provenance(source_server, mianyang_sources):
    spec = spec_of(mianyang_sources, "balance", page_size=40)
    result = fetch_json_api(spec, source_server.url, source_server.token, FAST)

    expected = energy_data.energy_balance()
    assert result.provenance.records == len(expected) == 189
    assert result.provenance.pages == 5  # 40 + 40 + 40 + 40 + 29
    assert len(result.frame) == 189 and not result.rejects
    assert len(result.provenance.sha256) == 64
    assert result.provenance.url.startswith(source_server.url + "/api/v1/energy/energy_balance?")
    # 万吨标准煤 converted to tce on the way in
    coal_2016 = result.frame[(result.frame.year == 2016) & (result.frame.fuel_code == "raw_coal")]
    published = next(r for r in expected if r["year"] == 2016 and r["fuel_code"] == "raw_coal")
    assert coal_2016.consumption_tce.iloc[0] == pytest.approx(published["standard_coal_10k_tce"] * 1e4)


def test_same_payload_gives_same_checksum(source_server, mianyang_sources):
    spec = spec_of(mianyang_sources, "gdp")
    first = fetch_json_api(spec, source_server.url, source_server.token, FAST)
    second = fetch_json_api(spec, source_server.url, source_server.token, FAST)
    assert first.provenance.sha256 == second.provenance.sha256


def test_503_then_success_is_retried_honouring_retry_after(source_server, mianyang_sources, caplog):
    source_server.set_faults(fail_next=2, fail_status=503, retry_after=0.2)
    spec = spec_of(mianyang_sources, "gdp")
    with caplog.at_level(logging.WARNING, logger="connectors.http"):
        result = fetch_json_api(spec, source_server.url, source_server.token, FAST)
    assert len(result.frame) == 21
    retries = [r for r in caplog.records if "HTTP 503" in r.getMessage()]
    assert len(retries) == 2
    assert all("in 0.2 s" in r.getMessage() for r in retries)  # Retry-After, not the backoff
    assert source_server.token not in caplog.text


def test_429_burst_longer_than_the_retries_fails_naming_the_source(source_server, mianyang_sources):
    source_server.set_faults(fail_next=10, fail_status=429, retry_after=0)
    with pytest.raises(SourceUnavailable) as err:
        fetch_json_api(spec_of(mianyang_sources, "gdp"), source_server.url, source_server.token, FAST)
    assert "energy.gdp" in str(err.value) and "HTTP 429 after 3 attempts" in str(err.value)


def test_one_slow_response_times_out_and_is_retried(source_server, mianyang_sources):
    source_server.set_faults(delay_seconds=1.5, delay_next=1)
    policy = dataclasses.replace(FAST, timeout_read_s=0.5)
    result = fetch_json_api(spec_of(mianyang_sources, "gdp"), source_server.url,
                            source_server.token, policy)
    assert len(result.frame) == 21


def test_a_source_that_stays_slow_fails_with_a_read_timeout(source_server, mianyang_sources):
    source_server.set_faults(delay_seconds=1.0)
    policy = dataclasses.replace(FAST, timeout_read_s=0.3, max_attempts=2)
    with pytest.raises(SourceUnavailable, match=r"timed out .* after 2 attempts"):
        fetch_json_api(spec_of(mianyang_sources, "gdp"), source_server.url, source_server.token, policy)


def test_truncated_body_is_retried(source_server, mianyang_sources):
    source_server.set_faults(truncate_next=1)
    result = fetch_json_api(spec_of(mianyang_sources, "power_capacity"), source_server.url,
                            source_server.token, FAST)
    assert len(result.frame) == 126


def test_wrong_token_is_fatal_with_a_hint(source_server, mianyang_sources):
    with pytest.raises(SourceRejected, match="HTTP 401.*token"):
        fetch_json_api(spec_of(mianyang_sources, "gdp"), source_server.url, "wrong", FAST)


def test_dead_source_names_the_source_and_url(mianyang_sources):
    with pytest.raises(SourceUnavailable) as err:
        fetch_json_api(spec_of(mianyang_sources, "gdp"), "http://127.0.0.1:9", "t", FAST)
    assert err.value.source == "energy.gdp"
    assert "connection failed" in str(err.value) and "127.0.0.1:9" in str(err.value)


def test_renamed_field_is_refused_before_anything_moves(source_server, mianyang_sources):
    source_server.set_faults(rename_field={"capacity_10mw": "装机容量"})
    with pytest.raises(SourceRejected) as err:
        fetch_json_api(spec_of(mianyang_sources, "power_capacity"), source_server.url,
                       source_server.token, FAST)
    message = str(err.value)
    assert "`capacity_10mw` (column `capacity_mw`)" in message and "装机容量" in message


def test_unparseable_value_becomes_a_reject_with_its_raw_record(source_server, mianyang_sources):
    from connectors.parse import parse_records

    spec = spec_of(mianyang_sources, "gdp")
    rows, rejects = parse_records(spec, [
        {"year": 2020, "gdp_current_100m_cny": "3,010.0", "gdp_2020_prices_100m_cny": 3010,
         "real_growth_pct": 4.0},
        {"year": "二〇二一", "gdp_current_100m_cny": 1, "gdp_2020_prices_100m_cny": 1,
         "real_growth_pct": None},
    ])
    assert len(rows) == 1 and rows.gdp_current_cny.iloc[0] == pytest.approx(3010.0e8)
    assert len(rejects) == 1 and rejects[0].row_number == 2
    assert "`year` = '二〇二一' is not a valid integer" in rejects[0].reason
    assert rejects[0].raw["year"] == "二〇二一"


def test_cursor_feed_pages_through_and_then_asks_only_for_what_changed(source_server, mianyang_sources):
    from source_server import power_data

    spec = spec_of(mianyang_sources, "generation", page_size=300)
    first = fetch_json_api(spec, source_server.url, source_server.token, FAST)
    records = power_data.generation_records()
    assert first.provenance.records == len(records) == 11 * 12 * 6
    assert first.provenance.pages == 3  # 300 + 300 + 192, following `next_cursor`
    assert first.provenance.watermark == max(r["updated_at"] for r in records)
    assert first.provenance.url == source_server.url + "/api/v1/power/generation"

    state = SourceState(first.provenance.state_key, None, None, first.provenance.sha256,
                        first.provenance.watermark)
    again = fetch_json_api(spec, source_server.url, source_server.token, FAST, previous=state)
    assert again.provenance.not_modified and again.provenance.records == 0

    older = SourceState(first.provenance.state_key, None, None, "x", "2025-10-15T00:00:00+08:00")
    recent = fetch_json_api(spec, source_server.url, source_server.token, FAST, previous=older)
    assert recent.provenance.records == 3 * 6  # October to December 2025, six plant types
    assert sorted(set(recent.frame.month)) == [10, 11, 12]


# -- conditional GET: page-numbered APIs send an ETag of the whole dataset ---------------------

def test_rerun_with_the_stored_etag_gets_304_and_downloads_no_page(source_server, mianyang_sources):
    spec = spec_of(mianyang_sources, "balance", page_size=40)
    before = source_server.requests_served
    first = fetch_json_api(spec, source_server.url, source_server.token, FAST)
    assert source_server.requests_served - before == 5  # every page, once
    tag = first.provenance.etag
    assert tag and tag.startswith('"') and first.provenance.state_key == "/api/v1/energy/energy_balance"

    state = SourceState(first.provenance.state_key, tag, None, first.provenance.sha256)
    before = source_server.requests_served
    again = fetch_json_api(spec, source_server.url, source_server.token, FAST, previous=state)
    assert source_server.requests_served - before == 1  # page 1 answered 304: nothing else asked
    prov = again.provenance
    assert prov.not_modified and (prov.pages, prov.records) == (0, 0) and again.frame.empty
    assert (prov.etag, prov.sha256, prov.state_key) == (tag, first.provenance.sha256, state.key)

    # any page answers 304 to the dataset's ETag, but a 503 is still a 503 (and is retried)
    headers = {"Authorization": f"Bearer {source_server.token}", "If-None-Match": tag}
    page_3 = requests.get(source_server.url + spec.path, {"page": 3, "page_size": 40},
                          headers=headers, timeout=5)
    assert page_3.status_code == 304 and page_3.content == b"" and page_3.headers["ETag"] == tag
    source_server.set_faults(fail_next=1, fail_status=503)
    before = source_server.requests_served
    again = fetch_json_api(spec, source_server.url, source_server.token, FAST, previous=state)
    assert again.provenance.not_modified and source_server.requests_served - before == 2


def test_revised_value_changes_the_etag_and_the_new_data_comes_back(source_server, mianyang_sources):
    spec = spec_of(mianyang_sources, "gdp")
    first = fetch_json_api(spec, source_server.url, source_server.token, FAST)
    state = SourceState(first.provenance.state_key, first.provenance.etag, None, first.provenance.sha256)
    source_server.set_faults(revise={"year": 2020, "field": "gdp_2020_prices_100m_cny", "factor": 1.01})

    revised = fetch_json_api(spec, source_server.url, source_server.token, FAST, previous=state)
    assert not revised.provenance.not_modified and len(revised.frame) == 21
    assert revised.provenance.etag not in (None, first.provenance.etag)
    assert revised.provenance.sha256 != first.provenance.sha256
    gdp_2020 = revised.frame[revised.frame.year == 2020].gdp_2020_prices_cny.iloc[0]
    assert gdp_2020 == pytest.approx(3010.0 * 1.01 * 1e8)

    # the revision stays put: the new ETag now gets a 304
    state = SourceState(state.key, revised.provenance.etag, None, revised.provenance.sha256)
    assert fetch_json_api(spec, source_server.url, source_server.token, FAST,
                          previous=state).provenance.not_modified


def test_dataset_changing_between_pages_is_refused_naming_source_and_url(
        source_server, mianyang_sources, monkeypatch):
    spec = spec_of(mianyang_sources, "balance", page_size=100)
    make_session = json_api.make_session

    def revise_after_page_1(response, **_):
        if "page=1" in response.url:  # the department publishes a revision in mid-download
            source_server.set_faults(revise={"year": 2016, "field": "standard_coal_10k_tce",
                                             "factor": 1.1})

    def session_revising_after_page_1(token):
        session = make_session(token)
        session.hooks["response"].append(revise_after_page_1)
        return session

    monkeypatch.setattr(json_api, "make_session", session_revising_after_page_1)
    with pytest.raises(SourceUnavailable) as err:
        fetch_json_api(spec, source_server.url, source_server.token, FAST)
    assert err.value.source == "energy.balance" and "page=2" in err.value.url
    message = str(err.value)
    assert "changed while it was being paged" in message and "on page 2" in message
    assert "rerun" in message and source_server.url + spec.path in message


@pytest.fixture
def static_source(tmp_path):
    """The datasets as plain files behind Python's own web server: no ETag, query ignored."""
    export_static(tmp_path)

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(tmp_path)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_server_without_etags_is_downloaded_and_compared_by_checksum(static_source, mianyang_sources):
    spec = spec_of(mianyang_sources, "gdp")
    first = fetch_json_api(spec, static_source, None, FAST)
    assert len(first.frame) == 21 and first.provenance.etag is None and first.provenance.pages == 1

    # a state with an ETag from another server: sent, ignored, the payload comes and is compared
    state = SourceState(first.provenance.state_key, '"from-elsewhere"', None, first.provenance.sha256)
    again = fetch_json_api(spec, static_source, None, FAST, previous=state)
    assert again.provenance.not_modified and (again.provenance.pages, again.provenance.records) == (1, 21)
    assert again.provenance.etag is None

    changed = SourceState(state.key, None, None, "an older payload")
    assert len(fetch_json_api(spec, static_source, None, FAST, previous=changed).frame) == 21


def test_stored_etag_round_trips_through_the_warehouse(source_server, mianyang_sources, tmp_path):
    from connectors.fetch import fetch_dataset
    from tests.helpers import check
    from warehouse.db import connect
    from warehouse.load import load_batches
    from warehouse.state import read_source_states, states_of

    spec = spec_of(mianyang_sources, "gdp")
    department = mianyang_sources.department(spec.department)
    warehouse = tmp_path / "w.duckdb"

    def run() -> tuple[str, str | None, int]:
        con = connect(warehouse)
        states = states_of(read_source_states(con), spec.table_name)
        con.close()
        before = source_server.requests_served
        [fetched] = fetch_dataset(spec, department, source_server.url, source_server.token, states)
        batch = check(fetched, warehouse)
        con = connect(warehouse)
        [result] = load_batches(con, [batch])
        [stored] = states_of(read_source_states(con), spec.table_name).values()
        con.close()
        return result.status, stored.etag, source_server.requests_served - before

    status, etag, requests_made = run()
    assert status == "loaded" and etag and requests_made == 1
    assert run() == ("unchanged", etag, 1)  # 304: the ETag was read back from meta.source_state
