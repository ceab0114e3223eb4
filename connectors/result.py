"""What every connector returns: parsed rows, rejects, the records as received, and provenance."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from connectors.parse import Reject, parse_records
from connectors.spec import DatasetSpec
from core.redact import redact


@dataclass(frozen=True)
class Provenance:
    """Where a batch came from: enough to find and re-check the exact payload."""

    source: str
    url: str  # URL of the first page, or the file's URL or path
    fetched_at: dt.datetime
    sha256: str  # of the payload (for a paged API: of the page payloads' digests, in order)
    pages: int
    records: int  # data records received (title, unit, total and footnote rows excluded)
    dropped: int = 0  # total / subtotal / footnote rows skipped by `drop_rows_starting_with`
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False  # the server answered 304 (or nothing changed): nothing to load
    watermark: str | None = None  # incremental feeds: the newest change timestamp loaded so far
    state_key: str = ""  # what the source is remembered by: the dataset's path, or the file's path

    def __post_init__(self) -> None:
        # The URL is stored (meta.load_log, raw `_source_url`, quarantine): a token left in the
        # URL variable (`http://u:token@host`, `?access_token=`) is masked here, whoever built it.
        object.__setattr__(self, "url", redact(self.url))


@dataclass(frozen=True)
class SourceState:
    """What the warehouse remembers of a source, for a conditional GET next time.

    `key` is the dataset's path under the department's base URL (so a server that moves keeps
    its history), or a landing file's absolute path.
    """

    key: str
    etag: str | None
    last_modified: str | None
    sha256: str
    watermark: str | None = None


@dataclass(frozen=True)
class FetchResult:
    dataset: DatasetSpec
    frame: pd.DataFrame  # canonical typed rows that parsed, with their `_row_number`
    rejects: tuple[Reject, ...]  # records that did not parse, with the reason
    provenance: Provenance
    # every record as received, by row number (position in the feed, or row of the file)
    records: dict[int, dict] = field(default_factory=dict)
    # the department's own total rows (合计), parsed like the data: checked against the sum of the
    # rows they total, then dropped (None when the format publishes none)
    totals: pd.DataFrame | None = None

    def raw_record(self, row_number: int) -> dict:
        return self.records[row_number]

    @classmethod
    def not_modified(cls, spec: DatasetSpec, provenance: Provenance) -> FetchResult:
        """Nothing new at the source (304, same payload, no change since the watermark)."""
        return cls(spec, parse_records(spec, [])[0], (), provenance)
