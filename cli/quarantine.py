"""`quarantine list` and `quarantine replay`: rows that failed validation, and loading them again."""

from __future__ import annotations

import argparse
import json

from cli.common import (
    epilog,
    fast_prefect,
    finish,
    judge_demo_on_its_date,
    read_path,
    reads_warehouse,
    show_usage,
)
from core.text import clip
from flows.settings import Settings
from publishing.clock import city_time


def add_parsers(sub: argparse._SubParsersAction, fmt: type) -> None:
    quarantine = sub.add_parser(
        "quarantine", formatter_class=fmt, help="rows the quality gate set aside",
        description="Rows that failed parsing or an error-level expectation are kept in "
        "meta.quarantine with their source, row, failed check and the values as received. List "
        "them; after a fix (a corrected column map or unit in sources.yml, a relaxed bound in "
        "expectations/<dataset>.json) replay them: what now passes is loaded, once.",
        epilog=epilog("carbonpeak quarantine list", "carbonpeak quarantine list --dataset "
                       "energy__power_capacity", "carbonpeak quarantine replay"))
    q_sub = quarantine.add_subparsers(dest="quarantine_command", metavar="QUARANTINE_COMMAND")
    p = q_sub.add_parser("list", formatter_class=fmt, help="show quarantined rows",
                         description="Show quarantined rows still waiting for a replay (read-only).",
                         epilog=epilog("carbonpeak quarantine list --dataset transport__vehicles",
                                        "carbonpeak quarantine list --all --limit 0"))
    p.add_argument("--dataset", help="only this raw table, e.g. energy__power_capacity")
    p.add_argument("--all", action="store_true", help="also rows already replayed and loaded")
    p.add_argument("--limit", type=int, default=50, help="rows to show (0 = all; default 50)")
    reads_warehouse(p)
    p.set_defaults(func=cmd_quarantine_list)
    p = q_sub.add_parser("replay", formatter_class=fmt, help="re-validate and load what now passes",
                         description="Parse every waiting row again from the values the department "
                         "published, with today's sources.yml and suites, validate it with the "
                         "data it joins, load it if it passes and rebuild the models (Prefect "
                         "flow `replay-quarantine`). Rows that still fail stay, with their new "
                         "reason. A second replay finds nothing to do.",
                         epilog=epilog("carbonpeak quarantine replay",
                                        "carbonpeak quarantine replay --dataset energy__power_capacity"))
    p.add_argument("--dataset", help="only this raw table")
    p.set_defaults(func=cmd_quarantine_replay, runs_flows=True)
    quarantine.set_defaults(func=lambda args: show_usage(quarantine))



def cmd_quarantine_list(args: argparse.Namespace) -> int:
    from cli.table import render
    from warehouse.quarantine import read_quarantine

    con = Settings.from_env().open_warehouse(read_only=True, path=read_path(args))
    try:
        rows = read_quarantine(con, args.dataset, include_replayed=args.all)
    finally:
        con.close()
    shown = rows if args.limit == 0 else rows[:args.limit]
    print(render(["dataset", "row", "key", "failed checks", "values as received", "status"],
                 [[r.dataset, r.row_number, r.row_key, clip(r.failed_checks, 90),
                   clip(json.dumps(r.raw_values, ensure_ascii=False), 70),
                   f"replayed {city_time(r.replayed_at)}" if r.replayed_at else "waiting"]
                  for r in shown]))
    more = f"; {len(rows) - len(shown)} more (use --limit 0)" if len(rows) > len(shown) else ""
    print(f"{len(rows)} row(s){more}. Full values: carbonpeak sql \"select * from meta.quarantine\"")
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
    return finish(state, "replay-quarantine")
