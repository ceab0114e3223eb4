"""One HTTP GET with timeouts and retries: the only retry layer for transient source failures.

Retried: connection errors, timeouts, truncated bodies, 429 and 5xx (honouring `Retry-After`).
Not retried: other 4xx, bodies that are not JSON, and bodies over the size cap
(`RetryPolicy.max_body_bytes`): the body is streamed and refused as soon as it is too large,
never read whole into memory. The token and any credentials in the URL are remembered by
`core.redact`, so they never reach an error message or a log line, even when the server
echoes them.
"""

from __future__ import annotations

import functools
import hashlib
import re
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests

from connectors.errors import SourceRejected, SourceUnavailable
from core import redact

log = redact.get_logger(__name__)
redact.get_logger("urllib3.connectionpool")  # its DEBUG lines quote request URLs, query and all

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER_S = 60.0
CHUNK_BYTES = 64 * 1024
ERROR_TEXT_BYTES = 4096  # of an error body, enough to show its start; the rest is never read


@dataclass(frozen=True)
class RetryPolicy:
    timeout_connect_s: float = 3.0
    timeout_read_s: float = 10.0
    max_attempts: int = 4
    backoff_s: float = 0.5  # doubled after each failed attempt
    max_body_bytes: int = 200 * 2**20  # a larger body is refused, not read into memory


@dataclass(frozen=True)
class FileResponse:
    url: str
    payload: bytes | None  # None when the server answered 304 Not Modified
    etag: str | None
    last_modified: str | None
    content_type: str | None = None  # as the server declared it (an HTML login page says text/html)

    @functools.cached_property
    def sha256(self) -> str | None:
        """The body's sha256 (None for a 304), computed when first asked for.

        A paged pull hashes its day, not each page: a page's hash cost as much CPU as receiving it.
        """
        return None if self.payload is None else hashlib.sha256(self.payload).hexdigest()


def make_session(token: str | None) -> requests.Session:
    redact.remember(token)  # whatever echoes it later (a 401 page, a log line) shows `***`
    session = requests.Session()
    session.headers["User-Agent"] = "carbonpeak"
    if token:
        session.headers["Authorization"] = f"Bearer {token}"
    return session


def join_url(base_url: str, path: str) -> str:
    """A dataset's URL: `path` under the base URL's path, keeping the base URL's query string.

    A base URL may carry a query (`https://host/open?appkey=…`, a department's key put in the
    URL variable): a plain `base + path` would bury the path inside it.
    """
    try:
        parts = urllib.parse.urlsplit(base_url)
    except ValueError:  # e.g. an unclosed `[` IPv6 host: `_get` refuses it with the source's name
        return base_url.rstrip("/") + path
    return urllib.parse.urlunsplit(parts._replace(path=parts.path.rstrip("/") + path))


def get_file(session: requests.Session, url: str, *, source: str, policy: RetryPolicy,
             etag: str | None = None, last_modified: str | None = None,
             params: dict | None = None) -> FileResponse:
    """GET a whole file (or an API page, with `params`), conditionally when validators are given.

    The validators are those of the last download; the answer's `url` is the full URL asked
    for, with its secrets masked.
    """
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    response, payload = _get(session, url, params or {}, source=source, policy=policy, headers=headers)
    content_type = response.headers.get("Content-Type")
    if response.status_code == 304:
        return FileResponse(response.url, None, etag, last_modified, content_type)
    return FileResponse(response.url, payload, response.headers.get("ETag"),
                        response.headers.get("Last-Modified"), content_type)


@dataclass(frozen=True)
class Downloaded:
    """A file streamed to disk (never held whole in memory), with what identifies it."""

    url: str  # as asked for, secrets masked
    path: Path
    sha256: str
    size: int
    etag: str | None
    last_modified: str | None
    content_type: str | None

    def __len__(self) -> int:  # compared with Content-Length like a body held in memory
        return self.size


def download_file(session: requests.Session, url: str, dest: Path, *, source: str,
                  policy: RetryPolicy) -> Downloaded:
    """GET a file into `dest` in chunks, hashing it on the way; retried like any GET.

    The file is written beside `dest` and renamed into place only when complete, so a
    truncated download never looks like a file.
    """
    part = dest.with_name(dest.name + ".part")

    def write(response: requests.Response, source: str, shown: str, cap: int) -> Downloaded:
        digest, size = hashlib.sha256(), 0
        try:
            with part.open("wb") as out:
                for chunk in response.iter_content(CHUNK_BYTES):
                    size += len(chunk)
                    if size > cap:
                        raise _too_large(source, shown, cap, f"more than {cap:,} bytes arrived")
                    digest.update(chunk)
                    out.write(chunk)
        except OSError as exc:
            if exc.filename is not None or isinstance(exc, requests.RequestException):
                raise
            # a full disk here is the platform's, not the department's: name the file it was writing
            raise OSError(exc.errno, exc.strerror, str(part)) from None
        return Downloaded(shown, dest, digest.hexdigest(), size, response.headers.get("ETag"),
                          response.headers.get("Last-Modified"), response.headers.get("Content-Type"))

    try:
        _, written = _get(session, url, {}, source=source, policy=policy, headers={}, read=write)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    part.replace(dest)
    return written


def looks_like_html(payload: bytes, content_type: str | None = None) -> bool:
    """Whether a body is an HTML page (a login or error page a gateway served instead of data)."""
    if content_type and content_type.split(";")[0].strip().lower() in ("text/html", "application/xhtml+xml"):
        return True
    head = payload[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or (
        head.startswith((b"<?xml", b"<!--")) and b"<html" in head)


def html_page_problem(payload: bytes, content_type: str | None, expected: str) -> str | None:
    """The refusal for an HTML page served where `expected` (a CSV file, JSON…) was; else None."""
    if not looks_like_html(payload, content_type):
        return None
    title = html_title(payload)
    return ("the server answered an HTML page" + (f" ({title!r})" if title else "")
            + f" instead of {expected} (a login page?); check the URL and token variables")


def html_title(payload: bytes) -> str | None:
    """The <title> of an HTML page, to name it in an error ("统一身份认证 - 登录")."""
    match = re.search(rb"<title[^>]*>(.{1,200}?)</title>", payload[:65536], re.IGNORECASE | re.DOTALL)
    if not match:
        return None
    return " ".join(match.group(1).decode("utf-8", "replace").split())[:80] or None


def _get(session: requests.Session, url: str, params: dict, *, source: str, policy: RetryPolicy,
         headers: dict, read: Callable | None = None) -> tuple[requests.Response, bytes]:
    redact.remember_url(url)  # a token in the URL variable: masked wherever it is echoed
    try:
        shown = redact.redact(requests.Request("GET", url, params=params).prepare().url or url)
    except requests.RequestException as exc:  # no scheme, no host, bad characters
        raise SourceRejected(source, url, f"not a usable URL ({_short(exc)}); check the "
                             "department's URL variable") from None
    problem = "no attempt made"
    for attempt in range(1, policy.max_attempts + 1):
        wait = policy.backoff_s * 2 ** (attempt - 1)
        try:
            # stream: the body is read by `_read_body`, which stops at the size cap
            response = session.get(url, params=params, headers=headers, stream=True,
                                   timeout=(policy.timeout_connect_s, policy.timeout_read_s))
            with response:
                outcome = _answer(response, source, shown, policy, read or _read_body)
        except requests.Timeout:
            problem = f"timed out (connect {policy.timeout_connect_s} s, read {policy.timeout_read_s} s)"
        except requests.exceptions.ChunkedEncodingError as exc:
            problem = f"body truncated ({_short(exc)})"
        except requests.ConnectionError as exc:
            problem = f"connection failed ({_short(exc)})"
        except requests.RequestException as exc:  # invalid URL, too many redirects, bad encoding
            raise SourceRejected(source, shown, f"request failed: {_short(exc)}") from None
        else:
            if not isinstance(outcome, tuple):
                response.url = shown
                return response, outcome
            problem, retry_after = outcome
            wait = wait if retry_after is None else retry_after
        if attempt < policy.max_attempts:
            log.warning("source %s: %s on %s; retry %d/%d in %.1f s", source, problem, shown,
                        attempt, policy.max_attempts - 1, wait)
            time.sleep(wait)
    raise SourceUnavailable(source, shown, f"{problem} after {policy.max_attempts} attempts; "
                            "check that the department's server is up and reachable")


def _answer(response: requests.Response, source: str, shown: str, policy: RetryPolicy,
            read: Callable | None = None) -> bytes | tuple[str, float | None]:
    """The body of a good answer, or (problem, Retry-After) for one worth retrying; raises if fatal."""
    status = response.status_code
    if status in RETRY_STATUSES:
        return f"HTTP {status}", _retry_after(response)
    if status >= 400:
        raise SourceRejected(source, shown, f"HTTP {status}: {_error_text(response)}" + _hint(status))
    if status == 304:
        return b""
    cap = policy.max_body_bytes
    declared = _declared_length(response)
    if declared is not None and declared > cap:
        raise _too_large(source, shown, cap, f"it announces {declared:,} bytes")
    payload = (read or _read_body)(response, source, shown, cap)
    # With Content-Encoding the length is of the compressed body: only compare a plain one.
    if _plain(response) and declared is not None and declared != len(payload):
        return f"body truncated ({len(payload)} of {declared} bytes)", None
    return payload


def _declared_length(response: requests.Response) -> int | None:
    """The body's length as its Content-Length header gives it, or None without a usable one.

    ASCII digits only: `str.isdigit` also takes `²` (a latin-1 header byte), which `int` refuses.
    A header that is no length is ignored, as http.client ignores it: the body is read to its end.
    """
    declared = response.headers.get("Content-Length", "")
    return int(declared) if declared.isascii() and declared.isdigit() else None


def _plain(response: requests.Response) -> bool:
    """Whether the body is sent as is (no Content-Encoding): its declared length is its size."""
    return response.headers.get("Content-Encoding", "identity").lower() == "identity"


def _read_body(response: requests.Response, source: str, shown: str, cap: int) -> bytes:
    """Read a streamed body, refusing it as soon as it passes `cap` bytes (decompressed).

    A plain body of a declared length (`_answer` refused it if over `cap`) is read in one call:
    in 64 KB pieces a paged pull spent as long joining them as receiving them.
    """
    declared = _declared_length(response)
    step = declared if _plain(response) and declared and declared <= cap else CHUNK_BYTES
    chunks, size = [], 0
    for chunk in response.iter_content(step):
        size += len(chunk)
        if size > cap:  # a chunked or lying body: stop here, the rest is never read
            raise _too_large(source, shown, cap, f"more than {cap:,} bytes arrived")
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(source: str, shown: str, cap: int, detail: str) -> SourceRejected:
    return SourceRejected(source, shown, f"the response is larger than the {cap / 2**20:g} MB cap "
                          f"(`http.max_body_mb` in sources.yml): {detail}; refused unread. If the "
                          "department really publishes this much, raise the cap for its department")


def _error_text(response: requests.Response) -> str:
    """The start of an error page, as one line (its secrets are masked by SourceError)."""
    try:
        head = next(response.iter_content(ERROR_TEXT_BYTES), b"")
    except requests.RequestException:  # the status says enough
        return "(the error page could not be read)"
    if looks_like_html(head, response.headers.get("Content-Type")):
        title = html_title(head)
        return f"an HTML page{f' titled {title!r}' if title else ''}"
    text = head.decode(response.encoding or "utf-8", "replace")
    return " ".join(text.split())[:200]


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER_S)
    except ValueError:  # an HTTP date: not worth parsing for a local source, use the backoff
        return None


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
