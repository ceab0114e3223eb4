"""`run`, `ingest`, `build`, `backfill`: the pipeline's flows from the command line."""

from __future__ import annotations

import argparse
import contextlib

from cli.common import UsageError, embedded_sources, epilog, fast_prefect, finish, judge_demo_on_its_date
from cli.read import render_kpi_status
from flows.settings import Settings


def add_parsers(sub: argparse._SubParsersAction, fmt: type) -> None:
    p = sub.add_parser("run", formatter_class=fmt, help="ingest every department, build, evaluate",
                       description="Run the whole pipeline (Prefect flow `run-all`): ingest every "
                       "department, validate with Great Expectations, load the warehouse, build "
                       "the SQL models and print the KPI status table. When a department's URL "
                       "variable (e.g. CARBONPEAK_ENERGY_URL) is unset, the embedded demo source "
                       "server is started on 127.0.0.1 for the run.",
                       epilog=epilog("carbonpeak run",
                                      "CARBONPEAK_WAREHOUSE=/tmp/w.duckdb carbonpeak run"))
    p.set_defaults(func=cmd_run, runs_flows=True)

    p = sub.add_parser("ingest", formatter_class=fmt, help="ingest one department",
                       description="Run the `ingest` flow for one department (the run is named e.g. "
                       "`ingest-energy`). Its URL and token variables must be set, or use `--embedded`.",
                       epilog=epilog("carbonpeak ingest energy --embedded",
                                      "CARBONPEAK_ENERGY_URL=http://10.0.0.5:8080 "
                                      "CARBONPEAK_ENERGY_TOKEN=... carbonpeak ingest energy"))
    p.add_argument("department", help="department name from sources.yml, e.g. energy")
    p.add_argument("--embedded", action="store_true",
                   help="start the embedded demo source for departments with no URL set")
    p.set_defaults(func=cmd_ingest, runs_flows=True)

    p = sub.add_parser("build", formatter_class=fmt, help="build the SQL models",
                       description="Load the KPI catalogue and build the models of dbt_like_sql/ "
                       "in dependency order (Prefect flow `build-warehouse`).",
                       epilog=epilog("carbonpeak build", "carbonpeak build --select stg_energy__gdp+",
                                     "carbonpeak build --full-refresh"))
    p.add_argument("--select", help="`model` builds just it; `model+` builds it and its children")
    p.add_argument("--full-refresh", action="store_true",
                   help="build incremental models (the meters' energy per day) whole again, as "
                   "`dbt build --full-refresh`; otherwise each build adds only the days loaded since")
    p.set_defaults(func=cmd_build, runs_flows=True)

    p = sub.add_parser("backfill", formatter_class=fmt, help="the KPI status as of each year of a range",
                       description="Re-run the status evaluation for each year of a range (Prefect flow "
                       "`backfill`, one child run per year): the status of every checkpoint computed "
                       "from the figures up to that year, by today's rules. Reads the warehouse only.",
                       epilog=epilog("carbonpeak backfill --from 2015 --to 2024"))
    p.add_argument("--from", dest="from_year", type=int, required=True, help="first year")
    p.add_argument("--to", dest="to_year", type=int, required=True, help="last year")
    p.set_defaults(func=cmd_backfill, runs_flows=True)
    p = sub.add_parser("dbt-project", formatter_class=fmt,
                       help="write dbt_like_sql/ with the generated KPI views, for dbt",
                       description="Write a copy of dbt_like_sql/ into FOLDER with the KPI views kpis.yml "
                       "declares (our runner generates them in memory) written as files, so "
                       "`dbt build --project-dir FOLDER` builds and tests exactly what `carbonpeak "
                       "build` does (dbt-core 1.11 with dbt-duckdb; profile: your warehouse).",
                       epilog=epilog("carbonpeak dbt-project build/dbt",
                                     "dbt build --project-dir build/dbt --profiles-dir ~/.dbt"))
    p.add_argument("folder", help="folder to write the project into (created if missing)")
    p.set_defaults(func=cmd_dbt_project)



def cmd_run(args: argparse.Namespace) -> int:
    from flows.run_all import run_all

    with embedded_sources(), fast_prefect():
        state = run_all(return_state=True)
    settings = Settings.from_env()
    if settings.warehouse.exists():
        print(render_kpi_status(settings.warehouse))
    return finish(state, "run")


def cmd_ingest(args: argparse.Namespace) -> int:
    from connectors.spec import load_sources
    from flows.ingest import ingest

    config = load_sources(Settings.from_env().sources_file)
    names = [d.name for d in config.departments]
    if args.department not in names:
        raise UsageError(f"unknown department `{args.department}`; known: {', '.join(names)}")
    sources = embedded_sources([args.department]) if args.embedded else contextlib.nullcontext()
    with sources, fast_prefect():
        state = ingest(args.department, return_state=True)
    if not state.is_failed():
        for r in state.result():
            print(f"{r.dataset}: {r.status}, {r.rows_in} in = {r.rows_loaded} loaded + "
                  f"{r.rows_quarantined} quarantined + {r.rows_unchanged} unchanged + "
                  f"{r.rows_duplicate} duplicate + {r.rows_rejected} rejected"
                  + (f" ({r.detail})" if r.detail else ""))
    return finish(state, f"ingest-{args.department}")


def cmd_build(args: argparse.Namespace) -> int:
    from flows.build import build_warehouse

    judge_demo_on_its_date()
    with fast_prefect():
        state = build_warehouse(select=args.select, full_refresh=args.full_refresh, return_state=True)
    if not state.is_failed():
        print("\n".join(state.result()))
    return finish(state, "build-warehouse")


def cmd_backfill(args: argparse.Namespace) -> int:
    from cli.table import render
    from flows.backfill import HISTORY_LEGEND, backfill, status_history

    with fast_prefect():
        state = backfill(from_year=args.from_year, to_year=args.to_year, return_state=True)
    if not state.is_failed():
        print(render(*status_history(state.result())))
        print(HISTORY_LEGEND)
    return finish(state, "backfill")


def cmd_dbt_project(args: argparse.Namespace) -> int:
    from pathlib import Path

    from flows.build import build_inputs
    from warehouse.kpi_views import export_dbt_project

    settings = Settings.from_env()
    folder = export_dbt_project(settings.sql_dir, build_inputs(settings).generated, Path(args.folder))
    print(f"dbt project written: {folder} (the KPI views of {settings.kpis_file} generated into it)")
    return 0
