"""`carbonpeak`: run the pipeline, read KPI status, query the warehouse, serve the demo source.

Domain errors end as one line on stderr and exit code 1 (2 for usage errors), never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

from flows.settings import Settings, landing_folder, prefect_defaults
from publishing.clock import city_time
from publishing.status_words import STATUS_ZH


def _reads_warehouse(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--warehouse", metavar="PATH",
                        help="read this DuckDB file instead of the analyst snapshot "
                             "(default: data/analyst/warehouse.duckdb, which never blocks a run)")


def read_path(args: argparse.Namespace, settings: Settings | None = None) -> Path:
    """What read commands open: `--warehouse`, else the analyst snapshot.

    The snapshot never holds the writer's file while a run needs it; before the first build has
    published one, read commands open the warehouse itself.
    """
    settings = settings or Settings.from_env()
    if getattr(args, "warehouse", None):
        return Path(args.warehouse)
    return settings.snapshot if settings.snapshot.exists() else settings.warehouse


def _epilog(*examples: str) -> str:
    return "Examples:\n" + "\n".join(f"  {e}" for e in examples)


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="carbonpeak", formatter_class=fmt,
        description="Is the city on track for its carbon-peak plan? Ingest departmental data, "
                    "validate it, build the DuckDB warehouse and report every KPI of the plan.",
        epilog=_epilog("carbonpeak run", "carbonpeak kpi status",
                       'carbonpeak sql "select * from kpi.kpi_status"') +
        "\n\nEnvironment: CARBONPEAK_WAREHOUSE (default data/warehouse.duckdb), "
        "CARBONPEAK_CONFIG_DIR (default config/mianyang); see .env.example.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("run", formatter_class=fmt, help="ingest every department, build, evaluate",
                       description="Run the whole pipeline (Prefect flow `run-all`): ingest every "
                       "department, validate with Great Expectations, load the warehouse, build "
                       "the SQL models and print the KPI status table. When a department's URL "
                       "variable (e.g. CARBONPEAK_ENERGY_URL) is unset, the embedded demo source "
                       "server is started on 127.0.0.1 for the run.",
                       epilog=_epilog("carbonpeak run",
                                      "CARBONPEAK_WAREHOUSE=/tmp/w.duckdb carbonpeak run"))
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("ingest", formatter_class=fmt, help="ingest one department",
                       description="Run one department's ingest flow (e.g. `ingest-energy`). Its "
                       "URL and token variables must be set, or use `--embedded`.",
                       epilog=_epilog("carbonpeak ingest energy --embedded",
                                      "CARBONPEAK_ENERGY_URL=http://10.0.0.5:8080 "
                                      "CARBONPEAK_ENERGY_TOKEN=... carbonpeak ingest energy"))
    p.add_argument("department", help="department name from sources.yml, e.g. energy")
    p.add_argument("--embedded", action="store_true",
                   help="start the embedded demo source for departments with no URL set")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("build", formatter_class=fmt, help="build the SQL models",
                       description="Load the KPI catalogue and build the models of dbt_like_sql/ "
                       "in dependency order (Prefect flow `build-warehouse`).",
                       epilog=_epilog("carbonpeak build", "carbonpeak build --select stg_energy__gdp+"))
    p.add_argument("--select", help="`model` builds just it; `model+` builds it and its children")
    p.set_defaults(func=cmd_build)

    kpi = sub.add_parser("kpi", formatter_class=fmt, help="read KPI results",
                         description="Read KPI results from the warehouse (read-only).",
                         epilog=_epilog("carbonpeak kpi status"))
    kpi_sub = kpi.add_subparsers(dest="kpi_command", metavar="KPI_COMMAND")
    p = kpi_sub.add_parser("status", formatter_class=fmt, help="one line per KPI checkpoint",
                           description="Print kpi.kpi_status: every checkpoint of the plan with "
                           "its latest value, status and reason.",
                           epilog=_epilog("carbonpeak kpi status",
                                          "carbonpeak kpi status --status off_track",
                                          "carbonpeak kpi status --kpi clean_power_capacity"))
    p.add_argument("--kpi", help="only this KPI id")
    p.add_argument("--status", help="only checkpoints with this status")
    p.add_argument("--all", action="store_true", help="also list KPIs with no data yet")
    _reads_warehouse(p)
    p.set_defaults(func=cmd_kpi_status)
    kpi.set_defaults(func=lambda args: _usage(kpi))

    p = sub.add_parser("sql", formatter_class=fmt, help="run a read-only SQL query",
                       description="Run one SQL query on the warehouse, opened read-only, and "
                       "print the result. Schemas: raw, staging, marts, kpi, meta, config.",
                       epilog=_epilog('carbonpeak sql "select * from kpi.kpi_status"',
                                      'carbonpeak sql "select * from meta.load_log" --csv'))
    p.add_argument("query", help="the SQL query")
    p.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    _reads_warehouse(p)
    p.set_defaults(func=cmd_sql)

    quarantine = sub.add_parser(
        "quarantine", formatter_class=fmt, help="rows the quality gate set aside",
        description="Rows that failed parsing or an error-level expectation are kept in "
        "meta.quarantine with their source, row, failed check and the values as received. List "
        "them; after a fix (a corrected column map or unit in sources.yml, a relaxed bound in "
        "expectations/<dataset>.json) replay them: what now passes is loaded, once.",
        epilog=_epilog("carbonpeak quarantine list", "carbonpeak quarantine list --dataset "
                       "energy__power_capacity", "carbonpeak quarantine replay"))
    q_sub = quarantine.add_subparsers(dest="quarantine_command", metavar="QUARANTINE_COMMAND")
    p = q_sub.add_parser("list", formatter_class=fmt, help="show quarantined rows",
                         description="Show quarantined rows still waiting for a replay (read-only).",
                         epilog=_epilog("carbonpeak quarantine list --dataset transport__vehicles",
                                        "carbonpeak quarantine list --all --limit 0"))
    p.add_argument("--dataset", help="only this raw table, e.g. energy__power_capacity")
    p.add_argument("--all", action="store_true", help="also rows already replayed and loaded")
    p.add_argument("--limit", type=int, default=50, help="rows to show (0 = all; default 50)")
    _reads_warehouse(p)
    p.set_defaults(func=cmd_quarantine_list)
    p = q_sub.add_parser("replay", formatter_class=fmt, help="re-validate and load what now passes",
                         description="Parse every waiting row again from the values the department "
                         "published, with today's sources.yml and suites, validate it with the "
                         "data it joins, load it if it passes and rebuild the models (Prefect "
                         "flow `replay-quarantine`). Rows that still fail stay, with their new "
                         "reason. A second replay finds nothing to do.",
                         epilog=_epilog("carbonpeak quarantine replay",
                                        "carbonpeak quarantine replay --dataset energy__power_capacity"))
    p.add_argument("--dataset", help="only this raw table")
    p.set_defaults(func=cmd_quarantine_replay)
    quarantine.set_defaults(func=lambda args: _usage(quarantine))

    alerts = sub.add_parser("alerts", formatter_class=fmt, help="alerts sent to officials",
                            description="Alerts go out at the end of `carbonpeak run` (channels in "
                            "config/<city>/alerts.yml); every attempt is kept in meta.alerts.",
                            epilog=_epilog("carbonpeak alerts list", "carbonpeak alerts list --limit 5"))
    alerts_sub = alerts.add_subparsers(dest="alerts_command", metavar="ALERTS_COMMAND")
    p = alerts_sub.add_parser("list", formatter_class=fmt, help="the latest alert attempts",
                              description="The latest alert attempts, newest first (read-only).",
                              epilog=_epilog("carbonpeak alerts list --limit 20"))
    p.add_argument("--limit", type=int, default=20, help="attempts to show (default 20)")
    _reads_warehouse(p)
    p.set_defaults(func=cmd_alerts_list)
    alerts.set_defaults(func=lambda args: _usage(alerts))

    quality = sub.add_parser("quality", formatter_class=fmt, help="data-quality reports",
                             description="Reports on the data-quality gate.",
                             epilog=_epilog("carbonpeak quality docs"))
    quality_sub = quality.add_subparsers(dest="quality_command", metavar="QUALITY_COMMAND")
    p = quality_sub.add_parser("docs", formatter_class=fmt, help="build GX Data Docs (offline)",
                               description="Build Great Expectations' Data Docs for every suite "
                               "and the latest validation of each dataset, as a static site that "
                               "opens with no network (the JS/CSS are installed by bootstrap.sh).",
                               epilog=_epilog("carbonpeak quality docs",
                                              "carbonpeak quality docs --out /tmp/gx-docs"))
    p.add_argument("--out", default="data/docs/quality",
                   help="folder of the site (default data/docs/quality)")
    p.set_defaults(func=cmd_quality_docs)
    quality.set_defaults(func=lambda args: _usage(quality))

    p = sub.add_parser("docs", formatter_class=fmt, help="write the data dictionary (offline HTML)",
                       description="Write the data dictionary of the warehouse (opened read-only) as "
                       "static HTML that opens with no network: every table and view by schema with "
                       "its description, columns, types, units and row count; and for every KPI of "
                       "the plan its clause, checkpoints and status, and the models and raw sources "
                       "(department, dataset, URL) it is computed from.",
                       epilog=_epilog("carbonpeak docs",
                                      "carbonpeak docs --out /tmp/dictionary && "
                                      "chromium /tmp/dictionary/kpi/forest_coverage.html"))
    p.add_argument("--out", default="data/docs/dictionary",
                   help="folder of the site (default data/docs/dictionary)")
    _reads_warehouse(p)
    p.set_defaults(func=cmd_docs)

    p = sub.add_parser("report", formatter_class=fmt,
                       help="write the KPI report (one offline HTML file)",
                       description="Write one self-contained HTML file: every checkpoint's status "
                       "and, per KPI, a chart of actuals, the required path and the targets, in "
                       "Chinese and English. It loads nothing from the network (read-only on the "
                       "warehouse).",
                       epilog=_epilog("carbonpeak report",
                                      "carbonpeak report --out /tmp/kpi-report.html"))
    p.add_argument("--out", help="the HTML file to write (default: report.html beside the warehouse)")
    _reads_warehouse(p)
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("serve", formatter_class=fmt, help="run every deployment on its schedule",
                       description="Serve a deployment of every flow from this process until Ctrl-C: "
                       "each department's ingest at the cadence it publishes (sources.yml), the build "
                       "and the evaluation daily, one run at a time (DuckDB takes one writer). Needs a "
                       "real server: `prefect server start` and PREFECT_API_URL (docs/prefect.md).",
                       epilog=_epilog("PREFECT_API_URL=http://127.0.0.1:4200/api carbonpeak serve"))
    p.add_argument("--limit", type=int, default=1, help="flow runs at a time (default 1)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("schedules", formatter_class=fmt, help="list the deployments and their schedules",
                       description="List the deployment of every flow with its cron (Asia/Shanghai), "
                       "made from the configured city's sources.yml. --write-yaml writes them as a "
                       "prefect.yaml for `prefect --no-prompt deploy --all`.",
                       epilog=_epilog("carbonpeak schedules",
                                      "carbonpeak schedules --write-yaml prefect.yaml"))
    p.add_argument("--write-yaml", metavar="PATH", help="write the deployments as a prefect.yaml")
    p.set_defaults(func=cmd_schedules)

    p = sub.add_parser("backfill", formatter_class=fmt, help="the KPI status as of each year of a range",
                       description="Re-run the status evaluation for each year of a range (Prefect flow "
                       "`backfill`, one child run per year): the status of every checkpoint computed "
                       "from the figures up to that year, by today's rules. Reads the warehouse only.",
                       epilog=_epilog("carbonpeak backfill --from 2015 --to 2024"))
    p.add_argument("--from", dest="from_year", type=int, required=True, help="first year")
    p.add_argument("--to", dest="to_year", type=int, required=True, help="last year")
    p.set_defaults(func=cmd_backfill)

    source = sub.add_parser("source", formatter_class=fmt, help="the embedded departmental source",
                            description="The departmental-source server shipped with carbonpeak "
                            "(token-protected, paginated JSON on 127.0.0.1).",
                            epilog=_epilog("carbonpeak source serve --port 8765"))
    source_sub = source.add_subparsers(dest="source_command", metavar="SOURCE_COMMAND")
    p = source_sub.add_parser("serve", formatter_class=fmt, help="serve until Ctrl-C",
                              description="Serve the demo departments in the foreground and print "
                              "the variables that point carbonpeak at it.",
                              epilog=_epilog("carbonpeak source serve --port 8765 --token secret"))
    p.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765)")
    p.add_argument("--token", help="bearer token (default: a random one, printed)")
    p.set_defaults(func=cmd_source_serve)
    p = source_sub.add_parser("export", formatter_class=fmt, help="write the demo data as static files",
                              description="Write every demo dataset as files at the paths the "
                              "embedded server uses, so any static web server can stand in for it.",
                              epilog=_epilog("carbonpeak source export /tmp/departments && "
                                             "python -m http.server 8000 -d /tmp/departments"))
    p.add_argument("folder", help="folder to write into (created if missing)")
    p.set_defaults(func=cmd_source_export)
    source.set_defaults(func=lambda args: _usage(source))
    return parser


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


# --- commands ---------------------------------------------------------------------------------
def _served_by_embedded(only: list[str] | None = None) -> list:
    """The departments the embedded demo source stands in for: no URL set, not landing-only.

    A department whose every dataset arrives in a landing folder needs no server: a city that
    only e-mails files runs on its own data, judged on today's date, never on the demo's.
    """
    from connectors.spec import load_sources

    config = load_sources(Settings.from_env().sources_file)
    return [d for d in config.departments if (only is None or d.name in only)
            and not os.environ.get(d.url_env) and not all(landing_folder(ds) for ds in d.datasets)]


def judge_demo_on_its_date() -> None:
    """A build of the embedded demo's data judges its age on the day it stands for, as its run did.

    Otherwise `carbonpeak build` after `carbonpeak run` would find every monthly series late.
    """
    if _served_by_embedded():
        from source_server import SNAPSHOT_DATE

        os.environ.setdefault("CARBONPEAK_AS_OF", SNAPSHOT_DATE.isoformat())


@contextlib.contextmanager
def embedded_sources(only: list[str] | None = None) -> Iterator[list[str]]:
    """Start the embedded source for every department whose URL variable is unset."""
    from source_server.server import SourceServer

    missing = _served_by_embedded(only)
    if not missing:
        yield []
        return
    from source_server import SNAPSHOT_DATE

    server = SourceServer().start()
    saved = {k: os.environ.get(k) for d in missing
             for k in (d.url_env, d.token_env, "CARBONPEAK_AS_OF")}
    for dept in missing:
        os.environ[dept.url_env] = server.url
        os.environ[dept.token_env] = server.token
    # The embedded data is a snapshot: judge its freshness on the day it stands for.
    os.environ.setdefault("CARBONPEAK_AS_OF", SNAPSHOT_DATE.isoformat())
    print(f"embedded departmental source on {server.url} (data as of "
          f"{os.environ['CARBONPEAK_AS_OF']}) for: " + ", ".join(d.name for d in missing),
          file=sys.stderr)
    try:
        yield [d.name for d in missing]
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def fast_prefect() -> Iterator[None]:
    """No per-run heartbeat thread: it costs ~1 s per flow run and only serves remote workers."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def _finish(state, what: str) -> int:
    if state.is_failed():
        print(f"carbonpeak: {what} failed: {state.message}", file=sys.stderr)
        return 1
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from flows.pipeline import run_all

    with embedded_sources(), fast_prefect():
        state = run_all(return_state=True)
    settings = Settings.from_env()
    if settings.warehouse.exists():
        print(render_kpi_status(settings.warehouse))
    return _finish(state, "run")


def cmd_ingest(args: argparse.Namespace) -> int:
    from connectors.spec import load_sources
    from flows.pipeline import ingest_flow

    config = load_sources(Settings.from_env().sources_file)
    names = [d.name for d in config.departments]
    if args.department not in names:
        raise UsageError(f"unknown department `{args.department}`; known: {', '.join(names)}")
    sources = embedded_sources([args.department]) if args.embedded else contextlib.nullcontext()
    with sources, fast_prefect():
        state = ingest_flow(config.department(args.department))(return_state=True)
    if not state.is_failed():
        for r in state.result():
            print(f"{r.dataset}: {r.status}, {r.rows_in} in = {r.rows_loaded} loaded + "
                  f"{r.rows_quarantined} quarantined + {r.rows_unchanged} unchanged + "
                  f"{r.rows_duplicate} duplicate + {r.rows_rejected} rejected"
                  + (f" ({r.detail})" if r.detail else ""))
    return _finish(state, f"ingest-{args.department}")


def cmd_build(args: argparse.Namespace) -> int:
    from flows.pipeline import build_warehouse

    judge_demo_on_its_date()
    with fast_prefect():
        state = build_warehouse(select=args.select, return_state=True)
    if not state.is_failed():
        print("\n".join(state.result()))
    return _finish(state, "build-warehouse")


def render_kpi_status(warehouse: Path, kpi: str | None = None, status: str | None = None,
                      show_all: bool = True) -> str:
    from flows.table import render
    from warehouse.db import connect
    from warehouse.kpi import read_kpi_status

    con = connect(warehouse, read_only=True)
    try:
        rows = read_kpi_status(con, kpi, status)
    finally:
        con.close()
    if kpi and not rows:
        raise UsageError(f"no checkpoint for KPI `{kpi}`; see `carbonpeak kpi status --all`")
    # checkpoints with data first, then those still waiting for their department
    rows.sort(key=lambda r: r["latest_year"] is None)
    hidden = 0 if show_all else sum(1 for r in rows if r["latest_year"] is None)
    if not show_all:
        rows = [r for r in rows if r["latest_year"] is not None]
    table = render(
        ["KPI 指标", "year", "target 目标", "latest 最新", "status 状态", "reason 原因"],
        [[f"{r['name_zh']} {r['name_en']}", r["checkpoint_year"],
          f"{r['qualifier']} {r['target_value']:g} {r['unit']}",
          f"{r['latest_value']:g} ({r['latest_year']})" if r["latest_value"] is not None else "–",
          f"{r['status']} {STATUS_ZH.get(r['status'], '')}", r["status_reason"]] for r in rows])
    summary = f"\n{len(rows)} checkpoint(s) shown"
    if hidden:
        summary += f"; {hidden} more have no data yet (insufficient_data): use --all to list them"
    return table + summary


def cmd_kpi_status(args: argparse.Namespace) -> int:
    print(render_kpi_status(read_path(args), args.kpi, args.status,
                            show_all=args.all or bool(args.kpi or args.status)))
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    import csv

    import duckdb

    from flows.table import render
    from warehouse.db import connect

    con = connect(read_path(args), read_only=True)
    try:
        cursor = con.execute(args.query)
        if cursor.description is None:
            return 0
        headers = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    except duckdb.Error as exc:
        raise UsageError(f"SQL error: {str(exc).splitlines()[0]}") from None
    finally:
        con.close()
    if args.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(headers)
        writer.writerows(rows)
    else:
        print(render(headers, [list(r) for r in rows]))
        print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return 0


def cmd_quarantine_list(args: argparse.Namespace) -> int:
    from flows.table import render
    from warehouse.db import connect
    from warehouse.quarantine import read_quarantine

    con = connect(read_path(args), read_only=True)
    try:
        rows = read_quarantine(con, args.dataset, include_replayed=args.all)
    finally:
        con.close()
    shown = rows if args.limit == 0 else rows[:args.limit]
    print(render(["dataset", "row", "key", "failed checks", "values as received", "status"],
                 [[r.dataset, r.row_number, r.row_key, _clip(r.failed_checks, 90),
                   _clip(json.dumps(r.raw_values, ensure_ascii=False), 70),
                   f"replayed {city_time(r.replayed_at)}" if r.replayed_at else "waiting"]
                  for r in shown]))
    more = f"; {len(rows) - len(shown)} more (use --limit 0)" if len(rows) > len(shown) else ""
    print(f"{len(rows)} row(s){more}. Full values: carbonpeak sql \"select * from meta.quarantine\"")
    return 0


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def cmd_alerts_list(args: argparse.Namespace) -> int:
    from alerts.state import read_alerts
    from flows.table import render
    from warehouse.db import connect

    con = connect(read_path(args), read_only=True)
    try:
        rows = read_alerts(con, args.limit)
    finally:
        con.close()
    print(render(["when", "kind", "subject", "status change", "channel", "outcome", "message"],
                 [[city_time(r["created_at"]), r["kind"], r["subject"],
                   f"{r['from_status'] or '–'} → {r['to_status'] or '–'}", r["channel"],
                   r["status"] + (f" ({_clip(r['error'], 40)})" if r["error"] else ""),
                   _clip(r["message_zh"] or "", 60)] for r in rows]))
    print(f"{len(rows)} attempt(s) shown. All of them: carbonpeak sql \"select * from meta.alerts\"")
    return 0


def cmd_quarantine_replay(args: argparse.Namespace) -> int:
    from flows.quarantine import replay_quarantine

    judge_demo_on_its_date()
    with fast_prefect():
        state = replay_quarantine(dataset=args.dataset, return_state=True)
    if not state.is_failed():
        results = state.result()
        for r in results:
            print(f"{r.dataset}: {r.replayed} replayed: {r.loaded} loaded, {r.unchanged} already "
                  f"there, {r.still_quarantined} still quarantined"
                  + (f"; batch refused: {r.rejected}" if r.rejected else ""))
        if not results:
            print("nothing waits in the quarantine")
    return _finish(state, "replay-quarantine")


def cmd_quality_docs(args: argparse.Namespace) -> int:
    from pathlib import Path

    from flows.quality_docs import build_quality_docs

    index = build_quality_docs(Settings.from_env(), Path(args.out))
    print(f"Data Docs written: {index} (opens offline in any browser)")
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    from pathlib import Path

    from connectors.spec import load_sources
    from publishing.dictionary import build_dictionary
    from warehouse.db import connect

    settings = Settings.from_env()
    sources = load_sources(settings.sources_file)
    con = connect(read_path(args, settings), read_only=True)
    try:
        site = build_dictionary(con, Path(args.out), settings.sql_dir, sources, settings.kpis_file)
    finally:
        con.close()
    print(f"data dictionary written: {site.index} ({site.pages} pages: {site.kpis} KPIs, "
          f"{site.relations} tables and views; opens offline in any browser)")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from publishing.report import write_report

    settings = Settings.from_env()
    out = Path(args.out) if args.out else settings.warehouse.parent / "report.html"
    write_report(read_path(args, settings), out, kpis_file=settings.kpis_file)
    print(f"KPI report written: {out} (one file, opens offline in any browser)")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from flows.deployments import serve_all

    serve_all(limit=args.limit)
    return 0


def cmd_schedules(args: argparse.Namespace) -> int:
    from pathlib import Path

    from flows.deployments import build_deployments, render_prefect_yaml
    from flows.table import render

    if args.write_yaml:
        Path(args.write_yaml).write_text(render_prefect_yaml(), encoding="utf-8")
        print(f"wrote {args.write_yaml}; deploy it from the repository root with "
              f"`prefect --no-prompt deploy --all --prefect-file {args.write_yaml}`")
        return 0
    print(render(["deployment", "cron (Asia/Shanghai)", "what"],
                 [[f"{d.flow_name}/{d.name}", d.cron or "on demand", d.description]
                  for d in build_deployments()]))
    return 0


def cmd_backfill(args: argparse.Namespace) -> int:
    from flows.deployments import HISTORY_LEGEND, backfill, status_history
    from flows.table import render

    with fast_prefect():
        state = backfill(from_year=args.from_year, to_year=args.to_year, return_state=True)
    if not state.is_failed():
        print(render(*status_history(state.result())))
        print(HISTORY_LEGEND)
    return _finish(state, "backfill")


def cmd_source_serve(args: argparse.Namespace) -> int:
    from connectors.spec import load_sources
    from source_server.server import SourceServer

    try:
        server = SourceServer(port=args.port, token=args.token)
    except OSError as exc:
        raise UsageError(f"cannot listen on 127.0.0.1:{args.port} ({exc.strerror}); "
                         "choose another --port") from None
    config = load_sources(Settings.from_env().sources_file)
    print(textwrap.dedent(f"""\
        Serving the demo departments on {server.url} (Ctrl-C to stop). Point carbonpeak at it:"""))
    for dept in config.departments:
        print(f"  export {dept.url_env}={server.url} {dept.token_env}={server.token}")
    sys.stdout.flush()
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


def cmd_source_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from source_server.server import export_static

    written = export_static(Path(args.folder))
    print(f"wrote {len(written)} files under {args.folder}")
    return 0


# --- entry point --------------------------------------------------------------------------------
class UsageError(Exception):
    """A mistake in how the command was called."""


class _NoDomainTracebacks(logging.Filter):
    """Drop the traceback from console records about carbonpeak's own errors.

    Prefect logs a failing task or flow with its traceback; for a `CarbonpeakError` the message
    already says what went wrong and what to do, so the console shows that line alone (the
    Prefect API, and so the UI, still gets the full record).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        from core.errors import CarbonpeakError

        if record.exc_info and isinstance(record.exc_info[1], CarbonpeakError):
            record.exc_info = None
            record.exc_text = None
        return True


def _quiet_console_tracebacks() -> None:
    from prefect.logging.configuration import setup_logging

    setup_logging()  # Prefect would do this at the first flow run; we need its handlers now
    for handler in logging.getLogger().handlers:
        handler.addFilter(_NoDomainTracebacks())


def _terminate_like_ctrl_c() -> None:
    """SIGTERM and SIGHUP unwind like Ctrl-C, so Prefect's exit hooks stop its temporary server.

    A plain SIGTERM ends Python without running `atexit`, and the server Prefect started for the
    run (a uvicorn child) lived on. SIGKILL cannot be caught: after `kill -9` that child stays
    until it is stopped by hand (it holds no lock on the warehouse).
    """
    import signal

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, interrupt)


def main(argv: list[str] | None = None) -> int:
    prefect_defaults()
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] | None = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    from core.errors import CarbonpeakError

    if args.command in ("run", "ingest", "build", "backfill", "quarantine"):
        _quiet_console_tracebacks()
        _terminate_like_ctrl_c()
    try:
        return func(args)
    except (CarbonpeakError, UsageError) as exc:
        print(f"carbonpeak: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("carbonpeak: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
