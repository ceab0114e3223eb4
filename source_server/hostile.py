"""Hostile answers the embedded source can give to data requests (files and API pages alike).

What a department's gateway, proxy or misconfigured server really sends back, so the connectors'
refusals can be tested against a live socket:

- an HTML login page with 200 OK where data was expected (an SSO gateway in front of the API);
- a body larger than the client's size cap, with a Content-Length or chunked without one;
- a 401 whose body echoes the request's Authorization header, or its full URL (query included);
- and a server that takes the token in the URL (`?access_token=`, or `http://user:token@host`
  as Basic auth), as some departmental APIs do: the case of a token put in the URL variable.

The switches live on `server.Faults` (`html_page`, `oversize_bytes`, `oversize_chunked`,
`echo_401`, `token_in_url`); see `server.Faults` for how to set them.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Callable, Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Protocol
from urllib.parse import parse_qs, urlparse

ECHO_MODES = ("authorization", "url")
URL_TOKEN_PARAMS = ("access_token", "token")
LOGIN_PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head><meta charset="utf-8"><title>统一身份认证平台 - 登录</title></head>
<body>
<form method="post" action="/sso/login">
  <label>用户名 <input name="username"></label>
  <label>密码 <input name="password" type="password"></label>
  <button type="submit">登录</button>
</form>
</body>
</html>
""".encode()
_CHUNK = 64 * 1024
_FILLER_HEAD, _FILLER_TAIL = b'{"data": [], "padding": "', b'"}'
_FILLER_MIN = len(_FILLER_HEAD) + len(_FILLER_TAIL)


class HostileFaults(Protocol):
    html_page: bool
    html_content_type: str
    oversize_bytes: int
    oversize_chunked: bool
    echo_401: str | None
    token_in_url: bool


def check(faults: HostileFaults) -> None:
    """Refuse switch values that make no sense, before the server's faults change."""
    if faults.echo_401 is not None and faults.echo_401 not in ECHO_MODES:
        raise ValueError(f"echo_401 {faults.echo_401!r}: give one of {', '.join(ECHO_MODES)}")
    if not isinstance(faults.oversize_bytes, int) or faults.oversize_bytes < 0:
        raise ValueError(f"oversize_bytes {faults.oversize_bytes!r}: give a number of bytes, 0 = off")


def answer_before_auth(handler: BaseHTTPRequestHandler, faults: HostileFaults,
                       count: Callable[[], None]) -> bool:
    """A gateway's answer, given whatever the token: True when one was sent.

    `count` is called before anything is sent: a client that has its answer may already be
    asking the server how many requests it served.
    """
    if faults.echo_401 or faults.html_page:
        count()
    if faults.echo_401:
        auth = handler.headers.get("Authorization", "")
        host = handler.headers.get("Host", "")
        # As careless frameworks do: the rejected credential and request, quoted back.
        body = ({"error": "unauthorized", "message": f"Unauthorized: {auth or 'no credentials'} "
                 "is expired or revoked", "request": {"headers": {"Authorization": auth}}}
                if faults.echo_401 == "authorization" else
                {"error": "unauthorized", "message": f"Unauthorized request to http://{host}{handler.path}",
                 "request_url": f"http://{host}{handler.path}"})
        _send(handler, HTTPStatus.UNAUTHORIZED, json.dumps(body, ensure_ascii=False).encode(),
              "application/json; charset=utf-8")
        return True
    if faults.html_page:
        _send(handler, HTTPStatus.OK, LOGIN_PAGE, faults.html_content_type)
        return True
    return False


def answer_after_auth(handler: BaseHTTPRequestHandler, faults: HostileFaults,
                      count: Callable[[], None]) -> bool:
    """An oversized body in place of the data: True when one was sent (`count` as above)."""
    if not faults.oversize_bytes:
        return False
    count()
    handler.send_response(HTTPStatus.OK)
    handler.send_header("Content-Type", "application/json; charset=utf-8")
    if faults.oversize_chunked:
        handler.send_header("Transfer-Encoding", "chunked")
    else:
        handler.send_header("Content-Length", str(max(faults.oversize_bytes, _FILLER_MIN)))
    handler.end_headers()
    try:
        for chunk in _filler(faults.oversize_bytes):
            if faults.oversize_chunked:
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            else:
                handler.wfile.write(chunk)
        if faults.oversize_chunked:
            handler.wfile.write(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):  # the client refused it part-way: as it should
        pass
    handler.close_connection = True
    return True


def token_in_url(handler: BaseHTTPRequestHandler, token: str) -> bool:
    """Whether the request carries the token in its query string or as a Basic password."""
    query = parse_qs(urlparse(handler.path).query)
    given = [v for name in URL_TOKEN_PARAMS for v in query.get(name, [])]
    auth = handler.headers.get("Authorization", "")
    if auth.startswith("Basic "):
        try:
            user, _, password = base64.b64decode(auth[6:], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user = password = ""
        given += [user, password]
    return any(secrets.compare_digest(value.encode(), token.encode()) for value in given)


def _filler(size: int) -> Iterator[bytes]:
    """A JSON object of exactly `size` bytes (or the shortest one), in chunks."""
    padding = max(0, size - _FILLER_MIN)
    yield _FILLER_HEAD
    while padding:
        step = min(padding, _CHUNK)
        yield b"x" * step
        padding -= step
    yield _FILLER_TAIL


def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
