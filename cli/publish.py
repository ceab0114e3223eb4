"""`quality docs`, `docs`, `report`: the offline pages officials and analysts read."""

from __future__ import annotations

import argparse

from cli.common import epilog, read_path, reads_warehouse, show_usage
from flows.settings import Settings


def add_parsers(sub: argparse._SubParsersAction, fmt: type) -> None:
    quality = sub.add_parser("quality", formatter_class=fmt, help="data-quality reports",
                             description="Reports on the data-quality gate.",
                             epilog=epilog("carbonpeak quality docs"))
    quality_sub = quality.add_subparsers(dest="quality_command", metavar="QUALITY_COMMAND")
    p = quality_sub.add_parser("docs", formatter_class=fmt, help="build GX Data Docs (offline)",
                               description="Build Great Expectations' Data Docs for every suite "
                               "and the latest validation of each dataset, as a static site that "
                               "opens with no network (the JS/CSS are installed by bootstrap.sh).",
                               epilog=epilog("carbonpeak quality docs",
                                              "carbonpeak quality docs --out /tmp/gx-docs"))
    p.add_argument("--out", default="data/docs/quality",
                   help="folder of the site (default data/docs/quality)")
    p.set_defaults(func=cmd_quality_docs)
    quality.set_defaults(func=lambda args: show_usage(quality))

    p = sub.add_parser("docs", formatter_class=fmt, help="write the data dictionary (offline HTML)",
                       description="Write the data dictionary of the warehouse (opened read-only) as "
                       "static HTML that opens with no network: every table and view by schema with "
                       "its description, columns, types, units and row count; and for every KPI of "
                       "the plan its clause, checkpoints and status, and the models and raw sources "
                       "(department, dataset, URL) it is computed from.",
                       epilog=epilog("carbonpeak docs",
                                      "carbonpeak docs --out /tmp/dictionary && "
                                      "chromium /tmp/dictionary/kpi/forest_coverage.html"))
    p.add_argument("--out", default="data/docs/dictionary",
                   help="folder of the site (default data/docs/dictionary)")
    reads_warehouse(p)
    p.set_defaults(func=cmd_docs)

    p = sub.add_parser("report", formatter_class=fmt,
                       help="write the KPI report (one offline HTML file)",
                       description="Write one self-contained HTML file: every checkpoint's status "
                       "and, per KPI, a chart of actuals, the required path and the targets, in "
                       "Chinese and English. It loads nothing from the network (read-only on the "
                       "warehouse).",
                       epilog=epilog("carbonpeak report",
                                      "carbonpeak report --out /tmp/kpi-report.html"))
    p.add_argument("--out", help="the HTML file to write (default: report.html beside the warehouse)")
    reads_warehouse(p)
    p.set_defaults(func=cmd_report)



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

    settings = Settings.from_env()
    sources = load_sources(settings.sources_file)
    con = settings.open_warehouse(read_only=True, path=read_path(args, settings))
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
    con = settings.open_warehouse(read_only=True, path=read_path(args, settings))
    try:
        write_report(con, out, kpis_file=settings.kpis_file)
    finally:
        con.close()
    print(f"KPI report written: {out} (one file, opens offline in any browser)")
    return 0
