"""`kpi status`, `kpi warnings`, `sql`, `alerts list`: read the warehouse (default: the analyst snapshot)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cli.common import UsageError, epilog, read_path, reads_warehouse, show_usage
from core.text import clip
from flows.settings import Settings
from publishing.clock import city_time
from publishing.status_words import QUALIFIER_WORDS, STATUS_ZH, WARNING_SHORT, warning_label


def add_parsers(sub: argparse._SubParsersAction, fmt: type) -> None:
    kpi = sub.add_parser("kpi", formatter_class=fmt, help="read KPI results",
                         description="Read KPI results from the warehouse (read-only).",
                         epilog=epilog("carbonpeak kpi status"))
    kpi_sub = kpi.add_subparsers(dest="kpi_command", metavar="KPI_COMMAND")
    p = kpi_sub.add_parser("status", formatter_class=fmt, help="one line per KPI checkpoint",
                           description="Print kpi.kpi_status: every checkpoint of the plan with "
                           "its latest value, status and reason, and its current year-to-date early "
                           "warning (details: `carbonpeak kpi warnings`).",
                           epilog=epilog("carbonpeak kpi status",
                                          "carbonpeak kpi status --status off_track",
                                          "carbonpeak kpi status --kpi clean_power_capacity"))
    p.add_argument("--kpi", help="only this KPI id")
    p.add_argument("--status", help="only checkpoints with this status")
    p.add_argument("--all", action="store_true", help="also list KPIs with no data yet")
    reads_warehouse(p)
    p.set_defaults(func=cmd_kpi_status)
    p = kpi_sub.add_parser(
        "warnings", formatter_class=fmt, help="the year-to-date early warning (年度目标预警)",
        description="Print kpi.kpi_early_warning (年度目标预警): for each yearly KPI with monthly data,\n"
        "the year's value projected from the months so far (last year's value moved by the change on\n"
        "the same months of last year), against what the plan requires of the year.\n"
        f"Levels: {WARNING_SHORT[1]} misses it and is no better than last year, {WARNING_SHORT[2]} misses "
        f"it but improves,\n{WARNING_SHORT[3]} meets it. By default the current warnings: the years whose "
        "own figure is not published yet.",
        epilog=epilog("carbonpeak kpi warnings",
                      "carbonpeak kpi warnings --history --kpi raw_coal_consumption --year 2024"))
    p.add_argument("--kpi", help="only this KPI id")
    p.add_argument("--year", type=int, help="only this year")
    p.add_argument("--history", action="store_true",
                   help="every month of every year, published ones too, with the published figure")
    reads_warehouse(p)
    p.set_defaults(func=cmd_kpi_warnings)
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
    from warehouse.kpi import read_kpi_status

    con = Settings.from_env().open_warehouse(read_only=True, path=warehouse)
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
        ["KPI 指标", "year", "target 目标", "latest 最新", "status 状态", "warning 预警", "reason 原因"],
        [[f"{r['name_zh']} {r['name_en']}", r["checkpoint_year"],
          f"{QUALIFIER_WORDS.get(r['qualifier'], r['qualifier'])} {r['target_value']:g} {r['unit']}",
          f"{r['latest_value']:g} ({r['latest_year']})" if r["latest_value"] is not None else "–",
          f"{r['status']} {STATUS_ZH.get(r['status'], '')}", _warning_cell(r), r["status_reason"]]
         for r in rows])
    summary = f"\n{len(rows)} checkpoint(s) shown"
    if hidden:
        summary += f"; {hidden} more have no data yet (insufficient_data): use --all to list them"
    warned = sum(r.get("early_warning_year") is not None for r in rows)
    if warned:
        summary += f"; {warned} with a current early warning: `carbonpeak kpi warnings`"
    return table + summary


def _warning_cell(row: dict) -> str:
    """`一级 red (2025 1–12月)`: the checkpoint's current early warning, `—` when it has none."""
    from publishing.report_warning import months_zh

    if row.get("early_warning_year") is None:
        return "—"
    level = WARNING_SHORT.get(row["early_warning_level"], "—")
    return f"{level} ({row['early_warning_year']} {months_zh(row['early_warning_through_month'])})"


def render_kpi_warnings(warehouse: Path, kpi: str | None = None, year: int | None = None,
                        history: bool = False) -> str:
    from cli.table import render
    from publishing.report_chart import fmt
    from publishing.report_text import unit_text
    from publishing.report_warning import months_zh, no_warning_reason, required_label
    from warehouse.kpi import read_early_warnings

    con = Settings.from_env().open_warehouse(read_only=True, path=warehouse)
    try:
        rows = read_early_warnings(con)
    finally:
        con.close()
    if kpi and not any(r["kpi_id"] == kpi for r in rows):
        known = ", ".join(dict.fromkeys(r["kpi_id"] for r in rows)) or "none"
        raise UsageError(f"no early warning for KPI `{kpi}`: only KPIs with monthly data "
                         f"(kpis.yml `year_to_date:`) have one; these do: {known}")
    rows = [r for r in rows if kpi in (None, r["kpi_id"]) and year in (None, r["year"])]
    shown = rows if history else [r for r in rows if r["is_current"]]
    if not shown and (history or (year and not rows)):
        what = " ".join(filter(None, (kpi and f"`{kpi}`", year and f"in {year}")))
        return f"no year-to-date data {what}".strip()
    if not shown:
        zh, en = no_warning_reason(rows)
        return (f"{zh}\n{en}\nEvery month of every year, with its published figure: "
                "carbonpeak kpi warnings --history")
    headers = ["KPI 指标", "year", "months 月份", "projected 预计", "required 要求",
               *(["actual 实际"] if history else []), "level 预警", "reason 原因"]
    table = render(headers, [
        [f"{r['name_zh']} {r['name_en']}", r["year"], months_zh(r["through_month"]),
         f"{fmt(r['projected_value'])} {unit_text(r)}", required_label(r),
         *([fmt(r["actual_value"])] if history else []), warning_label(r["warning_level"]),
         f"{r['warning_reason_zh']} / {r['warning_reason_en']}"] for r in shown])
    return table + f"\n{len(shown)} {'row' if history else 'current warning'}(s) shown"


def cmd_kpi_status(args: argparse.Namespace) -> int:
    print(render_kpi_status(read_path(args), args.kpi, args.status,
                            show_all=args.all or bool(args.kpi or args.status)))
    return 0


def cmd_kpi_warnings(args: argparse.Namespace) -> int:
    print(render_kpi_warnings(read_path(args), args.kpi, args.year, args.history))
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    import csv

    import duckdb

    from cli.table import render

    con = Settings.from_env().open_warehouse(read_only=True, path=read_path(args))
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

    con = Settings.from_env().open_warehouse(read_only=True, path=read_path(args))
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
