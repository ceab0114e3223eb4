"""Secrets never leave the connectors: not in an error, a log line, nor anything the warehouse keeps.

A server that echoes the token (a 401 page quoting the Authorization header or the full URL) and
a token put in the URL variable (`http://user:token@host`, `?access_token=`) are both masked
where the text is made; the request itself still carries the token.
"""

from __future__ import annotations

import dataclasses
import logging

import pytest
import requests

from connectors.errors import SourceRejected, SourceUnavailable
from connectors.fetch import fetch_dataset
from connectors.http import join_url
from connectors.json_api import fetch_json_api
from connectors.result import Provenance
from core.errors import ConfigError
from core.redact import redact, remember
from tests.connectors.test_json_api import FAST, spec_of


def with_userinfo(url: str, token: str) -> str:
    return url.replace("http://", f"http://carbonpeak:{token}@", 1)


# -- redact() ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("Unauthorized: Bearer abc123DEF456 is expired", "Unauthorized: Bearer *** is expired"),
    ('{"Authorization": "Basic dXNlcjpwYXNz"}', '{"Authorization": "Basic ***"}'),
    ("authorization=tok", "authorization=***"),
    ("http://user:pa55@host:80/api?page=1", "http://***@host:80/api?page=1"),
    ("http://justatoken@host/api", "http://***@host/api"),
    ("https://h/x?page=1&access_token=abc&page_size=10", "https://h/x?page=1&access_token=***&page_size=10"),
    *[(f"https://h/x?{name}=v4lue", f"https://h/x?{name}=***") for name in
      ("token", "key", "apikey", "api_key", "sign", "signature", "secret", "password", "TOKEN")],
    ("https://h/?next=https%3A%2F%2Fh%2F%3Ftoken%3Dabc", "https://h/?next=https%3A%2F%2Fh%2F%3Ftoken%3D***"),
    ('{"token": "abc", "page": 1}', '{"token": "***", "page": 1}'),
    ("password = hunter2", "password = ***"),
])
def test_redact_masks_what_looks_like_a_secret(text, expected):
    assert redact(text) == expected
    assert redact(expected) == expected  # idempotent


@pytest.mark.parametrize("text", [
    "HTTP 401: missing or wrong bearer token (check the department's token variable)",
    "`pagination.records_key` is `data`; `next_key`: next_page",
    "basic checks failed; see /srv/landing/energy/2024年能源.csv",
    "write to ops@example.gov.cn",
    "HTTP 404: no route /api/v1/energy/gpd (check the dataset `path` in sources.yml)",
])
def test_redact_leaves_ordinary_messages_alone(text):
    assert redact(text) == text


def test_a_remembered_secret_is_masked_anywhere_and_in_its_encoded_forms():
    remember("Zq-7/secret+value")
    assert redact("got Zq-7/secret+value, Zq-7%2Fsecret%2Bvalue and Zq-7%2Fsecret%2Bvalue") == \
        "got ***, *** and ***"
    assert redact("tiny 1234567 stays", secrets=["1234567"]) == "tiny 1234567 stays"  # too short to mask
    assert redact("given abcdef12", secrets=["abcdef12"]) == "given ***"


def test_errors_and_provenance_redact_what_they_are_given():
    err = SourceRejected("energy.gdp", "http://u:pw123456@h/x?token=t0ken", "HTTP 401: Bearer t0ken99")
    assert str(err) == "source `energy.gdp` (http://***@h/x?token=***): HTTP 401: Bearer ***"
    assert (err.url, err.problem) == ("http://***@h/x?token=***", "HTTP 401: Bearer ***")
    config = ConfigError("env", "energy", "CARBONPEAK_ENERGY_URL", "`ftp://u:pw@h/?key=k1` is not http")
    assert "pw" not in str(config) and "k1" not in str(config)
    import datetime as dt
    prov = Provenance("energy.gdp", "http://u:pw@h/x?apikey=k", dt.datetime(2026, 1, 1), "0" * 64, 1, 1)
    assert prov.url == "http://***@h/x?apikey=***"
    assert Provenance("w.x", "/srv/landing/a b.csv", dt.datetime(2026, 1, 1), "0", 1, 1).url == \
        "/srv/landing/a b.csv"


def test_join_url_keeps_a_query_in_the_base_url():
    assert join_url("http://h:1/", "/api/v1/x") == "http://h:1/api/v1/x"
    assert join_url("http://h/base/?appkey=k", "/api/v1/x") == "http://h/base/api/v1/x?appkey=k"


def test_an_unusable_url_is_refused_naming_the_source(mianyang_sources):
    with pytest.raises(SourceRejected) as err:
        fetch_json_api(spec_of(mianyang_sources, "gdp"), "http://?token=pw-77665544", None, FAST)
    assert str(err.value) == ("source `energy.gdp` (http:///api/v1/energy/gdp?token=***): not a usable "
                              "URL (Invalid URL 'http:///api/v1/energy/gdp?token=***': No host supplied); "
                              "check the department's URL variable")


# -- a server that echoes the token ------------------------------------------------------------

def test_a_401_echoing_the_authorization_header_is_redacted(source_server, mianyang_sources, caplog):
    token = source_server.token
    source_server.set_faults(echo_401="authorization")
    echoed = requests.get(source_server.url + "/api/v1/energy/gdp", timeout=5,
                          headers={"Authorization": f"Bearer {token}"})
    assert echoed.status_code == 401 and token in echoed.text  # the server really echoes it

    with caplog.at_level(logging.DEBUG), pytest.raises(SourceRejected) as err:
        fetch_json_api(spec_of(mianyang_sources, "gdp"), source_server.url, token, FAST)
    message = str(err.value)
    assert message.startswith(f"source `energy.gdp` ({source_server.url}/api/v1/energy/gdp?")
    assert "HTTP 401: " in message and "Unauthorized: Bearer *** is expired" in message
    assert "check the department's token variable" in message
    assert token not in message + err.value.url + err.value.problem + repr(err.value.args)
    assert token not in caplog.text


def test_a_token_in_the_url_variable_is_used_and_never_shown(source_server, mianyang_sources, caplog):
    token = source_server.token
    source_server.set_faults(token_in_url=True, fail_next=1, fail_status=503)  # one retry: logged
    spec = spec_of(mianyang_sources, "gdp")
    with caplog.at_level(logging.DEBUG):
        by_query = fetch_json_api(spec, f"{source_server.url}/?access_token={token}", None, FAST)
        by_userinfo = fetch_json_api(spec, with_userinfo(source_server.url, token), None, FAST)
    assert len(by_query.frame) == len(by_userinfo.frame) == 21  # the token did reach the server
    assert by_query.provenance.url == (f"{source_server.url}/api/v1/energy/gdp?access_token=***"
                                       "&page_size=100&page=1")
    assert by_userinfo.provenance.url == (with_userinfo(source_server.url, "***").replace(
        "carbonpeak:***", "***") + "/api/v1/energy/gdp?page_size=100&page=1")
    retry_lines = [r.getMessage() for r in caplog.records if "HTTP 503" in r.getMessage()]
    assert len(retry_lines) == 1 and "access_token=***" in retry_lines[0]
    assert token not in caplog.text


def test_a_401_echoing_the_url_with_its_token_is_redacted(source_server, mianyang_sources):
    token = source_server.token
    source_server.set_faults(echo_401="url")
    with pytest.raises(SourceRejected) as err:
        fetch_json_api(spec_of(mianyang_sources, "gdp"), f"{source_server.url}?token={token}", None, FAST)
    assert "Unauthorized request to" in str(err.value) and "token=***" in str(err.value)
    assert token not in str(err.value)


def test_an_unreachable_server_named_with_a_token_url_shows_no_token(mianyang_sources):
    with pytest.raises(SourceUnavailable) as err:
        fetch_json_api(spec_of(mianyang_sources, "gdp"), "http://me:pw-9f8e7d6c@127.0.0.1:9/?key=k-5a4b3c2d",
                       None, FAST)
    assert "connection failed" in str(err.value)
    assert "pw-9f8e7d6c" not in str(err.value) and "k-5a4b3c2d" not in str(err.value)


# -- the warehouse: every table and column --------------------------------------------------------

def test_no_token_reaches_any_table_of_the_warehouse(source_server, mianyang_sources, tmp_path):
    """Real fetch, check and load into a DuckDB file, and a failed department recorded.

    The failure is recorded as the flows record it; then every column of every table is
    searched for the token.
    """
    from tests.helpers import check
    from warehouse.db import connect
    from warehouse.health import record_health
    from warehouse.load import load_batches
    from warehouse.state import read_source_states

    token = source_server.token
    warehouse = tmp_path / "warehouse.duckdb"
    con = connect(warehouse)
    assert read_source_states(con) == {}  # the flows read the states first (it creates meta.*)
    con.close()
    energy = mianyang_sources.department("energy")
    source_server.set_faults(token_in_url=True)
    # a JSON API with the token as a query parameter, a CSV file with it as userinfo
    fetched = [*fetch_dataset(spec_of(mianyang_sources, "gdp"), energy,
                              f"{source_server.url}/?access_token={token}", None, {}),
               *fetch_dataset(spec_of(mianyang_sources, "monthly"), energy,
                              with_userinfo(source_server.url, token), None, {})]
    batches = [check(f, warehouse) for f in fetched]

    source_server.set_faults(echo_401="authorization")
    forestry = mianyang_sources.department("forestry")
    with pytest.raises(SourceRejected) as err:
        fetch_dataset(forestry.datasets[0], forestry, source_server.url, token, {})

    con = connect(warehouse)
    try:
        results = load_batches(con, batches)
        record_health(con, forestry, str(err.value))  # as flows.ingest._record_failure does
        urls = dict(con.execute("select dataset, source_url from meta.load_log").fetchall())
        health = con.execute("select error from meta.source_health where department = 'forestry'"
                             ).fetchall()
        columns = con.execute("select table_schema, table_name, column_name "
                              "from information_schema.columns").fetchall()
        hits = [f"{schema}.{table}.{column}" for schema, table, column in columns
                if con.execute(f'select count(*) from "{schema}"."{table}" '
                               f'where cast("{column}" as varchar) like ?', [f"%{token}%"]).fetchone()[0]]
    finally:
        con.close()
    assert [r.status for r in results] == ["loaded", "loaded"]
    assert urls == {"energy__gdp": f"{source_server.url}/api/v1/energy/gdp?access_token=***"
                                   "&page_size=100&page=1",
                    "energy__monthly": source_server.url.replace("http://", "http://***@")
                                       + "/files/energy/energy_monthly.csv"}
    assert health and all("Bearer ***" in error for (error,) in health)
    assert len(columns) > 100 and hits == []


def test_the_connectors_own_loggers_redact(caplog):
    from core.redact import get_logger

    log = get_logger("connectors.some_module")
    assert get_logger("connectors.some_module") is log and len(log.filters) == 1
    with caplog.at_level(logging.INFO, logger="connectors.some_module"):
        log.info("fetching %s with %s", "http://u:pw-123456@h/?sign=abc", "Bearer abc123def")
    assert caplog.messages == ["fetching http://***@h/?sign=*** with Bearer ***"]


def test_dataclass_replace_keeps_provenance_redacted():
    import datetime as dt
    prov = Provenance("x.y", "http://h/?token=t", dt.datetime(2026, 1, 1), "0", 1, 1)
    assert dataclasses.replace(prov, records=5).url == "http://h/?token=***"
