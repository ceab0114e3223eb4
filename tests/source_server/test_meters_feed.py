"""The building energy-monitoring platform as served: registers, the day-file manifest, day files.

A small feed (3 buildings, 1–7 February 2026, as of 8 February) keeps the file fast; 5 February
is a late day (published 10 February), so it is missing until `as_of` moves on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from pathlib import Path

import duckdb
import numpy as np
import pytest
import requests

from source_server import meters_data as md
from source_server.meters_feed import REVISED_ROWS, MetersFeed
from source_server.server import SourceServer

BUILDINGS = 3
START, AS_OF = dt.date(2026, 2, 1), dt.date(2026, 2, 8)
LATE = dt.date(2026, 2, 5)


def small_server() -> SourceServer:
    return SourceServer(meters=MetersFeed(buildings=BUILDINGS, start=START, as_of=AS_OF))


@pytest.fixture(scope="module")
def server():
    """Shared by the tests that change nothing (a server takes 0.5 s to stop)."""
    with small_server() as running:
        yield running


@pytest.fixture
def fresh():
    """A server of its own, for a test that moves as_of, revises days or sets faults."""
    with small_server() as running:
        yield running


def get(server: SourceServer, path: str, token: bool = True, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {server.token}"} if token else {}
    return requests.get(server.url + path, headers=headers | kwargs.pop("headers", {}), timeout=30,
                        **kwargs)


def post_meters(server: SourceServer, body: object) -> requests.Response:
    return requests.post(server.url + "/_meters", json=body, timeout=30,
                         headers={"Authorization": f"Bearer {server.token}"})


def manifest(server: SourceServer, fmt: str = "csv") -> dict:
    response = get(server, "/api/v1/buildings/meter_days", params={"format": fmt})
    assert response.status_code == 200, response.text[:200]
    return response.json()


def published(as_of: dt.date) -> list[str]:
    days = (START + dt.timedelta(days=k) for k in range((as_of - START).days))
    return [d.isoformat() for d in days if md.published_on(d) <= as_of]


def save(tmp_path: Path, response: requests.Response, name: str) -> Path:
    path = tmp_path / name
    path.write_bytes(response.content)
    return path


def test_the_manifest_lists_exactly_the_days_published_as_of_its_date(server):
    body = manifest(server)
    days = [f["day"] for f in body["files"]]
    assert days == published(AS_OF) == ["2026-02-01", "2026-02-02", "2026-02-03", "2026-02-04",
                                        "2026-02-06", "2026-02-07"]  # the late 5th is not out yet
    assert body["dataset"] == "meter_readings" and body["format"] == "csv" and body["as_of"] == "2026-02-08"
    first = body["files"][0]
    assert first["path"] == "/files/buildings/meters/2026-02-01.csv"
    assert first["published_on"] == "2026-02-02" and first["bytes"] > 10_000
    assert manifest(server, "parquet")["files"][0]["path"] == "/files/buildings/meters/2026-02-01.parquet"


def test_a_csv_day_file_has_the_generators_rows_and_the_manifests_sha(server, tmp_path):
    entry = manifest(server)["files"][2]  # 3 February
    response = get(server, entry["path"])
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert int(response.headers["Content-Length"]) == len(response.content) == entry["bytes"]
    assert hashlib.sha256(response.content).hexdigest() == entry["sha256"]
    assert response.headers["ETag"] == f'"{entry["sha256"]}"'

    path = save(tmp_path, response, "day.csv")
    expected = md.build_day(dt.date(2026, 2, 3), BUILDINGS).faults.expected_rows
    rows = duckdb.sql(f"select count(*), count(distinct meter_id) from read_csv('{path}')").fetchone()
    assert rows == (expected, BUILDINGS * 10)

    again = get(server, entry["path"], headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""


def test_parquet_and_csv_hold_the_same_rows(server, tmp_path):
    csv = save(tmp_path, get(server, "/files/buildings/meters/2026-02-06.csv"), "d.csv")
    response = get(server, "/files/buildings/meters/2026-02-06.parquet")
    assert response.headers["Content-Type"] == "application/vnd.apache.parquet"
    parquet = save(tmp_path, response, "d.parquet")
    columns = "building_id, meter_id, ts::timestamp as ts, reading, unit"
    from_csv = duckdb.sql(f"select {columns} from read_csv('{csv}') order by all").fetchall()
    from_parquet = duckdb.sql(f"select {columns} from read_parquet('{parquet}') order by all").fetchall()
    assert from_csv == from_parquet
    assert len(from_csv) == md.build_day(dt.date(2026, 2, 6), BUILDINGS).faults.expected_rows


def test_the_manifest_has_an_etag_and_answers_304(server):
    first = get(server, "/api/v1/buildings/meter_days")
    again = get(server, "/api/v1/buildings/meter_days", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    other = get(server, "/api/v1/buildings/meter_days", params={"format": "parquet"})
    assert other.headers["ETag"] != first.headers["ETag"]
    assert get(server, "/api/v1/buildings/meter_days", params={"format": "xlsx"}).status_code == 400


def test_moving_as_of_forward_brings_the_late_day_after_the_days_that_follow_it(fresh):
    before = get(fresh, "/api/v1/buildings/meter_days")
    assert get(fresh, "/files/buildings/meters/2026-02-05.csv").status_code == 404
    assert post_meters(fresh, {"as_of": "2026-02-10"}).json()["meters"]["as_of"] == "2026-02-10"

    after = get(fresh, "/api/v1/buildings/meter_days", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]
    files = after.json()["files"]
    assert [f["day"] for f in files] == published(dt.date(2026, 2, 10))
    late = next(f for f in files if f["day"] == LATE.isoformat())
    assert late["published_on"] == "2026-02-10"
    overtaken = [f["day"] for f in files if f["day"] > late["day"] and f["published_on"] < "2026-02-10"]
    assert overtaken == ["2026-02-06", "2026-02-07", "2026-02-08"]
    unchanged = {f["day"]: f["sha256"] for f in before.json()["files"]}
    assert all(unchanged[f["day"]] == f["sha256"] for f in files if f["day"] in unchanged)
    assert get(fresh, late["path"]).status_code == 200


def test_a_revision_changes_that_days_file_and_only_that_day(fresh, tmp_path):
    before = {f["day"]: f for f in manifest(fresh)["files"]}
    old = save(tmp_path, get(fresh, before["2026-02-03"]["path"]), "old.csv")
    assert post_meters(fresh, {"revisions": {"2026-02-03": 1}}).status_code == 200

    after = {f["day"]: f for f in manifest(fresh)["files"]}
    changed = [day for day in before if before[day]["sha256"] != after[day]["sha256"]]
    assert changed == ["2026-02-03"]
    response = get(fresh, after["2026-02-03"]["path"])
    assert hashlib.sha256(response.content).hexdigest() == after["2026-02-03"]["sha256"]
    new = save(tmp_path, response, "new.csv")
    diff = duckdb.sql(f"select count(*) from (select * from read_csv('{new}') "
                      f"except all select * from read_csv('{old}'))").fetchone()[0]
    counts = [duckdb.sql(f"select count(*) from read_csv('{p}')").fetchone()[0] for p in (old, new)]
    assert diff == REVISED_ROWS and counts[0] == counts[1]

    assert post_meters(fresh, {"revisions": {"2026-02-03": 2}}).status_code == 200
    second = manifest(fresh)["files"][2]["sha256"]
    assert second not in (before["2026-02-03"]["sha256"], after["2026-02-03"]["sha256"])
    post_meters(fresh, {"revisions": {}})  # back to the original publication
    assert manifest(fresh)["files"][2]["sha256"] == before["2026-02-03"]["sha256"]


def test_every_meter_route_needs_the_token(server):
    for path in ("/api/v1/buildings/meter_days", "/files/buildings/meters/2026-02-01.csv",
                 "/api/v1/buildings/monitored_buildings"):
        assert get(server, path, token=False).status_code == 401, path
    assert requests.post(server.url + "/_meters", json={"as_of": "2026-03-01"}, timeout=30).status_code == 401
    assert server.meters.as_of == AS_OF


@pytest.mark.parametrize("name", ["2026-02-05.csv", "2026-02-08.csv", "2026-01-31.parquet",
                                  "2026-02-30.csv", "2026-02-01.xlsx", "latest.csv"])
def test_a_day_not_published_or_not_a_day_is_a_json_404(server, name):
    response = get(server, f"/files/buildings/meters/{name}")
    assert response.status_code == 404
    assert "not published as of 2026-02-08" in response.json()["error"]


@pytest.mark.parametrize(("body", "message"), [
    ({"as_of": "10 March"}, "`as_of`: '10 March' is not a date"),
    ({"revisions": {"2026-02-03": -1}}, "`revisions`"),
    ({"revisions": [1]}, "`revisions`: give an object"),
    ({"buildings": 0}, "`buildings`: 0"),
    ({"seed": 1}, "give a JSON object with some of as_of, start, buildings, revisions"),
    ({"now": "25:00"}, "`now`: '25:00' is not a time of day; give HH:MM"),
    ({"now": "12:00:30"}, "`now`: '12:00:30' is not a time of day"),
])
def test_bad_meter_settings_are_a_400_that_says_what_to_send(server, body, message):
    response = post_meters(server, body)
    assert response.status_code == 400 and message in response.json()["error"]
    assert server.meters.settings()["as_of"] == "2026-02-08" and server.meters.buildings == BUILDINGS


def test_the_registers_are_paged_like_the_other_buildings_datasets(fresh):
    listing = get(fresh, "/api/v1/buildings").json()["datasets"]
    assert {"monitored_buildings", "building_meters", "building_projects"} <= set(listing)
    buildings = get(fresh, "/api/v1/buildings/monitored_buildings", params={"page_size": 2})
    body = buildings.json()
    assert (body["total"], body["next_page"], len(body["data"])) == (BUILDINGS, 2, 2)
    assert body["data"][0] == {**md.building_register(1)[0], "monitoring_since":
                               md.building_register(1)[0]["monitoring_since"].isoformat()}
    assert set(body["data"][0]) == {"building_id", "county", "use", "floor_area_m2",
                                    "is_public_institution", "monitoring_since"}
    meters = get(fresh, "/api/v1/buildings/building_meters", params={"page_size": 1000}).json()["data"]
    per_building = Counter(m["building_id"] for m in meters)
    assert per_building == {"MY-B0001": 10, "MY-B0002": 10, "MY-B0003": 10}
    assert set(meters[0]) == {"meter_id", "building_id", "kind", "unit"}

    tag = buildings.headers["ETag"]
    again = get(fresh, "/api/v1/buildings/monitored_buildings", params={"page_size": 2},
                headers={"If-None-Match": tag})
    assert again.status_code == 304
    post_meters(fresh, {"buildings": 4})
    grown = get(fresh, "/api/v1/buildings/monitored_buildings", headers={"If-None-Match": tag})
    assert grown.status_code == 200 and grown.json()["total"] == 4


def test_transport_and_data_faults_reach_the_meter_routes(fresh):
    fresh.set_faults(fail_next=1, fail_status=503)
    assert get(fresh, "/api/v1/buildings/meter_days").status_code == 503
    fresh.set_faults(truncate_next=1)
    with pytest.raises(requests.exceptions.ChunkedEncodingError, match="IncompleteRead"):
        get(fresh, "/files/buildings/meters/2026-02-01.csv")  # half the promised bytes
    fresh.set_faults(rename_field={"floor_area_m2": "area"})
    row = get(fresh, "/api/v1/buildings/monitored_buildings").json()["data"][0]
    assert "area" in row and "floor_area_m2" not in row


def test_the_feed_builds_files_lazily_and_cleans_up():
    feed = MetersFeed(buildings=2, start=START, as_of=AS_OF)
    with pytest.raises(KeyError):
        feed.day_bytes(LATE, "csv")
    data = feed.day_bytes(START, "parquet")
    assert data[:4] == b"PAR1"
    assert hashlib.sha256(data).hexdigest() == feed.manifest("parquet")["files"][0]["sha256"]
    folder = feed.day_file(START, "parquet").path
    assert folder.exists()
    feed.close()
    assert not folder.exists()


# -- today's readings so far, paged JSON ---------------------------------------------------------

TODAY = "/api/v1/buildings/meter_readings_today"


def today_pages(server: SourceServer, page_size: int) -> list[dict]:
    pages, page = [], 1
    while page is not None:
        response = get(server, TODAY, params={"page": page, "page_size": page_size})
        assert response.status_code == 200, response.text[:200]
        pages.append(response.json())
        page = pages[-1]["next_page"]
    return pages


def test_todays_pages_hold_the_generators_readings_of_as_of_up_to_now(fresh):
    assert post_meters(fresh, {"now": "06:30"}).json()["meters"]["now"] == "06:30"
    pages = today_pages(fresh, 100)
    t = md.day_readings(AS_OF, BUILDINGS)
    keep = t["ts"] <= np.datetime64(f"{AS_OF}T06:30")
    records = [r for p in pages for r in p["data"]]
    assert records == [{"building_id": b, "meter_id": m, "ts": str(ts.item()), "reading": float(v),
                        "unit": u} for b, m, ts, v, u in zip(*(t[k][keep] for k in (
                            "building_id", "meter_id", "ts", "reading", "unit")), strict=True)]
    first = pages[0]
    assert (first["day"], first["page"], first["page_size"], first["total"]) == (
        AS_OF.isoformat(), 1, 100, len(records))
    assert first["pages"] == len(pages) == -(-len(records) // 100)
    assert [p["page"] for p in pages] == list(range(1, len(pages) + 1))
    assert {p["etag"] for p in pages} == {first["etag"]}


def test_todays_etag_is_of_the_day_so_far_whatever_the_page_size_and_page_1_answers_304(fresh):
    small = get(fresh, TODAY, params={"page_size": 10})
    whole = get(fresh, TODAY, params={"page_size": 10000})
    tag = small.headers["ETag"]
    assert tag == whole.headers["ETag"] == whole.json()["etag"]
    assert whole.json()["next_page"] is None and len(whole.json()["data"]) == whole.json()["total"]
    again = get(fresh, TODAY, params={"page_size": 10}, headers={"If-None-Match": tag})
    assert (again.status_code, again.content, again.headers["ETag"]) == (304, b"", tag)
    page_2 = get(fresh, TODAY, params={"page": 2, "page_size": 10}, headers={"If-None-Match": tag})
    assert page_2.status_code == 200  # only page 1 is conditional: the others are asked for whole
    post_meters(fresh, {"now": "12:15"})  # the day grew: another ETag, more rows
    later = get(fresh, TODAY, params={"page_size": 10}, headers={"If-None-Match": tag})
    assert later.status_code == 200 and later.headers["ETag"] != tag
    assert later.json()["total"] == whole.json()["total"] + md.build_day(AS_OF, BUILDINGS).faults.meters


def test_todays_pages_check_their_parameters_need_the_token_and_get_the_faults(fresh):
    assert get(fresh, TODAY, token=False).status_code == 401
    for params in ({"page_size": 10001}, {"page": 0}, {"page": "x"}):
        response = get(fresh, TODAY, params=params)
        assert response.status_code == 400 and "page_size <= 10000" in response.json()["error"]
    fresh.set_faults(fail_next=1, fail_status=503)
    assert get(fresh, TODAY).status_code == 503
    fresh.set_faults(truncate_next=1)
    with pytest.raises(requests.exceptions.ChunkedEncodingError, match="IncompleteRead"):
        get(fresh, TODAY)
    beyond = get(fresh, TODAY, params={"page": 99, "page_size": 10000}).json()
    assert (beyond["data"], beyond["next_page"]) == ([], None)


def test_todays_readings_are_encoded_once_per_day_and_time():
    feed = MetersFeed(buildings=2, start=START, as_of=AS_OF, now=dt.time(0, 0))
    first = feed.today()
    assert first.total == 20 and feed.today() is first  # 00:00 of every meter, cached
    feed.set(now=dt.time(0, 15))
    assert feed.today().total == 40
    feed.set(as_of=AS_OF + dt.timedelta(days=1))
    assert feed.today().day == AS_OF + dt.timedelta(days=1)
