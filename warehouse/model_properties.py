"""What the project's .yml files declare, in dbt's layout: the sources, and each model's properties.

`sources.yml` names every table a model may read (and the columns of raw tables, so an empty one
can be created); `<model>.yml` beside a model holds `version: 2` and `models:` with its
description, columns, grain (under `config.meta`) and tests. The runner (warehouse/models.py)
reads them here; so does the data dictionary.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from core import yamlio
from warehouse.errors import ModelError


def _read_yaml(path: Path, model: str) -> dict | None:
    if not path.exists():
        return None
    try:
        return yamlio.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ModelError(model, f"`{path}` is not valid YAML: {str(exc).splitlines()[0]} "
                         f"(quote text that contains ': ')") from None


@dataclass(frozen=True)
class Source:
    relation: str
    columns: tuple[tuple[str, str], ...]  # (name, data_type) when declared


def read_declared_sources(project: Path) -> dict[tuple[str, str], Source]:
    """(source name, table) -> its relation and declared columns, from `sources.yml`."""
    doc = _read_yaml(project / "sources.yml", "sources.yml") or {}
    found = {}
    for source in doc.get("sources", []):
        schema = source.get("schema", source["name"])
        for table in source.get("tables", []):
            columns = tuple((c["name"], c["data_type"]) for c in table.get("columns", [])
                            if "data_type" in c)
            found[(source["name"], table["name"])] = Source(f"{schema}.{table['name']}", columns)
    return found


def read_sources(project: Path) -> dict[tuple[str, str], str]:
    """(source name, table) -> relation, from `sources.yml`."""
    return {key: source.relation for key, source in read_declared_sources(project).items()}


# what dbt reads in a model's properties; anything else is most likely a key of the old layout
MODEL_KEYS = ("name", "description", "config", "meta", "columns", "data_tests", "tests", "docs",
              "constraints", "access", "group", "latest_version", "versions", "deprecation_date")
COLUMN_KEYS = ("name", "description", "data_tests", "tests", "data_type", "meta", "config", "quote",
               "constraints")
LAYOUT = ("write `version: 2` and `models:` with one entry `- name: {model}` holding "
          "`description`, `columns` and `data_tests`, and the grain under `config: {{meta: {{grain: "
          "[...]}}}}` (see dbt_like_sql/README.md)")


def read_properties(yml: Path, model: str) -> dict:
    """The entry of `model` under `models:` in its `.yml` (dbt's layout), {} without a `.yml`."""
    doc = _read_yaml(yml, model)
    if doc is None:
        return {}
    layout = LAYOUT.format(model=model)
    if not isinstance(doc, dict) or not isinstance(doc.get("models"), list) or doc.get("version", 2) != 2:
        raise ModelError(model, f"`{yml}` is not in dbt's layout; {layout}")
    extra = [key for key in doc if key not in ("version", "models")]
    if extra:
        raise ModelError(model, f"`{yml}`: unknown top-level key `{extra[0]}`; a model's .yml holds only "
                         "`version: 2` and `models:` (sources are declared in sources.yml)")
    names = [entry.get("name") if isinstance(entry, dict) else entry for entry in doc["models"]]
    if names != [model] or not isinstance(doc["models"][0], dict):
        raise ModelError(model, f"`{yml}` describes {', '.join(f'`{n}`' for n in names) or 'no model'}; "
                         f"it must describe only the model beside it, `{model}`: {layout}")
    entry = doc["models"][0]
    unknown = [key for key in entry if key not in MODEL_KEYS]
    if unknown:
        hint = ("custom keys such as `grain` go under `config: {meta: {...}}`" if unknown[0] == "grain"
                else "quote a description that contains ', ' or ': '")
        raise ModelError(model, f"`{yml}`: model `{model}` has an unknown key `{unknown[0]}`; known keys: "
                         f"{', '.join(MODEL_KEYS)} ({hint})")
    return entry


def columns_of(yml: Path, model: str, entry: dict) -> tuple[tuple[str, str], ...]:
    found = []
    columns = entry.get("columns") or []
    if not isinstance(columns, list):
        raise ModelError(model, f"`{yml}`: `columns` must be a list of `- name: ...` entries")
    for column in columns:
        if not isinstance(column, dict) or "name" not in column:
            raise ModelError(model, f"`{yml}`: every entry of `columns` needs a `name`; got `{column}`")
        unknown = [k for k in column if k not in COLUMN_KEYS]
        if unknown:  # `{name: x, description: a, b}` reads as description "a" and a key "b"
            raise ModelError(model, f"`{yml}`: column `{column['name']}` has an unknown key "
                             f"`{unknown[0]}`; known keys: {', '.join(COLUMN_KEYS)} "
                             "(quote a description that contains ', ' or ': ')")
        found.append((column["name"], str(column.get("description", "")).strip()))
    return tuple(found)


def grain_of(yml: Path, model: str, entry: dict) -> tuple[str, ...]:
    """`config: {meta: {grain: [...]}}` (or `meta: {grain: [...]}`, which dbt also reads)."""
    config = entry.get("config") or {}
    metas = [config.get("meta") or {} if isinstance(config, dict) else None, entry.get("meta") or {}]
    if not all(isinstance(meta, dict) for meta in metas):
        raise ModelError(model, f"`{yml}`: `config` and `meta` must be mappings, e.g. "
                         "`config: {meta: {grain: [year]}}`")
    grain = next((meta["grain"] for meta in metas if "grain" in meta), [])
    if not isinstance(grain, list) or not all(isinstance(g, str) for g in grain):
        raise ModelError(model, f"`{yml}`: `grain` is the list of columns that identify a row, "
                         "e.g. `config: {meta: {grain: [year, county_name]}}`")
    return tuple(grain)
