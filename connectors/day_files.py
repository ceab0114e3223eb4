"""Connector for datasets published as one file per day (`partitions:`): list, compare, download.

The department's manifest (the dataset's `path`) lists every day file published so far with its
sha256. A day whose sha256 equals the one last loaded is not downloaded at all, so a run with
nothing new moves no data; a new or re-published day is streamed to disk (never held in memory)
and checked against the manifest's sha256. From a landing folder, each file's day is the first
`YYYY-MM-DD` in its name. This module never opens the warehouse: DuckDB reads the files
(warehouse/native.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from connectors.errors import SourceRejected
from connectors.files import check_size, list_landing_files
from connectors.http import RetryPolicy, download_file, get_file, join_url, make_session
from connectors.result import Provenance, SourceState
from connectors.safety import check_url_path
from connectors.spec import DatasetSpec
from connectors.spool import Held
from core.errors import ConfigError
from core.redact import get_logger

log = get_logger(__name__)
DAY_IN_NAME = re.compile(r"(\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True)
class DayFile:
    """One day's file, on local disk or held in memory, with where it came from."""

    day: dt.date
    path: Path  # local file DuckDB reads; for a day held in `chunks`, the name of one never written
    state_key: str  # what the source is remembered by: its path on the server, or its local path
    url: str
    sha256: str
    size: int
    etag: str | None = None
    records: int | None = None  # records in the file when the fetch counted them (a JSON pull)
    # a day pulled small enough to stay in memory (connectors/spool.py): its NDJSON, page by page
    chunks: Held | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class DayFiles:
    """What a partitioned dataset's fetch returns: the new or changed days, and what was skipped."""

    dataset: DatasetSpec
    files: tuple[DayFile, ...]
    unchanged: tuple[str, ...]  # state keys of days whose sha256 equals the last load's
    provenance: Provenance  # of the manifest (or the landing folder)
    owns_files: bool = True  # downloaded by us: delete once loaded (never a landing file)

    def remove_downloads(self) -> None:
        if self.owns_files:
            for file in self.files:
                file.path.unlink(missing_ok=True)


def fetch_day_files(spec: DatasetSpec, base_url: str, token: str | None, policy: RetryPolicy,
                    states: dict[str, SourceState], download_dir: Path) -> DayFiles:
    """Read the manifest, then download every day that is new or changed since the last load."""
    manifest_url = join_url(base_url, spec.path)
    fetched_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    download_dir.mkdir(parents=True, exist_ok=True)
    with make_session(token) as session:
        answer = get_file(session, manifest_url, source=spec.source_name, policy=policy)
        entries = _entries(spec, answer.url, answer.payload)
        wanted = [e for e in entries if _changed(states.get(e[1]), e[2])]
        files = []
        for number, (day, path, sha256) in enumerate(wanted, 1):
            dest = download_dir / f"{spec.table_name}__{day.isoformat()}.{spec.format}"
            got = download_file(session, join_url(base_url, path), dest, source=spec.source_name,
                                policy=policy)
            if sha256 and got.sha256 != sha256:
                dest.unlink(missing_ok=True)
                raise SourceRejected(spec.source_name, got.url, f"the file's sha256 is {got.sha256[:12]}… "
                                     f"but the manifest says {sha256[:12]}…: it changed while being "
                                     "downloaded, or the manifest is stale; the next run fetches it again")
            log.info("%s: downloaded %s (%d of %d, %.1f MB)", spec.source_name, day, number,
                     len(wanted), got.size / 2**20)
            files.append(DayFile(day, dest, path, got.url, got.sha256, got.size, got.etag))
    unchanged = tuple(e[1] for e in entries if e not in wanted)
    provenance = Provenance(spec.source_name, answer.url, fetched_at, answer.sha256 or "", 1,
                            0, state_key=spec.path, etag=answer.etag,
                            not_modified=not files)
    return DayFiles(spec, tuple(files), unchanged, provenance)


def landing_day_files(spec: DatasetSpec, folder: Path, states: dict[str, SourceState],
                      max_bytes: int) -> DayFiles:
    """The day files a department dropped in a landing folder; each file's day is in its name."""
    files, unchanged = [], []
    for path in list_landing_files(spec, folder):
        match = DAY_IN_NAME.search(path.name)
        day = _day(spec, str(path), match.group(1) if match else None)
        check_size(spec, path, max_bytes)
        key, stat = str(path.resolve()), path.stat()
        # Size and modification time stand in for an ETag: an untouched file is not even read
        # (hashing a 500 MB day costs more than the whole no-change run may).
        stamp = f"{stat.st_size}:{stat.st_mtime_ns}"
        previous = states.get(key)
        if previous is not None and previous.etag == stamp:
            unchanged.append(key)
            continue
        sha256 = _sha256(path)
        if not _changed(previous, sha256):
            unchanged.append(key)
            continue
        files.append(DayFile(day, path, key, key, sha256, stat.st_size, etag=stamp))
    days = [f.day for f in files]
    if len(days) != len(set(days)):
        twice = sorted({d for d in days if days.count(d) > 1})[0]
        raise SourceRejected(spec.source_name, str(folder), f"two files in the landing folder are "
                             f"for {twice}; keep one file per day (the newest) and run again")
    batch_sha = hashlib.sha256("".join(f.sha256 for f in files).encode()).hexdigest()
    provenance = Provenance(spec.source_name, str(folder.resolve()),
                            dt.datetime.now(dt.UTC).replace(microsecond=0), batch_sha, 0, 0,
                            state_key=str(folder.resolve()), not_modified=not files)
    return DayFiles(spec, tuple(files), tuple(unchanged), provenance, owns_files=False)


def _entries(spec: DatasetSpec, url: str, payload: bytes | None) -> list[tuple[dt.date, str, str]]:
    """(day, path, sha256) of every file the manifest lists, checked: a path stays on the server."""
    p = spec.partitions
    try:
        doc = json.loads(payload or b"")
    except ValueError:
        raise SourceRejected(spec.source_name, url, "the manifest is not JSON; check the "
                             "dataset's `path` (it must name the list of day files)") from None
    listed = doc.get(p.files_key) if isinstance(doc, dict) else None
    if not isinstance(listed, list):
        raise SourceRejected(spec.source_name, url, f"the manifest has no list `{p.files_key}`; set "
                             "`partitions.files_key` to the key holding the files")
    entries, seen = [], set()
    for number, entry in enumerate(listed, 1):
        if not isinstance(entry, dict):
            raise SourceRejected(spec.source_name, url, f"manifest entry {number} is not an object")
        day = _day(spec, url, entry.get(p.day_key), number)
        path = entry.get(p.path_key)
        try:
            check_url_path(spec.path, spec.source_name, path if isinstance(path, str) else "")
        except ConfigError as exc:
            raise SourceRejected(spec.source_name, url, f"manifest entry {number} ({day}): "
                                 f"`{p.path_key}` {exc.problem}") from None
        if day in seen:
            raise SourceRejected(spec.source_name, url, f"the manifest lists {day} twice")
        seen.add(day)
        sha256 = entry.get(p.sha256_key)
        entries.append((day, path, sha256 if isinstance(sha256, str) else ""))
    return entries


def _day(spec: DatasetSpec, where: str, value: object, number: int | None = None) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        entry = f"manifest entry {number}: " if number else ""
        raise SourceRejected(spec.source_name, where, f"{entry}no day (YYYY-MM-DD) in "
                             f"{str(value)[:40]!r}; each day file must say which day it holds"
                             ) from None


def _changed(previous: SourceState | None, sha256: str) -> bool:
    return previous is None or not sha256 or previous.sha256 != sha256


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()
