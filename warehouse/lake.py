"""DuckDB on a DuckLake: the catalog in PostgreSQL, the data as Parquet files under a data path.

`connect_lake` opens an in-memory DuckDB, loads the ducklake and postgres_scanner extensions from
their pinned wheels by path (never downloads: autoinstall and autoload are off), raises DuckLake's
commit retry count and attaches the lake as `lake`. Every text that ends up in SQL is checked and
quoted here: the catalog's conninfo (libpq `key=value` pairs, or a `postgresql://` URL), the data
path and the alias. See docs/province.md and docs/research/ducklake-findings.md.
"""

from __future__ import annotations

import importlib.util
import re
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import yaml

from connectors.spec import CITY_CODE
from core import yamlio
from core.redact import redact
from warehouse.errors import WarehouseError

# DuckLake retries a commit whose snapshot id another writer took first, 10 times by default;
# concurrent writers exhaust that (duckdb/ducklake#1094, #1283). With 100, 8 writers for 30 s
# made 0 such errors here (docs/research/ducklake-findings.md §4). Logical conflicts (MERGE or
# DELETE against a concurrent write of the same table) are not retried by any count.
MAX_RETRY_COUNT = 100
NEW_NAMESPACE_ATTEMPTS = 8  # about 7 s in all: a new namespace's catalog takes ~1 s to create

# (wheel package, extension): postgres_scanner must be loaded before the ATTACH needs it.
EXTENSIONS = (("duckdb_extension_postgres_scanner", "postgres_scanner"),
              ("duckdb_extension_ducklake", "ducklake"))

# libpq's connection keywords (PostgreSQL 15 docs, "Parameter Key Words"); anything else is a typo.
CONNINFO_KEYS = frozenset("""
    host hostaddr port dbname user password passfile channel_binding connect_timeout client_encoding
    options application_name fallback_application_name keepalives keepalives_idle
    keepalives_interval keepalives_count tcp_user_timeout replication gssencmode sslmode requiressl
    sslcompression sslcert sslkey sslpassword sslrootcert sslcrl sslcrldir sslsni
    requirepeer ssl_min_protocol_version ssl_max_protocol_version krbsrvname gsslib service
    target_session_attrs load_balance_hosts require_auth
""".split())
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PAIR = re.compile(r"\s*([A-Za-z_]+)\s*=\s*('(?:[^'\\]|\\.)*'|(?:[^\s'\\]|\\.)+)")


class LakeConnectError(WarehouseError):
    """DuckDB cannot open the lake: an extension wheel is missing, or the catalog refuses the ATTACH."""


def quote_literal(text: str) -> str:
    """`text` as a DuckDB string literal: quotes doubled, so nothing in it can end the literal."""
    if "\x00" in text:
        raise LakeConnectError("a NUL character cannot be part of a SQL string")
    return "'" + text.replace("'", "''") + "'"


def build_conninfo(**params: object) -> str:
    """A libpq conninfo from keywords, each value quoted: `dbname=lake host=127.0.0.1 ...`."""
    pairs = []
    for key, value in params.items():
        if value is None:
            continue
        if key not in CONNINFO_KEYS:
            raise LakeConnectError(f"conninfo: unknown key `{key}`; expected a libpq keyword "
                                   "such as host, port, dbname, user, passfile")
        text = str(value)
        if _CONTROL.search(text):
            raise LakeConnectError(f"conninfo: the value of `{key}` contains a control character")
        if text and not re.search(r"[\s'\\]", text):
            pairs.append(f"{key}={text}")
        else:
            pairs.append(f"{key}='" + text.replace("\\", "\\\\").replace("'", "\\'") + "'")
    return " ".join(pairs)


def parse_conninfo(conninfo: str) -> dict[str, str]:
    """The keywords of a libpq `key=value` conninfo; a clear error for anything else."""
    params: dict[str, str] = {}
    pos = 0
    while conninfo[pos:].strip():
        match = _PAIR.match(conninfo, pos)
        if match and match.end() < len(conninfo) and not conninfo[match.end()].isspace():
            pos, match = match.end(), None
        if not match:
            raise LakeConnectError(
                f"conninfo: cannot read it at character {pos + 1}: expected `key=value` pairs "
                "(quote a value with spaces as key='a b'), e.g. `dbname=lake host=127.0.0.1 port=5432 "
                "user=lake_writer`")
        key, value = match.group(1), match.group(2)
        if value.startswith("'"):
            value = value[1:-1]
        params[key] = re.sub(r"\\(.)", r"\1", value)
        pos = match.end()
    if not params:
        raise LakeConnectError("conninfo is empty; expected e.g. `dbname=lake host=127.0.0.1 port=5432`")
    return params


def check_conninfo(conninfo: str) -> str:
    """`conninfo` made safe to put in the ATTACH: re-quoted `key=value` pairs, or a plain URL."""
    if _CONTROL.search(conninfo):
        raise LakeConnectError("conninfo contains a control character (a newline?); give it on one line")
    if re.match(r"postgres(ql)?://", conninfo):
        if re.search(r"[\s'\\]", conninfo):
            raise LakeConnectError("conninfo URL contains a space, quote or backslash; "
                                   "percent-encode it (%20, %27, %5C)")
        return conninfo
    return build_conninfo(**parse_conninfo(conninfo))


def find_extension(package: str, name: str) -> Path:
    """The extension binary shipped in a pinned wheel, e.g. `ducklake.duckdb_extension`."""
    spec = importlib.util.find_spec(package)
    roots = list(spec.submodule_search_locations or []) if spec else []
    found = sorted(p for root in roots for p in Path(root).glob(f"extensions/v*/{name}.duckdb_extension"))
    if not found:
        wheel = package.replace("_", "-")
        raise LakeConnectError(f"DuckDB extension `{name}` not found: the wheel `{wheel}` is not "
                               f"installed; run `bash bootstrap.sh` (it is pinned in requirements.lock)")
    return found[-1]


def _data_path_text(data_path: Path | str) -> str:
    text = str(data_path)
    if re.match(r"[a-z][a-z0-9+.-]*://", text):  # s3://bucket/prefix later: kept as given
        return text
    return str(Path(text).expanduser().resolve())


def attach_sql(conninfo: str, data_path: Path | str | None = None, *, read_only: bool = False,
               alias: str = "lake", namespace: str | None = None) -> str:
    """The ATTACH statement for a lake, every part checked and quoted.

    `namespace` is the PostgreSQL schema holding this lake's catalog tables (DuckLake's
    METADATA_SCHEMA): one per city, so many cities share one catalog database (see `city_namespace`).
    """
    if not _IDENTIFIER.fullmatch(alias):
        raise LakeConnectError(f"lake alias `{alias}` must be a lowercase identifier, e.g. `lake`")
    options = []
    if namespace is not None:
        if not _IDENTIFIER.fullmatch(namespace):
            raise LakeConnectError(f"lake namespace `{namespace}` must be a lowercase identifier, "
                                   "e.g. `city_510700`")
        options.append(f"METADATA_SCHEMA {quote_literal(namespace)}")
    if data_path is not None:
        if _CONTROL.search(str(data_path)):
            raise LakeConnectError("data path contains a control character (a newline?)")
        options.append(f"DATA_PATH {quote_literal(_data_path_text(data_path))}")
    if read_only:
        options.append("READ_ONLY")
    target = quote_literal("ducklake:postgres:" + check_conninfo(conninfo))
    return f"ATTACH {target} AS {alias}" + (f" ({', '.join(options)})" if options else "")


def connect_lake(conninfo: str, data_path: Path | str | None = None, *, read_only: bool = False,
                 alias: str = "lake", namespace: str | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the lake attached as `alias` and in use; offline.

    `data_path` is needed by the first writer only: DuckLake stores it in the catalog. Readers
    pass `read_only=True` (as the read-only role): a write then fails before it touches anything.
    """
    statement = attach_sql(conninfo, data_path, read_only=read_only, alias=alias, namespace=namespace)
    con = lake_engine()
    try:
        _attach(con, statement)
        con.execute(f"USE {alias}")
    except duckdb.Error as exc:
        con.close()
        raise LakeConnectError(_attach_problem(exc, namespace, read_only)) from None
    return con


def _attach(con: duckdb.DuckDBPyConnection, statement: str) -> None:
    """Run the ATTACH; again, after a pause, when another writer was creating the same new namespace.

    The first writers of a city that never wrote (two departments started at once) all create its
    catalog schema and tables, one statement at a time; all but one fail on a name another has
    just taken (a duplicate key, a relation that already exists), and then find the catalog made.
    """
    for attempt in range(1, NEW_NAMESPACE_ATTEMPTS + 1):
        try:
            con.execute(statement)
            return
        except duckdb.Error as exc:
            text = str(exc)
            racing = "Failed to initialize DuckLake" in text and (
                "duplicate key value" in text or "already exists" in text)
            if not racing or attempt == NEW_NAMESPACE_ATTEMPTS:
                raise
            time.sleep(0.25 * attempt)


def lake_engine() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that can attach lakes: extensions loaded by path, retries raised."""
    files = [find_extension(package, name) for package, name in EXTENSIONS]
    con = duckdb.connect(config={"autoinstall_known_extensions": "false",
                                 "autoload_known_extensions": "false"})
    try:
        for file in files:
            con.execute(f"LOAD {quote_literal(str(file))}")
        con.execute(f"SET ducklake_max_retry_count = {MAX_RETRY_COUNT}")
    except duckdb.Error as exc:
        con.close()
        raise LakeConnectError(f"cannot load the lake's extensions: {_first_line(exc)}") from None
    return con


def attach_namespace(con: duckdb.DuckDBPyConnection, conninfo: str, namespace: str, alias: str,
                     data_path: Path | str | None = None, *, read_only: bool = False) -> None:
    """Attach one more namespace of the lake to `con` as `alias` (the province reads every city's)."""
    try:
        _attach(con, attach_sql(conninfo, data_path, read_only=read_only, alias=alias, namespace=namespace))
    except duckdb.Error as exc:
        raise LakeConnectError(_attach_problem(exc, namespace, read_only)) from None


def _attach_problem(exc: duckdb.Error, namespace: str | None, read_only: bool) -> str:
    text = redact(_first_line(exc))
    if namespace and ("data_path is not set" in text or (read_only and "does not exist" in text)):
        return (f"the lake has no `{namespace}` yet: nothing of it was ever written. Run that city's "
                "ingest first (with a writer's pointer that names `data_path:`, as `carbonpeak lake "
                "init` writes it)")
    return f"cannot attach the lake: {text}"


# --- cities: one namespace each in the one catalog database ---------------------------------------

def city_namespace(city_code: str) -> str:
    """Where a city's tables live in the lake: `city_<code>`, its own DuckLake catalog schema.

    Each city is a DuckLake of its own in the shared PostgreSQL database and data path, so the same
    models and tables serve every city, and two cities' writers never conflict (DuckLake detects
    conflicts per table within one lake). The province's tables (warehouse/province.py) read them all.
    """
    if not CITY_CODE.fullmatch(str(city_code)):
        raise LakeConnectError(f"city code `{city_code}` is not a six-digit administrative division "
                               "code (e.g. 510700 for Mianyang); set `code:` in the city's city.yml")
    return f"city_{city_code}"


PROVINCE_NAMESPACE = "province"


def is_namespace(name: str) -> bool:
    """Whether `name` is one of ours: a city's (`city_<code>`) or the province's."""
    return name == PROVINCE_NAMESPACE or (name.startswith("city_") and bool(CITY_CODE.fullmatch(name[5:])))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# --- the lake as the warehouse: a pointer file in place of the DuckDB file -----------------------

POINTER_SUFFIX = ".lake"


@dataclass(frozen=True)
class LakePointer:
    """What `CARBONPEAK_WAREHOUSE=data/warehouse.lake` stands for: which lake, as whom.

    The warehouse setting stays a path, so the run lock, the downloads and the analysts' copy keep
    their places beside it; `warehouse.db.connect` opens the lake the file names instead of a file.
    """

    catalog: str  # libpq conninfo of the catalog database, with a passfile (never a password)
    data_path: str | None = None  # the lake's root: each namespace keeps its files in a folder of it
    read_only: bool = False

    def namespace_data_path(self, namespace: str) -> str | None:
        """Where `namespace` keeps its Parquet files: `<data_path>/<namespace>`; None for a reader."""
        if self.data_path is None or self.read_only:
            return None
        if re.match(r"[a-z][a-z0-9+.-]*://", self.data_path):
            return self.data_path.rstrip("/") + "/" + namespace + "/"
        return str(Path(self.data_path) / namespace)


def is_pointer(path: Path) -> bool:
    return Path(path).suffix == POINTER_SUFFIX


def require_lake(path: Path, what: str, error: type[Exception] = WarehouseError) -> None:
    """Refuse in one line when `path` (CARBONPEAK_WAREHOUSE) is a DuckDB file: `what` needs a lake."""
    if not is_pointer(path):
        raise error(f"`{path}` is a DuckDB file, not a lake: {what} need a lake; run `carbonpeak lake "
                    "init`, then set CARBONPEAK_WAREHOUSE to the pointer it wrote (data/warehouse.lake)")


def write_pointer(path: Path, pointer: LakePointer) -> Path:
    """Write the pointer file (`carbonpeak lake init` writes the writer's and the analysts')."""
    check_conninfo(pointer.catalog)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"catalog": pointer.catalog, "data_path": pointer.data_path, "read_only": pointer.read_only}
    path.write_text("# carbonpeak: this warehouse is a DuckLake (docs/province.md); written by "
                    "`carbonpeak lake init`\n" + yaml.safe_dump(body, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    return path


def read_pointer(path: Path) -> LakePointer:
    """The lake a pointer file names; one clear line when it is not one."""
    try:
        body = yamlio.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LakeConnectError(f"`{path}` does not exist; `carbonpeak lake init` writes it") from None
    except OSError as exc:  # a folder, no permission
        raise LakeConnectError(f"cannot read the lake pointer `{path}`: {exc.strerror}") from None
    except (yaml.YAMLError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("catalog"), str) or set(body) - {
            "catalog", "data_path", "read_only"}:
        raise LakeConnectError(f"`{path}` is not a lake pointer: expected `catalog:` (a conninfo), and "
                               "optionally `data_path:` and `read_only:`; `carbonpeak lake init` writes one")
    data_path = body.get("data_path")
    return LakePointer(check_conninfo(body["catalog"]), None if data_path is None else str(data_path),
                       bool(body.get("read_only", False)))


def connect_pointer(path: Path, namespace: str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """`namespace` (a city's, or the province's) of the lake a pointer file names, attached as `lake`.

    Read-only when asked or when the pointer says so.
    """
    pointer = read_pointer(path)
    return connect_lake(pointer.catalog, pointer.namespace_data_path(namespace),
                        read_only=read_only or pointer.read_only, namespace=namespace)
