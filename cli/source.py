"""`source serve` and `source export`: the embedded departmental demo source."""

from __future__ import annotations

import argparse
import contextlib
import sys
import textwrap
from pathlib import Path

from cli.common import UsageError, epilog, show_usage
from flows.settings import Settings


def add_parsers(sub: argparse._SubParsersAction, fmt: type) -> None:
    source = sub.add_parser("source", formatter_class=fmt, help="the embedded departmental source",
                            description="The departmental-source server shipped with carbonpeak "
                            "(token-protected, paginated JSON on 127.0.0.1).",
                            epilog=epilog("carbonpeak source serve --port 8765"))
    source_sub = source.add_subparsers(dest="source_command", metavar="SOURCE_COMMAND")
    p = source_sub.add_parser("serve", formatter_class=fmt, help="serve until Ctrl-C",
                              description="Serve the demo departments in the foreground and print "
                              "the variables that point carbonpeak at it.",
                              epilog=epilog("carbonpeak source serve --port 8765 --token secret"))
    p.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765)")
    p.add_argument("--token", help="bearer token (default: a random one, printed)")
    p.set_defaults(func=cmd_source_serve)
    p = source_sub.add_parser("export", formatter_class=fmt, help="write the demo data as static files",
                              description="Write every demo dataset as files at the paths the "
                              "embedded server uses, so any static web server can stand in for it.",
                              epilog=epilog("carbonpeak source export /tmp/departments && "
                                             "python -m http.server 8000 -d /tmp/departments"))
    p.add_argument("folder", help="folder to write into (created if missing)")
    p.set_defaults(func=cmd_source_export)
    source.set_defaults(func=lambda args: show_usage(source))


def cmd_source_serve(args: argparse.Namespace) -> int:
    from connectors.spec import load_sources
    from source_server.server import SourceServer

    try:
        server = SourceServer(port=args.port, token=args.token)
    except OSError as exc:
        raise UsageError(f"cannot listen on 127.0.0.1:{args.port} ({exc.strerror}); "
                         "choose another --port") from None
    config = load_sources(Settings.from_env().sources_file)
    print(textwrap.dedent(f"""\
        Serving the demo departments on {server.url} (Ctrl-C to stop). Point carbonpeak at it:"""))
    for dept in config.departments:
        print(f"  export {dept.url_env}={server.url} {dept.token_env}={server.token}")
    sys.stdout.flush()
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


def cmd_source_export(args: argparse.Namespace) -> int:

    from source_server.server import export_static

    written = export_static(Path(args.folder))
    print(f"wrote {len(written)} files under {args.folder}")
    return 0
