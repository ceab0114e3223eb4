"""Declarative source configuration (`sources.yml`): parsed into frozen specs and checked up front.

Every mistake is reported before any data moves, naming the file, the source and the key.

Why ~340 lines: every key of sources.yml is checked here, before any data moves, so each
mistake is one line naming the file, the source and the key; split, the checks would scatter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from connectors.derive import KINDS as DERIVED_KEYS
from connectors.derive import Derivation, read_derivation
from connectors.safety import check_identifier, check_landing_pattern, check_url_path
from connectors.units import CONVERSIONS, known_units
from core import yamlio
from core.errors import ConfigError

FORMATS = ("json_api", "csv", "xlsx", "parquet")
# city.yml `code`: the six-digit administrative division code (GB/T 2260), e.g. 510700 for Mianyang
CITY_CODE = re.compile(r"[0-9]{6}")
FILE_FORMATS = ("csv", "parquet")  # what a dataset published as day files (`partitions:`) may be
# ... or one day's records so far as a paged JSON API (connectors/json_pages.py)
PARTITIONED_FORMATS = (*FILE_FORMATS, "json_api")
ENCODINGS = ("auto", "utf-8", "gb18030")
DEFAULT_DROP = ("合计", "小计", "其中", "注")
TYPES = ("integer", "double", "varchar", "boolean", "date", "timestamp")
CADENCES = ("daily", "monthly", "quarterly", "yearly")
# Days after a period ends by which a department of this cadence has usually published it (yearly
# statistics come out in the spring after; a department may set its own `publication_lag_days`).
DEFAULT_PUBLICATION_LAG_DAYS = {"daily": 2, "monthly": 45, "quarterly": 60, "yearly": 180}
COLUMN_KEYS = {"from", "type", "unit", "description", "group", *DERIVED_KEYS}


@dataclass(frozen=True)
class ColumnSpec:
    """One canonical column: where it comes from in the feed, its type and published unit."""

    name: str
    source_field: str
    type: str
    unit: str | None = None  # published unit, converted to the canonical one on read
    description: str = ""
    derive: Derivation | None = None  # filled by config (constant, pattern, expression), not `from:`

    @property
    def is_mapped(self) -> bool:
        """True when the file carries the column (under `source_field`)."""
        return self.derive is None


@dataclass(frozen=True)
class PaginationSpec:
    type: str = "page_number"  # or "cursor": the body names the next page's opaque cursor
    page_param: str = "page"  # page_number: the page's number; cursor: the cursor's parameter
    size_param: str = "page_size"
    page_size: int = 100
    next_key: str = "next_page"  # the next page number, or the next cursor; null on the last page
    records_key: str = "data"
    # Incremental feeds: ask only for records changed since the newest one already loaded.
    incremental_param: str | None = None  # e.g. updated_since
    incremental_field: str | None = None  # the records' change timestamp, e.g. updated_at


@dataclass(frozen=True)
class TabularSpec:
    """How to read a CSV or XLSX file as a department lays it out (title, unit and header rows)."""

    encoding: str = "auto"  # csv: auto = UTF-8 if it decodes, else GB18030
    header_rows: tuple[int, ...] = (1,)  # 1-based; several rows (merged headers) are joined by "_"
    sheet: str | None = None  # xlsx: sheet name, default the first
    drop_rows_starting_with: tuple[str, ...] = DEFAULT_DROP  # totals and footnotes, by first cell


@dataclass(frozen=True)
class PartitionSpec:
    """A dataset published as one file per day (`partitions:`), loaded natively inside DuckDB.

    `path` is then the department's manifest: a JSON list of the files published so far, each
    with its day, path and sha256. A day already loaded with the same sha256 is not downloaded;
    a day published again with other bytes replaces its partition as a new vintage. For
    `format: json_api`, `path` is the paged API of one day's records so far, and `day_key` the
    key of page 1 that names the day.
    """

    column: str  # the raw column holding the day (type date); filled from the manifest or file name
    files_key: str = "files"  # the manifest's list of files
    day_key: str = "day"  # ... each file's day (YYYY-MM-DD)
    path_key: str = "path"  # ... its path on the department's server
    sha256_key: str = "sha256"  # ... its sha256, so unchanged days are not downloaded
    # A provisional source (the day so far) never replaces a day a complete source (its day
    # file) already holds: a late or re-served partial pull must not shrink a finished day.
    provisional: bool = False


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset of a department: a raw table in the warehouse and a suite in expectations/."""

    name: str
    department: str
    format: str
    path: str
    primary_key: tuple[str, ...]
    columns: tuple[ColumnSpec, ...]
    pagination: PaginationSpec = field(default_factory=PaginationSpec)
    tabular: TabularSpec = field(default_factory=TabularSpec)
    description: str = ""
    landing_env: str | None = None  # when this variable names a folder, files are read from it
    landing_pattern: str = "*"  # glob of the files in the landing folder
    table: str | None = None  # the raw table it fills, when not `<department>__<dataset>`
    # The columns that say which period a row is about (`period:`; default `year` and `month` when
    # the dataset has them): how old the data is, judged at every build, is counted in these.
    period_year: str | None = None
    period_month: str | None = None
    # days after a period ends by which it is published: the dataset's own, else its department's
    # (filled in by load_sources); suites name it as `${publication_lag_days}`
    publication_lag_days: int | None = None
    partitions: PartitionSpec | None = None  # day files read natively, see PartitionSpec

    @property
    def source_name(self) -> str:
        return f"{self.department}.{self.name}"

    @property
    def table_name(self) -> str:
        """Name of the raw table and of the suite file: `<department>__<dataset>` by default."""
        return self.table or f"{self.department}__{self.name}"

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)

    @property
    def period_grain(self) -> str | None:
        """`day`, `month` or `year`: the period one row is about; None when it has no period.

        Day files are judged by the day (a provisional source, the day so far, by none: its
        dataset of day files says whether the platform is late).
        """
        if self.partitions is not None:
            return None if self.partitions.provisional else "day"
        if self.period_year is None:
            return None
        return "month" if self.period_month else "year"


@dataclass(frozen=True)
class DepartmentSpec:
    """A department: one base URL, one token, one cadence, several datasets."""

    name: str
    name_zh: str
    cadence: str
    url_env: str
    token_env: str
    datasets: tuple[DatasetSpec, ...]
    timeout_connect_s: float = 3.0
    timeout_read_s: float = 10.0
    max_attempts: int = 4
    backoff_s: float = 0.5
    publication_lag_days: int = 180  # days after a period ends by which its data is expected
    max_body_mb: float = 200.0  # a larger response or file is refused (`http.max_body_mb`)


@dataclass(frozen=True)
class SourcesConfig:
    file: str
    departments: tuple[DepartmentSpec, ...]

    def department(self, name: str) -> DepartmentSpec:
        for dept in self.departments:
            if dept.name == name:
                return dept
        known = ", ".join(d.name for d in self.departments)
        raise ConfigError(self.file, None, "departments", f"no department `{name}`; known: {known}")

    def datasets(self) -> list[DatasetSpec]:
        return [ds for dept in self.departments for ds in dept.datasets]


def load_sources(path: Path) -> SourcesConfig:
    """Read and check a `sources.yml`."""
    file = str(path)
    try:
        doc = yamlio.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(file, None, "-", "file not found; set CARBONPEAK_CONFIG_DIR to the folder "
                          "holding sources.yml") from None
    except yaml.YAMLError as exc:
        raise ConfigError(file, None, "-", f"not valid YAML: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("departments"), dict):
        raise ConfigError(file, None, "departments", "expected a mapping of departments")
    for name in doc["departments"]:
        check_identifier(file, name, "departments", name, "department")
    departments = tuple(_department(file, name, body) for name, body in doc["departments"].items())
    return SourcesConfig(file=file, departments=departments)


def _require(file: str, source: str, body: dict, key: str) -> object:
    if key not in body or body[key] in (None, ""):
        raise ConfigError(file, source, key, "is required")
    return body[key]


def _department(file: str, name: str, body: dict) -> DepartmentSpec:
    if not isinstance(body, dict):
        raise ConfigError(file, name, name, "expected a mapping")
    cadence = _require(file, name, body, "cadence")
    if cadence not in CADENCES:
        raise ConfigError(file, name, "cadence", f"unknown cadence `{cadence}`; expected one of "
                          + ", ".join(CADENCES))
    datasets = body.get("datasets") or {}
    if not datasets:
        raise ConfigError(file, name, "datasets", "a department needs at least one dataset")
    http = body.get("http", {})
    lag = _lag_days(file, name, body.get("publication_lag_days", DEFAULT_PUBLICATION_LAG_DAYS[cadence]))
    return DepartmentSpec(
        name=name, name_zh=str(body.get("name_zh", "")), cadence=cadence,
        url_env=str(_require(file, name, body, "url_env")),
        token_env=str(_require(file, name, body, "token_env")),
        datasets=tuple(_with_lag(_dataset(file, name, ds_name, ds), lag) for ds_name, ds in datasets.items()),
        timeout_connect_s=float(http.get("timeout_connect_s", 3.0)),
        timeout_read_s=float(http.get("timeout_read_s", 10.0)),
        max_attempts=int(http.get("max_attempts", 4)),
        backoff_s=float(http.get("backoff_s", 0.5)),
        publication_lag_days=lag,
        max_body_mb=float(http.get("max_body_mb", 200.0)),
    )


def _lag_days(file: str, source: str, lag: object) -> int:
    if not isinstance(lag, int) or isinstance(lag, bool) or not 0 <= lag <= 1000:
        raise ConfigError(file, source, "publication_lag_days", f"`{lag}` is not a whole number of "
                          "days between 0 and 1000, e.g. 180 for yearly statistics published the "
                          "spring after")
    return lag


def _with_lag(spec: DatasetSpec, department_lag: int) -> DatasetSpec:
    if spec.publication_lag_days is not None:
        return spec
    return replace(spec, publication_lag_days=department_lag)


def _period(file: str, source: str, body: dict, names: set[str]) -> tuple[str | None, str | None]:
    """The (year, month) columns of `period:`, by default `year` and `month` when declared."""
    period = body.get("period")
    if period is None:
        year = "year" if "year" in names else None
        return year, ("month" if year and "month" in names else None)
    if not isinstance(period, dict) or not period or set(period) - {"year", "month"}:
        raise ConfigError(file, source, "period", "expected `year:` and optionally `month:`, the "
                          "columns naming the period a row is about, e.g. {year: permit_year}")
    for key, column in period.items():
        if column not in names:
            raise ConfigError(file, source, f"period.{key}", f"`{column}` is not one of the columns")
    if "year" not in period:
        raise ConfigError(file, source, "period.year", "is required: a period is counted in years")
    return period["year"], period.get("month")


def _dataset(file: str, department: str, name: str, body: dict) -> DatasetSpec:
    source = f"{department}.{name}"
    check_identifier(file, source, "datasets", name, "dataset")
    if not isinstance(body, dict):
        raise ConfigError(file, source, name, "expected a mapping")
    fmt = _require(file, source, body, "format")
    if fmt not in FORMATS:
        raise ConfigError(file, source, "format", f"unknown format `{fmt}`; expected one of "
                          + ", ".join(FORMATS))
    columns = []
    declared = _require(file, source, body, "columns")
    if not isinstance(declared, dict):
        raise ConfigError(file, source, "columns", "expected a mapping of canonical column names")
    for col_name, col in declared.items():
        check_identifier(file, source, f"columns.{col_name}", col_name, "column")
        col = col or {}
        if not isinstance(col, dict) or set(col) - COLUMN_KEYS:
            unknown = sorted(set(col) - COLUMN_KEYS) if isinstance(col, dict) else col
            raise ConfigError(file, source, f"columns.{col_name}", f"unknown keys {unknown}; expected "
                              f"{', '.join(sorted(COLUMN_KEYS))} (quote text that holds commas)")
        col_type = col.get("type", "varchar")
        if col_type not in TYPES:
            raise ConfigError(file, source, f"columns.{col_name}.type",
                              f"unknown type `{col_type}`; expected one of " + ", ".join(TYPES))
        unit = col.get("unit")
        if unit is not None and unit not in CONVERSIONS:
            raise ConfigError(file, source, f"columns.{col_name}.unit",
                              f"unknown unit `{unit}`; known units: " + ", ".join(known_units()))
        if unit is not None and col_type != "double":
            raise ConfigError(file, source, f"columns.{col_name}.unit",
                              "only `double` columns can carry a unit to convert")
        derive, problem = read_derivation(col, set(declared) - {col_name})
        if problem:
            raise ConfigError(file, source, f"columns.{col_name}", problem)
        if derive is not None and derive.kind == "expr" and unit is not None:
            raise ConfigError(file, source, f"columns.{col_name}.unit", "an `expr` column is computed "
                              "from canonical columns, so it takes no `unit`; remove it")
        source_field = derive.describe() if derive else str(col.get("from", col_name))
        columns.append(ColumnSpec(name=col_name, source_field=source_field, type=col_type, unit=unit,
                                  description=col.get("description", ""), derive=derive))
    for column in columns:
        kind = column.derive.kind if column.derive else None
        if (kind in ("from_filename", "from_title") and fmt == "json_api") or \
                (kind == "from_sheet" and fmt != "xlsx"):
            raise ConfigError(file, source, f"columns.{column.name}.{kind}", f"a `{fmt}` dataset "
                              f"has no {'sheet' if kind == 'from_sheet' else 'file name or title'} to "
                              "take it from; use `from:` or `value:`")
    names = {c.name for c in columns}
    partitions = _partitions(file, source, body, fmt, columns)
    if partitions is not None:
        columns.append(ColumnSpec(partitions.column, f"(the file's {partitions.day_key})", "date",
                                  description="Day of the file the row was published in"))
        names.add(partitions.column)
    primary_key = tuple(_require(file, source, body, "primary_key"))
    for key in primary_key:
        if key not in names:
            raise ConfigError(file, source, "primary_key", f"`{key}` is not one of the columns")
    page = _options(file, source, body, "pagination", PaginationSpec)
    if page.get("type", "page_number") not in ("page_number", "cursor"):
        raise ConfigError(file, source, "pagination.type", f"unknown pagination `{page['type']}`; "
                          "expected page_number or cursor")
    if bool(page.get("incremental_param")) != bool(page.get("incremental_field")):
        raise ConfigError(file, source, "pagination.incremental_param",
                          "incremental feeds need both incremental_param and incremental_field")
    tabular = _options(file, source, body, "tabular", TabularSpec)
    if fmt in ("csv", "xlsx") and partitions is None and "tabular" not in body:
        raise ConfigError(file, source, "tabular", f"a `{fmt}` dataset needs `tabular:` "
                          "(header_rows, and encoding for csv)")
    tabular = {k: tuple(v) if isinstance(v, list) else v for k, v in tabular.items()}
    if tabular.get("encoding", "auto") not in ENCODINGS:
        raise ConfigError(file, source, "tabular.encoding", f"unknown encoding "
                          f"`{tabular['encoding']}`; expected one of " + ", ".join(ENCODINGS))
    if not all(isinstance(r, int) and r >= 1 for r in tabular.get("header_rows", (1,))):
        raise ConfigError(file, source, "tabular.header_rows", "expected 1-based row numbers, e.g. [2, 3]")
    path = str(_require(file, source, body, "path"))
    check_url_path(file, source, path)
    landing_pattern = str(body.get("landing_pattern", "*"))
    check_landing_pattern(file, source, landing_pattern)
    if body.get("table") is not None:
        check_identifier(file, source, "table", body["table"], "table")
    period_year, period_month = _period(file, source, body, names)
    lag = body.get("publication_lag_days")
    return DatasetSpec(
        name=name, department=department, format=fmt, path=path,
        primary_key=primary_key, columns=tuple(columns), description=body.get("description", ""),
        pagination=PaginationSpec(**page), tabular=TabularSpec(**tabular),
        landing_env=body.get("landing_env"), landing_pattern=landing_pattern,
        table=body.get("table"), period_year=period_year, period_month=period_month,
        publication_lag_days=None if lag is None else _lag_days(file, source, lag),
        partitions=partitions,
    )


def _partitions(file: str, source: str, body: dict, fmt: str, columns: list[ColumnSpec]
                ) -> PartitionSpec | None:
    """`partitions:`, and what a natively read dataset may not use (it never passes pandas)."""
    native_only = [c.name for c in columns if c.type == "timestamp"]
    if "partitions" not in body:
        if fmt == "parquet" or native_only:
            what = "`format: parquet`" if fmt == "parquet" else f"type timestamp (`{native_only[0]}`)"
            raise ConfigError(file, source, "partitions", f"{what} is read natively, as day files: "
                              "add `partitions: {column: <day column>}` and point `path` at the "
                              "department's manifest of files")
        return None
    options = _options(file, source, body, "partitions", PartitionSpec)
    if "column" not in options:
        raise ConfigError(file, source, "partitions.column", "is required: the raw column that "
                          "holds each file's day, e.g. reading_date")
    check_identifier(file, source, "partitions.column", options["column"], "column")
    if fmt not in PARTITIONED_FORMATS:
        raise ConfigError(file, source, "format", f"`{fmt}` cannot be published as day files; "
                          "expected " + ", ".join(FILE_FORMATS) + " or json_api (one day's pages)")
    if any(c.name == options["column"] for c in columns):
        raise ConfigError(file, source, f"columns.{options['column']}", "is the partition column: "
                          "it is filled with each file's day, so do not declare it under columns")
    for column in columns:
        if column.derive is not None:
            raise ConfigError(file, source, f"columns.{column.name}", "day files are read "
                              "natively, column by column: use `from:` (derived columns are not "
                              "supported there yet)")
    provisional = options.pop("provisional", False)
    if not isinstance(provisional, bool):
        raise ConfigError(file, source, "partitions.provisional", f"`{provisional}` is not true or "
                          "false; true marks a partial source (the day so far), which never "
                          "replaces a day its complete day file holds")
    return PartitionSpec(**{k: str(v) for k, v in options.items()}, provisional=provisional)


def _options(file: str, source: str, body: dict, key: str, kind: type) -> dict:
    options = body.get(key) or {}
    if not isinstance(options, dict):
        raise ConfigError(file, source, key, "expected a mapping")
    unknown = set(options) - set(kind.__dataclass_fields__)
    if unknown:
        raise ConfigError(file, source, key, f"unknown keys {sorted(unknown)}; expected "
                          + ", ".join(kind.__dataclass_fields__))
    return options


def load_city(path: Path) -> dict:
    """The city's facts (`city.yml`: name, counties, ...) that suites refer to as `$name`."""
    try:
        doc = yamlio.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(str(path), None, "-", "city file not found; every city folder needs "
                          "a city.yml with at least `name` and `counties`") from None
    except yaml.YAMLError as exc:
        raise ConfigError(str(path), None, "-", f"not valid YAML: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("counties"), list):
        raise ConfigError(str(path), None, "counties", "expected a list of county names")
    code = doc.get("code")
    if code is not None:
        # a lake names the city's namespace after it (warehouse/lake.city_namespace): digits only
        if isinstance(code, bool) or not CITY_CODE.fullmatch(str(code)):
            raise ConfigError(str(path), None, "code", f"`{code}` is not a six-digit administrative "
                              "division code; write it quoted, e.g. code: \"510700\" (Mianyang)")
        doc["code"] = str(code)
    return doc
