"""The KPI catalogue (`kpis.yml`): every target of the plan, loaded into `config.*` for the models."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import yaml

from connectors.errors import ConfigError

QUALIFIERS = ("about", "at_least", "at_most", "strive", "full")
DIRECTIONS = ("higher_is_better", "lower_is_better")


@dataclass(frozen=True)
class Catalogue:
    kpis: pd.DataFrame  # one row per KPI
    checkpoints: pd.DataFrame  # one row per KPI and target year


def _need(file: str, kpi: str, body: dict, key: str) -> object:
    if not isinstance(body, dict) or body.get(key) in (None, ""):
        raise ConfigError(file, kpi, key, "is required")
    return body[key]


def _checkpoint(file: str, kpi_id: str, direction: str, cp: dict) -> dict:
    year = _need(file, kpi_id, cp, "year")
    where = f"checkpoints.{year}"
    qualifier = _need(file, kpi_id, cp, "qualifier")
    if qualifier not in QUALIFIERS:
        raise ConfigError(file, kpi_id, f"{where}.qualifier",
                          f"`{qualifier}`; expected one of {', '.join(QUALIFIERS)}")
    # The status model compares in the KPI's direction: a qualifier must agree with it.
    if qualifier == "at_most" and direction != "lower_is_better":
        raise ConfigError(file, kpi_id, f"{where}.qualifier", "`at_most` needs direction lower_is_better")
    if qualifier == "full" and direction != "higher_is_better":
        raise ConfigError(file, kpi_id, f"{where}.qualifier", "`full` needs direction higher_is_better")
    if qualifier == "about" and cp.get("tolerance") is None:
        raise ConfigError(file, kpi_id, f"{where}.tolerance", "an `about` target needs a tolerance")
    try:
        return {"kpi_id": kpi_id, "checkpoint_year": int(year),
                "target_value": float(_need(file, kpi_id, cp, "target_value")),
                "qualifier": qualifier,
                "tolerance": float(cp["tolerance"]) if cp.get("tolerance") is not None else None,
                "note_en": cp.get("note_en")}
    except (TypeError, ValueError):
        raise ConfigError(file, kpi_id, where, "year, target_value and tolerance must be numbers") from None


def read_catalogue(path: Path) -> Catalogue:
    """Read and check `kpis.yml`; errors name the file, the KPI and the key."""
    file = str(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(file, None, "-", "KPI catalogue not found; set CARBONPEAK_CONFIG_DIR") from None
    except yaml.YAMLError as exc:
        raise ConfigError(file, None, "-", f"not valid YAML: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("kpis"), list):
        raise ConfigError(file, None, "kpis", "expected a list of KPIs")
    kpis, checkpoints = [], []
    for number, kpi in enumerate(doc["kpis"], 1):
        kpi_id = str(_need(file, f"kpis[{number}]", kpi, "id"))
        direction = _need(file, kpi_id, kpi, "direction")
        if direction not in DIRECTIONS:
            raise ConfigError(file, kpi_id, "direction", f"expected one of {', '.join(DIRECTIONS)}")
        kpis.append({
            "kpi_id": kpi_id, "position": number,
            "name_zh": _need(file, kpi_id, kpi, "name_zh"), "name_en": _need(file, kpi_id, kpi, "name_en"),
            "unit": _need(file, kpi_id, kpi, "unit"), "unit_en": kpi.get("unit_en"),
            "direction": direction, "base_year": kpi.get("base_year"),
            "section": str(kpi.get("section", "")), "quote": kpi.get("quote"),
            "sector": kpi.get("sector"), "after_last_checkpoint": kpi.get("after_last_checkpoint"),
            "pending": kpi.get("pending"),
        })
        checkpoints += [_checkpoint(file, kpi_id, direction, cp) for cp in kpi.get("checkpoints") or []]
    # explicit types: a column that is empty in a small catalogue must not become INTEGER
    text = ["name_zh", "name_en", "unit", "unit_en", "direction", "section", "quote", "sector",
            "after_last_checkpoint", "pending"]
    kpi_frame = pd.DataFrame(kpis).astype({"base_year": "Int64", **{c: "string" for c in text}})
    if kpi_frame["kpi_id"].duplicated().any():
        dup = kpi_frame.loc[kpi_frame["kpi_id"].duplicated(), "kpi_id"].iloc[0]
        raise ConfigError(file, dup, "id", "defined twice")
    checkpoint_frame = pd.DataFrame(checkpoints, columns=[
        "kpi_id", "checkpoint_year", "target_value", "qualifier", "tolerance", "note_en"]).astype(
        {"checkpoint_year": "int64", "target_value": "float64", "tolerance": "Float64",
         "qualifier": "string", "note_en": "string"})
    return Catalogue(kpis=kpi_frame, checkpoints=checkpoint_frame)


def load_catalogue(con: duckdb.DuckDBPyConnection, catalogue: Catalogue) -> None:
    """Replace `config.kpis` and `config.kpi_checkpoints` (run it inside the build's transaction)."""
    con.execute("create schema if not exists config")
    for name, frame in (("kpis", catalogue.kpis), ("kpi_checkpoints", catalogue.checkpoints)):
        con.register("_catalogue", frame)
        try:
            con.execute(f"create or replace table config.{name} as select * from _catalogue")
        finally:
            con.unregister("_catalogue")
