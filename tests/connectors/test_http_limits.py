"""Hostile bodies over HTTP: larger than the size cap, or an HTML login page where JSON belongs.

Each is a `SourceRejected` naming the source, the URL and what to do, not a traceback, and is
not retried. The server is the embedded departmental source with its hostile switches on (an
odd header no server of ours would send comes from a server of its own).
"""

from __future__ import annotations

import dataclasses
import http.server
import threading
import tracemalloc

import pytest

from connectors.errors import SourceRejected
from connectors.fetch import retry_policy
from connectors.http import RetryPolicy, get_file, looks_like_html, make_session
from connectors.json_api import fetch_json_api
from tests.connectors.test_json_api import spec_of

MB = 2**20
CAPPED = RetryPolicy(timeout_connect_s=1, timeout_read_s=5, max_attempts=3, backoff_s=0.05,
                     max_body_bytes=1 * MB)


def fetch_gdp(server, sources, policy=CAPPED):
    return fetch_json_api(spec_of(sources, "gdp"), server.url, server.token, policy)


def test_a_body_announced_over_the_cap_is_refused_unread_and_not_retried(source_server, mianyang_sources):
    source_server.set_faults(oversize_bytes=5 * MB)
    before = source_server.requests_served
    with pytest.raises(SourceRejected) as err:
        fetch_gdp(source_server, mianyang_sources)
    message = str(err.value)
    assert message.startswith(f"source `energy.gdp` ({source_server.url}/api/v1/energy/gdp?")
    assert "larger than the 1 MB cap (`http.max_body_mb` in sources.yml)" in message
    assert "announces 5,242,880 bytes" in message
    assert source_server.requests_served - before == 1  # refused once, not retried


def test_a_chunked_body_is_cut_off_at_the_cap_with_memory_bounded(source_server, mianyang_sources):
    # No Content-Length to judge up front: the stream itself is counted and abandoned.
    source_server.set_faults(oversize_bytes=40 * MB, oversize_chunked=True)
    before = source_server.requests_served
    tracemalloc.start()
    try:
        with pytest.raises(SourceRejected, match=r"larger than the 1 MB cap .* more than 1,048,576 "
                                                 r"bytes arrived; refused unread"):
            fetch_gdp(source_server, mianyang_sources)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * MB  # a tenth of the body: it was never held whole
    assert source_server.requests_served - before == 1


def test_a_body_within_the_cap_loads_and_the_cap_comes_from_sources_yml(source_server, mianyang_sources):
    energy = mianyang_sources.department("energy")
    assert retry_policy(energy).max_body_bytes == 200 * MB  # the default of `http.max_body_mb`
    small = retry_policy(dataclasses.replace(energy, max_body_mb=0.5))
    assert small.max_body_bytes == MB // 2
    assert len(fetch_gdp(source_server, mianyang_sources, small).frame) == 21  # a page is ~3 kB

    source_server.set_faults(oversize_bytes=MB)  # exactly 1 MB against a 0.5 MB cap
    with pytest.raises(SourceRejected, match=r"larger than the 0\.5 MB cap"):
        fetch_gdp(source_server, mianyang_sources, small)


@pytest.mark.parametrize("content_type", ["text/html; charset=utf-8", "application/json"])
def test_an_html_login_page_instead_of_json_is_named_as_such(source_server, mianyang_sources,
                                                             content_type):
    # A gateway in front of the API answers 200 with its login page, labelled truly or not.
    source_server.set_faults(html_page=True, html_content_type=content_type)
    before = source_server.requests_served
    with pytest.raises(SourceRejected) as err:
        fetch_gdp(source_server, mianyang_sources)
    message = str(err.value)
    assert message == (f"source `energy.gdp` ({source_server.url}/api/v1/energy/gdp?page_size=100"
                       "&page=1): the server answered an HTML page titled '统一身份认证平台 - 登录' "
                       "(a login page?) instead of JSON; check the URL and token variables")
    assert "Traceback" not in message and "JSONDecodeError" not in message
    assert source_server.requests_served - before == 1


@pytest.mark.parametrize("payload, content_type, expected", [
    (b"<!DOCTYPE html><html>", None, True),
    (b"\xef\xbb\xbf\r\n  <HTML lang='zh'>", None, True),
    (b'<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml">', None, True),
    (b"year,value\n2024,1", "text/html; charset=gbk", True),  # the server says so
    (b'{"data": []}', "application/json", False),
    (b"\xe5\xb9\xb4\xe4\xbb\xbd,\xe6\x95\xb0\xe5\x80\xbc\n", "text/csv", False),
    (b"<note>not a page</note>", None, False),
])
def test_looks_like_html(payload, content_type, expected):
    assert looks_like_html(payload, content_type) is expected


def test_a_content_length_that_is_no_number_is_ignored_not_a_traceback():
    """`Content-Length: ²` passes `str.isdigit` but not `int`: it is no length, the body is read."""
    body = b'{"data": []}'

    class Odd(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            self.send_response(200)
            self.send_header("Content-Length", "\u00b2")  # sent as latin-1 byte 0xB2
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Odd)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with make_session(None) as session:
            answer = get_file(session, f"http://127.0.0.1:{server.server_port}/x", source="odd",
                              policy=CAPPED)
        assert answer.payload == body
    finally:
        server.shutdown()
        server.server_close()
