"""Load a suite file into GX and make sure every expectation in it was loaded."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from connectors.spec import SourcesConfig
from core.errors import ConfigError
from expectations.errors import SuiteError

if TYPE_CHECKING:  # GX takes ~2.5 s to import: only the validating task pays for it
    from great_expectations import ExpectationSuite

SUITES_DIR = Path(__file__).resolve().parent
SEVERITIES = ("error", "warn")


@dataclass(frozen=True)
class LoadedSuite:
    file: Path
    suite: ExpectationSuite
    severities: tuple[str, ...]  # per expectation, in file order
    # (table, query) of the suite's `meta.prepare`: small tables derived from the batch once
    # (`{batch}` in the query), which its SQL checks read as `${name}` instead of each scanning
    # a large batch again; the gate creates them before validating and drops them after.
    prepare: tuple[tuple[str, str], ...] = ()


def suite_path(dataset: str, suites_dir: Path = SUITES_DIR) -> Path:
    return suites_dir / f"{dataset}.json"


def list_suites(suites_dir: Path = SUITES_DIR) -> list[str]:
    return sorted(p.stem for p in suites_dir.glob("*.json"))


def _substitute(value: object, params: dict, path: Path) -> object:
    """Substitute `"$name"` and `${name}` in a suite's kwargs.

    `"$name"` stands for a fact of the city (`config/<city>/city.yml`) or of the run (`as_of`,
    `totals`); `${name}` does the same inside a string (SQL checks).
    """
    def lookup(name: str) -> object:
        if name not in params:
            raise SuiteError(str(path), f"`${name}` is not defined; facts available: "
                             + (", ".join(sorted(params)) or "none (add them to city.yml)"))
        return params[name]

    if isinstance(value, str) and re.fullmatch(r"\$\w+", value):
        return lookup(value[1:])
    if isinstance(value, str) and "${" in value:
        return re.sub(r"\$\{(\w+)\}", lambda m: _sql_text(lookup(m.group(1))), value)
    return value


def _sql_text(value: object) -> str:
    """A fact as it reads inside SQL: a list becomes a list of literals ('a', 'b')."""
    if isinstance(value, (list, tuple)):
        return ", ".join("'" + str(v).replace("'", "''") + "'" for v in value)
    return str(value)


def load_suite(dataset: str, suites_dir: Path = SUITES_DIR, params: dict | None = None) -> LoadedSuite:
    """Build the GX suite of `dataset` from its JSON file, refusing anything GX did not take."""
    import great_expectations as gx

    path = suite_path(dataset, suites_dir)
    if not path.exists():
        raise SuiteError(str(path), f"no suite for dataset `{dataset}`; every dataset needs "
                         f"`expectations/{dataset}.json`")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise SuiteError(str(path), f"not valid JSON: {exc}") from None
    if doc.get("name") != path.stem:
        raise SuiteError(str(path), f"suite name `{doc.get('name')}` must equal the file stem "
                         f"`{path.stem}`")
    prepare = (doc.get("meta") or {}).get("prepare") or {}
    if not isinstance(prepare, dict) or not all(
            isinstance(n, str) and re.fullmatch(r"[a-z][a-z0-9_]{0,30}", n) for n in prepare):
        raise SuiteError(str(path), "`meta.prepare` must map names (lowercase identifiers) to "
                         "queries over {batch}")
    # the tables are built side by side, each after those it reads (expectations/derived.py):
    # a query may read only tables declared before it
    for number, (name, query) in enumerate(prepare.items()):
        later = [n for n in list(prepare)[number:] if "{" + n + "}" in json.dumps(query)]
        if later:
            raise SuiteError(str(path), f"`meta.prepare.{name}` reads {{{later[0]}}}, which is not "
                             "declared before it; declare each table after the tables it reads")
    batch = (params or {}).get("batch_table", f"stage.{dataset}")  # the gate names the batch
    params = {**(params or {}), **{name: f"{batch}__{name}" for name in prepare}}
    prepared = tuple((params[name], _substitute(query, params, path)) for name, query in prepare.items())
    declared = [{**exp, "kwargs": {k: _substitute(v, params or {}, path)
                                    for k, v in (exp.get("kwargs") or {}).items()}}
                for exp in doc.get("expectations") or []]
    severities = []
    for number, exp in enumerate(declared, 1):
        severity = (exp.get("meta") or {}).get("severity", "error")
        if severity not in SEVERITIES:
            raise SuiteError(str(path), f"expectation {number} (`{exp.get('type')}`) has severity "
                             f"`{severity}`; expected one of {', '.join(SEVERITIES)}")
        severities.append(severity)
    try:
        suite = gx.ExpectationSuite(name=doc["name"], expectations=declared, meta=doc.get("meta"))
    except Exception as exc:  # GX raises pydantic/its own errors for a bad expectation
        raise SuiteError(str(path), f"GX refused an expectation: {str(exc).splitlines()[-1]}") from exc
    # GX has silently dropped invalid expectations before: count what it kept.
    if len(suite.expectations) != len(declared):
        raise SuiteError(str(path), f"GX loaded {len(suite.expectations)} of {len(declared)} "
                         "expectations; check each `type` and its kwargs")
    return LoadedSuite(file=path, suite=suite, severities=tuple(severities), prepare=prepared)


_COLUMN_KWARGS = ("column", "column_A", "column_B", "column_list", "columns")


def required_columns(dataset: str, raw_columns: list[str], suites_dir: Path = SUITES_DIR) -> set[str]:
    """The raw columns a dataset's suite reads.

    Named in an expectation's arguments, or used by one of its SQL checks (matched as whole words
    against the raw table's columns).
    """
    path = suite_path(dataset, suites_dir)
    if not path.exists():
        return set()
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return set()  # load_suite reports it, with the file
    needed: set[str] = set()
    for query in ((doc.get("meta") or {}).get("prepare") or {}).values():
        needed.update(c for c in raw_columns if re.search(rf"\b{re.escape(c)}\b", str(query)))
    for exp in doc.get("expectations") or []:
        kwargs = exp.get("kwargs") or {}
        for key in _COLUMN_KWARGS:
            value = kwargs.get(key)
            needed.update([value] if isinstance(value, str) else value or [])
        query = kwargs.get("unexpected_rows_query") or ""
        needed.update(c for c in raw_columns if re.search(rf"\b{re.escape(c)}\b", query))
    return needed & set(raw_columns)


def check_suite_columns(config: SourcesConfig, raw_tables: dict[str, list[str]],
                        suites_dir: Path = SUITES_DIR) -> None:
    """Every column a dataset's suite checks must be filled by its column map.

    Checked before anything is downloaded: a ConfigError names the column and the ways to fill it,
    never a GX or DuckDB binder error later.
    """
    for spec in config.datasets():
        filled = {c.name for c in spec.columns}
        # lineage columns (`_load_id`, `_load_seq`, …) are the loader's to fill, not the map's
        declared = [c for c in raw_tables.get(spec.table_name, []) if not c.startswith("_")]
        missing = sorted(required_columns(spec.table_name, declared, suites_dir) - filled)
        if missing:
            raise ConfigError(config.file, spec.source_name, f"columns.{missing[0]}",
                              f"`expectations/{spec.table_name}.json` checks "
                              f"{', '.join(f'`{m}`' for m in missing)}, which this dataset does not "
                              "fill: map it with `from: <published header>`, or give it a `value:`, "
                              "`from_filename:`, `from_sheet:`, `from_title:` or `expr:`")
