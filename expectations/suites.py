"""Load a suite file into GX and make sure every expectation in it was loaded."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

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


def suite_path(dataset: str, suites_dir: Path = SUITES_DIR) -> Path:
    return suites_dir / f"{dataset}.json"


def list_suites(suites_dir: Path = SUITES_DIR) -> list[str]:
    return sorted(p.stem for p in suites_dir.glob("*.json"))


def _substitute(value: object, params: dict, path: Path) -> object:
    """`"$name"` in a suite's kwargs stands for a fact of the city (`config/<city>/city.yml`) or
    of the run (`as_of`, `totals`); `${name}` does the same inside a string (SQL checks)."""
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
    return LoadedSuite(file=path, suite=suite, severities=tuple(severities))
