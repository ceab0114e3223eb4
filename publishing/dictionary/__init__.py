"""The data dictionary: a static, offline HTML catalogue of the warehouse and of the plan's KPIs.

`build_dictionary` reads a warehouse connection (it only reads) and the project's model files, and
writes `index.html`, one page per KPI (`kpi/<kpi_id>.html`: its plan clause, checkpoints and status,
and the lineage from its view through the models to the raw tables and the departments they come
from) and one per table or view (`tables/<schema>.<name>.html`: description, columns with type,
unit and description, row count, what it reads and what reads it). Every style is inline, so the
pages open from disk with no network.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import duckdb

from connectors.spec import SourcesConfig
from publishing.dictionary.catalog import Catalog, read_catalog
from publishing.dictionary.render import kpi_path, relation_path, render_index, render_kpi, render_relation

log = logging.getLogger(__name__)

__all__ = ["Catalog", "Dictionary", "build_dictionary", "read_catalog", "write_dictionary"]


@dataclass(frozen=True)
class Dictionary:
    index: Path
    kpis: int
    relations: int

    @property
    def pages(self) -> int:
        return 1 + self.kpis + self.relations


def build_dictionary(con: duckdb.DuckDBPyConnection, out: Path, project: Path,
                     sources: SourcesConfig | None = None, kpis_file: Path | None = None) -> Dictionary:
    """Read the warehouse behind `con` and the models in `project`; write the site into `out`."""
    return write_dictionary(read_catalog(con, project, sources, kpis_file), out)


def write_dictionary(catalog: Catalog, out: Path) -> Dictionary:
    """Write the pages of `catalog` into `out`, replacing the pages of an earlier build."""
    for folder in ("kpi", "tables"):
        (out / folder).mkdir(parents=True, exist_ok=True)
        for old in (out / folder).glob("*.html"):  # a KPI or table that is gone leaves no page behind
            old.unlink()
    for kpi in catalog.kpis:
        _write(out / kpi_path(kpi.kpi_id), render_kpi(kpi, catalog))
    for relation in catalog.relations.values():
        _write(out / relation_path(relation.relation), render_relation(relation, catalog))
    index = out / "index.html"
    _write(index, render_index(catalog))
    log.info("data dictionary: %d KPI and %d table pages in %s", len(catalog.kpis), len(catalog.relations),
             out)
    return Dictionary(index=index, kpis=len(catalog.kpis), relations=len(catalog.relations))


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
