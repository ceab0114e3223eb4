"""`kpi status`, `sql`, `alerts list`: read the warehouse (the analyst snapshot by default)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cli.common import UsageError, epilog, read_path, reads_warehouse, show_usage
from core.text import clip
from publishing.clock import city_time
from publishing.status_words import QUALIFIER_WORDS, STATUS_ZH


def add_parsers(sub: argparse._SubParsersAction, fmt: type) -> None:
    kpi = sub.add_parser("kpi", formatter_class=fmt, help="read KPI results",
                         description="Read KPI results from the warehouse (read-only).",
                         epilog=epilog("carbonpeak kpi status"))
    kpi_sub = kpi.add_subparsers(dest="kpi_command", metavar="KPI_COMMAND")
    p = kpi_sub.add_parser("status", formatter_class=fmt, help="one line per KPI checkpoint",
                           description="Print kpi.kpi_status: every checkpoint of the plan with "
                           "its latest value, status and reason.",
                           epilog=epilog("carbonpeak kpi status",
                                          "carbonpeak kpi status --status off_track",
                                          "carbonpeak kpi status --kpi clean_power_capacity"))
    p.add_argument("--kpi", help="only this KPI id")
    p.add_argument("--status", help="only checkpoints with this status")
    p.add_argument("--all", action="store_true", help="also list KPIs with no data yet")
    reads_warehouse(p)
    p.set_defaults(func=cmd_kpi_status)
    kpi.set_defaults(func=lambda args: show_usage(kpi))

    p = sub.add_parser("sql", formatter_class=fmt, help="run a read-only SQL query",
                       description="Run one SQL query on the warehouse, opened read-only, and "
                       "print the result. Schemas: raw, staging, marts, kpi, meta, config.",
                       epilog=epilog('carbonpeak sql "select * from kpi.kpi_status"',
                                      'carbonpeak sql "select * from meta.load_log" --csv'))
    p.add_argument("query", help="the SQL query")
    p.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    reads_warehouse(p)
    p.set_defaults(func=cmd_sql)

    alerts = sub.add_parser("alerts", formatter_class=fmt, help="alerts sent to officials",
                            description="Alerts go out at the end of `carbonpeak run` (channels in "
                            "config/<city>/alerts.yml); every attempt is kept in meta.alerts.",
                            epilog=epilog("carbonpeak alerts list", "carbonpeak alerts list --limit 5"))
    alerts_sub = alerts.add_subparsers(dest="alerts_command", metavar="ALERTS_COMMAND")
    p = alerts_sub.add_parser("list", formatter_class=fmt, help="the latest alert attempts",
                              description="The latest alert attempts, newest first (read-only).",
                              epilog=epilog("carbonpeak alerts list --limit 20"))
    p.add_argument("--limit", type=int, default=20, help="attempts to show (default 20)")
    reads_warehouse(p)
    p.set_defaults(func=cmd_alerts_list)
    alerts.set_defaults(func=lambda args: show_usage(alerts))



def render_kpi_status(warehouse: Path, kpi: str | None = None, status: str | None = None,
                      show_all: bool = True) -> str:
    from cli.table import render
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
          f"{QUALIFIER_WORDS.get(r['qualifier'], r['qualifier'])} {r['target_value']:g} {r['unit']}",
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

    from cli.table import render
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


def cmd_alerts_list(args: argparse.Namespace) -> int:
    from alerts.state import read_alerts
    from cli.table import render
    from warehouse.db import connect

    con = connect(read_path(args), read_only=True)
    try:
        rows = read_alerts(con, args.limit)
    finally:
        con.close()
    print(render(["when", "kind", "subject", "status change", "channel", "outcome", "message"],
                 [[city_time(r["created_at"]), r["kind"], r["subject"],
                   f"{r['from_status'] or '–'} → {r['to_status'] or '–'}", r["channel"],
                   r["status"] + (f" ({clip(r['error'], 40)})" if r["error"] else ""),
                   clip(r["message_zh"] or "", 60)] for r in rows]))
    print(f"{len(rows)} attempt(s) shown. All of them: carbonpeak sql \"select * from meta.alerts\"")
    return 0
