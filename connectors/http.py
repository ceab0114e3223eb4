"""One HTTP GET with timeouts and retries: the only retry layer for transient source failures.

Retried: connection errors, timeouts, truncated bodies, 429 and 5xx (honouring `Retry-After`).
Not retried: other 4xx and bodies that are not JSON. The bearer token never reaches a log line.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass

import requests

from connectors.errors import SourceRejected, SourceUnavailable

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER_S = 60.0


@dataclass(frozen=True)
class RetryPolicy:
    timeout_connect_s: float = 3.0
    timeout_read_s: float = 10.0
    max_attempts: int = 4
    backoff_s: float = 0.5  # doubled after each failed attempt


@dataclass(frozen=True)
class FileResponse:
    url: str
    payload: bytes | None  # None when the server answered 304 Not Modified
    sha256: str | None
    etag: str | None
    last_modified: str | None


def make_session(token: str | None) -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = "carbonpeak"
    if token:
        session.headers["Authorization"] = f"Bearer {token}"
    return session


def get_file(session: requests.Session, url: str, *, source: str, policy: RetryPolicy,
             etag: str | None = None, last_modified: str | None = None) -> FileResponse:
    """GET a whole file, conditionally when validators from the last download are given."""
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    response, payload = _get(session, url, {}, source=source, policy=policy, headers=headers)
    if response.status_code == 304:
        return FileResponse(response.url, None, None, etag, last_modified)
    return FileResponse(response.url, payload, hashlib.sha256(payload).hexdigest(),
                        response.headers.get("ETag"), response.headers.get("Last-Modified"))


def _get(session: requests.Session, url: str, params: dict, *, source: str, policy: RetryPolicy,
         headers: dict) -> tuple[requests.Response, bytes]:
    shown = requests.Request("GET", url, params=params).prepare().url or url
    problem = "no attempt made"
    for attempt in range(1, policy.max_attempts + 1):
        wait = policy.backoff_s * 2 ** (attempt - 1)
        try:
            response = session.get(url, params=params, headers=headers,
                                   timeout=(policy.timeout_connect_s, policy.timeout_read_s))
            payload = response.content  # reads the whole body: truncation raises here
        except requests.Timeout:
            problem = f"timed out (connect {policy.timeout_connect_s} s, read {policy.timeout_read_s} s)"
        except requests.ConnectionError as exc:
            problem = f"connection failed ({_short(exc)})"
        except requests.exceptions.ChunkedEncodingError as exc:
            problem = f"body truncated ({_short(exc)})"
        except requests.RequestException as exc:  # invalid URL, too many redirects, bad encoding
            raise SourceRejected(source, shown, f"request failed: {_short(exc)}") from None
        else:
            if response.status_code in RETRY_STATUSES:
                problem = f"HTTP {response.status_code}"
                wait = _retry_after(response, default=wait)
            elif response.status_code >= 400:
                raise SourceRejected(source, shown, f"HTTP {response.status_code}: "
                                     f"{response.text[:200]}" + _hint(response.status_code))
            else:
                declared = response.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) != len(payload):
                    problem = f"body truncated ({len(payload)} of {declared} bytes)"  # retry
                else:
                    response.url = shown
                    return response, payload
        if attempt < policy.max_attempts:
            log.warning("source %s: %s on %s; retry %d/%d in %.1f s", source, problem, shown,
                        attempt, policy.max_attempts - 1, wait)
            time.sleep(wait)
    raise SourceUnavailable(source, shown, f"{problem} after {policy.max_attempts} attempts; "
                            "check that the department's server is up and reachable")


def _retry_after(response: requests.Response, default: float) -> float:
    value = response.headers.get("Retry-After")
    if value is None:
        return default
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER_S)
    except ValueError:  # an HTTP date: not worth parsing for a local source, use the backoff
        return default


def _hint(status: int) -> str:
    if status in (401, 403):
        return " (check the department's token variable)"
    if status == 404:
        return " (check the dataset `path` in sources.yml)"
    return ""


_REASONS = (("Connection refused", "connection refused"), ("Connection reset", "connection reset"),
            ("RemoteDisconnected", "the server closed the connection"),
            ("Name or service not known", "host name not found"), ("timed out", "timed out"))


def _short(exc: Exception) -> str:
    """The reason behind a requests error, without urllib3's 'Max retries exceeded' wrapping."""
    text = str(exc)
    for needle, reason in _REASONS:
        if needle in text:
            return reason
    return text.split("(Caused by")[0].strip()[:160]
