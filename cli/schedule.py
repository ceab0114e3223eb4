"""`serve` and `schedules`: every deployment at the cadence its department publishes."""

from __future__ import annotations

import argparse

from cli.common import epilog


def add_parsers(sub: argparse._SubParsersAction, fmt: type) -> None:
    p = sub.add_parser("serve", formatter_class=fmt, help="run every deployment on its schedule",
                       description="Serve a deployment of every flow from this process until Ctrl-C: "
                       "each department's ingest at the cadence it publishes (sources.yml), the build "
                       "and the evaluation daily, one run at a time (DuckDB takes one writer). Needs a "
                       "real server: `prefect server start` and PREFECT_API_URL (docs/prefect.md).",
                       epilog=epilog("PREFECT_API_URL=http://127.0.0.1:4200/api carbonpeak serve"))
    p.add_argument("--limit", type=int, default=1, help="flow runs at a time (default 1)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("schedules", formatter_class=fmt, help="list the deployments and their schedules",
                       description="List the deployment of every flow with its cron (Asia/Shanghai), "
                       "made from the configured city's sources.yml. --write-yaml writes them as a "
                       "prefect.yaml for `prefect --no-prompt deploy --all`.",
                       epilog=epilog("carbonpeak schedules",
                                      "carbonpeak schedules --write-yaml prefect.yaml"))
    p.add_argument("--write-yaml", metavar="PATH", help="write the deployments as a prefect.yaml")
    p.set_defaults(func=cmd_schedules)



def cmd_serve(args: argparse.Namespace) -> int:
    from flows.deployments import serve_all

    serve_all(limit=args.limit)
    return 0


def cmd_schedules(args: argparse.Namespace) -> int:
    from pathlib import Path

    from cli.table import render
    from flows.deployments import build_deployments, render_prefect_yaml

    if args.write_yaml:
        Path(args.write_yaml).write_text(render_prefect_yaml(), encoding="utf-8")
        print(f"wrote {args.write_yaml}; deploy it from the repository root with "
              f"`prefect --no-prompt deploy --all --prefect-file {args.write_yaml}`")
        return 0
    print(render(["deployment", "cron (Asia/Shanghai)", "what"],
                 [[f"{d.flow_name}/{d.name}", d.cron or "on demand", d.description]
                  for d in build_deployments()]))
    return 0
