"""The hostile-answer switches, as a plain HTTP client sees them (see source_server/hostile.py).

An HTML login page, an oversized body (with a Content-Length or chunked), a 401 echoing the
token or the URL, and a token accepted in the URL: on file paths and API paths alike.
"""

from __future__ import annotations

import pytest
import requests

from source_server.server import SourceServer

API = "/api/v1/energy/gdp?page=1&page_size=100"
FILE = "/files/forestry/forest_resources_by_county.csv"


def get(server: SourceServer, path: str, token: str | None = None, **kwargs) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(server.url + path, headers=headers, timeout=10, **kwargs)


@pytest.mark.parametrize("path", [API, FILE])
def test_html_page_answers_every_data_path_with_a_login_page(source_server, path):
    source_server.set_faults(html_page=True)
    before = source_server.requests_served
    page = get(source_server, path)  # a gateway answers before any token is looked at
    assert page.status_code == 200 and page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert page.text.startswith("<!DOCTYPE html>") and "<title>统一身份认证平台 - 登录</title>" in page.text
    assert source_server.requests_served - before == 1

    source_server.set_faults(html_page=True, html_content_type="text/csv; charset=utf-8")
    assert get(source_server, path).headers["Content-Type"] == "text/csv; charset=utf-8"
    source_server.set_faults()
    assert get(source_server, path, source_server.token).headers["Content-Type"] != "text/html; charset=utf-8"


@pytest.mark.parametrize("path", [API, FILE])
def test_oversize_body_has_the_size_asked_for(source_server, path):
    source_server.set_faults(oversize_bytes=3_000_000)
    assert get(source_server, path).status_code == 401  # the data is still token-protected
    body = get(source_server, path, source_server.token)
    assert body.status_code == 200 and body.headers["Content-Length"] == "3000000"
    assert len(body.content) == 3_000_000 and body.json()["data"] == []

    source_server.set_faults(oversize_bytes=3_000_000, oversize_chunked=True)
    body = get(source_server, path, source_server.token)
    assert "Content-Length" not in body.headers and body.headers["Transfer-Encoding"] == "chunked"
    assert len(body.content) == 3_000_000


def test_echo_401_quotes_the_authorization_header_or_the_url(source_server):
    token = source_server.token
    source_server.set_faults(echo_401="authorization")
    for path in (API, FILE):
        answer = get(source_server, path, token)
        assert answer.status_code == 401
        assert answer.json()["request"]["headers"]["Authorization"] == f"Bearer {token}"
        assert f"Unauthorized: Bearer {token} is expired" in answer.json()["message"]

    source_server.set_faults(echo_401="url")
    answer = get(source_server, f"{FILE}?access_token={token}")
    assert answer.status_code == 401
    assert answer.json()["request_url"] == f"{source_server.url}{FILE}?access_token={token}"


def test_token_in_url_accepts_a_query_parameter_or_basic_auth_only_when_on(source_server):
    token = source_server.token
    assert get(source_server, f"{API}&access_token={token}").status_code == 401  # off by default
    source_server.set_faults(token_in_url=True)
    assert get(source_server, f"{API}&access_token={token}").status_code == 200
    assert get(source_server, f"{FILE}?token={token}").status_code == 200
    assert get(source_server, FILE, auth=("carbonpeak", token)).status_code == 200  # user:token@host
    assert get(source_server, f"{API}&access_token=wrong").status_code == 401
    assert get(source_server, FILE, auth=("carbonpeak", "wrong")).status_code == 401
    assert get(source_server, API, token).status_code == 200  # the header still works


def test_bad_hostile_values_are_refused_before_anything_changes(source_server):
    with pytest.raises(ValueError, match="echo_401 'cookie': give one of authorization, url"):
        source_server.set_faults(echo_401="cookie")
    with pytest.raises(ValueError, match="oversize_bytes -1"):
        source_server.set_faults(oversize_bytes=-1)
    answer = requests.post(source_server.url + "/_faults", json={"echo_401": "cookie"}, timeout=5,
                           headers={"Authorization": f"Bearer {source_server.token}"})
    assert answer.status_code == 400 and "echo_401" in answer.json()["faults"]
    assert get(source_server, API, source_server.token).status_code == 200
