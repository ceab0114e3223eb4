"""Deployments of every flow, at the cadence each department publishes, and the status backfill.

One list (`build_deployments`) feeds both ways of running on a schedule: `prefect.yaml` for
`prefect --no-prompt deploy --all` to a process work pool (`render_prefect_yaml` writes it), and
`serve_all()` (`carbonpeak serve`), which serves the same deployments from one process. Both need
a real `prefect server start`: the temporary server Prefect starts on its own has no scheduler.

Each department is a deployment of the one `ingest` flow (flows/ingest.py) with its name as the
parameter, named `<city>-<department>`: nothing here or in flows/ names a department of a city.
"""

from __future__ import annotations

import json
import os
import textwrap
from dataclasses import dataclass

from prefect import Flow

from connectors.spec import load_sources
from core.errors import CarbonpeakError
from flows.settings import PREFECT_DEFAULTS, PROJECT_ROOT, Settings
from publishing.clock import CITY_TIMEZONE

TIMEZONE = CITY_TIMEZONE.key  # "Asia/Shanghai": departments publish on Beijing time; a plain cron means UTC
WORK_POOL = "carbonpeak"
# cadence in sources.yml -> (cron, when, why). 06:00: before the working day, after overnight exports.
CADENCE_CRONS = {
    "daily": ("0 6 * * *", "06:00 every day", "yesterday's figures, every morning"),
    "monthly": ("0 6 3,12 * *", "06:00 on the 3rd and the 12th of each month",
                "a month's figures come out between the 1st (power) and the 10th (industry) of the "
                "next month: the 3rd catches the early ones, the 12th the late ones; a second run "
                "costs a 304 for what is already in"),
    "quarterly": ("0 6 20 1,4,7,10 *", "06:00 on 20 January, April, July and October",
                  "a quarter's figures come out about three weeks after it ends"),
    "yearly": ("0 6 15 3-6 *", "06:00 on the 15th of March, April, May and June",
               "last year's figures come out between February (public institutions) and spring "
               "(energy balance; forestry survey around 12 March): a run each month from March to "
               "June catches each release within a month"),
}
BUILD_CRON = ("0 7 * * *", "build the models and the analysts' snapshot at 07:00 every day, an hour "
              "after the ingests (which run one at a time), with whatever came in, by schedule or by hand")
EVALUATE_CRON = ("30 7 * * *", "log the status of every checkpoint of the plan at 07:30 every day, "
                 "after the build")
# a lake's own two, once per lake however many cities write it (`--province`)
PROVINCE_CRON = ("0 8 * * *", "read every city's namespace and write the province's at 08:00 every "
                 "day, an hour after the cities' 07:00 builds")
MAINTAIN_CRON = ("0 3 * * 0", "expire week-old snapshots, merge small files, delete replaced and "
                 "orphaned ones at 03:00 on Sundays, when no department's ingest is scheduled")


class ScheduleError(CarbonpeakError):
    """A schedule, deployment or backfill cannot be set up as asked."""


@dataclass(frozen=True)
class Deployment:
    flow_name: str
    name: str  # the city (config folder), so two cities can share one server
    entrypoint: str  # file:attribute, relative to the repository root
    cron: str | None  # None: on demand only (a Quick run in the UI, `prefect deployment run`)
    description: str
    tags: tuple[str, ...] = ()
    parameters: tuple[tuple[str, str], ...] = ()  # the flow's parameters, e.g. (("department", "energy"),)

    @property
    def attribute(self) -> str:
        return self.entrypoint.rsplit(":", 1)[1]


def build_deployments(settings: Settings | None = None) -> list[Deployment]:
    """One deployment per flow of the configured city.

    Each department's ingest at its cadence, the build and the evaluation daily, `run-all` and
    `backfill` on demand.
    """
    settings = settings or Settings.from_env()
    city = settings.config_dir.name
    deployments = []
    for department in load_sources(settings.sources_file).departments:
        cron, when, _ = CADENCE_CRONS[department.cadence]
        deployments.append(Deployment(
            "ingest", f"{city}-{department.name}", "flows/ingest.py:ingest",
            cron, f"{department.name_zh} publishes {department.cadence}: ingest at {when} "
            "(Asia/Shanghai)", (city, "ingest", department.cadence), (("department", department.name),)))
    return deployments + [
        Deployment("build-warehouse", city, "flows/build.py:build_warehouse", *BUILD_CRON,
                   (city, "daily")),
        Deployment("evaluate-kpis", city, "flows/evaluate.py:evaluate_kpis", *EVALUATE_CRON,
                   (city, "daily")),
        Deployment("run-all", city, "flows/run_all.py:run_all", None,
                   "the whole pipeline (every ingest, build, evaluate), on demand", (city, "on-demand")),
        Deployment("backfill", city, "flows/backfill.py:backfill", None,
                   "the status of every checkpoint as of each year from from_year to to_year, "
                   "on demand", (city, "on-demand")),
    ]


def province_deployments(settings: Settings | None = None) -> list[Deployment]:
    """The lake's own deployments: the province's roll-up daily and the lake's upkeep weekly.

    One set per lake (not per city: every city's deployments would repeat them); a DuckDB file
    has neither, so asking for them there is refused in one line.
    """
    from warehouse.lake import require_lake

    settings = settings or Settings.from_env()
    require_lake(settings.warehouse, "the province and the lake's upkeep", ScheduleError)
    return [
        Deployment("build-province", "province", "flows/province.py:build_province_flow", *PROVINCE_CRON,
                   ("province", "daily")),
        Deployment("maintain-lake", "lake", "flows/maintenance.py:maintain_lake", *MAINTAIN_CRON,
                   ("lake", "weekly")),
    ]


def chosen_deployments(settings: Settings, province: bool) -> list[Deployment]:
    return province_deployments(settings) if province else build_deployments(settings)


def load_flow(deployment: Deployment) -> Flow:
    """The flow object a deployment's entry point names (as a worker loads it)."""
    import importlib

    file, attribute = deployment.entrypoint.split(":")
    return getattr(importlib.import_module(file.removesuffix(".py").replace("/", ".")), attribute)


# --- prefect.yaml ---------------------------------------------------------------------------------
def _config_path(path) -> str:
    path = path.resolve()
    return str(path.relative_to(PROJECT_ROOT)) if path.is_relative_to(PROJECT_ROOT) else str(path)


def render_prefect_yaml(settings: Settings | None = None, province: bool = False) -> str:
    """`prefect.yaml` for the configured city (or the lake's own), from the list `serve_all()` serves."""
    settings = settings or Settings.from_env()
    config_dir = _config_path(settings.config_dir)
    # what a worker's run reads: the city's folder; or the province's file and the lake itself,
    # which rendering has checked (a worker left on the default DuckDB file would fail every day)
    env = ([("CARBONPEAK_PROVINCE_FILE", _config_path(settings.province_file)),
            ("CARBONPEAK_WAREHOUSE", _config_path(settings.warehouse))] if province
           else [("CARBONPEAK_CONFIG_DIR", config_dir)]) + list(PREFECT_DEFAULTS.items())
    q = json.dumps  # a JSON string is a YAML string

    def comment(text: str, first: str = "# ", rest: str = "# ") -> list[str]:
        return textwrap.wrap(text, 100, initial_indent=first, subsequent_indent=rest)

    if province:
        lines = comment(
            f"The lake's own deployments (the province of {env[0][1]}, the lake's upkeep), generated "
            "by flows/deployments.py (`carbonpeak schedules --province --write-yaml PATH`): deploy "
            "them once per lake, beside each city's, from the repository root:")
        lines += ["#   prefect --no-prompt deploy --all --prefect-file PATH"]
    else:
        lines = comment(
            f"Deployments of carbonpeak's flows for {config_dir}, generated from its sources.yml by "
            "flows/deployments.py (`carbonpeak schedules --write-yaml prefect.yaml`): change a cadence "
            "there, not here. tests/flows/test_schedules.py fails when this file and that list disagree.")
        lines += ["#",
                  "# When each department's ingest runs (Asia/Shanghai), by the cadence it publishes at:"]
        for cadence, (cron, _, why) in CADENCE_CRONS.items():
            lines += comment(f"{cadence}, {cron!r}: {why}.", "#   - ", "#     ")
        lines += [
            "#",
            "# docs/prefect.md says how to run them; in short, from the repository root:",
            "#   prefect server start                              # not the temporary one: no scheduler",
            f"#   prefect work-pool create {WORK_POOL} --type process",
            "#   prefect --no-prompt deploy --all",
            f"#   prefect worker start --pool {WORK_POOL} --limit 1  # DuckDB takes one writer at a time",
            "# No pull step: `prefect deploy` records the directory it runs in as the flows' working",
            "# directory, so run it from the repository root on the worker's machine."]
    lines += [
        "name: carbonpeak",
        "prefect-version: 3.8.8",
        "",
        "deployments:",
    ]
    for d in chosen_deployments(settings, province):
        lines += [f"  - name: {d.name}  # flow {d.flow_name}",
                  f"    entrypoint: {d.entrypoint}",
                  f"    description: {q(d.description, ensure_ascii=False)}",
                  f"    tags: [{', '.join(d.tags)}]"]
        if d.parameters:
            lines += ["    parameters: {" + ", ".join(f"{k}: {q(v)}" for k, v in d.parameters) + "}"]
        lines += (["    schedules:", f"      - cron: {q(d.cron)}", f"        timezone: {TIMEZONE}"]
                  if d.cron else ["    schedules: []"])
        lines += ["    work_pool:",
                  f"      name: {WORK_POOL}",
                  "      job_variables: {env: {" + ", ".join(f"{k}: {q(v)}" for k, v in env) + "}}",
                  ""]
    return "\n".join(lines).rstrip() + "\n"


# --- serve ------------------------------------------------------------------------------------------
def runner_deployments(settings: Settings | None = None, province: bool = False) -> list:
    """The same deployments as `prefect.yaml`, as `RunnerDeployment`s for `prefect.serve`."""
    from prefect.schedules import Cron

    settings = settings or Settings.from_env()
    built = []
    for d in chosen_deployments(settings, province):
        runner = load_flow(d).to_deployment(
            d.name, schedules=[Cron(d.cron, timezone=TIMEZONE)] if d.cron else [],
            tags=list(d.tags), description=d.description, parameters=dict(d.parameters))
        # like Prefect's own guess, relative to here
        file, attribute = d.entrypoint.split(":")
        runner.entrypoint = f"{os.path.relpath(PROJECT_ROOT / file)}:{attribute}"
        built.append(runner)
    return built


def serve_all(limit: int = 1, province: bool = False) -> None:
    """Serve every deployment (or the lake's own) from this process until Ctrl-C (needs a real server).

    At most `limit` runs at a time: the default 1 because DuckDB takes one writer.
    """
    from prefect import serve
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        raise ScheduleError("`PREFECT_API_URL` is not set, so Prefect would use its temporary server, "
                            "which never schedules a run: start `prefect server start` and export "
                            "PREFECT_API_URL=http://127.0.0.1:4200/api")
    serve(*runner_deployments(province=province), limit=limit)
