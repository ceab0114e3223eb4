"""Incremental models, built as dbt builds them: `materialized='incremental'`, `delete+insert`.

A model over data that only grows (a year of 15-minute readings is billions of rows) declares

    {{ config(materialized='incremental', unique_key='energy_date',
              incremental_strategy='delete+insert') }}

and writes what a later build reads between `{% if is_incremental() %} … {% else %} … {% endif %}`
(`{{ this }}` is the model's own table). The first build, a build with `full_refresh`, or a table
whose columns no longer match the model's, builds the table whole from the `else` side. Later
builds compute only the `if` side's rows, delete the table's rows that share a `unique_key`
with them and insert them: the statements dbt-core's delete+insert runs on dbt-duckdb, so
`dbt build` and our runner keep the same table.
"""

from __future__ import annotations

import re

import duckdb

from warehouse.db import quote_ident

_IF = re.compile(r"\{%-?\s*if\s+is_incremental\(\)\s*-?%\}(.*?)"
                 r"(?:\{%-?\s*else\s*-?%\}(.*?))?\{%-?\s*endif\s*-?%\}", re.S)
_THIS = re.compile(r"\{\{\s*this\s*\}\}")
_UNIQUE_KEY = re.compile(r"unique_key\s*=\s*(\[[^\]]*\]|'[^']*'|\"[^\"]*\")")
_STRATEGY = re.compile(r"incremental_strategy\s*=\s*['\"]([^'\"]*)['\"]")
_NAME = re.compile(r"['\"](\w+)['\"]")
STRATEGIES = ("delete+insert",)


def unique_key(config: str) -> tuple[str, ...] | str:
    """The columns of an incremental model's `unique_key`, or what is wrong with its config()."""
    strategy = _STRATEGY.search(config)
    if not strategy or strategy.group(1) not in STRATEGIES:
        return ("needs incremental_strategy='delete+insert' (the one strategy both our runner "
                "and dbt-duckdb run alike)")
    key = _UNIQUE_KEY.search(config)
    names = tuple(_NAME.findall(key.group(1))) if key else ()
    if not names:
        return "needs unique_key='<column>' or unique_key=['<column>', …]"
    return names


def render(sql: str, relation: str, incremental: bool) -> str:
    """The model's SQL for a whole build (`incremental` false) or an incremental one."""
    sql = _IF.sub(lambda m: m.group(1) if incremental else (m.group(2) or ""), sql)
    return _THIS.sub(relation, sql)


def build_rows(con: duckdb.DuckDBPyConnection, relation: str, sql: str, key: tuple[str, ...]
               ) -> tuple[int, int] | None:
    """Replace the rows of `relation` that the new rows' keys name; (deleted, inserted).

    None, and nothing changed, when the new rows' columns are not the table's (the model
    changed): the caller builds it whole.
    """
    con.execute(f"create or replace temp table _incremental as\n{sql}")
    try:
        new = [d[0] for d in con.execute("select * from _incremental limit 0").description]
        held = [d[0] for d in con.execute(f"select * from {relation} limit 0").description]
        if new != held:
            return None
        match = " and ".join(f"_incremental.{quote_ident(k)} = {relation}.{quote_ident(k)}"
                             for k in key)
        deleted = con.execute(f"delete from {relation} using _incremental where {match}").fetchone()[0]
        inserted = con.execute(f"insert into {relation} by name select * from _incremental").fetchone()[0]
        return deleted, inserted
    finally:
        con.execute("drop table if exists _incremental")
