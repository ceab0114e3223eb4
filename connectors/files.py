"""Connector for whole files (`format: csv` / `xlsx`).

Over HTTP with a conditional GET, or from a landing folder where a department drops (e-mails) its
files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import urllib.parse
from pathlib import Path, PurePosixPath

from connectors.derive import DeriveError
from connectors.errors import SourceRejected
from connectors.http import RetryPolicy, get_file, html_page_problem, join_url, make_session
from connectors.parse import parse_records, with_file_context
from connectors.result import FetchResult, Provenance, SourceState
from connectors.spec import DatasetSpec
from connectors.tabular import TabularError, read_table
from core.redact import get_logger

log = get_logger(__name__)


def parse_file(spec: DatasetSpec, payload: bytes, provenance: Provenance) -> FetchResult:
    """Read a file's rows as configured, map and type them; refuse a file whose header changed."""
    try:
        table = read_table(spec, payload)
    except TabularError as exc:
        raise SourceRejected(spec.source_name, provenance.url, str(exc)) from None
    missing = [c for c in spec.columns if c.is_mapped and c.source_field not in table.header]
    if missing:
        names = ", ".join(f"`{c.source_field}` (column `{c.name}`)" for c in missing)
        shown = ", ".join(h for h in table.header if h)
        rows = ", ".join(map(str, spec.tabular.header_rows))
        raise SourceRejected(spec.source_name, provenance.url,
                             f"header (row {rows}) lacks {names}; the department may have renamed "
                             f"it. Header found: {shown}. Fix the column map in sources.yml")
    context = {"from_filename": file_name(provenance.url), "from_sheet": table.sheet,
               "from_title": table.title}
    try:
        records = with_file_context(spec, table.records, context)
        frame, rejects = parse_records(spec, records, row_numbers=table.row_numbers, context=context)
        # Totals parse like data; one that does not parse simply is not compared (its rows are).
        totals = parse_records(spec, table.totals, row_numbers=table.total_row_numbers,
                               context=context)[0] if table.totals else None
    except DeriveError as exc:
        raise SourceRejected(spec.source_name, provenance.url, str(exc)) from None
    provenance = Provenance(**{**provenance.__dict__, "records": len(table.records),
                               "dropped": table.dropped})
    return FetchResult(spec, frame, tuple(rejects), provenance,
                       dict(zip(table.row_numbers, records, strict=True)), totals)


def file_name(url_or_path: str) -> str:
    """The file's own name: the last segment of its URL path, or of its landing path."""
    path = urllib.parse.unquote(urllib.parse.urlsplit(url_or_path).path) if "://" in url_or_path \
        else url_or_path
    return PurePosixPath(path.replace("\\", "/")).name


def fetch_file(spec: DatasetSpec, base_url: str, token: str | None,
               policy: RetryPolicy = RetryPolicy(), previous: SourceState | None = None) -> FetchResult:
    """Download a dataset's file; with `previous`, ask only for a newer one (304 = not modified)."""
    url = join_url(base_url, spec.path)
    fetched_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    same_url = previous is not None and previous.key == spec.path
    with make_session(token) as session:
        response = get_file(session, url, source=spec.source_name, policy=policy,
                            etag=previous.etag if same_url else None,
                            last_modified=previous.last_modified if same_url else None)
    problem = response.payload is not None and html_page_problem(
        response.payload, response.content_type, f"a {spec.format.upper()} file")
    if problem:
        raise SourceRejected(spec.source_name, response.url, problem)
    if response.payload is None:
        log.info("%s: not modified since the last download (304)", spec.source_name)
        provenance = Provenance(spec.source_name, url, fetched_at, previous.sha256, 0, 0,
                                etag=response.etag, last_modified=response.last_modified,
                                not_modified=True, state_key=spec.path)
        return FetchResult.not_modified(spec, provenance)
    provenance = Provenance(spec.source_name, url, fetched_at, response.sha256, 1, 0,
                            etag=response.etag, last_modified=response.last_modified,
                            state_key=spec.path)
    return parse_file(spec, response.payload, provenance)


def check_size(spec: DatasetSpec, path: Path, max_bytes: int) -> None:
    """A landing file over the department's cap is refused unread, like a download would be."""
    size = path.stat().st_size
    if size > max_bytes:
        raise SourceRejected(spec.source_name, str(path), f"the file is {size:,} bytes, over the "
                             f"cap of {max_bytes:,} bytes (`http.max_body_mb` in sources.yml); "
                             "refused unread")


def list_landing_files(spec: DatasetSpec, folder: Path) -> list[Path]:
    """Files waiting in a landing folder, oldest first (each is one batch)."""
    if not folder.is_dir():
        raise SourceRejected(spec.source_name, str(folder), f"landing folder does not exist; check "
                             f"`{spec.landing_env}`")
    files = [p for p in folder.glob(spec.landing_pattern) if p.is_file() and not p.name.startswith(".")]
    return sorted(files, key=lambda p: (p.stat().st_mtime, p.name))


def parse_landing_file(spec: DatasetSpec, path: Path, payload: bytes) -> FetchResult:
    """One file of a landing folder, as read (its size checked), parsed as a downloaded one."""
    modified = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
    provenance = Provenance(spec.source_name, str(path.resolve()),
                            dt.datetime.now(dt.UTC).replace(microsecond=0),
                            hashlib.sha256(payload).hexdigest(), 1, 0,
                            last_modified=modified.isoformat(timespec="seconds"),
                            state_key=str(path.resolve()))
    return parse_file(spec, payload, provenance)
