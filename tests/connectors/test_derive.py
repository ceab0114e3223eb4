"""Columns filled by configuration: constants, patterns over the file, arithmetic over columns."""

from __future__ import annotations

import pytest

from connectors.derive import Derivation, DeriveError
from connectors.parse import parse_records, with_file_context
from connectors.spec import ColumnSpec, DatasetSpec

YEAR = ColumnSpec("year", "-", "integer", derive=Derivation("from_filename", r"(\d{4})年(\d{1,2})月", 1))
MONTH = ColumnSpec("month", "-", "integer", derive=Derivation("from_filename", r"(\d{4})年(\d{1,2})月", 2))
LAND = ColumnSpec("land_ha", "土地", "double", unit="平方公里")
SHARE = ColumnSpec("share_pct", "比例", "double", unit="%")
AREA = ColumnSpec("area_ha", "-", "double", derive=Derivation("expr", "land_ha * share_pct / 100"))
SPEC = DatasetSpec(name="t", department="d", format="csv", path="/t.csv", primary_key=("year",),
                   columns=(YEAR, MONTH, LAND, SHARE, AREA))


def test_pattern_groups_and_an_expression():
    frame, rejects = parse_records(SPEC, [{"土地": "1,000", "比例": "25%"}, {"土地": "0", "比例": "—"}],
                                   context={"from_filename": "台账2025年3月.csv"})
    assert rejects == []
    assert list(frame["year"]) == [2025, 2025] and list(frame["month"]) == [3, 3]
    assert frame["area_ha"].iloc[0] == pytest.approx(100_000 * 0.25)
    assert frame["area_ha"].isna().iloc[1]  # a missing share gives no area, not a reject


def test_a_pattern_that_does_not_match_names_the_file_and_the_pattern():
    with pytest.raises(DeriveError) as err:
        parse_records(SPEC, [{"土地": "1", "比例": "1"}], context={"from_filename": "ledger.csv"})
    assert "'ledger.csv' does not match" in str(err.value) and r"(\d{4})年" in str(err.value)


def test_rows_replayed_without_their_file_keep_its_name():
    records = with_file_context(SPEC, [{"土地": "10", "比例": "50"}], {"from_filename": "a2024年12月.csv"})
    assert records[0]["@from_filename"] == "a2024年12月.csv"
    frame, _ = parse_records(SPEC, records)  # as quarantine replay does: no context
    assert (frame["year"].iloc[0], frame["month"].iloc[0]) == (2024, 12)


def test_division_by_zero_is_null():
    spec = DatasetSpec(name="t", department="d", format="csv", path="/t.csv", primary_key=("a",),
                       columns=(ColumnSpec("a", "a", "double"), ColumnSpec("b", "b", "double"),
                                ColumnSpec("r", "-", "double", derive=Derivation("expr", "a / b"))))
    frame, _ = parse_records(spec, [{"a": "1", "b": "0"}, {"a": "1", "b": "4"}])
    assert frame["r"].isna().iloc[0] and frame["r"].iloc[1] == 0.25
