"""`province build|status`: every city of the lake side by side, and the KPIs that add up, added up."""

from __future__ import annotations

import argparse
from pathlib import Path

from cli.common import epilog, read_path, show_usage


def add_parsers(sub: argparse._SubParsersAction, fmt: type) -> None:
    province = sub.add_parser(
        "province", formatter_class=fmt, help="the province on a lake: every city's status side by side",
        description="On a lake (CARBONPEAK_WAREHOUSE=data/warehouse.lake) each city writes a namespace "
        "of its own; `build` reads them all and writes the province's: every city's kpi_status and "
        "marts with city_code, a side-by-side table of statuses, and the roll-up of the KPIs that add "
        "up (config/province.yml). docs/province.md.",
        epilog=epilog("carbonpeak province build", "carbonpeak province status",
                      "carbonpeak province build --province /srv/sichuan/province.yml"))
    province_sub = province.add_subparsers(dest="province_command", metavar="PROVINCE_COMMAND")
    for name, helptext, func in (
            ("build", "build the province's tables from every city's namespace", cmd_province_build),
            ("status", "print every city's status side by side, and the roll-up", cmd_province_status)):
        p = province_sub.add_parser(name, formatter_class=fmt, help=helptext, description=helptext + ".",
                                    epilog=epilog(f"carbonpeak province {name}"))
        p.add_argument("--province", metavar="FILE", type=Path,
                       help="the province's cities and additive KPIs (default: config/province.yml, "
                            "or CARBONPEAK_PROVINCE_FILE)")
        p.set_defaults(func=func, runs_flows=func is cmd_province_build)
    province.set_defaults(func=lambda args: show_usage(province))


def cmd_province_build(args: argparse.Namespace) -> int:
    from flows.province import build_province_flow

    state = build_province_flow(province_file=str(args.province) if args.province else None,
                                return_state=True)
    built = state.result()
    print(f"province built: {built['cities']} cities, {built['status_rows']} checkpoint rows, "
          f"{built['marts']} marts, {built['rollup_rows']} roll-up rows")
    return 0


def cmd_province_status(args: argparse.Namespace) -> int:
    from cli.table import render
    from flows.settings import Settings
    from publishing.status_words import STATUS_ZH
    from warehouse.lake import PROVINCE_NAMESPACE, connect_pointer, is_pointer
    from warehouse.province import read_side_by_side

    settings = Settings.from_env()
    if not is_pointer(settings.warehouse):
        print("the province lives on a lake: set CARBONPEAK_WAREHOUSE=data/warehouse.lake "
              "(`carbonpeak lake init`)")
        return 1
    con = connect_pointer(read_path(args, settings), PROVINCE_NAMESPACE, read_only=True)
    try:
        cities, rows, rollup = read_side_by_side(con)
    finally:
        con.close()

    def word(status: str | None) -> str:
        return "—" if status is None else f"{status} {STATUS_ZH.get(status, '')}"

    print(render(["KPI 指标", "year", *cities],
                 [[f"{r['name_zh']} {r['name_en']}", r["checkpoint_year"], *[word(r[c]) for c in cities]]
                  for r in rows]))
    if rollup:
        print("\nprovince roll-up 全省合计 (KPIs that add up):")
        print(render(["KPI", "year", "value 合计", "unit", "cities 城市", "complete 完整"],
                     [[r["kpi_id"], r["year"], "–" if r["value"] is None else f"{r['value']:g}", r["unit"],
                       f"{r['cities_reporting']}/{r['cities_with_kpi']}", "yes 是" if r["is_complete"] else
                       "no 否"] for r in rollup]))
    return 0
