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


def read_catalogue(path: Path) -> Catalogue:
    """Read and check `kpis.yml`; errors name the file, the KPI and the key."""
    file = str(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(file, None, "-", "KPI catalogue not found") from None
    kpis, checkpoints = [], []
    for number, kpi in enumerate(doc.get("kpis") or [], 1):
        kpi_id = kpi.get("id")
        if not kpi_id:
            raise ConfigError(file, f"kpis[{number}]", "id", "is required")
        if kpi.get("direction") not in DIRECTIONS:
            raise ConfigError(file, kpi_id, "direction", f"expected one of {', '.join(DIRECTIONS)}")
        kpis.append({
            "kpi_id": kpi_id, "position": number, "name_zh": kpi["name_zh"], "name_en": kpi["name_en"],
            "unit": kpi["unit"], "unit_en": kpi.get("unit_en"), "direction": kpi["direction"],
            "base_year": kpi.get("base_year"), "section": str(kpi.get("section", "")),
            "quote": kpi.get("quote"), "sector": kpi.get("sector"),
            "after_last_checkpoint": kpi.get("after_last_checkpoint"),
        })
        for cp in kpi.get("checkpoints") or []:
            if cp.get("qualifier") not in QUALIFIERS:
                raise ConfigError(file, kpi_id, f"checkpoints.{cp.get('year')}.qualifier",
                                  f"`{cp.get('qualifier')}`; expected one of {', '.join(QUALIFIERS)}")
            checkpoints.append({
                "kpi_id": kpi_id, "checkpoint_year": int(cp["year"]),
                "target_value": float(cp["target_value"]), "qualifier": cp["qualifier"],
                "tolerance": float(cp["tolerance"]) if cp.get("tolerance") is not None else None,
                "note_en": cp.get("note_en"),
            })
    kpi_frame = pd.DataFrame(kpis).astype({"base_year": "Int64"})
    if kpi_frame["kpi_id"].duplicated().any():
        dup = kpi_frame.loc[kpi_frame["kpi_id"].duplicated(), "kpi_id"].iloc[0]
        raise ConfigError(file, dup, "id", "defined twice")
    return Catalogue(kpis=kpi_frame, checkpoints=pd.DataFrame(checkpoints))


def load_catalogue(con: duckdb.DuckDBPyConnection, catalogue: Catalogue) -> None:
    """Replace `config.kpis` and `config.kpi_checkpoints` atomically."""
    con.execute("create schema if not exists config")
    con.execute("begin transaction")
    try:
        for name, frame in (("kpis", catalogue.kpis), ("kpi_checkpoints", catalogue.checkpoints)):
            con.register("_catalogue", frame)
            con.execute(f"create or replace table config.{name} as select * from _catalogue")
            con.unregister("_catalogue")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
