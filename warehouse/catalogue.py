"""The KPI catalogue (`kpis.yml`): every target of the plan, loaded into `config.*` for the models.

The checks here are the ones the status model (`kpi.kpi_status`) relies on: a qualifier agrees with
the KPI's direction, a `full` target is 100 %, a relative target names its base year, and
`after_last_checkpoint: rising` is only set on a KPI that should rise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import yaml

from connectors.safety import IDENTIFIER
from core import yamlio
from core.errors import ConfigError
from warehouse.db import replace_table
from warehouse.measures import Measure, YearToDate, read_measure, read_year_to_date
from warehouse.raw import ensure_meta

# The plan's words, one qualifier each (README "Status rules"): about 左右, at_least 以上/不低于/达到,
# more_than 超过/高于 (strictly), stay_at_least 稳定在…以上 (every year after the previous
# checkpoint), at_most 不超过, strive 力争, full 全部/全面/全覆盖.
QUALIFIERS = ("about", "at_least", "more_than", "stay_at_least", "at_most", "strive", "full")
HIGHER_ONLY = ("more_than", "stay_at_least", "full")
DIRECTIONS = ("higher_is_better", "lower_is_better")
# after the last checkpoint each year at least as good as the last: rising (稳中有升 / 进一步提升,
# higher is better) or improving (either direction: 进一步下降 / 能效进一步提高 too)
AFTER_LAST_CHECKPOINT = ("rising", "improving")
# 左右: one rule for every unit, the band is this share of |target| (kpis.yml `about_band_pct`)
DEFAULT_ABOUT_BAND_PCT = 2.0
RELATIVE_UNIT = "% change vs base"  # values and targets are signed % changes against base_year
# the early warning speaks from the first quarter on, as the NDRC barometer's first issue of a year
# (一季度); kpis.yml `early_warning_min_months`
DEFAULT_EARLY_WARNING_MIN_MONTHS = 3


@dataclass(frozen=True)
class Catalogue:
    kpis: pd.DataFrame  # one row per KPI
    checkpoints: pd.DataFrame  # one row per KPI and target year
    measures: dict[str, Measure] = field(default_factory=dict)  # how each KPI's view is made
    year_to_date: dict[str, YearToDate] = field(default_factory=dict)  # the early warning's data


def _error(file: str, kpi: str | None, key: str, problem: str) -> ConfigError:
    return ConfigError(file, kpi, key, problem, kind="KPI")


def _need(file: str, kpi: str, body: dict, key: str) -> object:
    if not isinstance(body, dict) or body.get(key) in (None, ""):
        raise _error(file, kpi, key, "is required")
    return body[key]


def _number(file: str, kpi: str, key: str, value: object, kind: type = float) -> float | int | None:
    if value is None:
        return None
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise _error(file, kpi, key, f"`{value}` is not a number") from None


def _checkpoint(file: str, kpi_id: str, direction: str, cp: dict, about_band_pct: float) -> dict:
    year = _need(file, kpi_id, cp, "year")
    where = f"checkpoints.{year}"
    qualifier = _need(file, kpi_id, cp, "qualifier")
    if qualifier not in QUALIFIERS:
        raise _error(file, kpi_id, f"{where}.qualifier",
                          f"`{qualifier}`; expected one of {', '.join(QUALIFIERS)}")
    # The status model compares in the KPI's direction: a qualifier must agree with it.
    if qualifier == "at_most" and direction != "lower_is_better":
        raise _error(file, kpi_id, f"{where}.qualifier", "`at_most` needs direction lower_is_better")
    if qualifier in HIGHER_ONLY and direction != "higher_is_better":
        raise _error(file, kpi_id, f"{where}.qualifier", f"`{qualifier}` needs direction "
                          "higher_is_better")
    if "tolerance" in cp:
        raise _error(file, kpi_id, f"{where}.tolerance", "左右 bands are one rule for every "
                          "target: remove `tolerance` and set `about_band_pct` (percent of the "
                          "target) at the top of the file if the default 2 does not fit")
    try:
        row = {"kpi_id": kpi_id, "checkpoint_year": int(year),
               "target_value": float(_need(file, kpi_id, cp, "target_value")),
               "qualifier": qualifier, "tolerance": None, "note_en": cp.get("note_en")}
    except (TypeError, ValueError):
        raise _error(file, kpi_id, where, "year and target_value must be numbers") from None
    if qualifier == "about":  # the half-width of the band, in the KPI's unit
        row["tolerance"] = round(abs(row["target_value"]) * about_band_pct / 100, 9)
    # `full` is achieved only at ≥ 99.95 %: a target other than 100 would be a different promise
    if qualifier == "full" and row["target_value"] != 100:
        raise _error(file, kpi_id, f"{where}.target_value",
                          f"a `full` target is 100 (%), got {row['target_value']:g}; use at_least otherwise")
    return row


def _kpi(file: str, number: int, kpi: dict, reference_year: int | None
         ) -> tuple[dict, Measure | None, YearToDate | None]:
    kpi_id = str(_need(file, f"kpis[{number}]", kpi, "id"))
    direction = _need(file, kpi_id, kpi, "direction")
    if direction not in DIRECTIONS:
        raise _error(file, kpi_id, "direction", f"expected one of {', '.join(DIRECTIONS)}")
    unit = _need(file, kpi_id, kpi, "unit")
    base_year = _number(file, kpi_id, "base_year", kpi.get("base_year"), int)
    base_value = _number(file, kpi_id, "base_value", kpi.get("base_value"))
    if unit == RELATIVE_UNIT and base_year is None:
        raise _error(file, kpi_id, "base_year", f"a KPI in `{RELATIVE_UNIT}` needs the year it is "
                          "measured against, e.g. base_year: 2020")
    if base_value is not None and base_year is None and reference_year is None:
        raise _error(file, kpi_id, "base_value", "a base_value needs a base_year (or the plan's "
                          "reference_year at the top of the file)")
    after = kpi.get("after_last_checkpoint")
    if after is not None and after not in AFTER_LAST_CHECKPOINT:
        raise _error(file, kpi_id, "after_last_checkpoint",
                          f"`{after}`; expected one of {', '.join(AFTER_LAST_CHECKPOINT)} or nothing")
    if after == "rising" and direction != "higher_is_better":  # `improving` is either way
        raise _error(file, kpi_id, "after_last_checkpoint", "`rising` (each year at least the last) "
                          "needs direction higher_is_better")
    definition = kpi.get("definition") or {}
    if definition and (not isinstance(definition, dict) or set(definition) != {"choice", "zh", "en"}):
        raise _error(file, kpi_id, "definition", "expected `choice`, `zh` and `en`: the named "
                     "definition the KPI uses where departments differ, and its wording")
    # where departments define a quantity differently, the measure maps each named definition to
    # a column and the city's choice is stated here, not buried in a mart
    measure = read_measure(file, kpi_id, kpi.get("measure"), definition.get("choice"))
    if measure is not None and not measure.is_view:
        if not isinstance(kpi.get("sector"), str) or not IDENTIFIER.fullmatch(kpi["sector"]):
            raise _error(file, kpi_id, "sector", "a KPI with a measure needs a sector (its view is "
                         "kpi_<sector>__<id>), e.g. sector: forestry")
        if measure.change_vs_base != (unit == RELATIVE_UNIT):
            raise _error(file, kpi_id, "measure.change_vs_base", f"a KPI in `{RELATIVE_UNIT}` is a "
                         "change against its base year (change_vs_base: true), any other unit is not")
    year_to_date = read_year_to_date(file, kpi_id, kpi.get("year_to_date"))
    if year_to_date is not None and measure is None:
        raise _error(file, kpi_id, "year_to_date", "the early warning moves the KPI's yearly value by "
                     "the year-to-date change: give the KPI a `measure:` too")
    row = {
        "kpi_id": kpi_id, "position": number,
        "name_zh": _need(file, kpi_id, kpi, "name_zh"), "name_en": _need(file, kpi_id, kpi, "name_en"),
        "unit": unit, "unit_en": kpi.get("unit_en"),
        "direction": direction, "base_year": base_year, "base_value": base_value,
        "reference_year": reference_year,
        "section": str(kpi.get("section", "")), "quote": kpi.get("quote"),
        "sector": kpi.get("sector"), "after_last_checkpoint": after,
        "pending": kpi.get("pending"),
        "definition_choice": definition.get("choice"), "definition_zh": definition.get("zh"),
        "definition_en": definition.get("en"),
    }
    return row, measure, year_to_date


def read_catalogue(path: Path) -> Catalogue:
    """Read and check `kpis.yml`; errors name the file, the KPI and the key."""
    file = str(path)
    try:
        doc = yamlio.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _error(file, None, "-", "KPI catalogue not found; set CARBONPEAK_CONFIG_DIR") from None
    except yaml.YAMLError as exc:
        raise _error(file, None, "-", f"not valid YAML: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("kpis"), list):
        raise _error(file, None, "kpis", "expected a list of KPIs")
    reference_year = _number(file, None, "reference_year", doc.get("reference_year"), int)
    band_pct = _number(file, None, "about_band_pct", doc.get("about_band_pct", DEFAULT_ABOUT_BAND_PCT))
    if not 0 < band_pct <= 50:
        raise _error(file, None, "about_band_pct", f"`{band_pct:g}`: expected the 左右 band as a "
                          "percent of the target above 0 and at most 50, e.g. 2")
    min_months = _number(file, None, "early_warning_min_months",
                         doc.get("early_warning_min_months", DEFAULT_EARLY_WARNING_MIN_MONTHS), int)
    if not 1 <= min_months <= 12:
        raise _error(file, None, "early_warning_min_months", f"`{min_months}`: expected the months "
                     "of data the early warning needs before it speaks, 1 to 12, e.g. 3")
    kpis, checkpoints, measures, year_to_date = [], [], {}, {}
    for number, kpi in enumerate(doc["kpis"], 1):
        row, measure, ytd = _kpi(file, number, kpi, reference_year)
        kpis.append(row | {"early_warning_min_months": min_months})
        if measure is not None:
            measures[row["kpi_id"]] = measure
        if ytd is not None:
            year_to_date[row["kpi_id"]] = ytd
        checkpoints += [_checkpoint(file, kpis[-1]["kpi_id"], kpis[-1]["direction"], cp, band_pct)
                        for cp in kpi.get("checkpoints") or []]
    # explicit types: a column that is empty in a small catalogue must not become INTEGER
    text = ["name_zh", "name_en", "unit", "unit_en", "direction", "section", "quote", "sector",
            "after_last_checkpoint", "pending", "definition_choice", "definition_zh", "definition_en"]
    kpi_frame = pd.DataFrame(kpis).astype({"base_year": "Int64", "reference_year": "Int64",
                                           "early_warning_min_months": "int64",
                                           "base_value": "Float64", **{c: "string" for c in text}})
    if kpi_frame["kpi_id"].duplicated().any():
        dup = kpi_frame.loc[kpi_frame["kpi_id"].duplicated(), "kpi_id"].iloc[0]
        raise _error(file, dup, "id", "defined twice")
    checkpoint_frame = pd.DataFrame(checkpoints, columns=[
        "kpi_id", "checkpoint_year", "target_value", "qualifier", "tolerance", "note_en"]).astype(
        {"checkpoint_year": "int64", "target_value": "float64", "tolerance": "Float64",
         "qualifier": "string", "note_en": "string"})
    twice = checkpoint_frame[["kpi_id", "checkpoint_year"]].duplicated()
    if twice.any():
        kpi_id, year = checkpoint_frame.loc[twice, ["kpi_id", "checkpoint_year"]].iloc[0]
        raise _error(file, kpi_id, f"checkpoints.{year}", "the same year twice")
    return Catalogue(kpis=kpi_frame, checkpoints=checkpoint_frame, measures=measures,
                     year_to_date=year_to_date)


def load_catalogue(con: duckdb.DuckDBPyConnection, catalogue: Catalogue) -> None:
    """Replace `config.kpis` and `config.kpi_checkpoints` (run it inside the build's transaction).

    It also makes sure the load bookkeeping exists (and is migrated), so a warehouse nothing was
    loaded into still builds and its readers find their tables.
    """
    ensure_meta(con)
    replace_table(con, "config.kpis", catalogue.kpis)
    replace_table(con, "config.kpi_checkpoints", catalogue.checkpoints)
