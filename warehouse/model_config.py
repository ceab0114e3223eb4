"""A model's `{{ config(...) }}` call: where it is, and its arguments as Python values.

dbt reads config() as a Jinja call with keyword arguments; the ones our runner uses are literals
(`materialized='table'`, `unique_key=['a', 'b']`, `pre_hook="delete from {{ this }} ..."`). A
hook's text may hold `{{ }}`, `)` or `}}` of its own, so the call's end is found by reading it
(quotes respected), and its arguments are parsed as Python keywords, never evaluated.
"""

from __future__ import annotations

import ast
import re

from warehouse.errors import ModelError

_START = re.compile(r"\{\{\s*config\(")
_END = re.compile(r"\)\s*\}\}")


def find_config(name: str, sql: str) -> tuple[int, int, dict] | None:
    """(start, end, arguments) of the model's config() call, or None when it has none."""
    start = _START.search(sql)
    if start is None:
        return None
    i, quote = start.end(), None
    while i < len(sql):
        ch = sql[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        else:
            end = _END.match(sql, i)
            if end:
                return start.start(), end.end(), _arguments(name, sql[start.end():i])
        i += 1
    raise ModelError(name, "config( is never closed: end it with `) }}`")


def _arguments(name: str, text: str) -> dict:
    try:
        call = ast.parse(f"config({text})", mode="eval").body
        if not isinstance(call, ast.Call) or call.args:
            raise ValueError("only keyword arguments")
        return {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    except (SyntaxError, ValueError) as exc:
        raise ModelError(name, f"config() takes keyword arguments with literal values "
                         f"(materialized='table'); could not read them: {exc}") from None


def without_config(sql: str, found: tuple[int, int, dict] | None) -> str:
    """The model's SQL with its config() call removed."""
    return sql if found is None else sql[:found[0]] + sql[found[1]:]
