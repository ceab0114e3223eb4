"""Connector for a paginated JSON API (`format: json_api`).

Page-numbered APIs that send an ETag are asked for page 1 conditionally (If-None-Match): a 304
means nothing changed and no page is downloaded. Every page must then carry page 1's ETag, or the
dataset changed while it was being paged. Cursor feeds ask for what changed since a watermark.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd
import requests

from connectors.errors import SourceRejected, SourceUnavailable
from connectors.http import (
    FileResponse,
    RetryPolicy,
    get_file,
    html_title,
    join_url,
    looks_like_html,
    make_session,
)
from connectors.parse import Reject, parse_records
from connectors.result import FetchResult, Provenance, SourceState
from connectors.spec import DatasetSpec
from core.redact import get_logger

log = get_logger(__name__)

MAX_PAGES = 10_000
PARSE_CHUNK = 50_000  # records parsed together


@dataclass(frozen=True)
class Page:
    """One page as received."""

    url: str
    records: list[dict] | None  # None: page 1 answered 304 Not Modified
    sha256: str | None
    etag: str | None


def iter_pages(spec: DatasetSpec, base_url: str, token: str | None, policy: RetryPolicy,
               since: str | None = None, etag: str | None = None) -> Iterator[Page]:
    """Yield every page of a dataset, in order.

    `since` asks an incremental feed for the records changed after that timestamp only. `etag`
    asks for page 1 only if the dataset changed: on 304 the one page yielded has no records.
    """
    url = join_url(base_url, spec.path)
    page_spec = spec.pagination
    cursor_mode = page_spec.type == "cursor"
    page: int | str | None = None if cursor_mode else 1
    first_etag: str | None = None
    with make_session(token) as session:
        for number in range(1, MAX_PAGES + 1):
            if page is None and (not cursor_mode or number > 1):
                return
            params = {page_spec.size_param: page_spec.page_size}
            if page is not None:
                params[page_spec.page_param] = page
            if since and page_spec.incremental_param:
                params[page_spec.incremental_param] = since
            response = _get_page(session, url, params, spec, policy, etag if number == 1 else None)
            if response.payload is None:
                if number > 1 or not etag:  # 304 to a request that had nothing to compare with
                    raise SourceRejected(spec.source_name, response.url,
                                         "HTTP 304 Not Modified to a request without If-None-Match")
                yield Page(response.url, None, None, response.etag or etag)
                return
            if number == 1:
                first_etag = response.etag
            elif first_etag and response.etag and response.etag != first_etag:
                # Loading these pages would mix two versions of the dataset.
                raise SourceUnavailable(spec.source_name, response.url,
                                        f"the dataset changed while it was being paged (ETag "
                                        f"{first_etag} on page 1, {response.etag} on page {number}); "
                                        "refusing a mix of two versions: rerun to fetch the new one whole")
            body = _decode(spec, response)
            if not isinstance(body, dict) or not isinstance(body.get(page_spec.records_key), list):
                raise SourceRejected(spec.source_name, response.url,
                                     f"expected a JSON object with a list under "
                                     f"`{page_spec.records_key}` (pagination.records_key)")
            yield Page(response.url, body[page_spec.records_key], response.sha256, response.etag)
            next_page = body.get(page_spec.next_key)
            if cursor_mode:
                if next_page is not None and (not isinstance(next_page, str) or next_page == page):
                    raise SourceRejected(spec.source_name, response.url,
                                         f"`{page_spec.next_key}` is {next_page!r}; expected a new "
                                         "cursor or null")
                page = next_page
                continue
            if next_page is not None and (type(next_page) is not int or next_page <= page):
                raise SourceRejected(spec.source_name, response.url,
                                     f"`{page_spec.next_key}` is {next_page!r} on page {page}; "
                                     "expected a later page number or null")
            page = next_page
        raise SourceRejected(spec.source_name, url, f"more than {MAX_PAGES} pages; is "
                             f"`{page_spec.next_key}` ever empty?")


def _decode(spec: DatasetSpec, response: FileResponse) -> object:
    """The page's JSON; an HTML page (a login page a gateway served) is named as such."""
    # The body is sniffed, not the Content-Type trusted: some servers label JSON text/html.
    if looks_like_html(response.payload):
        raise _html_page(spec, response)
    try:
        return json.loads(response.payload)
    except ValueError:  # complete (lengths matched) yet not JSON: retrying will not help
        if looks_like_html(response.payload, response.content_type):
            raise _html_page(spec, response) from None
        raise SourceRejected(spec.source_name, response.url, "response is not JSON") from None


def _html_page(spec: DatasetSpec, response: FileResponse) -> SourceRejected:
    title = html_title(response.payload)
    return SourceRejected(spec.source_name, response.url,
                          f"the server answered an HTML page{f' titled {title!r}' if title else ''} "
                          "(a login page?) instead of JSON; check the URL and token variables")


def _get_page(session: requests.Session, url: str, params: dict, spec: DatasetSpec,
              policy: RetryPolicy, etag: str | None) -> FileResponse:
    """GET one page, conditionally with `etag`; keeps the ETag and allows a 304 (payload None).

    A page is fetched like a file (same retries, errors, size cap and validators); the caller
    decodes the JSON.
    """
    return get_file(session, url, source=spec.source_name, policy=policy, etag=etag, params=params)


def fetch_json_api(spec: DatasetSpec, base_url: str, token: str | None,
                   policy: RetryPolicy = RetryPolicy(), previous: SourceState | None = None
                   ) -> FetchResult:
    """Fetch every page of a dataset and return its parsed rows with provenance.

    With `previous`, a page-numbered dataset is asked for with its ETag (304: nothing is
    downloaded); a server without ETags sends it all again, and a payload identical to the last
    one loaded comes back as not modified all the same (the parsing is skipped).
    """
    fetched_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    incremental = spec.pagination.incremental_field
    since = previous.watermark if previous is not None and incremental else None
    same_source = previous is not None and previous.key == spec.path
    etag = previous.etag if same_source and not incremental else None
    digest = hashlib.sha256()
    frames: list[pd.DataFrame] = []
    received: list[dict] = []
    rejects: list[Reject] = []
    first_url, first_etag, pages, records, parsed_upto = "", None, 0, 0, 0
    seen_fields: set[str] = set()
    for page in iter_pages(spec, base_url, token, policy, since, etag):
        if page.records is None:
            log.info("%s: not modified since the last download (304)", spec.source_name)
            provenance = Provenance(spec.source_name, page.url, fetched_at, previous.sha256, 0, 0,
                                    etag=page.etag, not_modified=True, state_key=spec.path)
            return FetchResult.not_modified(spec, provenance)
        page_records = page.records
        if not first_url:
            first_url, first_etag = page.url, page.etag
        seen_fields.update(k for r in page_records if isinstance(r, dict) for k in r)
        pages += 1
        digest.update(page.sha256.encode())
        received.extend(page_records)
        records += len(page_records)
        if records - parsed_upto >= PARSE_CHUNK:  # parse in large chunks: per-page pandas is slow
            parsed, bad = parse_records(spec, received[parsed_upto:], first_row_number=parsed_upto + 1)
            frames.append(parsed)
            rejects.extend(bad)
            parsed_upto = records
        log.info("%s: page %d, %d records so far", spec.source_name, pages, records)
    sha256 = digest.hexdigest()
    if incremental:
        # an incremental feed is one source whatever its query: remember it by its path
        first_url = join_url(base_url, spec.path)
        stamps = [r.get(incremental) for r in received if isinstance(r, dict) and r.get(incremental)]
        watermark = max([str(s) for s in stamps] + ([since] if since else []), default=None)
        if not received and previous is not None:
            provenance = Provenance(spec.source_name, first_url, fetched_at, previous.sha256, pages, 0,
                                    not_modified=True, watermark=watermark, state_key=spec.path)
            return FetchResult.not_modified(spec, provenance)
    else:
        watermark = None
    if same_source and previous.sha256 == sha256:
        # keep the ETag: a state recorded before the server sent one gets it for next time
        provenance = Provenance(spec.source_name, first_url, fetched_at, sha256, pages, records,
                                etag=first_etag, not_modified=True, state_key=spec.path)
        return FetchResult.not_modified(spec, provenance)
    if records > parsed_upto or not frames:
        parsed, bad = parse_records(spec, received[parsed_upto:], first_row_number=parsed_upto + 1)
        frames.append(parsed)
        rejects.extend(bad)
    _check_fields(spec, first_url, seen_fields, records)
    provenance = Provenance(source=spec.source_name, url=first_url, fetched_at=fetched_at,
                            sha256=sha256, pages=pages, records=records, etag=first_etag,
                            watermark=watermark, state_key=spec.path)
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return FetchResult(dataset=spec, frame=frame, rejects=tuple(rejects), provenance=provenance,
                       records=dict(enumerate(received, 1)))


def _check_fields(spec: DatasetSpec, url: str, seen: set[str], records: int) -> None:
    """A configured field absent from every record means the feed changed: refuse the batch."""
    if not records:
        return
    missing = [c for c in spec.columns if c.is_mapped and c.source_field not in seen]
    if missing:
        names = ", ".join(f"`{c.source_field}` (column `{c.name}`)" for c in missing)
        raise SourceRejected(spec.source_name, url, f"field(s) {names} missing from every record; "
                             f"the department may have renamed them. Fields present: "
                             f"{', '.join(sorted(seen))}. Fix the column map in sources.yml")
