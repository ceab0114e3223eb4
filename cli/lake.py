"""`lake init|start|stop|status`: the local PostgreSQL server that holds the DuckLake catalog."""

from __future__ import annotations

import argparse
from pathlib import Path

from cli.common import epilog, show_usage

DEFAULT_FOLDER = Path("data/pg")
STOPPED = 3  # exit code of `lake status` when the server is not running, as pg_ctl status


def add_parsers(sub: argparse._SubParsersAction, fmt: type) -> None:
    lake = sub.add_parser(
        "lake", formatter_class=fmt, help="the province's lake: a PostgreSQL server for DuckLake's catalog",
        description="A local PostgreSQL server holding the catalog of a DuckLake (issue 14): data as "
        "Parquet files under a data path, many readers through a read-only role. `init` writes the "
        "pointer file data/warehouse.lake: with CARBONPEAK_WAREHOUSE=data/warehouse.lake every command "
        "runs on the lake (docs/province.md).",
        epilog=epilog("carbonpeak lake init", "carbonpeak lake status", "carbonpeak lake stop"))
    lake_sub = lake.add_subparsers(dest="lake_command", metavar="LAKE_COMMAND")

    p = lake_sub.add_parser(
        "init", formatter_class=fmt, help="create and start the server, the catalog and its roles",
        description="Create a PostgreSQL cluster in --folder (initdb; as root it runs as the `postgres` "
        "user), start it on 127.0.0.1, create the database `lake`, its writer `lake_writer` and the "
        "read-only role `analyst`, and the DuckLake catalog with its data path. Then print how writers "
        "and analysts attach. Safe to rerun: what exists is kept, passwords included.",
        epilog=epilog("carbonpeak lake init",
                      "carbonpeak lake init --folder /srv/lake/pg --port 5433 --data-path /srv/lake/files"))
    _folder(p)
    p.add_argument("--port", type=int, help="TCP port on 127.0.0.1 (default: a free one, then kept)")
    p.add_argument("--data-path", metavar="PATH",
                   help="where the lake's Parquet files go (default: FOLDER/parquet); "
                        "fixed at the first init")
    p.add_argument("--no-sync", action="store_true",
                   help="a throwaway server (tests, demos): no fsync; a power cut may corrupt the catalog")
    p.add_argument("--warehouse", metavar="PATH", type=Path, default=Path("data/warehouse.lake"),
                   help="the pointer file to write (default: data/warehouse.lake); with "
                        "CARBONPEAK_WAREHOUSE=PATH every command uses the lake, and read commands use "
                        "the analysts' pointer beside it (analyst/<name>)")
    p.set_defaults(func=cmd_lake_init)

    p = lake_sub.add_parser("start", formatter_class=fmt, help="start the server",
                            description="Start the server of --folder on its port, or on --port.",
                            epilog=epilog("carbonpeak lake start", "carbonpeak lake start --port 5433"))
    _folder(p)
    p.add_argument("--port", type=int, help="move the server to this port (kept for later starts)")
    p.set_defaults(func=cmd_lake_start)

    p = lake_sub.add_parser("stop", formatter_class=fmt, help="stop the server",
                            description="Stop the server of --folder (fast: open transactions roll back).",
                            epilog=epilog("carbonpeak lake stop",
                                          "carbonpeak lake stop --folder /srv/lake/pg"))
    _folder(p)
    p.set_defaults(func=cmd_lake_stop)

    p = lake_sub.add_parser("status", formatter_class=fmt, help="is the server running, and how to attach",
                            description="Say whether the server of --folder runs (exit code 0) or not "
                            f"(exit code {STOPPED}), and print the catalog's conninfo and data path.",
                            epilog=epilog("carbonpeak lake status"))
    _folder(p)
    p.set_defaults(func=cmd_lake_status)
    p = lake_sub.add_parser(
        "maintain", formatter_class=fmt,
        help="expire old snapshots, merge small files, delete unreferenced ones",
        description="The `maintain-lake` flow on the lake CARBONPEAK_WAREHOUSE names, namespace by namespace "
        "(every city's and the province's): snapshots older than --keep-days expire, small files are "
        "merged, files no kept snapshot references are deleted after --grace-hours, and files no "
        "snapshot ever referenced (a killed writer's) after --orphan-hours, which must exceed the "
        "longest load; a killed run's stage tables go after --orphan-hours too. Run it weekly: "
        "`carbonpeak schedules --province` deploys it on Sundays.",
        epilog=epilog("CARBONPEAK_WAREHOUSE=data/warehouse.lake carbonpeak lake maintain",
                      "carbonpeak lake maintain --keep-days 30 --orphan-hours 48"))
    p.add_argument("--keep-days", type=float, default=7.0,
                   help="how far back time travel reaches (default: 7)")
    p.add_argument("--grace-hours", type=float, default=24.0,
                   help="how long a replaced file stays for readers still in an older snapshot (default: 24)")
    p.add_argument("--orphan-hours", type=float, default=24.0,
                   help="how old an unreferenced file, or a killed run's stage table, must be to "
                        "go: more than the longest load (default: 24)")
    p.set_defaults(func=cmd_lake_maintain, runs_flows=True)
    lake.set_defaults(func=lambda args: show_usage(lake))


def _folder(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--folder", type=Path, default=DEFAULT_FOLDER,
                        help=f"the server's folder (default: {DEFAULT_FOLDER})")


def cmd_lake_init(args: argparse.Namespace) -> int:
    from lake.catalog import create_catalog, grant_reads, stored_data_path
    from lake.errors import LakeError
    from lake.postgres import init_server, start_server
    from warehouse.lake import connect_lake

    status = init_server(args.folder, args.port, durable=not args.no_sync)
    status = start_server(status.folder, args.port)
    writer, _ = create_catalog(status.folder)
    stored = stored_data_path(status.folder)
    if stored is None:
        data_path = Path(args.data_path or status.folder / "parquet").expanduser().resolve()
        try:
            data_path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LakeError(f"cannot create the data path `{data_path}`: {exc.strerror}; "
                            "choose another --data-path") from None
        connect_lake(writer.conninfo, data_path).close()  # the first ATTACH makes the catalog's tables
        grant_reads(status.folder)
    elif args.data_path and Path(args.data_path).expanduser().resolve() != Path(stored):
        print(f"note: the lake keeps the data path it was created with, {stored}; --data-path is ignored")
    _describe(status.folder)
    _write_pointers(status.folder, args.warehouse)
    print(f"\nStop it with `carbonpeak lake stop --folder {status.folder}`.")
    return 0


def _write_pointers(folder: Path, warehouse: Path) -> None:
    """The writer's pointer and, beside it under analyst/, the analysts' read-only one."""
    from lake.catalog import ANALYST, WRITER, catalog_for, stored_data_path
    from lake.errors import LakeError
    from warehouse.lake import POINTER_SUFFIX, LakePointer, write_pointer

    if warehouse.suffix != POINTER_SUFFIX:
        raise LakeError(f"--warehouse `{warehouse}`: a lake pointer's name ends in {POINTER_SUFFIX}, "
                        "e.g. data/warehouse.lake")
    readers = warehouse.parent / "analyst" / warehouse.name
    # the data path: each city's namespace keeps its files in a folder of it, made by its first writer
    write_pointer(warehouse, LakePointer(catalog_for(folder, WRITER).conninfo, stored_data_path(folder)))
    write_pointer(readers, LakePointer(catalog_for(folder, ANALYST).conninfo, read_only=True))
    print(f"\nEvery command on the lake: export CARBONPEAK_WAREHOUSE={warehouse}  (then `carbonpeak run`;"
          f" read commands use {readers}, read-only)")


def cmd_lake_start(args: argparse.Namespace) -> int:
    from lake.postgres import start_server

    status = start_server(args.folder, args.port)
    print(f"PostgreSQL for the lake runs on 127.0.0.1:{status.port} (pid {status.pid}), "
          f"folder {status.folder}")
    return 0


def cmd_lake_stop(args: argparse.Namespace) -> int:
    from lake.postgres import stop_server

    print("stopped" if stop_server(args.folder) else f"not running (folder {args.folder})")
    return 0


def cmd_lake_status(args: argparse.Namespace) -> int:
    from lake.postgres import server_status

    status = server_status(args.folder)
    if not status.running:
        print(f"not running (folder {status.folder}, port {status.port}); "
              f"start it with `carbonpeak lake start --folder {status.folder}`")
        return STOPPED
    _describe(status.folder)
    return 0


def _describe(folder: Path) -> None:
    """Where the server runs, the writer's conninfo, the data path and the analysts' ATTACH."""
    from lake.catalog import ANALYST, WRITER, catalog_for, stored_data_path
    from lake.postgres import server_status
    from warehouse.lake import EXTENSIONS, attach_sql, find_extension, quote_literal

    status = server_status(folder)
    analyst = catalog_for(folder, ANALYST)
    print(f"PostgreSQL for the lake runs on 127.0.0.1:{status.port} (pid {status.pid}), folder "
          f"{status.folder}, log {status.folder / 'postgresql.log'}")
    print(f"catalog (writer): {catalog_for(folder, WRITER).conninfo}")
    print(f"data path:        {stored_data_path(folder) or '(none yet: run `carbonpeak lake init`)'}")
    print("analysts, read-only, in the DuckDB CLI (.venv/bin/duckdb) or duckdb.sql() in Python:")
    for package, name in EXTENSIONS:
        print(f"  LOAD {quote_literal(str(find_extension(package, name)))};")
    print(f"  {attach_sql(analyst.conninfo, read_only=True)};")
    print("  USE lake;")
    print("  -- each city is a namespace of the lake: add METADATA_SCHEMA 'city_<code>' to the ATTACH's "
          "options (e.g. city_510700, from city.yml), or METADATA_SCHEMA 'province' for the province")
    print(f"  (password file {analyst.passfile}; give analysts on other accounts their own copy, mode 0600)")


def cmd_lake_maintain(args: argparse.Namespace) -> int:
    from cli.table import render
    from flows.maintenance import maintain_lake

    done = maintain_lake(keep_days=args.keep_days, grace_hours=args.grace_hours,
                         orphan_hours=args.orphan_hours, return_state=True).result()
    print(render(["namespace", "snapshots expired", "files merged", "old files deleted", "orphans deleted",
                  "stage leftovers dropped"],
                 [[d["namespace"], d["snapshots_expired"], d["files_merged"], d["files_deleted"],
                   d["orphans_deleted"], d["stage_dropped"]] for d in done]))
    return 0
