"""`serve` and `schedules`: every deployment at the cadence its department publishes."""

from __future__ import annotations

import argparse

from cli.common import epilog

PROVINCE_HELP = ("the lake's own deployments instead of the city's: build-province daily at 08:00, "
                 "maintain-lake on Sundays at 03:00 (once per lake; CARBONPEAK_WAREHOUSE a lake)")


def add_parsers(sub: argparse._SubParsersAction, fmt: type) -> None:
    p = sub.add_parser("serve", formatter_class=fmt, help="run every deployment on its schedule",
                       description="Serve a deployment of every flow from this process until Ctrl-C: "
                       "each department's ingest at the cadence it publishes (sources.yml), the build "
                       "and the evaluation daily, one run at a time (DuckDB takes one writer). Needs a "
                       "real server: `prefect server start` and PREFECT_API_URL (docs/prefect.md).",
                       epilog=epilog("PREFECT_API_URL=http://127.0.0.1:4200/api carbonpeak serve",
                                     "PREFECT_API_URL=http://127.0.0.1:4200/api carbonpeak serve --province"))
    p.add_argument("--limit", type=int, default=1, help="flow runs at a time (default 1)")
    p.add_argument("--province", action="store_true", help=PROVINCE_HELP)
    p.set_defaults(func=cmd_serve, runs_flows=True)

    p = sub.add_parser("schedules", formatter_class=fmt, help="list the deployments and their schedules",
                       description="List the deployment of every flow with its cron (Asia/Shanghai), "
                       "made from the configured city's sources.yml. --write-yaml writes them as a "
                       "prefect.yaml for `prefect --no-prompt deploy --all`.",
                       epilog=epilog("carbonpeak schedules",
                                      "carbonpeak schedules --write-yaml prefect.yaml",
                                      "carbonpeak schedules --province --write-yaml prefect.province.yaml"))
    p.add_argument("--write-yaml", metavar="PATH", help="write the deployments as a prefect.yaml")
    p.add_argument("--province", action="store_true", help=PROVINCE_HELP)
    p.set_defaults(func=cmd_schedules)



def cmd_serve(args: argparse.Namespace) -> int:
    from flows.deployments import serve_all

    serve_all(limit=args.limit, province=args.province)
    return 0


def cmd_schedules(args: argparse.Namespace) -> int:
    from pathlib import Path

    from cli.table import render
    from flows.deployments import chosen_deployments, render_prefect_yaml
    from flows.settings import Settings

    settings = Settings.from_env()
    deployments = chosen_deployments(settings, args.province)  # refuses --province on a file
    if args.write_yaml:
        Path(args.write_yaml).write_text(render_prefect_yaml(settings, args.province), encoding="utf-8")
        print(f"wrote {args.write_yaml}; deploy it from the repository root with "
              f"`prefect --no-prompt deploy --all --prefect-file {args.write_yaml}`")
        return 0
    print(render(["deployment", "cron (Asia/Shanghai)", "what"],
                 [[f"{d.flow_name}/{d.name}", d.cron or "on demand", d.description]
                  for d in deployments]))
    return 0
