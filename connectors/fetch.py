"""One entry point for every format: pick the connector a dataset's spec asks for."""

from __future__ import annotations

import hashlib
from pathlib import Path

from connectors.day_files import DayFiles, fetch_day_files, landing_day_files
from connectors.files import check_size, fetch_file, list_landing_files, parse_landing_file
from connectors.http import RetryPolicy
from connectors.json_api import fetch_json_api
from connectors.json_pages import fetch_json_day
from connectors.result import FetchResult, Provenance, SourceState
from connectors.spec import DatasetSpec, DepartmentSpec


def retry_policy(department: DepartmentSpec) -> RetryPolicy:
    return RetryPolicy(department.timeout_connect_s, department.timeout_read_s,
                       department.max_attempts, department.backoff_s,
                       max_body_bytes=int(department.max_body_mb * 2**20))


def fetch_dataset(spec: DatasetSpec, department: DepartmentSpec, base_url: str | None,
                  token: str | None, states: dict[str, SourceState],
                  landing: Path | None = None, download_dir: Path | None = None
                  ) -> list[FetchResult | DayFiles]:
    """Fetch a dataset: its files from `landing` when given, else from the department's server.

    `states` maps URL (or path) to what was loaded last time, so unchanged sources are skipped.
    Returns one result per file (a landing folder may hold several), or one for an API; a
    dataset of day files (`partitions:`) returns its new days, downloaded into `download_dir`
    (a paged JSON API of one day's records so far, `json_api`, returns that day as one file).
    """
    if spec.partitions is not None:
        if landing is not None:
            return [landing_day_files(spec, landing, states, int(department.max_body_mb * 2**20))]
        if base_url is None or download_dir is None:
            raise ValueError("base_url and download_dir are required for day files")
        if spec.format == "json_api":
            return [fetch_json_day(spec, base_url, token, retry_policy(department), states,
                                   download_dir)]
        return [fetch_day_files(spec, base_url, token, retry_policy(department), states, download_dir)]
    if landing is not None:
        results = []
        max_bytes = int(department.max_body_mb * 2**20)
        for path in list_landing_files(spec, landing):
            check_size(spec, path, max_bytes)  # before reading it
            payload = path.read_bytes()  # once: to compare with the last load, then to parse
            previous = states.get(str(path.resolve()))
            if previous and previous.sha256 == hashlib.sha256(payload).hexdigest():
                results.append(_unchanged(spec, previous))
            else:
                results.append(parse_landing_file(spec, path, payload))
        return results
    if base_url is None:
        raise ValueError("base_url is required when no landing folder is given")
    previous = states.get(spec.path)
    if spec.format == "json_api":
        return [fetch_json_api(spec, base_url, token, retry_policy(department), previous)]
    return [fetch_file(spec, base_url, token, retry_policy(department), previous)]


def _unchanged(spec: DatasetSpec, previous: SourceState) -> FetchResult:
    import datetime as dt

    provenance = Provenance(spec.source_name, previous.key, dt.datetime.now(dt.UTC),
                            previous.sha256, 0, 0, etag=previous.etag,
                            last_modified=previous.last_modified, not_modified=True,
                            state_key=previous.key)
    return FetchResult.not_modified(spec, provenance)
