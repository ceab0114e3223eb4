"""Run a dataset's GX suite on a batch and sort the outcome into quarantine, warnings and rejection.

Rules (severity comes from each expectation's `meta`):
- a row-level expectation at `error` quarantines the rows that fail it; the rest load;
- a table-level expectation at `error` (columns, row count) rejects the whole batch;
- `warn` loads everything and records the finding;
- an expectation GX could not evaluate rejects the batch (never a silent pass).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pandas as pd

from connectors.parse import ROW_NUMBER
from expectations.suites import LoadedSuite, load_suite

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Finding:
    """One failed expectation: what it was, how severe, and which rows (if row-level) failed it."""

    expectation: str  # e.g. expect_column_values_to_be_between(column=capacity_mw, max_value=100000)
    severity: str
    row_numbers: tuple[int, ...] = ()
    detail: str = ""

    @property
    def row_level(self) -> bool:
        return bool(self.row_numbers)


@dataclass
class ValidationOutcome:
    suite: str
    evaluated: int
    findings: list[Finding] = field(default_factory=list)

    @property
    def rejected(self) -> bool:
        return any(f.severity == "error" and not f.row_level for f in self.findings)

    @property
    def rejection_reason(self) -> str:
        return "; ".join(f"{f.expectation}: {f.detail}" for f in self.findings
                         if f.severity == "error" and not f.row_level)

    def quarantine(self) -> dict[int, list[str]]:
        """Row number -> the error expectations that row failed."""
        bad: dict[int, list[str]] = {}
        for finding in self.findings:
            if finding.severity == "error":
                for number in finding.row_numbers:
                    bad.setdefault(number, []).append(finding.expectation)
        return bad

    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warn"]


def _raised(exception_info: object) -> str | None:
    """The first exception message in a GX result, flat or keyed by metric (GX 1.x nests them)."""
    if not isinstance(exception_info, dict):
        return None
    infos = [exception_info, *(v for v in exception_info.values() if isinstance(v, dict))]
    for info in infos:
        if info.get("raised_exception"):
            message = str(info.get("exception_message") or "unknown error")
            return message.splitlines()[0][:200]
    return None


def _row_number(index: object) -> int:
    # GX lists index labels, or {index name: label} dicts when the index is named.
    return int(index[ROW_NUMBER] if isinstance(index, dict) else index)


def describe(expectation_type: str, kwargs: dict) -> str:
    shown = ", ".join(f"{k}={v}" for k, v in kwargs.items() if k not in ("batch_id", "result_format"))
    return f"{expectation_type}({shown})"


def validate_frame(dataset: str, frame: pd.DataFrame, loaded: LoadedSuite | None = None
                   ) -> ValidationOutcome:
    """Validate the canonical columns of `frame` (indexed by feed row number) with GX."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    loaded = loaded or load_suite(dataset)
    # GX logs every ephemeral context it makes at INFO: noise in a flow's log.
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    data = frame.set_index(ROW_NUMBER, drop=True)
    data = data.drop(columns=[c for c in data.columns if c.startswith("_")])
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    batch = (context.data_sources.add_pandas("carbonpeak").add_dataframe_asset(dataset)
             .add_batch_definition_whole_dataframe("batch")
             .get_batch(batch_parameters={"dataframe": data}))
    result = batch.validate(loaded.suite, result_format={"result_format": "COMPLETE"})
    outcome = ValidationOutcome(suite=dataset, evaluated=len(result.results))
    for res in result.results:
        config = res.expectation_config
        kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
        severity = (config.meta or {}).get("severity", "error")
        name = describe(config.type, kwargs)
        raised = _raised(res.exception_info)
        if raised is not None:
            # An expectation GX could not evaluate (missing column, bad kwargs) must never pass.
            outcome.findings.append(Finding(name, "error", (), f"GX could not evaluate it: {raised}"))
            continue
        if res.success:
            continue
        rows = tuple(_row_number(i) for i in (res.result.get("unexpected_index_list") or []))
        detail = (f"{len(rows)} row(s) failed" if rows
                  else f"observed {res.result.get('observed_value')!r}")
        outcome.findings.append(Finding(name, severity, rows, detail))
        log.log(logging.WARNING if severity == "warn" else logging.INFO,
                "suite %s: %s failed (%s, %s)", dataset, name, severity, detail)
    return outcome
