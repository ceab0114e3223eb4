"""Connector for a paginated JSON API (`format: json_api`)."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterator

import pandas as pd

from connectors.errors import SourceRejected
from connectors.http import RetryPolicy, get_json, make_session
from connectors.parse import Reject, parse_records
from connectors.result import FetchResult, Provenance, SourceState
from connectors.spec import DatasetSpec

log = logging.getLogger(__name__)

MAX_PAGES = 10_000
PARSE_CHUNK = 50_000  # records parsed together


def iter_pages(spec: DatasetSpec, base_url: str, token: str | None, policy: RetryPolicy,
               since: str | None = None) -> Iterator[tuple[str, list[dict], str]]:
    """Yield (page URL, records, sha256 of the page) for every page of a dataset, in order.

    `since` asks an incremental feed for the records changed after that timestamp only.
    """
    url = base_url.rstrip("/") + spec.path
    page_spec = spec.pagination
    cursor_mode = page_spec.type == "cursor"
    page: int | str | None = None if cursor_mode else 1
    with make_session(token) as session:
        for number in range(1, MAX_PAGES + 1):
            if page is None and (not cursor_mode or number > 1):
                return
            params = {page_spec.size_param: page_spec.page_size}
            if page is not None:
                params[page_spec.page_param] = page
            if since and page_spec.incremental_param:
                params[page_spec.incremental_param] = since
            response = get_json(session, url, params, source=spec.source_name, policy=policy)
            body = response.body
            if not isinstance(body, dict) or not isinstance(body.get(page_spec.records_key), list):
                raise SourceRejected(spec.source_name, response.url,
                                     f"expected a JSON object with a list under "
                                     f"`{page_spec.records_key}` (pagination.records_key)")
            yield response.url, body[page_spec.records_key], response.sha256
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


def fetch_json_api(spec: DatasetSpec, base_url: str, token: str | None,
                   policy: RetryPolicy = RetryPolicy(), previous: SourceState | None = None
                   ) -> FetchResult:
    """Fetch every page of a dataset and return its parsed rows with provenance.

    With `previous`, a payload identical to the last one loaded comes back as not modified
    (page-numbered APIs have no validators: the download happens, the parsing does not).
    """
    fetched_at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    incremental = spec.pagination.incremental_field
    since = previous.watermark if previous is not None and incremental else None
    digest = hashlib.sha256()
    frames: list[pd.DataFrame] = []
    received: list[dict] = []
    rejects: list[Reject] = []
    first_url, pages, records, parsed_upto = "", 0, 0, 0
    seen_fields: set[str] = set()
    for url, page_records, page_sha in iter_pages(spec, base_url, token, policy, since):
        first_url = first_url or url
        seen_fields.update(k for r in page_records if isinstance(r, dict) for k in r)
        pages += 1
        digest.update(page_sha.encode())
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
        first_url = base_url.rstrip("/") + spec.path
        stamps = [r.get(incremental) for r in received if isinstance(r, dict) and r.get(incremental)]
        watermark = max([str(s) for s in stamps] + ([since] if since else []), default=None)
        if not received and previous is not None:
            provenance = Provenance(spec.source_name, first_url, fetched_at, previous.sha256, pages, 0,
                                    not_modified=True, watermark=watermark, state_key=spec.path)
            return FetchResult.not_modified(spec, provenance)
    else:
        watermark = None
    if previous is not None and previous.sha256 == sha256 and previous.key == spec.path:
        provenance = Provenance(spec.source_name, first_url, fetched_at, sha256, pages, records,
                                not_modified=True, state_key=spec.path)
        return FetchResult.not_modified(spec, provenance)
    if records > parsed_upto or not frames:
        parsed, bad = parse_records(spec, received[parsed_upto:], first_row_number=parsed_upto + 1)
        frames.append(parsed)
        rejects.extend(bad)
    _check_fields(spec, first_url, seen_fields, records)
    provenance = Provenance(source=spec.source_name, url=first_url, fetched_at=fetched_at,
                            sha256=sha256, pages=pages, records=records, watermark=watermark,
                            state_key=spec.path)
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return FetchResult(dataset=spec, frame=frame, rejects=tuple(rejects), provenance=provenance,
                       records=dict(enumerate(received, 1)))


def _check_fields(spec: DatasetSpec, url: str, seen: set[str], records: int) -> None:
    """A configured field absent from every record means the feed changed: refuse the batch."""
    if not records:
        return
    missing = [c for c in spec.columns if c.source_field not in seen]
    if missing:
        names = ", ".join(f"`{c.source_field}` (column `{c.name}`)" for c in missing)
        raise SourceRejected(spec.source_name, url, f"field(s) {names} missing from every record; "
                             f"the department may have renamed them. Fields present: "
                             f"{', '.join(sorted(seen))}. Fix the column map in sources.yml")
