"""Run a dataset's GX suite inside DuckDB and sort the outcome into quarantine, warnings, rejection.

The batch is staged as a table in the warehouse (`stage.*`) and validated there through GX's SQL
data source, so big tables are never copied into pandas for checking, and suites can hold DuckDB
SQL checks that see the rest of the warehouse (`unexpected_rows_expectation`: continuity,
freshness, cross-dataset checks, published totals).

Rules (severity comes from each expectation's `meta`):
- a row-level expectation at `error` quarantines the rows that fail it; the rest load. Row-level
  means GX names the failing rows by `_row_number` (column checks, or an unexpected-rows query
  that returns `_row_number`);
- a table-level expectation at `error` (columns, row count, a missing period, totals that do not
  add up) rejects the whole batch;
- `warn` loads everything and records the finding;
- an expectation GX could not evaluate rejects the batch (never a silent pass).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import duckdb

from connectors.parse import ROW_NUMBER
from expectations.duckdb_gx import same_database_cursor, table_batch
from expectations.suites import LoadedSuite

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Finding:
    """One failed expectation: what it was, how severe, and which rows (if row-level) failed it."""

    expectation: str  # e.g. expect_column_values_to_be_between(column=capacity_mw, max_value=100000)
    severity: str
    row_numbers: tuple = ()  # the failing rows: row numbers, or key tuples (see validate_table)
    detail: str = ""
    partitions: tuple = ()  # days of a partitioned batch that failed as a whole

    @property
    def row_level(self) -> bool:
        return bool(self.row_numbers)


@dataclass(frozen=True)
class CheckRecord:
    """One expectation's result in one validation run, passed or not (validation history)."""

    expectation: str
    expectation_type: str
    check: str  # the suite's `meta.check` (e.g. continuity, freshness), else the type
    severity: str
    success: bool
    unexpected_count: int | None
    detail: str


@dataclass
class ValidationOutcome:
    suite: str
    evaluated: int
    findings: list[Finding] = field(default_factory=list)
    checks: list[CheckRecord] = field(default_factory=list)
    gx_result: dict | None = None  # GX's own result document (for Data Docs)

    @property
    def rejected(self) -> bool:
        return any(self._whole(f) for f in self.findings)

    @property
    def rejection_reason(self) -> str:
        return "; ".join(f"{f.expectation}: {f.detail}" for f in self.findings if self._whole(f))

    @staticmethod
    def _whole(finding: Finding) -> bool:
        return finding.severity == "error" and not finding.row_level and not finding.partitions

    def rejected_partitions(self) -> dict[object, list[str]]:
        """Day -> the error expectations that failed for that day as a whole."""
        bad: dict[object, list[str]] = {}
        for finding in self.findings:
            if finding.severity == "error":
                for day in finding.partitions:
                    bad.setdefault(day, []).append(f"{finding.expectation}: {finding.detail}")
        return bad

    def quarantine(self) -> dict[object, list[str]]:
        """Row (number or key) -> the error expectations that row failed."""
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


def describe(expectation_type: str, kwargs: dict, description: str | None = None) -> str:
    if expectation_type == "unexpected_rows_expectation":
        # a SQL check is known by its description ("continuity: no month missing ..."), not its SQL
        return f"{expectation_type}({description or kwargs.get('unexpected_rows_query')})"
    shown = ", ".join(f"{k}={v}" for k, v in kwargs.items() if k not in ("batch_id", "result_format"))
    return f"{expectation_type}({shown})"


def _show(rows: list[dict], limit: int = 3) -> str:
    shown = "; ".join(", ".join(f"{k}={v}" for k, v in r.items()) for r in rows[:limit])
    return shown + (f"; … {len(rows) - limit} more" if len(rows) > limit else "")


def _unexpected_rows(con: duckdb.DuckDBPyConnection, result: dict, query: str, table: str
                     ) -> tuple[int, list[dict]]:
    """Count and rows of an unexpected-rows check.

    GX returns at most 200 rows, so when more failed, the same query is run here to name every one
    of them.
    """
    count = int(result.get("observed_value") or 0)
    rows = list((result.get("details") or {}).get("unexpected_rows") or [])
    if count > len(rows):
        cursor = same_database_cursor(con)
        try:
            relation = cursor.execute(query.replace("{batch}", table))
            names = [d[0] for d in relation.description]
            rows = [dict(zip(names, r, strict=True)) for r in relation.fetchall()]
        finally:
            cursor.close()
    return count, rows


def _row_id(row: dict, identity: tuple[str, ...]) -> object:
    """A failing row's identity: its number in the feed, or its key (natively read batches)."""
    if identity == (ROW_NUMBER,):
        return int(row[ROW_NUMBER])
    return tuple(row[c] for c in identity)


def _ids(ids: list) -> tuple:
    try:
        return tuple(sorted(set(ids)))
    except TypeError:  # keys holding a NULL: any stable order will do
        return tuple(sorted(set(ids), key=repr))


def _failed_rows(con: duckdb.DuckDBPyConnection, result: dict, identity: tuple[str, ...]) -> tuple:
    """Identities of a column check's failing rows.

    On SQL, GX lists only the first `partial_unexpected_count` (20) of them, but also returns the
    query that finds them all: when more failed, that query runs here, inside DuckDB.
    """
    index = result.get("unexpected_index_list") or []
    ids = [_row_id(i, identity) for i in index if isinstance(i, dict) and set(identity) <= set(i)]
    query = result.get("unexpected_index_query")
    if (result.get("unexpected_count") or 0) > len(ids) and isinstance(query, str):
        cursor = same_database_cursor(con)
        try:
            relation = cursor.execute(query)
            names = [d[0] for d in relation.description]
            ids = [_row_id(dict(zip(names, row, strict=True)), identity)
                   for row in relation.fetchall()]
        finally:
            cursor.close()
    return _ids(ids)


def validate_table(con: duckdb.DuckDBPyConnection, schema: str, table: str, loaded: LoadedSuite,
                   identity: tuple[str, ...] = (ROW_NUMBER,), partition: str | None = None
                   ) -> ValidationOutcome:
    """Validate the staged batch `schema.table` (canonical columns + `_row_number`) with GX.

    Failing rows are named by `identity`: `_row_number`, or for a natively read batch (which
    has no row numbers) its key columns. With `partition` (the day column of a partitioned
    batch), an unexpected-rows check that returns that column, but not the key, fails those
    days as a whole; other table-level failures reject the whole batch.
    """
    dataset = loaded.suite.name
    with table_batch(con, schema, table) as batch:
        result = batch.validate(loaded.suite, result_format={
            "result_format": "COMPLETE", "unexpected_index_column_names": list(identity)})
    outcome = ValidationOutcome(suite=dataset, evaluated=len(result.results),
                                gx_result=result.to_json_dict())
    for res in result.results:
        config = res.expectation_config
        kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
        meta = config.meta or {}
        severity = meta.get("severity", "error")
        name = describe(config.type, kwargs, config.description or kwargs.get("description"))
        check = meta.get("check", config.type)
        raised = _raised(res.exception_info)
        if raised is not None:
            # An expectation GX could not evaluate (missing column, bad SQL) must never pass.
            detail = f"GX could not evaluate it: {raised}"
            outcome.findings.append(Finding(name, "error", (), detail))
            outcome.checks.append(CheckRecord(name, config.type, check, "error", False, None, detail))
            continue
        numbers: tuple = ()
        days: tuple = ()
        if config.type == "unexpected_rows_expectation":
            count, rows = _unexpected_rows(con, res.result, kwargs["unexpected_rows_query"],
                                           f"{schema}.{table}")
            if rows and all(set(identity) <= set(r) for r in rows):
                numbers = _ids([_row_id(r, identity) for r in rows])
                detail = f"{len(numbers)} row(s) failed"
            elif rows and partition and all(partition in r for r in rows):
                days = _ids([r[partition] for r in rows])
                detail = f"{count} unexpected: {_show(rows)}"
            else:
                detail = f"{count} unexpected: {_show(rows)}" if count else ""
        else:
            count = res.result.get("unexpected_count")
            numbers = _failed_rows(con, res.result, identity)
            detail = (f"{len(numbers)} row(s) failed" if numbers
                      else f"observed {res.result.get('observed_value')!r}"
                      + (f", {count} unexpected" if count else ""))
        outcome.checks.append(CheckRecord(name, config.type, check, severity, bool(res.success),
                                          count, "" if res.success else detail))
        if res.success:
            continue
        outcome.findings.append(Finding(name, severity, numbers, detail, days))
        log.log(logging.WARNING if severity == "warn" else logging.INFO,
                "suite %s: %s failed (%s, %s)", dataset, name, severity, detail)
    return outcome
