"""Model tests: the `data_tests:` of a model's `.yml` (dbt's layout), run by the runner after it builds.

Column tests (under `columns: - name: x`): `not_null`, `unique`, `accepted_values` (arguments
`values`, optional `quote`), `relationships` (`to: ref('model')`, `field: y`). Model tests (the
model's own `data_tests:`): `unique_combination_of_columns` (argument `combination_of_columns`; the
project ships it as a generic test in dbt_like_sql/macros/, so dbt runs it without dbt_utils, whose
`dbt_utils.` name is accepted too). As in dbt-core 1.10+, arguments go under `arguments:` and
`severity` / `where` under `config:` (the older form with both directly in the test is still read);
the default severity is `error`. `tests:` is read like `data_tests:` (its name before dbt 1.8).

A test is a query returning the failing values with the number of rows that have them (`n_rows`);
it passes when there are none. The latest result of each test is kept in
`meta.model_test_results`, with that query, so `carbonpeak sql` can list what failed.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from warehouse.backend import portable_ddl
from warehouse.db import sql_literal
from warehouse.errors import ModelError

log = logging.getLogger(__name__)

# test name -> (required arguments, optional arguments), as dbt's generic tests take them
COLUMN_TESTS = {"not_null": ((), ()), "unique": ((), ()), "accepted_values": (("values",), ("quote",)),
                "relationships": (("to", "field"), ())}
MODEL_TESTS = {"unique_combination_of_columns": (("combination_of_columns",), ())}
ALIASES = {"dbt_utils.unique_combination_of_columns": "unique_combination_of_columns"}
KINDS = {"unique_combination_of_columns": "unique_combination"}  # the name results are kept under
CONFIG_KEYS = ("severity", "where")
SEVERITIES = ("error", "warn")
SAMPLE_SIZE = 5
_SIMPLE = re.compile(r"[a-z_][a-z0-9_]*")

RESULTS_DDL = """
create table if not exists meta.model_test_results (
    -- The latest result of every model test (one row per model and test).
    model varchar not null,             -- schema.name
    test varchar not null,              -- e.g. not_null(year), unique_combination(year, county_name)
    test_type varchar not null,
    column_name varchar,                -- null for model-level tests
    severity varchar not null,          -- error | warn
    status varchar not null,            -- pass | warn | fail
    failures bigint not null,           -- rows that fail the test
    sample varchar,                     -- a few failing values, with their row counts
    query varchar not null,             -- lists every failing value: carbonpeak sql "<query>"
    since timestamptz not null,         -- when this outcome (status and failures) was first seen
    primary key (model, test)
)
"""


@dataclass(frozen=True)
class ModelTest:
    model: str
    kind: str  # not_null | unique | accepted_values | relationships | unique_combination
    column: str | None = None  # None for model-level tests
    severity: str = "error"
    where: str | None = None
    values: tuple = ()  # accepted_values
    to: str | None = None  # relationships: "ref('model')" or "source('raw', 'table')"
    field: str | None = None  # relationships
    columns: tuple[str, ...] = ()  # unique_combination
    quote: bool = True  # accepted_values: values are strings (dbt's default) or SQL as written

    @property
    def label(self) -> str:
        if self.kind == "unique_combination":
            label = f"unique_combination({', '.join(self.columns)})"
        elif self.kind == "relationships":
            label = f"relationships({self.column} -> {self.to}.{self.field})"
        else:
            label = f"{self.kind}({self.column})"
        return f"{label} where {self.where}" if self.where else label


@dataclass(frozen=True)
class ModelTestResult:
    test: ModelTest
    relation: str
    failures: int
    sample: tuple[str, ...]
    query: str

    @property
    def status(self) -> str:
        if not self.failures:
            return "pass"
        return "fail" if self.test.severity == "error" else "warn"


def parse_tests(model: str, path: Path, entry: dict) -> tuple[ModelTest, ...]:
    """The tests a model's entry under `models:` declares, checked for unknown names and arguments."""
    found = []
    for test in _test_list(model, path, entry, "the model"):
        found.append(_parse_one(model, path, test, None))
    for column in entry.get("columns") or []:
        for test in _test_list(model, path, column, f"column `{column.get('name')}`"):
            found.append(_parse_one(model, path, test, column["name"]))
    return tuple(found)


def _test_list(model: str, path: Path, node: dict, where: str) -> list:
    if "tests" in node and "data_tests" in node:
        raise ModelError(model, f"`{path}`: {where} has both `tests` and `data_tests`; keep `data_tests`")
    tests = node.get("data_tests", node.get("tests")) or []
    if not isinstance(tests, list):
        raise ModelError(model, f"`{path}`: `data_tests` of {where} must be a list, e.g. [not_null, unique]")
    return tests


def _parse_one(model: str, path: Path, entry, column: str | None) -> ModelTest:
    if isinstance(entry, str):
        name, body = entry, {}
    elif isinstance(entry, dict) and len(entry) == 1:
        name, body = next(iter(entry.items()))
    else:
        raise ModelError(model, f"`{path}`: test `{entry}` should be a name or a one-key mapping, "
                         "e.g. `accepted_values: {arguments: {values: [a, b]}}`")
    name = ALIASES.get(name, name)
    where = f"column `{column}`" if column else "the model"
    known = COLUMN_TESTS if column else MODEL_TESTS
    if name not in known:
        raise ModelError(model, f"`{path}`: unknown test `{name}` on {where}; known tests there: "
                         + ", ".join(known))
    body = body if body is not None else {}
    nested = body.get("arguments", {}) if isinstance(body, dict) else None
    config = body.get("config") or {} if isinstance(body, dict) else None
    if not isinstance(nested, dict) or not isinstance(config, dict):
        raise ModelError(model, f"`{path}`: test `{name}` on {where}: its `arguments` and `config` must be "
                         "mappings, e.g. `accepted_values: {arguments: {values: [a, b]}, config: "
                         "{severity: warn}}`")
    # the form before dbt 1.10: arguments, severity and where directly in the test
    loose = {k: v for k, v in body.items() if k not in ("arguments", "config")}
    config = {**config, **{k: loose.pop(k) for k in CONFIG_KEYS if k in loose}}
    if nested and loose:
        raise ModelError(model, f"`{path}`: test `{name}` on {where}: put every argument under "
                         f"`arguments:` (`{sorted(loose)[0]}` is outside it)")
    args = {**nested, **loose}
    required, optional = known[name]
    unknown, missing = set(args) - set(required) - set(optional), set(required) - set(args)
    if unknown or missing or set(config) - set(CONFIG_KEYS):
        problem = (f"unknown argument `{sorted(unknown)[0]}`" if unknown
                   else f"missing argument `{sorted(missing)[0]}`" if missing
                   else f"unsupported config `{sorted(set(config) - set(CONFIG_KEYS))[0]}`")
        raise ModelError(model, f"`{path}`: test `{name}` on {where}: {problem}; it takes "
                         + (", ".join(required + optional) or "no arguments")
                         + " under `arguments:`, and severity, where under `config:`")
    severity = str(config.get("severity", "error")).lower()
    if severity not in SEVERITIES:
        raise ModelError(model, f"`{path}`: test `{name}` on {where}: severity `{severity}`; "
                         "expected error or warn")
    if name == "accepted_values" and (not isinstance(args["values"], list) or not args["values"]):
        raise ModelError(model, f"`{path}`: accepted_values on {where} needs a non-empty list `values`")
    columns = args.get("combination_of_columns", ())
    if name == "unique_combination_of_columns" and (not isinstance(columns, list) or not columns):
        raise ModelError(model, f"`{path}`: unique_combination_of_columns needs a non-empty list "
                         "`combination_of_columns`")
    return ModelTest(model=model, kind=KINDS.get(name, name), column=column, severity=severity,
                     where=config.get("where"), values=tuple(args.get("values", ())),
                     to=args.get("to"), field=args.get("field"), columns=tuple(columns),
                     quote=bool(args.get("quote", True)))


@functools.cache
def _reserved() -> frozenset[str]:
    return frozenset(r[0] for r in duckdb.execute(
        "select keyword_name from duckdb_keywords() where keyword_category = 'reserved'").fetchall())


def ident(name: str) -> str:
    """A column name for SQL; bare when it can be, so the query pastes into `carbonpeak sql "..."`."""
    if _SIMPLE.fullmatch(name) and name not in _reserved():
        return name
    return '"' + name.replace('"', '""') + '"'


def _literal(value, quote: bool) -> str:
    """As dbt's accepted_values writes a value: a string literal, or (quote: false) SQL as written."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return sql_literal(str(value)) if quote else str(value)


def compile_test(test: ModelTest, relation: str, grain: tuple[str, ...],
             resolve: Callable[[str], str]) -> str:
    """One line of SQL listing the failing values and how many rows have each (`n_rows`).

    `resolve` turns a relationships test's `ref('m')` / `source('s', 't')` into a relation.
    """
    rel = f"(select * from {relation} where {test.where})" if test.where else relation
    col = ident(test.column) if test.column else None
    if test.kind == "not_null":
        # a null has no value to show: show the rest of the row's grain instead
        keys = ", ".join(ident(k) for k in grain if k != test.column)
        group = f" group by {keys}" if keys else ""
        return (f"select {keys + ', ' if keys else ''}count(*) as n_rows from {rel} t "
                f"where {col} is null{group} having count(*) > 0")
    if test.kind == "unique":
        return (f"select {col}, count(*) as n_rows from {rel} t where {col} is not null "
                f"group by {col} having count(*) > 1")
    if test.kind == "unique_combination":
        cols = ", ".join(ident(c) for c in test.columns)
        return f"select {cols}, count(*) as n_rows from {rel} t group by {cols} having count(*) > 1"
    if test.kind == "accepted_values":
        values = ", ".join(_literal(v, test.quote) for v in test.values)
        return (f"select {col}, count(*) as n_rows from {rel} t where {col} is not null "
                f"and {col} not in ({values}) group by {col}")
    # relationships
    parent, field = resolve(str(test.to)), ident(str(test.field))
    return (f"select t.{col}, count(*) as n_rows from {rel} t where t.{col} is not null and t.{col} "
            f"not in (select {field} from {parent} where {field} is not null) group by t.{col}")


def run_tests(con: duckdb.DuckDBPyConnection, planned: list[tuple[ModelTest, str, str]]
              ) -> list[ModelTestResult]:
    """Run (test, relation, sql) triples; a test whose SQL cannot run is a ModelError."""
    results = []
    for test, relation, sql in planned:
        try:
            failures = con.execute(f"select coalesce(sum(n_rows), 0) from ({sql})").fetchone()[0]
            sample: tuple[str, ...] = ()
            if failures:
                cursor = con.execute(f"select * from ({sql}) order by all limit {SAMPLE_SIZE}")
                names = [d[0] for d in cursor.description]
                sample = tuple(_describe(dict(zip(names, row, strict=True))) for row in cursor.fetchall())
        except duckdb.Error as exc:
            raise ModelError(test.model, f"test {test.label} cannot run: {str(exc).splitlines()[0]} "
                             "(check the column names and arguments in its .yml)") from None
        results.append(ModelTestResult(test, relation, int(failures), sample, sql))
    return results


def _describe(row: dict) -> str:
    n = row.pop("n_rows")
    shown = ", ".join(f"{k}={v}" for k, v in row.items()) or "rows"
    return f"{shown} ({n} rows)" if n > 1 else shown


def log_results(results: list[ModelTestResult]) -> None:
    for r in results:
        if r.status == "warn":
            log.warning("model `%s`: test %s (severity warn) fails for %d row(s), e.g. %s; list them: "
                        'carbonpeak sql "%s"', r.test.model, r.test.label, r.failures,
                        "; ".join(r.sample) or "-", r.query)
        elif r.status == "fail":
            log.error("model `%s`: test %s fails for %d row(s), e.g. %s; its query: %s",
                      r.test.model, r.test.label, r.failures, "; ".join(r.sample) or "-", r.query)
    counts = {s: sum(r.status == s for r in results) for s in ("pass", "warn", "fail")}
    log.info("%d model tests: %d passed, %d warned, %d failed", len(results), counts["pass"],
             counts["warn"], counts["fail"])


def failure_message(failed: list[ModelTestResult]) -> str:
    """What failed, with a few values each, and where to find the queries."""
    parts = [f"`{r.relation}` {r.test.label}: {r.failures} failing row(s)"
             + (f", e.g. {'; '.join(r.sample)}" if r.sample else "") for r in failed]
    return (f"{len(failed)} model test(s) failed, so the build was rolled back and the previous "
            "models stay: " + " | ".join(parts) + ". Each test's query is in meta.model_test_results: "
            "carbonpeak sql \"select model, test, failures, sample, query from "
            "meta.model_test_results where status = 'fail'\"")


def record_results(con: duckdb.DuckDBPyConnection, results: list[ModelTestResult],
                   tested: set[str], known: set[str]) -> None:
    """Replace the results of the `tested` models (and forget models no longer `known`).

    `since` is kept while a test's outcome repeats, so a rebuild with the same outcome writes the
    same rows.
    """
    con.execute("create schema if not exists meta")
    con.execute(portable_ddl(con, RESULTS_DDL))
    previous = {(m, t): (s, f, since) for m, t, s, f, since in con.execute(
        "select model, test, status, failures, since from meta.model_test_results").fetchall()}
    now = dt.datetime.now(dt.UTC)
    rows = []
    for r in results:
        status, failures, since = previous.get((r.relation, r.test.label), (None, None, None))
        if (status, failures) != (r.status, r.failures):
            since = now
        rows.append([r.relation, r.test.label, r.test.kind, r.test.column, r.test.severity,
                     r.status, r.failures, "; ".join(r.sample) or None, r.query, since])
    con.execute("delete from meta.model_test_results where list_contains(?, model) "
                "or not list_contains(?, model)", [sorted(tested), sorted(known)])
    if rows:
        con.executemany("insert into meta.model_test_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        rows)
