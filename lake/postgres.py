"""A local PostgreSQL server for the DuckLake catalog: find it, init, start, stop, status, run SQL.

One folder holds everything (default `data/pg`):

    data/              PGDATA, made by initdb; `carbonpeak.conf` in it holds our settings
    postgresql.log     the server's log
    .s.PGSQL.<port>    its unix socket: only the folder's owner logs in through it (peer auth)
    *.pgpass           the roles' libpq password files (lake/catalog.py)

The server listens on 127.0.0.1 only and asks for a password there (scram-sha-256). initdb and
pg_ctl refuse to run as root, so as root they run as the `postgres` system user (`runuser`), which
then owns the folder. Messages stay in English (lc_messages C): DuckLake's commit retry recognises
a conflict by its English error text, so a localised server never retries (duckdb/ducklake#1311).
"""

from __future__ import annotations

import functools
import glob
import logging
import os
import pwd
import re
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

from lake.errors import LakeError, PortBusy

log = logging.getLogger(__name__)

SERVER_USER = "postgres"  # the system user that runs the server when carbonpeak runs as root
SETTINGS_FILE = "carbonpeak.conf"
TIMEOUT_S = 60  # pg_ctl -t: start and stop take well under a second here
_UNSAFE_PATH = re.compile(r"['\\\x00-\x1f\x7f]")  # would need quoting in postgresql.conf
_SOCKET_PATH_MAX = 107  # sun_path of a unix socket, minus its NUL


@dataclass(frozen=True)
class ServerStatus:
    """Where a server's folder is, its port (configured, or live) and whether it runs."""

    folder: Path
    port: int
    running: bool
    pid: int | None = None


@functools.cache
def find_bindir() -> Path:
    """The folder with initdb, pg_ctl, postgres and psql: `pg_config --bindir`, else Debian's layout."""
    candidates = []
    if pg_config := shutil.which("pg_config"):
        result = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(result.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                         key=lambda p: int(re.sub(r"\D", "", p) or 0), reverse=True)
    if initdb := shutil.which("initdb"):
        candidates.append(str(Path(initdb).parent))
    for folder in candidates:
        if folder and all((Path(folder) / tool).is_file() for tool in ("initdb", "pg_ctl", "psql")):
            return Path(folder)
    raise LakeError("PostgreSQL server binaries (initdb, pg_ctl, psql) not found; install them "
                    "(`apt-get install postgresql-15`) and try again")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as postgres binds
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def init_server(folder: Path, port: int | None = None, *, durable: bool = True) -> ServerStatus:
    """Make a cluster in `folder` on `port` (or a free one); an existing cluster is left as it is.

    `start_server(folder, port)` moves an existing cluster to another port. `durable=False` is for
    throwaway servers (tests, demos): no fsync, so a power cut may corrupt the catalog.
    """
    folder = _checked_folder(folder)
    data = folder / "data"
    if not (data / "PG_VERSION").exists():
        _prepare_folder(folder)
        superuser = _superuser()
        _run([find_bindir() / "initdb", "-D", str(data), "-U", superuser, "-E", "UTF8",
              "--locale=C.UTF-8", "--lc-messages=C", "--auth-local=peer",
              "--auth-host=scram-sha-256", *([] if durable else ["--no-sync"])], folder, "initdb")
        with (data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(f"\n# carbonpeak (lake/postgres.py): 127.0.0.1 only, socket and port\n"
                       f"include '{SETTINGS_FILE}'\n")
        _write_settings(folder, port or free_port(), durable)
        log.info("initialised a PostgreSQL cluster in %s", data)
    return server_status(folder)


def start_server(folder: Path, port: int | None = None) -> ServerStatus:
    """Start the server (pg_ctl -w) on `port`, or on its configured one; a no-op when it runs."""
    folder = _checked_folder(folder)
    status = server_status(folder)
    if status.running:
        if port and port != status.port:
            raise LakeError(f"the server in `{folder}` already runs on port {status.port}; "
                            f"stop it first to move it to {port}", folder)
        return status
    if port and port != status.port:
        _write_settings(folder, port, _configured(folder, "fsync") != "off")
    port = port or status.port
    if not port_is_free(port):
        raise PortBusy(port, folder)
    result = _run([find_bindir() / "pg_ctl", "-D", str(folder / "data"), "-l",
                   str(folder / "postgresql.log"), "-w", "-t", str(TIMEOUT_S), "start"],
                  folder, "pg_ctl start", check=False)
    if result.returncode != 0:
        raise LakeError(f"PostgreSQL did not start: {_last_log_problem(folder)}; "
                        f"see `{folder / 'postgresql.log'}`", folder)
    return server_status(folder)


def stop_server(folder: Path) -> bool:
    """Stop the server (fast: open sessions are rolled back); False when it was not running."""
    folder = _checked_folder(folder)
    if not server_status(folder).running:
        return False
    _run([find_bindir() / "pg_ctl", "-D", str(folder / "data"), "-m", "fast", "-w",
          "-t", str(TIMEOUT_S), "stop"], folder, "pg_ctl stop")
    return True


def server_status(folder: Path) -> ServerStatus:
    """Whether the server of `folder` runs (pg_ctl status), and its port."""
    folder = _checked_folder(folder)
    data = folder / "data"
    if not (data / "PG_VERSION").exists():
        raise LakeError(f"no PostgreSQL cluster in `{folder}`; create it with "
                        f"`carbonpeak lake init --folder {folder}`", folder)
    result = _run([find_bindir() / "pg_ctl", "-D", str(data), "status"], folder, "pg_ctl status",
                  check=False)
    pid = None
    if result.returncode == 0 and (match := re.search(r"PID: (\d+)", result.stdout)):
        pid = int(match.group(1))
    return ServerStatus(folder, _configured_port(folder) or 0, result.returncode == 0, pid)


def run_sql(folder: Path, sql: str, dbname: str = "postgres") -> str:
    """Run `sql` with psql as the superuser over the folder's socket; its unaligned output.

    The text goes in on stdin, so a password in it never shows in a process list.
    """
    status = server_status(folder)
    if not status.running:
        raise LakeError(f"the PostgreSQL server in `{status.folder}` is not running; start it with "
                        f"`carbonpeak lake start --folder {status.folder}`", status.folder)
    result = _run([find_bindir() / "psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                   "-h", str(status.folder), "-p", str(status.port), "-U", _superuser(), "-d", dbname],
                  status.folder, "psql", input_text=sql)
    return result.stdout


def _superuser() -> str:
    """The bootstrap role: named after the OS user who runs the server, as peer auth wants."""
    return SERVER_USER if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name


def _checked_folder(folder: Path) -> Path:
    folder = Path(folder).expanduser().resolve()
    if _UNSAFE_PATH.search(str(folder)):
        raise LakeError(f"folder `{folder}` contains a quote, backslash or control character; "
                        "choose a plainer path", folder)
    if len(str(folder / ".s.PGSQL.65535")) > _SOCKET_PATH_MAX:
        raise LakeError(f"folder `{folder}` is too long to hold the server's unix socket "
                        f"(at most {_SOCKET_PATH_MAX - 15} characters); choose a shorter path", folder)
    return folder


def _prepare_folder(folder: Path) -> None:
    """Create `folder` for the server's user; a clear error when that user could not write it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LakeError(f"cannot create `{folder}`: {exc.strerror}; choose another --folder",
                        folder) from None
    if os.geteuid() != 0:
        if not os.access(folder, os.W_OK | os.X_OK):
            raise LakeError(f"folder `{folder}` is not writable; choose another --folder", folder)
        return
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise LakeError("running as root, the server needs a system user `postgres` to run it: "
                        "`useradd --system postgres`, or run carbonpeak as a non-root user") from None
    shutil.chown(folder, SERVER_USER, SERVER_USER)
    probe = subprocess.run(["runuser", "-u", SERVER_USER, "--", "test", "-w", str(folder)], check=False)
    if probe.returncode != 0:
        closed = next((p for p in reversed(folder.parents) if not os.stat(p).st_mode & 0o001), None)
        where = f": `{closed}` is closed to other users (`chmod o+x {closed}`)" if closed else ""
        raise LakeError(f"user `{SERVER_USER}` cannot write `{folder}`{where}; or choose a folder "
                        "elsewhere", folder)


def _write_settings(folder: Path, port: int, durable: bool) -> None:
    if not 1 <= port <= 65535:
        raise LakeError(f"port {port} is not a TCP port (1-65535)", folder)
    path = folder / "data" / SETTINGS_FILE
    path.write_text(f"# written by carbonpeak (lake/postgres.py); `carbonpeak lake start --port N` "
                    f"changes the port\nlisten_addresses = '127.0.0.1'\nport = {port}\n"
                    f"unix_socket_directories = '{folder}'\nlc_messages = 'C'\n"
                    + ("" if durable else "fsync = off\nsynchronous_commit = off\n"
                       "full_page_writes = off\n"), encoding="utf-8")
    if os.geteuid() == 0:
        shutil.chown(path, SERVER_USER, SERVER_USER)


def _configured_port(folder: Path) -> int | None:
    port = _configured(folder, "port")
    return int(port) if port and port.isdigit() else None


def _configured(folder: Path, name: str) -> str | None:
    """A setting as `_write_settings` wrote it, or None."""
    try:
        text = (folder / "data" / SETTINGS_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    match = re.search(rf"^{name} = (\S+)$", text, re.MULTILINE)
    return match.group(1) if match else None


def _last_log_problem(folder: Path) -> str:
    try:
        lines = (folder / "postgresql.log").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "no log written"
    problems = [line for line in lines if re.search(r"\b(FATAL|PANIC|ERROR):", line)]
    return (problems or lines or ["empty log"])[-1].strip()


def _run(cmd: list, folder: Path, what: str, *, check: bool = True,
         input_text: str | None = None) -> subprocess.CompletedProcess:
    """Run a PostgreSQL tool in English, as `postgres` when we are root, with nothing of our PG* env."""
    argv = [str(part) for part in cmd]
    if os.geteuid() == 0:
        argv = ["runuser", "-u", SERVER_USER, "--", *argv]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    result = subprocess.run(argv, input=input_text, capture_output=True, text=True, env=env,
                            cwd=folder if folder.is_dir() else None, check=False)
    if check and result.returncode != 0:
        raise LakeError(f"{what} failed in `{folder}`: {_problem(result)}", folder)
    return result


def _problem(result: subprocess.CompletedProcess) -> str:
    """The line that says what went wrong; never psql's echo of the statement (it may hold a password)."""
    lines = (result.stderr or result.stdout or "").strip().splitlines()
    flagged = [line for line in lines if re.search(r"\b(ERROR|FATAL|PANIC|error):", line)]
    return (flagged or lines or [f"exit code {result.returncode}"])[0].strip()
