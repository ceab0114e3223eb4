"""A small dbt-like runner: `.sql` models with `ref`, `source` and `config`, built in order.

Models live in `dbt_like_sql/<layer>/<name>.sql`; the layer folder is the schema (staging, marts,
kpi). A `<name>.yml` beside a model, in dbt's layout (`version: 2`, `models:`), describes it
(descriptions become `COMMENT ON`), names its `grain` (under `config: {meta: ...}`) and declares its
`data_tests` (`warehouse.model_tests`); dbt-core reads the same files (`dbt_project.yml`).
Everything is built, then tested, in one transaction: a failing model or a failing error-severity
test leaves the previous warehouse.
The build also (re)creates the as-of macros `meta.as_of_load` / `meta.as_of_date` over the raw
vintages. See dbt_like_sql/README.md. What the .yml files declare is read in
`warehouse.model_properties`; the KPI views kpis.yml declares come in as `generated` models.

Why ~360 lines: discovering, ordering (`--select`), compiling and building in one transaction
are one mechanism whose steps share the Model; split further, each part would need the others.
"""

from __future__ import annotations

import graphlib
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from warehouse import incremental as incremental_sql
from warehouse import model_tests
from warehouse.backend import is_lake
from warehouse.db import relations, sql_literal
from warehouse.errors import ModelError
from warehouse.model_config import find_config, without_config
from warehouse.model_properties import (
    columns_of,
    grain_of,
    read_declared_sources,
    read_properties,
    read_sources,
)
from warehouse.model_tests import ModelTest
from warehouse.raw import LINEAGE_COLUMNS, ensure_meta

log = logging.getLogger(__name__)

LAYERS = ("staging", "marts", "kpi")
_REF = re.compile(r"\{\{\s*ref\(\s*['\"]([\w]+)['\"]\s*\)\s*\}\}")
_SOURCE = re.compile(r"\{\{\s*source\(\s*['\"](\w+)['\"]\s*,\s*['\"](\w+)['\"]\s*\)\s*\}\}")
_LEFTOVER = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
# relationships tests name their parent as in dbt, without the braces
_YML_REF = re.compile(r"\s*ref\(\s*['\"](\w+)['\"]\s*\)\s*")
_YML_SOURCE = re.compile(r"\s*source\(\s*['\"](\w+)['\"]\s*,\s*['\"](\w+)['\"]\s*\)\s*")


@dataclass(frozen=True)
class Model:
    name: str
    schema: str
    path: Path
    sql: str  # with refs and sources still in place
    materialized: str
    refs: tuple[str, ...]
    sources: tuple[tuple[str, str], ...]
    description: str = ""
    columns: tuple[tuple[str, str], ...] = ()  # (column, description)
    grain: tuple[str, ...] = ()  # the columns that identify a row
    tests: tuple[ModelTest, ...] = ()
    unique_key: tuple[str, ...] = ()  # an incremental model's (warehouse/incremental.py)
    pre_hooks: tuple[str, ...] = ()  # SQL run before an incremental build's rows (with Jinja)

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def kind(self) -> str:
        """What the database holds: a view, or a table (an incremental model is a table)."""
        return "view" if self.materialized == "view" else "table"


def ensure_declared_sources(con: duckdb.DuckDBPyConnection, project: Path) -> list[str]:
    """Create, empty, every declared raw table no department has loaded yet.

    A city that publishes only some datasets still gets every model built: KPIs whose data is
    missing come out as insufficient_data instead of the build failing.
    """
    ensure_meta(con)  # bookkeeping tables are ours (keys, checks), never made from a declaration
    created = []
    declared = read_declared_sources(project).values()
    # one listing per schema, not a lookup per source: every task of an ingest run asks again
    held = {schema: set(relations(con, schema)) for schema in {s.relation.split(".")[0] for s in declared}}
    for source in declared:
        schema, table = source.relation.split(".")
        if table in held[schema] or not source.columns:
            continue
        columns = [f'"{name}" {data_type}' for name, data_type in source.columns]
        if not any(name == "_load_seq" for name, _ in source.columns):  # a partitioned table
            columns += [f"{name} {ddl}" for name, ddl in LINEAGE_COLUMNS.items()]  # declares its own
        con.execute(f"create schema if not exists {schema}")
        con.execute(f"create table {source.relation} ({', '.join(columns)})")
        created.append(source.relation)
    return created


def lineage(models: dict[str, Model], sources: dict[tuple[str, str], str]) -> list[tuple[str, str]]:
    """(model relation, source relation) for every source a model depends on, transitively."""
    memo: dict[str, set[str]] = {}

    def upstream(name: str) -> set[str]:
        if name not in memo:
            model = models[name]
            found = {sources[key] for key in model.sources if key in sources}
            for ref in model.refs:
                found |= upstream(ref)
            memo[name] = found
        return memo[name]

    return sorted((models[name].relation, source) for name in models for source in upstream(name))


def discover(project: Path, generated: Sequence = ()) -> dict[str, Model]:
    """Every model under the layer folders of `project`, and the `generated` ones, by name.

    `generated` are models made from configuration (warehouse/kpi_views.py: one view per KPI of
    kpis.yml, and kpi_series): each has a name, a schema (layer), its SQL and its properties in
    dbt's layout, as a file pair would.
    """
    models: dict[str, Model] = {}
    for layer in LAYERS:
        for path in sorted((project / layer).glob("*.sql")):
            yml = path.with_suffix(".yml")
            _add(models, _model(path.stem, layer, path, path.read_text(encoding="utf-8"),
                                read_properties(yml, path.stem), yml))
    for g in generated:
        path = project / g.schema / f"{g.name}.sql"  # where `carbonpeak dbt-project` writes it
        _add(models, _model(g.name, g.schema, path, g.sql, g.properties, path.with_suffix(".yml")))
    return models


def _add(models: dict[str, Model], model: Model) -> None:
    if model.name in models:
        raise ModelError(model.name, f"defined twice: `{models[model.name].path}` and `{model.path}` "
                         "(a KPI declared in kpis.yml has its view generated: delete the file)")
    models[model.name] = model


def _model(name: str, layer: str, path: Path, sql: str, entry: dict, yml: Path) -> Model:
    found = find_config(name, sql)
    config = found[2] if found else {}
    materialized, key, hooks = config.get("materialized", "view"), (), ()
    if materialized not in ("view", "table", "incremental"):
        raise ModelError(name, f"`{path}`: config() needs materialized='view', 'table' or "
                         "'incremental'")
    known = incremental_sql.CONFIG_KEYS if materialized == "incremental" else ("materialized",)
    unknown = sorted(set(config) - set(known), key=str)
    if unknown:
        raise ModelError(name, f"`{path}`: config() argument `{unknown[0]}` is not understood for a "
                         f"{materialized} model; understood: {', '.join(known)}")
    if materialized == "incremental":
        settings = incremental_sql.settings(config)
        if isinstance(settings, str):
            raise ModelError(name, f"`{path}`: an incremental model's config() {settings}")
        key, hooks = settings
    return Model(
        name=name, schema=layer, path=path, sql=sql, materialized=materialized,
        refs=tuple(dict.fromkeys(_REF.findall(sql))),
        sources=tuple(dict.fromkeys(_SOURCE.findall(sql))),
        description=str(entry.get("description", "")).strip(),
        columns=columns_of(yml, name, entry),
        grain=grain_of(yml, name, entry),
        tests=model_tests.parse_tests(name, yml, entry),
        unique_key=key,
        pre_hooks=hooks,
    )


def build_order(models: dict[str, Model], select: str | None = None) -> list[Model]:
    """Models in dependency order, all or the `select`ed ones.

    `select`: `name` (just it), `name+` (it and its children, transitively), `+name` (it and its
    parents), `+name+` (both).
    """
    graph = {}
    for model in models.values():
        for ref in model.refs:
            if ref not in models:
                known = ", ".join(sorted(models))
                raise ModelError(model.name, f"`{{{{ ref('{ref}') }}}}` names no model; known "
                                 f"models: {known}")
        graph[model.name] = set(model.refs)
    try:
        order = list(graph_order(graph))
    except graphlib.CycleError as exc:
        raise ModelError(exc.args[1][0], "refs form a cycle: " + " -> ".join(exc.args[1])) from None
    if select:
        root = select.strip("+")
        if root not in models:
            raise ModelError(root, "no such model to select; known models: " + ", ".join(sorted(models)))
        chosen = {root}
        if select.endswith("+"):
            for name in order:  # children come after their parents
                if set(graph[name]) & chosen:
                    chosen.add(name)
        if select.startswith("+"):
            parents, todo = set(), [root]
            while todo:
                for ref in graph[todo.pop()] - parents:
                    parents.add(ref)
                    todo.append(ref)
            chosen |= parents
        order = [name for name in order if name in chosen]
    return [models[name] for name in order]


def graph_order(graph: dict[str, set[str]]) -> list[str]:
    """Topological order, ties broken by name so builds are repeatable."""
    sorter = graphlib.TopologicalSorter(graph)
    sorter.prepare()
    order = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        order.extend(ready)
        sorter.done(*ready)
    return order


def compile_sql(model: Model, models: dict[str, Model], sources: dict[tuple[str, str], str],
                incremental: bool = False) -> str:
    """Replace refs and sources with relations, drop config(); refuse any other Jinja.

    `{% if is_incremental() %}` blocks and `{{ this }}` are rendered for a whole build, or for an
    incremental one (`incremental`).
    """
    return _compile(model, without_config(model.sql, find_config(model.name, model.sql)), models,
                    sources, incremental)


def _compile(model: Model, sql: str, models: dict[str, Model], sources: dict[tuple[str, str], str],
             incremental: bool) -> str:
    """`compile_sql` of any SQL text of the model (its body, or a hook)."""
    def source(match: re.Match) -> str:
        key = (match.group(1), match.group(2))
        if key not in sources:
            known = ", ".join(f"{s}.{t}" for s, t in sorted(sources))
            raise ModelError(model.name, f"`source('{key[0]}', '{key[1]}')` is not declared in "
                             f"sources.yml; declared: {known}")
        return sources[key]

    sql = incremental_sql.render(sql, model.relation, incremental)
    sql = _REF.sub(lambda m: models[m.group(1)].relation, sql)
    sql = _SOURCE.sub(source, sql)
    leftover = _LEFTOVER.search(sql)
    if leftover:
        raise ModelError(model.name, f"unsupported template `{leftover.group(0)}`: only ref(), "
                         "source(), config() and an incremental model's is_incremental() and this "
                         "are understood")
    return sql.strip().rstrip(";")


def build_models(con: duckdb.DuckDBPyConnection, project: Path, select: str | None = None,
                 seed: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
                 generated: Sequence = (), full_refresh: bool = False) -> list[Model]:
    """Build the selected models (default all) and run their tests in one transaction.

    Returns what was built. `seed` runs first inside the same transaction (e.g. loading the KPI
    catalogue), so a model that fails also undoes it. A failing test of severity `error` rolls
    everything back and raises ModelError; a failing `warn` test is logged. Either way the results
    of the selected models' tests are kept in `meta.model_test_results`. `generated` are the
    models made from configuration (the KPI views of kpis.yml), built with the others.
    `full_refresh` builds incremental models whole, as `dbt build --full-refresh` does.
    """
    models = discover(project, generated)
    sources = read_sources(project)
    order = build_order(models, select)
    compiled = [(m, compile_sql(m, models, sources), _hooks(m, models, sources, False),
                 _increment(m, models, sources, full_refresh)) for m in order]
    planned = [(t, m.relation, model_tests.compile_test(t, m.relation, m.grain,
                                                        lambda to, m=m: _resolve(to, m, models, sources)))
               for m in order for t in m.tests]
    con.execute("begin transaction")
    try:
        for schema in LAYERS:
            con.execute(f"create schema if not exists {schema}")
        if seed is not None:
            seed(con)
        ensure_declared_sources(con, project)
        for model, sql, hooks, increment in compiled:
            _build_one(con, model, sql, hooks, increment)
        _record_lineage(con, lineage(models, sources))
        # Day-file tables keep vintages per day (meta.partitions), not per key and load time:
        # the as-of macros cover the tables whose rows carry `_loaded_at`.
        timed = {f"{s}.{t}" for s, t in con.execute(
            "select schema_name, table_name from duckdb_columns() where column_name = '_loaded_at' "
            "and database_name = current_database()").fetchall()}
        create_vintage_macros(con, {r: k for r, k in raw_keys(models, sources).items() if r in timed})
        results = model_tests.run_tests(con, planned)
        model_tests.log_results(results)
        failed = [r for r in results if r.status == "fail"]
        if not failed:
            _record_test_results(con, results, order, models)
            con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    if failed:
        con.execute("rollback")
        # the failure is kept for `carbonpeak sql`; the models are not
        con.execute("begin transaction")
        _record_test_results(con, results, order, models)
        con.execute("commit")
        raise ModelError(failed[0].test.model, model_tests.failure_message(failed))
    return order


def _increment(model: Model, models: dict[str, Model], sources: dict[tuple[str, str], str],
               full_refresh: bool) -> tuple[tuple[str, ...], str] | None:
    """An incremental model's (pre-hooks, SQL) for a build that adds to its table, else None."""
    if model.materialized != "incremental" or full_refresh:
        return None
    return _hooks(model, models, sources, True), compile_sql(model, models, sources, incremental=True)


def _hooks(model: Model, models: dict[str, Model], sources: dict[tuple[str, str], str],
           incremental: bool) -> tuple[str, ...]:
    """The model's pre-hooks for a whole (or incremental) build, as dbt runs them on both.

    Empty ones (an `{% if is_incremental() %}` hook on a whole build) are left out.
    """
    return tuple(filter(None, (_compile(model, h, models, sources, incremental) for h in model.pre_hooks)))


def _build_one(con: duckdb.DuckDBPyConnection, model: Model, sql: str, hooks: tuple[str, ...],
               increment: tuple[tuple[str, ...], str] | None) -> None:
    """Build one model whole, or (an incremental model whose table exists) its new rows only."""
    kind = model.kind
    # A view may turn into a table (or back): drop whichever kind is there first.
    other = "table" if kind == "view" else "view"
    exists_as_other = con.execute(
        "select count(*) from duckdb_" + ("tables" if other == "table" else "views") +
        "() where schema_name = ? and " + ("table_name" if other == "table" else "view_name") +
        " = ? and database_name = current_database()", [model.schema, model.name]).fetchone()[0]
    if exists_as_other:
        con.execute(f"drop {other} {model.relation}")
    try:
        changed = None
        if increment is not None and model.name in relations(con, model.schema) and \
                incremental_sql.same_columns(con, model.relation, sql):
            changed = incremental_sql.build_rows(con, model.relation, *increment, model.unique_key)
        if changed is None:  # a whole build: the first, a full refresh, or the columns changed
            for hook in hooks:
                con.execute(hook)
            con.execute(f"create or replace {kind} {model.relation} as\n{sql}")
        else:
            log.info("%s: incremental, %d row(s) replaced by %d", model.relation, *changed)
    except duckdb.Error as exc:
        raise ModelError(model.name, f"`{model.path}` failed to build: "
                         f"{str(exc).splitlines()[0]}") from None
    columns = [d[0] for d in con.execute(f"select * from {model.relation} limit 0").description]
    missing = [g for g in model.grain if g not in columns]
    if missing:
        raise ModelError(model.name, f"`{model.path.with_suffix('.yml')}`: grain column "
                         f"`{missing[0]}` is not a column of the model; its columns: {', '.join(columns)}")
    _comment(con, model)
    log.info("built %s %s", model.materialized, model.relation)


def _resolve(to: str, model: Model, models: dict[str, Model], sources: dict[tuple[str, str], str]) -> str:
    """The relation a relationships test points at: `ref('m')` or `source('s', 't')`."""
    ref, source = _YML_REF.fullmatch(to), _YML_SOURCE.fullmatch(to)
    if ref and ref.group(1) in models:
        return models[ref.group(1)].relation
    if source and (source.group(1), source.group(2)) in sources:
        return sources[(source.group(1), source.group(2))]
    raise ModelError(model.name, f"`{model.path.with_suffix('.yml')}`: relationships `to: {to}` names "
                     "no model or declared source; write ref('model') or source('raw', 'table'); known "
                     "models: " + ", ".join(sorted(models)))


def _record_test_results(con: duckdb.DuckDBPyConnection, results: list, order: list[Model],
                         models: dict[str, Model]) -> None:
    model_tests.record_results(con, results, tested={m.relation for m in order},
                               known={m.relation for m in models.values()})


def raw_keys(models: dict[str, Model], sources: dict[tuple[str, str], str]) -> dict[str, tuple[str, ...]]:
    """Raw relation -> the columns that identify a fact in it.

    A staging model that reads one raw table alone is that table's current vintage (the highest
    `_load_seq` per key), so its `grain` is the raw table's key.
    """
    keys: dict[str, tuple[str, ...]] = {}
    for model in sorted(models.values(), key=lambda m: m.name):
        if (model.schema == "staging" and model.grain and not model.refs and len(model.sources) == 1
                and model.sources[0] in sources):
            keys.setdefault(sources[model.sources[0]], model.grain)
    return keys


def create_vintage_macros(con: duckdb.DuckDBPyConnection, keys: dict[str, tuple[str, ...]]) -> None:
    """Create the as-of macros over the raw vintages.

    `meta.as_of_load(raw_table, load_seq)` and `meta.as_of_date(raw_table, as_of)` return each
    fact of a raw table in its latest vintage loaded by load N, or loaded at or before a time
    (its `_loaded_at`). Both find the table's key with `meta.raw_key(raw_table)`, written here
    from `keys`.
    """
    cases = " ".join(f"when {sql_literal(relation)} then [{', '.join(sql_literal(c) for c in columns)}]"
                     for relation, columns in sorted(keys.items()))
    lookup = f"case raw_table {cases} else null end" if cases else "cast(null as varchar[])"
    con.execute("create schema if not exists meta")
    con.execute(f"create or replace macro meta.raw_key(raw_table) as {lookup}")
    latest = """
        select * exclude (_vintage_key) from (
            select *, row(*columns(c -> list_contains(meta.raw_key(raw_table), c))) as _vintage_key
            from query_table(raw_table)
            where {condition})
        qualify row_number() over (partition by _vintage_key order by _load_seq desc) = 1"""
    con.execute("create or replace macro meta.as_of_load(raw_table, load_seq) as table"
                + latest.format(condition="_load_seq <= load_seq"))
    con.execute("create or replace macro meta.as_of_date(raw_table, as_of) as table"
                + latest.format(condition="_loaded_at <= cast(as_of as timestamptz)"))


def _record_lineage(con: duckdb.DuckDBPyConnection, pairs: list[tuple[str, str]]) -> None:
    con.execute("create schema if not exists meta")
    con.execute("create or replace table meta.lineage (model varchar, source varchar)")
    if pairs:
        con.executemany("insert into meta.lineage values (?, ?)", pairs)


def _comment(con: duckdb.DuckDBPyConnection, model: Model) -> None:
    kind = model.kind.upper()
    if model.description:
        con.execute(f"comment on {kind} {model.relation} is {sql_literal(model.description)}")
    if model.materialized == "view" and is_lake(con):
        return  # DuckLake keeps no column comments on views; the model's .yml still has them
    for column, text in model.columns:
        if text:
            con.execute(f"comment on column {model.relation}.\"{column}\" is {sql_literal(text)}")
