"""The lake's catalog database in PostgreSQL and its two roles: the writer and the read-only analyst.

The writer owns the database, so DuckLake's first ATTACH can create its `ducklake_*` tables in
`public` (PostgreSQL 15 lets only the database owner create there). The analyst may connect and
select, now and on every table the writer creates later: DuckLake adds `ducklake_inlined_data_*`
tables as data arrives, hence ALTER DEFAULT PRIVILEGES (docs/research/ducklake-findings.md §6).
Each role's password is random and lives in a libpq password file in the server's folder
(`<role>.pgpass`, mode 0600), named by the conninfo's `passfile`: no password is printed or logged.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from lake.errors import LakeError
from lake.postgres import run_sql, server_status
from warehouse.lake import build_conninfo

DATABASE, WRITER, ANALYST = "lake", "lake_writer", "analyst"
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


@dataclass(frozen=True)
class Catalog:
    """How one role reaches the catalog database over TCP on 127.0.0.1."""

    port: int
    dbname: str
    user: str
    passfile: Path
    host: str = "127.0.0.1"

    @property
    def conninfo(self) -> str:
        return build_conninfo(dbname=self.dbname, host=self.host, port=self.port, user=self.user,
                              passfile=self.passfile)


def create_catalog(folder: Path, dbname: str = DATABASE, writer: str = WRITER,
                   analyst: str = ANALYST) -> tuple[Catalog, Catalog]:
    """Create (or bring up to date) the catalog database and both roles; the writer's and analyst's way in.

    Idempotent: a rerun keeps the passwords and changes nothing else.
    """
    for name in (dbname, writer, analyst):
        if not _NAME.fullmatch(name):
            raise LakeError(f"`{name}` is not a plain PostgreSQL name (lowercase letters, digits, _)")
    status = server_status(folder)
    passwords = {role: _password(status.folder, role) for role in (writer, analyst)}
    roles = "".join(
        f"SELECT 'CREATE ROLE {role} LOGIN' WHERE NOT EXISTS "
        f"(SELECT FROM pg_roles WHERE rolname = '{role}') \\gexec\n"
        f"ALTER ROLE {role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '{password}';\n"
        for role, password in passwords.items())
    run_sql(status.folder, roles + (
        f"SELECT 'CREATE DATABASE {dbname} OWNER {writer}' WHERE NOT EXISTS "
        f"(SELECT FROM pg_database WHERE datname = '{dbname}') \\gexec\n"
        f"REVOKE ALL ON DATABASE {dbname} FROM PUBLIC;\n"
        f"GRANT CONNECT ON DATABASE {dbname} TO {analyst};\n"))
    # Not `IN SCHEMA public`: each city's lake keeps its catalog in a schema of its own, made
    # by its first writer (warehouse/lake.city_namespace), and the analyst reads those too.
    run_sql(status.folder, f"GRANT USAGE ON SCHEMA public TO {analyst};\n"
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {writer} GRANT USAGE ON SCHEMAS TO {analyst};\n"
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {writer} GRANT SELECT ON TABLES TO {analyst};\n",
            dbname=dbname)
    grant_reads(folder, dbname, analyst)
    return catalog_for(folder, writer, dbname), catalog_for(folder, analyst, dbname)


def grant_reads(folder: Path, dbname: str = DATABASE, analyst: str = ANALYST) -> None:
    """Let the analyst read every schema and table there is now (later ones: default privileges)."""
    run_sql(folder, "DO $$ DECLARE s text; BEGIN FOR s IN SELECT nspname FROM pg_namespace WHERE "
            "nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' LOOP "
            f"EXECUTE format('GRANT USAGE ON SCHEMA %I TO {analyst}', s); "
            f"EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO {analyst}', s); "
            "END LOOP; END $$;\n", dbname=dbname)


def catalog_for(folder: Path, role: str, dbname: str = DATABASE) -> Catalog:
    status = server_status(folder)
    return Catalog(status.port, dbname, role, _passfile(status.folder, role))


def stored_data_path(folder: Path, dbname: str = DATABASE) -> str | None:
    """The data path DuckLake recorded at its first ATTACH, or None before that."""
    if not _has_metadata(folder, dbname):
        return None
    found = run_sql(folder, "SELECT value FROM ducklake_metadata WHERE key = 'data_path';\n", dbname=dbname)
    return found.strip() or None


def _has_metadata(folder: Path, dbname: str) -> bool:
    found = run_sql(folder, "SELECT to_regclass('public.ducklake_metadata') IS NOT NULL;\n", dbname=dbname)
    return found.strip() == "t"


def _passfile(folder: Path, role: str) -> Path:
    return folder / f"{role}.pgpass"


def _password(folder: Path, role: str) -> str:
    """The role's password from its password file, made (random, mode 0600) the first time."""
    path = _passfile(folder, role)
    if path.exists():
        line = path.read_text(encoding="utf-8").strip().splitlines()[-1]
        password = line.rsplit(":", 1)[-1]
        # it goes into `ALTER ROLE ... PASSWORD '...'`: only what token_urlsafe makes is taken
        if not re.fullmatch(r"[A-Za-z0-9_-]{16,}", password):
            raise LakeError(f"the password file `{path}` was changed by hand: its password must be "
                            "letters, digits, - and _ (16 or more); delete the file and rerun "
                            "`carbonpeak lake init` to make a new one", folder)
        return password
    password = secrets.token_urlsafe(24)  # letters, digits, - and _: safe in SQL and in a passfile
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise LakeError(f"cannot write the password file `{path}`: {exc.strerror}", folder) from None
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(f"# libpq password file of role {role} (any host, port, database)\n"
                  f"*:*:*:{role}:{password}\n")
    return password
