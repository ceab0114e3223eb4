"""Columns a file does not carry, filled by configuration.

A constant, a pattern over the file's name, sheet name or title rows, or a small arithmetic
expression over other columns. In `sources.yml`, instead of `from:`:

    year:   {value: 2024, type: integer}                      # a constant
    year:   {from_filename: '(\\d{4})年', type: integer}        # group 1 of a regex on the file name
    month:  {from_sheet: '(\\d{1,2})月', type: integer}         # ... on the sheet's name (xlsx)
    month:  {from_title: '(\\d{4})年(\\d{1,2})月', group: 2, type: integer}  # ... on the title rows
    forest_area_ha: {expr: land_area_ha * forest_coverage_pct / 100, type: double}

An expression may use only this dataset's other columns (by canonical name), numbers, + - * / and
parentheses. It is checked when the configuration is read and evaluated on whole columns: no
Python `eval`, no SQL from configuration.
"""

from __future__ import annotations

import ast
import operator
import re
from dataclasses import dataclass

import pandas as pd

KINDS = ("value", "from_filename", "from_sheet", "from_title", "expr")
_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
              ast.Div: operator.truediv}
# what each pattern is matched against, in words for error messages
PLACES = {"from_filename": "file name", "from_sheet": "sheet name", "from_title": "title rows"}


class DeriveError(ValueError):
    """A pattern did not match the file it was meant for (the caller names the source)."""


@dataclass(frozen=True)
class Derivation:
    """How a column the file does not carry gets its value."""

    kind: str  # one of KINDS
    value: object = None  # the constant, the regex or the expression text
    group: int = 1

    def describe(self) -> str:
        """How the dictionary shows where the column comes from."""
        if self.kind == "value":
            return f"constant {self.value!r}"
        if self.kind == "expr":
            return f"= {self.value}"
        return f"{PLACES[self.kind]} /{self.value}/ group {self.group}"


def read_derivation(column: dict, names: set[str]) -> tuple[Derivation | None, str | None]:
    """The column's derivation from its config keys, or (None, None) when it is mapped with `from:`.

    Returns (derivation, problem); `problem` is a sentence for a ConfigError naming the key.
    """
    kinds = [k for k in KINDS if k in column]
    if not kinds:
        return None, None
    if len(kinds) > 1 or "from" in column:
        given = kinds + (["from"] if "from" in column else [])
        return None, f"give one of `from`, {', '.join(f'`{k}`' for k in KINDS)}; got {', '.join(given)}"
    kind = kinds[0]
    value = column[kind]
    group = column.get("group", 1)
    if not isinstance(group, int) or isinstance(group, bool) or group < 1:
        return None, f"`group` must be a group number of the pattern (1, 2, …), not {group!r}"
    if kind == "value":
        if isinstance(value, (dict, list)) or value is None:
            return None, "`value` must be a single number or text, e.g. `value: 2024`"
        return Derivation(kind, value), None
    if not isinstance(value, str) or not value.strip():
        return None, f"`{kind}` must be text"
    if kind == "expr":
        problem = check_expression(value, names)
        return (None, problem) if problem else (Derivation(kind, value), None)
    try:
        pattern = re.compile(value)
    except re.error as exc:
        return None, f"`{kind}` is not a valid regular expression ({exc})"
    if pattern.groups < group:
        return None, (f"`{kind}` has {pattern.groups} group(s) but `group: {group}` is asked for; "
                      r"put the part to keep in parentheses, e.g. '(\d{4})年'")
    return Derivation(kind, value, group), None


def check_expression(text: str, names: set[str]) -> str | None:
    """None when `text` is arithmetic over known column names and numbers, else the problem."""
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        return f"`expr: {text}` is not an arithmetic expression"
    for node in ast.walk(tree):
        if isinstance(node, (ast.Expression, ast.BinOp, ast.UnaryOp, ast.USub, ast.UAdd, ast.Load)):
            continue
        if isinstance(node, tuple(_OPERATORS)):
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
                and not isinstance(node.value, bool):
            continue
        if isinstance(node, ast.Name):
            if node.id not in names:
                return (f"`expr: {text}` uses `{node.id}`, which is not another column of this "
                        f"dataset; columns: {', '.join(sorted(names))}")
            continue
        return (f"`expr: {text}` may use only column names, numbers, + - * / and parentheses "
                f"(found {type(node).__name__})")
    return None


def evaluate_expression(text: str, frame: pd.DataFrame) -> pd.Series:
    """Evaluate a checked expression on whole columns; a division by zero gives NULL."""

    def walk(node: ast.AST) -> pd.Series | float:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            return frame[node.id].astype("Float64")
        if isinstance(node, ast.UnaryOp):
            operand = walk(node.operand)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp):
            left, right = walk(node.left), walk(node.right)
            if isinstance(node.op, ast.Div):
                right = right.where(right != 0) if isinstance(right, pd.Series) else \
                    (right if right != 0 else float("nan"))
            return _OPERATORS[type(node.op)](left, right)
        raise ValueError(f"unexpected node {type(node).__name__}")  # excluded by check_expression

    result = walk(ast.parse(text, mode="eval"))
    if not isinstance(result, pd.Series):
        result = pd.Series(result, index=frame.index, dtype="Float64")
    return result.astype("Float64").round(6)


def match_pattern(derivation: Derivation, context: dict[str, str | None]) -> str:
    """The text a `from_filename` / `from_sheet` / `from_title` pattern takes from the file."""
    place = PLACES[derivation.kind]
    text = context.get(derivation.kind)
    if not text:
        raise DeriveError(f"the file has no {place} to take `{derivation.kind}: "
                          f"'{derivation.value}'` from")
    found = re.search(str(derivation.value), text)
    if found is None or found.group(derivation.group) is None:
        raise DeriveError(f"the {place} {text!r} does not match `{derivation.kind}: "
                          f"'{derivation.value}'`; fix the pattern in sources.yml or rename the file")
    return found.group(derivation.group)
