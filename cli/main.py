"""`carbonpeak`: run the pipeline, read KPI status, query the warehouse, serve the demo source.

Each command's parser sits beside its handler (cli/<group>.py); this module assembles them and
turns domain errors into one line on stderr and exit code 1 (2 for usage errors), never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable

from cli import lake, pipeline, province, publish, quarantine, read, schedule, source
from cli.common import UsageError, epilog
from flows.settings import prefect_defaults


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="carbonpeak", formatter_class=fmt,
        description="Is the city on track for its carbon-peak plan? Ingest departmental data, "
                    "validate it, build the DuckDB warehouse and report every KPI of the plan.",
        epilog=epilog("carbonpeak run", "carbonpeak kpi status",
                       'carbonpeak sql "select * from kpi.kpi_status"') +
        "\n\nEnvironment: CARBONPEAK_WAREHOUSE (default data/warehouse.duckdb), "
        "CARBONPEAK_CONFIG_DIR (default config/mianyang); see .env.example.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    for group in (pipeline, read, quarantine, publish, schedule, source, lake, province):
        group.add_parsers(sub, fmt)
    return parser


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

    if getattr(args, "runs_flows", False):  # set by each command that runs a flow (its parser)
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

