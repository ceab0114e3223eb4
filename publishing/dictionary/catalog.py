"""What the data dictionary shows, read from the warehouse (read-only) and the project's files.

Relations, columns and their `COMMENT ON` texts come from DuckDB's own catalogue; the raw and meta
tables, which carry no comments, are described by `dbt_like_sql/sources.yml` and the city's
`sources.yml` (which also says where each raw table comes from, and in what unit the department
publishes each column). The model graph is the runner's: `ref()` / `source()` in the `.sql` files,
and `meta.lineage` for the raw tables each model reads.

Why ~370 lines: it joins four sources of truth (DuckDB's catalogue, the model files, the
city's sources.yml and kpis.yml) into one Catalog; each reader is short, the joins need all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
import yaml

from connectors.spec import SourcesConfig
from connectors.units import CONVERSIONS
from core import yamlio
from publishing.dictionary.units import SUFFIXES, infer_unit
from warehouse.catalogue import read_catalogue
from warehouse.db import SCHEMAS, as_dicts
from warehouse.kpi_views import generated_models
from warehouse.model_properties import read_sources
from warehouse.models import discover, lineage

# What every raw row carries besides the dataset's own columns (warehouse.raw.LINEAGE_COLUMNS).
LINEAGE_DOCS = {
    "_row_hash": "md5 of the row's canonical values: the same hash is the same fact",
    "_load_id": "the load that wrote the row (meta.load_log.load_id)",
    "_load_seq": "order of the loads: the highest per key is the current vintage",
    "_source": "department.dataset the row came from",
    "_source_url": "URL or file the row was read from",
    "_row_number": "position of the row in the feed it came from",
    "_fetched_at": "when the source was fetched",
    "_loaded_at": "when the row was written",
}


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    description: str = ""
    unit: str = ""
    published: str = ""  # raw columns: the department's header and unit, e.g. 森林面积 (公顷)


@dataclass(frozen=True)
class Origin:
    """Where a raw table's rows come from: a department's dataset, and its latest load."""

    department: str
    department_zh: str
    department_en: str
    dataset: str
    description: str
    format: str
    path: str  # on the department's server, as configured in sources.yml
    cadence: str
    url_env: str
    landing_env: str | None
    last_url: str | None = None  # meta.load_log: the latest batch that brought something
    last_fetched_at: dt.datetime | None = None
    last_sha256: str | None = None
    loads: int = 0
    health: str | None = None  # meta.source_health: ok | failed at the last run
    error: str | None = None


@dataclass(frozen=True)
class Relation:
    schema: str
    name: str
    kind: str  # table | view
    description: str
    columns: tuple[Column, ...]
    row_count: int | None  # tables only: a view would have to be computed
    model_path: str | None = None  # dbt_like_sql/<layer>/<name>.sql for a model
    sql: str | None = None
    upstream: tuple[str, ...] = ()  # relations it reads directly (ref and source)
    downstream: tuple[str, ...] = ()  # relations that read it directly
    raw_sources: tuple[str, ...] = ()  # raw tables it depends on, transitively (meta.lineage)
    origin: Origin | None = None

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class Checkpoint:
    year: int
    target_value: float
    qualifier: str
    tolerance: float | None
    note_en: str | None
    status: str | None = None  # from kpi.kpi_status
    status_reason: str | None = None
    latest_year: int | None = None
    latest_value: float | None = None
    projected_value: float | None = None
    gap: float | None = None


@dataclass(frozen=True)
class Kpi:
    kpi_id: str
    name_zh: str
    name_en: str
    unit: str
    unit_en: str | None
    direction: str
    base_year: int | None
    section: str
    quote: str | None
    sector: str | None
    pending: str | None
    after_last_checkpoint: str | None
    checkpoints: tuple[Checkpoint, ...]
    definition: tuple[str, str, str] | None  # (choice, zh, en) where departments define it differently
    view: str | None  # kpi.kpi_<sector>__<kpi_id>, the view that computes it
    models: tuple[str, ...]  # the view and every model upstream of it, from the KPI towards raw
    sources: tuple[str, ...]  # the raw (and config) tables those models read


@dataclass(frozen=True)
class Catalog:
    relations: dict[str, Relation]  # by schema.name, in schema order
    kpis: tuple[Kpi, ...]
    edges: dict[str, tuple[str, ...]]  # relation -> the relations it reads directly
    plan: str = ""  # 《绵阳市碳达峰实施方案》
    city: str = ""
    data_as_of: dt.datetime | None = None  # the latest load in meta.load_log

    def kpis_reading(self, relation: str) -> list[Kpi]:
        """KPIs computed from `relation` (a model or a source of one)."""
        return [k for k in self.kpis if relation in k.models or relation in k.sources]


def read_catalog(con: duckdb.DuckDBPyConnection, project: Path, sources: SourcesConfig | None = None,
                 kpis_file: Path | None = None) -> Catalog:
    """Everything the dictionary shows. `con` is only read from.

    With `kpis_file`, the KPI views it declares (generated, warehouse/kpi_views.py) are models too.
    """
    generated = []
    if kpis_file is not None and kpis_file.exists():
        generated = generated_models(read_catalogue(kpis_file), kpis_file.name)
    models = discover(project, generated)
    declared = read_sources(project)
    edges = {m.relation: tuple([models[r].relation for r in m.refs if r in models] +
                               [declared[s] for s in m.sources if s in declared])
             for m in models.values()}
    recorded = _rows(con, "select model, source from meta.lineage")
    pairs = recorded or lineage(models, declared)
    raw_sources: dict[str, list[str]] = {}
    for model, source in pairs:
        raw_sources.setdefault(model, []).append(source)
    downstream: dict[str, list[str]] = {}
    for relation, upstream in edges.items():
        for parent in upstream:
            downstream.setdefault(parent, []).append(relation)

    descriptions = _declared_descriptions(project / "sources.yml")
    specs = {spec.table_name: spec for spec in (sources.datasets() if sources else ())}
    origins = _origins(con, sources)
    by_model = {m.relation: m for m in models.values()}
    kpi_units = _kpi_units(con)

    all_columns: dict[str, list[tuple[str, str, str | None]]] = {}
    for schema, name, column, data_type, comment in _rows(con, """
            select schema_name, table_name, column_name, data_type, comment from duckdb_columns()
            where database_name = current_database() order by schema_name, table_name, column_index"""):
        all_columns.setdefault(f"{schema}.{name}", []).append((column, data_type, comment))
    relations: dict[str, Relation] = {}
    for schema, name, kind, comment in _relations(con):
        relation = f"{schema}.{name}"
        model = by_model.get(relation)
        table_doc, column_docs = descriptions.get(relation, ("", {}))
        spec = specs.get(name) if schema == "raw" else None
        columns = [_column(relation, column, data_type, text or column_docs.get(column, ""), spec, kpi_units)
                   for column, data_type, text in all_columns.get(relation, [])]
        row_count = None
        if kind == "table":
            row_count = con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0]
        relations[relation] = Relation(
            schema=schema, name=name, kind=kind,
            description=comment or table_doc or (spec.description if spec else ""),
            columns=tuple(columns), row_count=row_count,
            model_path=_model_path(model, project, kpis_file),
            sql=model.sql if model else None,
            upstream=edges.get(relation, ()), downstream=tuple(sorted(downstream.get(relation, ()))),
            raw_sources=tuple(sorted(set(raw_sources.get(relation, ())))),
            origin=origins.get(name) if schema == "raw" else None)

    plan = _plan(kpis_file)
    loaded = _rows(con, "select max(loaded_at) from meta.load_log")
    return Catalog(relations=relations, kpis=tuple(_kpis(con, relations, edges)), edges=edges,
                   plan=plan.get("plan", ""), city=plan.get("city_zh", ""),
                   data_as_of=loaded[0][0] if loaded else None)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[tuple]:
    """Rows of `sql`, or none when what it reads is not in this warehouse (yet)."""
    try:
        return con.execute(sql, params or []).fetchall()
    except duckdb.CatalogException:
        return []


def _dicts(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    """Rows of `sql` as dicts, or none when what it reads is not in this warehouse (yet)."""
    try:
        return as_dicts(con.execute(sql))
    except duckdb.CatalogException:
        return []


def _relations(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str, str | None]]:
    found = _rows(con, """
        select schema_name, table_name, 'table', comment from duckdb_tables()
        where database_name = current_database() and not temporary
        union all
        select schema_name, view_name, 'view', comment from duckdb_views()
        where database_name = current_database() and not internal and not temporary""")
    order = {schema: n for n, schema in enumerate(SCHEMAS)}
    return sorted(found, key=lambda r: (order.get(r[0], len(order)), r[0], r[1]))


def _column(relation: str, name: str, data_type: str, description: str, spec, kpi_units: dict) -> Column:
    published, unit = "", ""
    if spec is not None:
        declared = next((c for c in spec.columns if c.name == name), None)
        if declared is not None:
            description = description or declared.description
            published = declared.source_field + (f" ({declared.unit})" if declared.unit else "")
            if declared.unit:  # stored in the canonical unit the connector converted it to
                canonical = CONVERSIONS[declared.unit][0]
                unit = SUFFIXES.get(canonical.lower(), canonical)
    description = description or (LINEAGE_DOCS.get(name, "") if relation.startswith("raw.") else "")
    if relation in kpi_units and name == "value":
        unit = kpi_units[relation]
    return Column(name=name, data_type=data_type, description=description,
                  unit=unit or infer_unit(name), published=published)


def _kpi_units(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """KPI view -> the unit of its `value` (the KPI's unit in the catalogue)."""
    views = [r[0] for r in _rows(con, "select view_name from duckdb_views() where schema_name = 'kpi' "
                                      "and database_name = current_database()")]
    units = {}
    for kpi_id, unit in _rows(con, "select kpi_id, unit from config.kpis"):
        view = _kpi_view(kpi_id, views)
        if view:
            units[f"kpi.{view}"] = unit
    return units


def _kpi_view(kpi_id: str, views: list[str]) -> str | None:
    # The same rule as kpi_status's: a KPI view is named kpi_<sector>__<kpi_id>.
    return next((v for v in sorted(views) if v.startswith("kpi_") and v.split("__", 1)[-1] == kpi_id), None)


def _model_path(model: object, project: Path, kpis_file: Path | None) -> str | None:
    """Where a model is written: its file, or the kpis.yml a generated KPI view comes from."""
    if model is None:
        return None
    if model.path.exists():
        return str(model.path.relative_to(project.parent))
    return f"generated from {kpis_file.name if kpis_file else 'kpis.yml'} (measure:)"


def _declared_descriptions(path: Path) -> dict[str, tuple[str, dict[str, str]]]:
    """schema.table -> (description, {column: description}) from `dbt_like_sql/sources.yml`."""
    if not path.exists():
        return {}
    doc = yamlio.safe_load(path.read_text(encoding="utf-8")) or {}
    found = {}
    for source in doc.get("sources", []):
        schema = source.get("schema", source["name"])
        for table in source.get("tables", []):
            found[f"{schema}.{table['name']}"] = (
                str(table.get("description", "")).strip(),
                {c["name"]: str(c.get("description", "")).strip() for c in table.get("columns", [])})
    return found


def _origins(con: duckdb.DuckDBPyConnection, sources: SourcesConfig | None) -> dict[str, Origin]:
    """Raw table -> its department's dataset, latest load and health."""
    if sources is None:
        return {}
    names_en = _department_names_en(Path(sources.file))
    last = {r[0]: r[1:] for r in _rows(con, """
        select dataset, arg_max(source_url, loaded_at), max(fetched_at), arg_max(payload_sha256, loaded_at),
               count(*)
        from meta.load_log where status = 'loaded' group by dataset""")}
    health = {r[0]: r[1:] for r in _rows(con, "select dataset, status, error from meta.source_health")}
    found = {}
    for dept in sources.departments:
        for spec in dept.datasets:
            url, fetched_at, sha256, loads = last.get(spec.table_name, (None, None, None, 0))
            status, error = health.get(spec.table_name, (None, None))
            found[spec.table_name] = Origin(
                department=dept.name, department_zh=dept.name_zh, department_en=names_en.get(dept.name, ""),
                dataset=spec.name, description=spec.description, format=spec.format, path=spec.path,
                cadence=dept.cadence, url_env=dept.url_env, landing_env=spec.landing_env,
                last_url=url, last_fetched_at=fetched_at, last_sha256=sha256, loads=loads,
                health=status, error=error)
    return found


def _department_names_en(path: Path) -> dict[str, str]:
    # DepartmentSpec keeps only the Chinese name; the English one is beside it in the file.
    try:
        doc = yamlio.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}
    return {name: str(body.get("name_en", "")) for name, body in (doc.get("departments") or {}).items()
            if isinstance(body, dict)}


def _plan(kpis_file: Path | None) -> dict:
    if kpis_file is None or not kpis_file.exists():
        return {}
    doc = yamlio.safe_load(kpis_file.read_text(encoding="utf-8")) or {}
    return {key: str(doc[key]) for key in ("plan", "city_zh") if doc.get(key)}


def _kpis(con: duckdb.DuckDBPyConnection, relations: dict[str, Relation],
          edges: dict[str, tuple[str, ...]]) -> list[Kpi]:
    kpis = _dicts(con, "select * from config.kpis order by position")
    checkpoints: dict[str, list[dict]] = {}
    for cp in _dicts(con, "select * from config.kpi_checkpoints order by kpi_id, checkpoint_year"):
        checkpoints.setdefault(cp["kpi_id"], []).append(cp)
    try:
        status = {(r["kpi_id"], r["checkpoint_year"]): r for r in _dicts(con, "select * from kpi.kpi_status")}
    except duckdb.Error:  # a broken status view: the dictionary still shows the catalogue
        status = {}
    views = [r.name for r in relations.values() if r.schema == "kpi" and r.kind == "view"]
    found = []
    for kpi in kpis:
        view = _kpi_view(kpi["kpi_id"], views)
        view = f"kpi.{view}" if view else None
        upstream = _upstream(view, edges) if view else []
        found.append(Kpi(
            kpi_id=kpi["kpi_id"], name_zh=kpi["name_zh"], name_en=kpi["name_en"], unit=kpi["unit"],
            unit_en=kpi.get("unit_en"), direction=kpi["direction"], base_year=kpi.get("base_year"),
            section=kpi.get("section") or "", quote=kpi.get("quote"), sector=kpi.get("sector"),
            pending=kpi.get("pending"), after_last_checkpoint=kpi.get("after_last_checkpoint"),
            definition=(kpi["definition_choice"], kpi.get("definition_zh") or "",
                        kpi.get("definition_en") or "") if kpi.get("definition_choice") else None,
            checkpoints=tuple(_checkpoint(cp, status.get((kpi["kpi_id"], cp["checkpoint_year"]), {}))
                              for cp in checkpoints.get(kpi["kpi_id"], [])),
            view=view,
            models=tuple([view] if view else []) + tuple(r for r in upstream if r in edges),
            sources=tuple(sorted(r for r in upstream if r not in edges))))
    return found


def _upstream(relation: str, edges: dict[str, tuple[str, ...]]) -> list[str]:
    """Every relation `relation` reads, transitively, nearest first (breadth first)."""
    seen, queue = [], list(edges.get(relation, ()))
    while queue:
        parent = queue.pop(0)
        if parent not in seen:
            seen.append(parent)
            queue.extend(edges.get(parent, ()))
    return seen


def _checkpoint(cp: dict, status: dict) -> Checkpoint:
    return Checkpoint(
        year=cp["checkpoint_year"], target_value=cp["target_value"], qualifier=cp["qualifier"],
        tolerance=cp.get("tolerance"), note_en=cp.get("note_en"), status=status.get("status"),
        status_reason=status.get("status_reason"), latest_year=status.get("latest_year"),
        latest_value=status.get("latest_value"), projected_value=status.get("projected_value"),
        gap=status.get("gap"))
