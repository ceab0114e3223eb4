"""The data-quality gate between a connector and the warehouse: dedupe, validate, split.

Exact repeats of a record are dropped (counted), records that failed parsing or an error-level
row expectation are set aside for quarantine, and a batch failing an error-level table
expectation is marked rejected, so nothing of it is loaded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from connectors.result import FetchResult, Provenance
from connectors.parse import ROW_NUMBER
from connectors.spec import DatasetSpec
from expectations.suites import SUITES_DIR, load_suite
from expectations.validate import Finding, validate_frame

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QuarantinedRow:
    row_number: int
    raw: dict
    failed_checks: tuple[str, ...]


@dataclass
class Batch:
    """A dataset's checked batch, ready to load (or to record as rejected)."""

    spec: DatasetSpec
    provenance: Provenance
    rows: pd.DataFrame  # rows that passed: canonical columns + _row_number
    quarantined: list[QuarantinedRow] = field(default_factory=list)
    duplicates: int = 0
    rejected_reason: str | None = None  # set when an error-level table expectation failed
    warnings: list[Finding] = field(default_factory=list)


def check_batch(fetched: FetchResult, suites_dir: Path = SUITES_DIR, params: dict | None = None
                ) -> Batch:
    """Run the dataset's suite on a fetched batch and sort its rows.

    `params` are the city's facts (`config/<city>/city.yml`) that suites refer to as `$name`.
    """
    spec = fetched.dataset
    if fetched.provenance.not_modified:  # nothing new arrived: nothing to check
        return Batch(spec, fetched.provenance, fetched.frame)
    frame = fetched.frame
    columns = [c.name for c in spec.columns]
    unique = frame.drop_duplicates(subset=columns, keep="first")
    duplicates = len(frame) - len(unique)
    if duplicates:
        log.warning("%s: dropped %d exact duplicate record(s)", spec.source_name, duplicates)
    outcome = validate_frame(spec.table_name, unique, load_suite(spec.table_name, suites_dir, params))
    if outcome.rejected:
        log.error("%s: batch rejected, previous data kept: %s", spec.source_name,
                  outcome.rejection_reason)
        return Batch(spec, fetched.provenance, unique.iloc[0:0], duplicates=duplicates,
                     rejected_reason=outcome.rejection_reason, warnings=outcome.warnings())
    failed = outcome.quarantine()
    quarantined = [QuarantinedRow(r.row_number, r.raw, (f"{r.check}: {r.reason}",))
                   for r in fetched.rejects]
    quarantined += [QuarantinedRow(number, fetched.raw_record(number), tuple(checks))
                    for number, checks in sorted(failed.items())]
    if quarantined:
        log.warning("%s: %d row(s) quarantined", spec.source_name, len(quarantined))
    rows = unique[~unique[ROW_NUMBER].isin(failed)]
    return Batch(spec, fetched.provenance, rows, quarantined, duplicates,
                 warnings=outcome.warnings())
