"""Connector for a paged JSON API of one day's readings so far (`format: json_api` + `partitions:`).

The platform publishes a day as a file the day after; during the day it offers the readings so
far as pages of JSON. Page 1 is asked for conditionally (If-None-Match with the ETag of the last
load: a 304 moves nothing) and says which day it holds (`partitions.day_key`) and how many pages
there are; pages 2 … k are then fetched concurrently, one `requests.Session` per thread, each
retried by `connectors.http`. The records are kept in page order as newline-delimited JSON,
in memory for a day of up to 256 MB and in one file beyond (connectors/spool.py), which DuckDB
reads (warehouse/native.py) like a day file: the day loads as a provisional vintage of its
partition, replaced by the next pull or by the day file. A server without ETags still moves
nothing when the day's records are those of the last load.

Records are not parsed into Python objects: a page laid out compactly (`[{…},{…}]`) is split at
its `},{` boundaries when their count is exactly the number of records the page must hold, and
only the page's envelope (the array replaced by `null`) is parsed. Any other layout falls back to
`json.loads` and `json.dumps` per record. Every page must carry page 1's ETag and day: when the
day grows while it is paged, the pull starts again once from page 1, and a second change refuses
the batch (`SourceRejected`): the next run fetches it whole.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import requests

from connectors.day_files import DayFile, DayFiles
from connectors.errors import SourceRejected
from connectors.http import FileResponse, RetryPolicy, get_file, join_url, looks_like_html, make_session
from connectors.result import Provenance, SourceState
from connectors.spec import DatasetSpec
from connectors.spool import MEMORY_BYTES, Held, Spool
from core.redact import get_logger

log = get_logger(__name__)
WORKERS = 8
MAX_PAGES = 10_000
ATTEMPTS = 2  # a day that grew while paged is pulled once more from page 1, then refused


@dataclass(frozen=True)
class _Page:
    """One page as NDJSON lines, with what it said about itself."""

    number: int
    lines: bytes  # its records one per line, without a line end after the last
    records: int
    envelope: dict  # the page without its records
    etag: str | None
    url: str


class _DayGrew(Exception):
    """A page's ETag or day differs from page 1's: the day changed while it was paged."""

    def __init__(self, page: _Page, first: _Page) -> None:
        self.page, self.first = page, first
        super().__init__(f"page 1 had ETag {first.etag} ({_day_of(first)}), page {page.number} "
                         f"{page.etag} ({_day_of(page)})")


def fetch_json_day(spec: DatasetSpec, base_url: str, token: str | None, policy: RetryPolicy,
                   states: dict[str, SourceState], download_dir: Path, workers: int = WORKERS,
                   memory_bytes: int = MEMORY_BYTES) -> DayFiles:
    """Pull the day's pages as NDJSON, in memory or in `download_dir/<table>__<dataset>__<day>.ndjson`.

    A 304, or records equal to the last load's, give no file.
    """
    download_dir.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return _pull(spec, base_url, token, policy, states, download_dir, workers, memory_bytes)
        except _DayGrew as grew:
            if attempt == ATTEMPTS:
                raise SourceRejected(spec.source_name, grew.page.url, f"the day changed while it "
                                     f"was being paged, {ATTEMPTS} times ({grew}); nothing loaded: "
                                     "the next run fetches it whole") from None
            log.warning("%s: the day changed while it was being paged (%s); fetching it again "
                        "from page 1", spec.source_name, grew)
    raise AssertionError("unreachable")


def _pull(spec: DatasetSpec, base_url: str, token: str | None, policy: RetryPolicy,
          states: dict[str, SourceState], download_dir: Path, workers: int, memory_bytes: int
          ) -> DayFiles:
    url, previous = join_url(base_url, spec.path), states.get(spec.path)
    fetched_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    size = spec.pagination.page_size
    with make_session(token) as session:
        answer = _get(session, url, spec, policy, 1, previous.etag if previous else None)
    if answer.payload is None:
        log.info("%s: not modified since the last pull (304)", spec.source_name)
        provenance = Provenance(spec.source_name, answer.url, fetched_at, previous.sha256, 0, 0,
                                etag=answer.etag, not_modified=True, state_key=spec.path)
        return DayFiles(spec, (), (), provenance)
    first = _to_lines(spec, answer, 1, None)
    day, total, pages = _day(spec, first), _count(spec, first, "total"), _count(spec, first, "pages")
    # the page size the server used (a static export holds everything on one page)
    served = first.envelope.get(spec.pagination.size_param)
    size = served if type(served) is int and served > 0 else size
    if pages != max(1, -(-total // size)) or pages > MAX_PAGES:
        raise SourceRejected(spec.source_name, first.url, f"page 1 says {total} records in {pages} "
                             f"pages of {size}; expected {max(1, -(-total // size))} pages")
    dest = download_dir / f"{spec.table_name}__{spec.name}__{day.isoformat()}.ndjson"
    spool = Spool(dest.with_name(dest.name + ".part"), memory_bytes)
    digest, records = hashlib.sha256(), 0
    try:
        # closed here, not when the traceback is dropped: its threads stop asking for pages
        with contextlib.closing(_pages(spec, url, token, policy, first, pages, total, size,
                                       workers)) as fetched:
            for page in fetched:
                if page.etag != first.etag or page.envelope.get(spec.partitions.day_key) != \
                        first.envelope.get(spec.partitions.day_key):
                    raise _DayGrew(page, first)
                if page.lines:  # the day's bytes: its lines, each ended (as on disk)
                    digest.update(page.lines)
                    digest.update(b"\n")
                spool.write(page.lines)
                records += page.records
        spool.close()
        if records != total:
            raise SourceRejected(spec.source_name, first.url, f"the pages held {records} records "
                                 f"but page 1 says `total` {total}")
    except BaseException:
        spool.discard()
        raise
    if not records:  # nothing read yet today: no partition to replace
        spool.discard()
        provenance = Provenance(spec.source_name, first.url, fetched_at, "", pages, 0,
                                etag=first.etag, not_modified=True, state_key=spec.path)
        return DayFiles(spec, (), (), provenance)
    sha256, key = digest.hexdigest(), f"{spec.path}#{day.isoformat()}"
    if states.get(key) is not None and states[key].sha256 == sha256:  # a server without ETags
        spool.discard()
        log.info("%s: %s unchanged since the last pull (same records)", spec.source_name, day)
        provenance = Provenance(spec.source_name, first.url, fetched_at, sha256, pages, records,
                                etag=first.etag, not_modified=True, state_key=spec.path)
        return DayFiles(spec, (), (key,), provenance)
    if spool.on_disk:
        spool.path.replace(dest)
    log.info("%s: %s, %d records in %d pages (%.1f MB%s)", spec.source_name, day, records, pages,
             spool.size / 2**20, ", on disk" if spool.on_disk else "")
    file = DayFile(day, dest, key, first.url, sha256, spool.size, first.etag, records,
                   chunks=None if spool.on_disk else Held(spool.chunks))
    provenance = Provenance(spec.source_name, first.url, fetched_at, sha256, pages, records,
                            etag=first.etag, state_key=spec.path)
    return DayFiles(spec, (file,), (), provenance)


def _pages(spec: DatasetSpec, url: str, token: str | None, policy: RetryPolicy, first: _Page,
           pages: int, total: int, size: int, workers: int):
    """Page 1, then pages 2 … `pages` fetched concurrently, yielded in page order.

    At most 2 × `workers` pages are asked for ahead of the one being written, so a slow page
    holds back a bounded number of others in memory.
    """
    yield first
    local, sessions, lock = threading.local(), [], threading.Lock()

    def fetch(number: int) -> _Page:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = make_session(token)
            with lock:
                sessions.append(session)
        expected = min(size, total - (number - 1) * size)
        return _to_lines(spec, _get(session, url, spec, policy, number, None), number, expected)

    pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="json-pages")
    queued: deque[Future] = deque()
    following = iter(range(2, pages + 1))
    try:
        for number in following:
            queued.append(pool.submit(fetch, number))
            if len(queued) >= 2 * workers:
                break
        while queued:
            page = queued.popleft().result()
            for number in following:
                queued.append(pool.submit(fetch, number))
                break
            yield page
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        for session in sessions:
            session.close()


def _get(session: requests.Session, url: str, spec: DatasetSpec, policy: RetryPolicy, number: int,
         etag: str | None) -> FileResponse:
    params = {spec.pagination.page_param: number, spec.pagination.size_param: spec.pagination.page_size}
    answer = get_file(session, url, source=spec.source_name, policy=policy, etag=etag, params=params)
    if answer.payload is None and not etag:
        raise SourceRejected(spec.source_name, answer.url, "HTTP 304 Not Modified to a request "
                             "without If-None-Match")
    return answer


def _to_lines(spec: DatasetSpec, answer: FileResponse, number: int, expected: int | None) -> _Page:
    """The page's records as NDJSON lines, sliced out of the body when it is laid out compactly."""
    body, key = answer.payload, spec.pagination.records_key
    split = _split(body, key.encode(), expected)
    if split is not None:
        envelope, lines, records = split
    else:
        envelope, items = _decode(spec, answer, body)
        if not isinstance(items, list) or not all(isinstance(r, dict) for r in items):
            raise SourceRejected(spec.source_name, answer.url, f"page {number}: expected a list of "
                                 f"objects under `{key}` (pagination.records_key)")
        lines = b"\n".join(json.dumps(r, ensure_ascii=False).encode() for r in items)
        records = len(items)
    if expected is not None and records != expected:
        raise SourceRejected(spec.source_name, answer.url, f"page {number} holds {records} records; "
                             f"expected {expected} from page 1's `total`")
    tag = answer.etag or envelope.get("etag")
    return _Page(number, lines, records, envelope, tag if isinstance(tag, str) else None, answer.url)


def _split(body: bytes, key: bytes, expected: int | None) -> tuple[dict, bytes, int] | None:
    """(envelope, lines, records) of a compact page whose records array closes the body; else None.

    The array is the body's last value (`… "data": [ … ]}`); replaced by `null` the rest must parse
    with `null` under the key, and `},{` must occur exactly once fewer than the records the page
    holds (`expected`; for page 1, its `total` and `page_size` say), so none is inside a record.
    Whether each record is valid JSON is left to DuckDB's reader. The body is searched by index,
    not sliced: the records are copied twice (cut out, then split into lines), not five times.
    """
    marker = b'"' + key + b'":'
    at = body.rfind(marker)
    end = _skip_back(body, len(body))
    if at < 0 or not end or body[end - 1] != ord("}"):
        return None
    start = _skip(body, at + len(marker), end)
    end = _skip_back(body, end - 1) - 1  # the array's closing bracket
    if end < start or body[start] != ord("[") or body[end] != ord("]"):
        return None
    try:
        envelope = json.loads(body[:start] + b"null" + body[end + 1:])
    except ValueError:
        return None
    if not isinstance(envelope, dict) or key.decode() not in envelope or envelope[key.decode()] is not None:
        return None
    first = _skip(body, start + 1, end)
    last = _skip_back(body, end, first)  # the records are body[first:last]
    if expected is None:
        expected = _expected_on_first(envelope)
        if expected is None:
            return None
    if first == last:
        return (envelope, b"", 0) if expected == 0 else None
    if body[first] != ord("{") or body[last - 1] != ord("}") \
            or body.count(b"},{", first, last) != expected - 1 \
            or body.find(b"\n", first, last) >= 0 or body.find(b"\r", first, last) >= 0:
        return None  # (a line break between tokens would split a record)
    return envelope, body[first:last].replace(b"},{", b"}\n{"), expected


_BLANK = b" \t\r\n"


def _skip(body: bytes, at: int, stop: int) -> int:
    """The first index from `at` (before `stop`) that is not JSON whitespace."""
    while at < stop and body[at] in _BLANK:
        at += 1
    return at


def _skip_back(body: bytes, end: int, stop: int = 0) -> int:
    """`end` moved back over the JSON whitespace before it (not past `stop`)."""
    while end > stop and body[end - 1] in _BLANK:
        end -= 1
    return end


def _expected_on_first(envelope: dict) -> int | None:
    total, size = envelope.get("total"), envelope.get("page_size")
    if type(total) is not int or type(size) is not int or size < 1:
        return None
    return max(0, min(size, total))


def _decode(spec: DatasetSpec, answer: FileResponse, body: bytes) -> tuple[dict, object]:
    try:
        doc = json.loads(body)
    except ValueError:
        what = "an HTML page (a login page?)" if looks_like_html(body, answer.content_type) else \
            "not JSON"
        raise SourceRejected(spec.source_name, answer.url, f"the page is {what}; check the URL "
                             "and token variables") from None
    if not isinstance(doc, dict):
        raise SourceRejected(spec.source_name, answer.url, "the page is not a JSON object")
    items = doc.pop(spec.pagination.records_key, None)
    return doc, items


def _count(spec: DatasetSpec, page: _Page, key: str) -> int:
    value = page.envelope.get(key)
    if type(value) is not int or value < 0:
        raise SourceRejected(spec.source_name, page.url, f"page 1 has no whole number `{key}` "
                             f"(found {value!r}); the pages cannot be fetched side by side without it")
    return value


def _day(spec: DatasetSpec, page: _Page) -> dt.date:
    value = page.envelope.get(spec.partitions.day_key)
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise SourceRejected(spec.source_name, page.url, f"page 1 has no day (YYYY-MM-DD) under "
                             f"`{spec.partitions.day_key}` (found {str(value)[:40]!r}); set "
                             "`partitions.day_key`") from None


def _day_of(page: _Page) -> str:
    return str(page.envelope.get("day", "?"))
