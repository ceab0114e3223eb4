"""A catalog database of a test's own on the session's server, ready as `carbonpeak lake init` leaves it."""

from __future__ import annotations

from pathlib import Path

from flows.settings import PROJECT_ROOT
from lake.catalog import Catalog, create_catalog, grant_reads
from warehouse.lake import connect_lake
from warehouse.models import ensure_declared_sources
from warehouse.raw import ensure_meta


def ready_catalog(folder: Path, dbname: str, data_path: Path, namespaces: tuple[str | None, ...] = (None,)
                  ) -> tuple[Catalog, Catalog]:
    """The writer's and the analysts' way into a new lake whose bookkeeping and raw tables exist.

    In each of `namespaces`: None is the catalog's `public` one; a city's keeps its files under
    `data_path/<namespace>`, as a pointer's writer does (warehouse/lake.LakePointer).
    Made once before writers start: several first writers would all create the same tables.
    """
    writer, analyst = create_catalog(folder, dbname=dbname)
    for namespace in namespaces:
        con = connect_lake(writer.conninfo, data_path / namespace if namespace else data_path,
                           namespace=namespace)
        try:
            ensure_meta(con)
            ensure_declared_sources(con, PROJECT_ROOT / "dbt_like_sql")
        finally:
            con.close()
    grant_reads(folder, dbname)
    return writer, analyst
