"""What the commands share: where read commands read, the embedded demo source, Prefect quietly."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from flows.settings import Settings, landing_folder


class UsageError(Exception):
    """A mistake in how the command was called."""


def reads_warehouse(parser: argparse.ArgumentParser) -> None:
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


def epilog(*examples: str) -> str:
    return "Examples:\n" + "\n".join(f"  {e}" for e in examples)



def show_usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


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


def finish(state, what: str) -> int:
    if state.is_failed():
        print(f"carbonpeak: {what} failed: {state.message}", file=sys.stderr)
        return 1
    return 0



def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"

