"""A KPI's `measure:` in kpis.yml: which model and column give its yearly value, and how.

    measure:
      from: mart_forestry__forest_yearly     # a model of dbt_like_sql/ with a `year` column
      value: forest_coverage_pct             # a column, or arithmetic over columns
      where: {counties_reporting: max}       # completeness: column = value, or = its maximum
      digits: 2                              # rounding of the value (default 2)
      change_vs_base: true                   # % change against the KPI's base_year
      description: Σ forest area / Σ land area × 100, percent

`value:` may also map the named definitions of a quantity to columns
(`{recycling_only: recycling_only_pct, ...}`); the KPI's `definition.choice` picks one. A KPI
whose value needs real logic names a hand-written view instead: `measure: {view: <model>}`.
Expressions are checked here with `ast` (columns, numbers, + - * /, `coalesce`), never evaluated,
and written into SQL only as the checked tree (warehouse/kpi_views.py).

A yearly KPI with monthly (or finer) data declares its year-to-date form, for the early warning
(kpi.kpi_early_warning):

    year_to_date:
      from: mart_energy__consumption_monthly   # a model with `year` and `month` columns
      value: raw_coal_tce                      # over the year-to-date SUMS of the columns named
      where: {is_public_institution: true}     # optional: column = number, text or true/false
      description: raw coal, tce, January to the month

Each column the value names is summed over the rows of a month and then from January on, and
the value is computed on those sums (`100 * nonfossil_tce / total_tce` is the share so far this
year, not a sum of monthly shares). Only its change on the same months of last year is used.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from connectors.safety import IDENTIFIER  # one rule for every name that reaches SQL
from core.errors import ConfigError

KEYS = {"from", "value", "where", "digits", "change_vs_base", "description", "view"}
YTD_KEYS = {"from", "value", "where", "description"}
OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
FUNCTIONS = ("coalesce",)


@dataclass(frozen=True)
class Measure:
    model: str  # the model it reads (`from:`), or the hand-written view (`view:`)
    value_sql: str = ""  # the checked expression, as SQL
    where: tuple[tuple[str, object], ...] = ()  # (column, literal or "max")
    digits: int = 2
    change_vs_base: bool = False
    description: str = ""
    is_view: bool = False  # a hand-written view that already has kpi_id, year, value


@dataclass(frozen=True)
class YearToDate:
    model: str  # a model with `year` and `month` columns
    value_sql: str  # the checked expression, over the year-to-date sums of `columns`
    columns: tuple[str, ...]  # the columns the expression names, each summed
    where: tuple[tuple[str, object], ...] = ()  # (column, literal)
    description: str = ""


PRECEDENCE = {ast.Add: 1, ast.Sub: 1, ast.Mult: 2, ast.Div: 2}


def _to_sql(node: ast.AST, text: str) -> str:
    """The expression as SQL, refusing anything but columns, numbers, + - * / and coalesce().

    Parentheses are written where precedence needs them, so SQL evaluates in Python's order.
    """
    if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
        rank = PRECEDENCE[type(node.op)]
        left, right = _to_sql(node.left, text), _to_sql(node.right, text)
        if isinstance(node.left, ast.BinOp) and PRECEDENCE.get(type(node.left.op), 9) < rank:
            left = f"({left})"
        if isinstance(node.right, ast.BinOp) and PRECEDENCE.get(type(node.right.op), 9) <= rank:
            right = f"({right})"
        return f"{left} {OPERATORS[type(node.op)]} {right}"
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        operand = _to_sql(node.operand, text)
        return f"-({operand})" if isinstance(node.operand, ast.BinOp) else f"-{operand}"
    if isinstance(node, ast.Name) and IDENTIFIER.fullmatch(node.id):
        return node.id
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return text[node.col_offset:node.end_col_offset]  # as written: 1e4 stays 1e4, 100.0 stays
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS
            and not node.keywords and node.args):
        return f"{node.func.id}({', '.join(_to_sql(a, text) for a in node.args)})"
    raise ValueError(ast.dump(node)[:60])


def expression(file: str, kpi_id: str, key: str, text: object) -> str:
    """`text` checked and rendered as SQL; one clear line when it is anything else."""
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(file, kpi_id, key, "expected a column or arithmetic over columns, e.g. "
                          "`100 * prefab_m2 / floor_area_m2`", kind="KPI")
    try:
        return _to_sql(ast.parse(text.strip(), mode="eval").body, text.strip())
    except (SyntaxError, ValueError):
        raise ConfigError(file, kpi_id, key, f"`{text}` is not arithmetic over columns: use column "
                          "names, numbers, + - * / and coalesce(column, 0)", kind="KPI") from None


def _known_keys(file: str, kpi_id: str, key: str, body: object, known: set[str]) -> None:
    if not isinstance(body, dict) or set(body) - known:
        unknown = sorted(set(body) - known) if isinstance(body, dict) else body
        raise ConfigError(file, kpi_id, key, f"unknown keys {unknown}; expected "
                          f"{', '.join(sorted(known))}", kind="KPI")


def read_measure(file: str, kpi_id: str, body: object, definition: str | None) -> Measure | None:
    """The checked `measure:` of a KPI (None without one: the KPI then has no values)."""
    if body is None:
        return None
    _known_keys(file, kpi_id, "measure", body, KEYS)
    if "view" in body:
        if set(body) - {"view", "description"} or not IDENTIFIER.fullmatch(str(body["view"])):
            raise ConfigError(file, kpi_id, "measure.view", "a hand-written view is named alone: "
                              "`measure: {view: kpi_<sector>__<kpi_id>}`", kind="KPI")
        return Measure(model=body["view"], is_view=True, description=str(body.get("description", "")))
    model = body.get("from")
    if not isinstance(model, str) or not IDENTIFIER.fullmatch(model):
        raise ConfigError(file, kpi_id, "measure.from", "name the model that holds the value, e.g. "
                          "`from: mart_forestry__forest_yearly`", kind="KPI")
    value = body.get("value")
    if isinstance(value, dict):  # one column per named definition; the KPI's choice picks
        if definition not in value:
            raise ConfigError(file, kpi_id, "definition.choice", f"`{definition}`: this KPI's "
                              f"measure knows the definitions {', '.join(map(str, value))}; name one "
                              "in `definition: {choice: ...}`", kind="KPI")
        value = value[definition]
    elif definition is not None:
        raise ConfigError(file, kpi_id, "definition.choice", "this KPI's measure has one definition; "
                          "give `value:` one column per named definition to offer a choice", kind="KPI")
    where = body.get("where") or {}
    if not isinstance(where, dict):
        raise ConfigError(file, kpi_id, "measure.where", "expected `column: value` pairs, e.g. "
                          "{months_reported: 12} or {counties_reporting: max}", kind="KPI")
    for column, wanted in where.items():
        if not IDENTIFIER.fullmatch(str(column)) or isinstance(wanted, (dict, list, bool)) or wanted is None:
            raise ConfigError(file, kpi_id, f"measure.where.{column}", "expected a column name and a "
                              "number, a text or `max`", kind="KPI")
    digits = body.get("digits", 2)
    if not isinstance(digits, int) or isinstance(digits, bool) or not 0 <= digits <= 8:
        raise ConfigError(file, kpi_id, "measure.digits", f"`{digits}`: expected 0 to 8", kind="KPI")
    change = body.get("change_vs_base", False)
    if not isinstance(change, bool):
        raise ConfigError(file, kpi_id, "measure.change_vs_base", "expected true or false", kind="KPI")
    return Measure(model=model, value_sql=expression(file, kpi_id, "measure.value", value),
                   where=tuple(where.items()), digits=digits, change_vs_base=change,
                   description=str(body.get("description", "")))


def _columns(value_sql: str) -> tuple[str, ...]:
    """The column names in a checked expression, each once, sorted (functions excluded)."""
    names = {n.id for n in ast.walk(ast.parse(value_sql, mode="eval")) if isinstance(n, ast.Name)}
    return tuple(sorted(names - set(FUNCTIONS)))


def read_year_to_date(file: str, kpi_id: str, body: object) -> YearToDate | None:
    """The checked `year_to_date:` of a KPI (None without one: no early warning for it)."""
    if body is None:
        return None
    _known_keys(file, kpi_id, "year_to_date", body, YTD_KEYS)
    model = body.get("from")
    if not isinstance(model, str) or not IDENTIFIER.fullmatch(model):
        raise ConfigError(file, kpi_id, "year_to_date.from", "name a model with `year` and `month` "
                          "columns, e.g. `from: mart_energy__consumption_monthly`", kind="KPI")
    value_sql = expression(file, kpi_id, "year_to_date.value", body.get("value"))
    columns = _columns(value_sql)
    if not columns or {"year", "month"} & set(columns):
        raise ConfigError(file, kpi_id, "year_to_date.value", "name the columns to add up from "
                          "January on (not year or month), e.g. `100 * nonfossil_tce / total_tce`",
                          kind="KPI")
    where = body.get("where") or {}
    if not isinstance(where, dict) or any(
            not IDENTIFIER.fullmatch(str(c)) or isinstance(w, (dict, list)) or w is None
            for c, w in where.items()):
        raise ConfigError(file, kpi_id, "year_to_date.where", "expected `column: value` pairs with "
                          "a number, a text or true/false, e.g. {is_public_institution: true}",
                          kind="KPI")
    return YearToDate(model=model, value_sql=value_sql, columns=columns, where=tuple(where.items()),
                      description=str(body.get("description", "")))
