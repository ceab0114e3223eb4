"""Incremental models, built as dbt builds them: `materialized='incremental'`, `delete+insert`.

A model over data that only grows (a year of 15-minute readings is billions of rows) declares

    {{ config(materialized='incremental', unique_key='energy_date',
              incremental_strategy='delete+insert') }}

and writes what a later build reads between `{% if is_incremental() %} … {% else %} … {% endif %}`
(`{{ this }}` is the model's own table). The first build, a build with `full_refresh`, or a table
whose columns (names and types) are no longer the model's, builds the table whole from the `else`
side. Later builds run the model's `pre_hook`s (SQL, with the same Jinja), compute only the `if`
side's rows, delete the table's rows that share a `unique_key` with them and insert them: the
statements dbt-core's delete+insert runs on dbt-duckdb, so `dbt build` and our runner keep the
same table. One difference: on a model whose columns changed, we build whole where dbt, told
`on_schema_change='fail'`, stops and asks for `--full-refresh`.
"""

from __future__ import annotations

import re

import duckdb

from warehouse.db import quote_ident

_IF = re.compile(r"\{%-?\s*if\s+is_incremental\(\)\s*-?%\}(.*?)"
                 r"(?:\{%-?\s*else\s*-?%\}(.*?))?\{%-?\s*endif\s*-?%\}", re.S)
_THIS = re.compile(r"\{\{\s*this\s*\}\}")
STRATEGIES = ("delete+insert",)
# what an incremental model's config() may say; anything else is refused, not ignored
CONFIG_KEYS = ("materialized", "unique_key", "incremental_strategy", "on_schema_change", "pre_hook")


def settings(config: dict) -> tuple[tuple[str, ...], tuple[str, ...]] | str:
    """(unique_key columns, pre-hooks) of an incremental model's config(), or what is wrong."""
    if config.get("incremental_strategy") not in STRATEGIES:
        return ("needs incremental_strategy='delete+insert' (the one strategy both our runner "
                "and dbt-duckdb run alike)")
    key = config.get("unique_key")
    key = (key,) if isinstance(key, str) else tuple(key) if isinstance(key, list | tuple) else ()
    if not key or not all(isinstance(k, str) and k.isidentifier() for k in key):
        return "needs unique_key='<column>' or unique_key=['<column>', …]"
    hooks = config.get("pre_hook", [])
    hooks = (hooks,) if isinstance(hooks, str) else tuple(hooks) if isinstance(hooks, list) else None
    if hooks is None or not all(isinstance(h, str) for h in hooks):
        return "needs pre_hook to be SQL text or a list of them"
    return key, hooks


def render(sql: str, relation: str, incremental: bool) -> str:
    """The model's SQL for a whole build (`incremental` false) or an incremental one."""
    sql = _IF.sub(lambda m: m.group(1) if incremental else (m.group(2) or ""), sql)
    return _THIS.sub(relation, sql)


def same_columns(con: duckdb.DuckDBPyConnection, relation: str, sql: str) -> bool:
    """Whether the model (its whole-build SQL, bound but not run) has the table's columns and types."""
    wanted = [(r[0], r[1]) for r in con.execute(f"describe {sql}").fetchall()]
    held = [(r[0], r[1]) for r in con.execute(f"describe {relation}").fetchall()]
    return wanted == held


def build_rows(con: duckdb.DuckDBPyConnection, relation: str, hooks: tuple[str, ...], sql: str,
               key: tuple[str, ...]) -> tuple[int, int]:
    """Run the pre-hooks, then replace the rows whose key the new rows hold; (deleted, inserted).

    A hook removes what the keys alone would leave (rows of a recomputed range that no new row
    names), as a dbt `pre_hook` does.
    """
    before = con.execute(f"select count(*) from {relation}").fetchone()[0]
    for hook in hooks:
        con.execute(hook)
    deleted = before - con.execute(f"select count(*) from {relation}").fetchone()[0]
    con.execute(f"create or replace temp table _incremental as\n{sql}")
    try:
        match = " and ".join(f"_incremental.{quote_ident(k)} = {relation}.{quote_ident(k)}"
                             for k in key)
        deleted += con.execute(f"delete from {relation} using _incremental where {match}").fetchone()[0]
        inserted = con.execute(f"insert into {relation} by name select * from _incremental").fetchone()[0]
        return deleted, inserted
    finally:
        con.execute("drop table if exists _incremental")
