"""Numbers and units as departments write them, on the pinned pandas (text columns are StringDtype)."""

from __future__ import annotations

import pandas as pd
import pytest

from connectors.parse import parse_records
from connectors.spec import ColumnSpec, DatasetSpec
from connectors.units import CONVERSIONS


def spec(*columns: ColumnSpec) -> DatasetSpec:
    return DatasetSpec(name="t", department="d", format="csv", path="/t.csv",
                       primary_key=(columns[0].name,), columns=columns)


@pytest.mark.parametrize(("cell", "expected"), [
    ("1,013.0", 1013.0),
    ("12,345,678", 12345678.0),
    ("１２３．５", 123.5),          # full-width digits and point
    ("－12.5", -12.5),              # full-width minus
    ("−7", -7.0),                   # U+2212 minus sign
    ("45.2%", 45.2),
    ("45.2 ％", 45.2),
    (" 3.5 ", 3.5),
    ("１，０１３", 1013.0),
])
def test_number_forms_parse(cell, expected):
    frame, rejects = parse_records(spec(ColumnSpec("v", "值", "double")), [{"值": cell}])
    assert rejects == []
    assert frame["v"].iloc[0] == pytest.approx(expected)


@pytest.mark.parametrize("cell", ["", "—", "——", "–", "-", "/", "－", None])
def test_no_value_marks_are_null_not_rejects(cell):
    frame, rejects = parse_records(spec(ColumnSpec("v", "值", "double")), [{"值": cell}])
    assert rejects == []
    assert frame["v"].isna().all()


def test_a_string_column_of_pandas_3_is_cleaned_too():
    # pandas 3 reads text as StringDtype: the comma stripping must not depend on `object`
    records = pd.DataFrame({"值": pd.array(["1,013.0", "2,000"], dtype="string")}).to_dict("records")
    frame, rejects = parse_records(spec(ColumnSpec("v", "值", "double")), records)
    assert rejects == [] and list(frame["v"]) == [1013.0, 2000.0]


def test_words_and_json_booleans_are_still_rejects():
    frame, rejects = parse_records(spec(ColumnSpec("v", "值", "double")),
                                   [{"值": "about 5"}, {"值": True}, {"值": "5"}])
    assert [r.row_number for r in rejects] == [1, 2]
    assert "is not a valid double" in rejects[0].reason
    assert list(frame["v"]) == [5.0]


@pytest.mark.parametrize("cell", ["inf", "Infinity", "-inf", "∞", 1e400, float("-inf")])
def test_infinite_numbers_are_rejects_not_values(cell):
    frame, rejects = parse_records(spec(ColumnSpec("v", "值", "double")), [{"值": cell}, {"值": 5}])
    assert [r.row_number for r in rejects] == [1] and "is not a valid double" in rejects[0].reason
    assert list(frame["v"]) == [5.0]


def test_integer_with_separator():
    frame, _ = parse_records(spec(ColumnSpec("n", "人数", "integer")), [{"人数": "1,024"}])
    assert frame["n"].iloc[0] == 1024


UNIT_FACTORS = [
    ("平方公里", "ha", 100), ("km²", "ha", 100), ("公顷", "ha", 1), ("万亩", "ha", 666.6667),
    ("亩", "ha", 0.06666667), ("万立方米", "m3", 1e4), ("亿立方米", "m3", 1e8), ("吨", "t", 1),
    ("万吨", "t", 1e4), ("千克", "t", 1e-3), ("万吨标准煤", "tce", 1e4), ("吨标准煤", "tce", 1),
    ("千瓦时", "MWh", 1e-3), ("万千瓦时", "MWh", 10), ("亿千瓦时", "MWh", 1e5), ("千瓦", "MW", 1e-3),
    ("万千瓦", "MW", 10), ("元", "CNY", 1), ("万元", "CNY", 1e4), ("亿元", "CNY", 1e8),
    ("人", "persons", 1), ("万人", "persons", 1e4), ("%", "pct", 1), ("‰", "pct", 0.1),
]


@pytest.mark.parametrize(("unit", "canonical", "factor"), UNIT_FACTORS)
def test_every_unit_of_a_chinese_statistical_table(unit, canonical, factor):
    assert CONVERSIONS[unit] == (canonical, pytest.approx(factor))
    frame, rejects = parse_records(spec(ColumnSpec("v", "值", "double", unit=unit)), [{"值": "2.5"}])
    assert rejects == []
    assert frame["v"].iloc[0] == pytest.approx(2.5 * factor, rel=1e-5)  # stored to 6 decimals


def test_a_trailing_permille_in_a_permille_column():
    frame, _ = parse_records(spec(ColumnSpec("v", "值", "double", unit="‰")), [{"值": "3.5‰"}])
    assert frame["v"].iloc[0] == pytest.approx(0.35)
