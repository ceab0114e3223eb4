"""Settings, read once from `CARBONPEAK_*` environment variables (see `.env.example`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from connectors.spec import DatasetSpec, DepartmentSpec
from core.errors import ConfigError
from core.redact import Secret

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    warehouse: Path
    config_dir: Path
    sql_dir: Path
    as_of: dt.date | None = None  # the day freshness is judged on; None = today
    # The analysts' read-only copy, published after each build. None = `analyst/<same name>`
    # beside the warehouse (data/analyst/warehouse.duckdb), so moving the warehouse moves it too.
    snapshot: Path | None = None
    lock_wait_s: float = 60.0  # how long a run waits for another run to release the warehouse
    # the province on a lake (warehouse/province.py): its cities and the KPIs that add up
    province_file: Path = PROJECT_ROOT / "config" / "province.yml"

    def __post_init__(self) -> None:
        if self.snapshot is None:
            object.__setattr__(self, "snapshot", self.warehouse.parent / "analyst" / self.warehouse.name)

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            warehouse=Path(env.get("CARBONPEAK_WAREHOUSE") or "data/warehouse.duckdb"),
            config_dir=Path(env.get("CARBONPEAK_CONFIG_DIR") or PROJECT_ROOT / "config" / "mianyang"),
            sql_dir=PROJECT_ROOT / "dbt_like_sql",
            as_of=_date(env, "CARBONPEAK_AS_OF"),
            snapshot=Path(env["CARBONPEAK_SNAPSHOT"]) if env.get("CARBONPEAK_SNAPSHOT") else None,
            lock_wait_s=_seconds(env, "CARBONPEAK_LOCK_WAIT_S", 60.0),
            province_file=Path(env.get("CARBONPEAK_PROVINCE_FILE")
                               or PROJECT_ROOT / "config" / "province.yml"),
        )

    @property
    def sources_file(self) -> Path:
        return self.config_dir / "sources.yml"

    @property
    def kpis_file(self) -> Path:
        return self.config_dir / "kpis.yml"

    @property
    def city_file(self) -> Path:
        return self.config_dir / "city.yml"

    @property
    def city_code(self) -> str | None:
        """The city's administrative code (city.yml `code:`): its namespace on a lake."""
        from connectors.spec import load_city

        return load_city(self.city_file).get("code")

    def open_warehouse(self, read_only: bool = False, path: Path | None = None):
        """The warehouse (or `path`, e.g. the analysts' copy) as this city's: on a lake, its namespace."""
        from warehouse.db import connect
        from warehouse.lake import is_pointer

        path = self.warehouse if path is None else Path(path)
        return connect(path, read_only, city_code=self.city_code if is_pointer(path) else None)


def _date(env: os._Environ, name: str) -> dt.date | None:
    if not env.get(name):
        return None
    try:
        return dt.date.fromisoformat(env[name])
    except ValueError:
        raise ConfigError(name, "environment", name,
                          f"`{env[name]}` is not a date; use YYYY-MM-DD, e.g. 2026-03-01") from None


def _seconds(env: os._Environ, name: str, default: float) -> float:
    if not env.get(name):
        return default
    try:
        value = float(env[name])
    except ValueError:
        value = -1.0
    if value < 0:
        raise ConfigError(name, "environment", name, f"`{env[name]}` is not a number of seconds, e.g. 60")
    return value


def with_http_overrides(department: DepartmentSpec) -> DepartmentSpec:
    """The department's HTTP settings, with `CARBONPEAK_HTTP_*` overrides from the environment."""
    changes = {}
    for field, variable, cast in (("max_attempts", "CARBONPEAK_HTTP_MAX_ATTEMPTS", int),
                                  ("backoff_s", "CARBONPEAK_HTTP_BACKOFF_S", float),
                                  ("timeout_read_s", "CARBONPEAK_HTTP_READ_TIMEOUT_S", float)):
        if os.environ.get(variable):
            changes[field] = cast(os.environ[variable])
    return dataclasses.replace(department, **changes) if changes else department


def source_url(department: DepartmentSpec) -> str | None:
    return os.environ.get(department.url_env) or None


def source_token(department: DepartmentSpec) -> Secret | None:
    token = os.environ.get(department.token_env)
    return Secret(token) if token else None


def landing_folder(dataset: DatasetSpec) -> Path | None:
    """The folder a department drops this dataset's files in, when its variable is set."""
    value = os.environ.get(dataset.landing_env) if dataset.landing_env else None
    return Path(value) if value else None


def download_folder(dataset: DatasetSpec) -> Path:
    """Where day files are downloaded before DuckDB reads them (removed once loaded)."""
    return Settings.from_env().warehouse.parent / "downloads" / dataset.table_name


# Quiet, offline-safe Prefect settings, set before prefect is imported: by the CLI, by `serve`
# (its runs inherit them) and, through prefect.yaml's job variables, in every worker's run.
PREFECT_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",  # else the telemetry thread hits a locked DB
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",  # fresh DB on 2 cores: ~10 s
    "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
    # our libraries' lines (HTTP retries, skipped alert channels, refused batches) reach the
    # flow run's logs in the Prefect UI, not only the worker's stdout
    "PREFECT_LOGGING_EXTRA_LOGGERS": ",".join([
        "connectors", "expectations", "warehouse", "source_server", "flows", "publishing", "alerts", "core",
    ]),
    "GX_ANALYTICS_ENABLED": "false",
}


def prefect_defaults() -> None:
    """Apply PREFECT_DEFAULTS; call before importing prefect. User values win."""
    for key, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(key, value)
