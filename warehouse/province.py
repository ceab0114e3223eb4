"""A province on one lake: every city's KPIs side by side, and the ones that add up, added up.

Each city writes a namespace of its own in the lake (warehouse/lake.city_namespace). The province
build reads each city's namespace read-only, at its latest snapshot, and writes the province's
namespace in one transaction (one DuckLake snapshot: a reader sees a whole build or the last one):
- `kpi.kpi_status`: every city's rows, with `city_code` and the city's names in front;
- `kpi.kpi_status_by_city`: one row per KPI and checkpoint, one status column per city;
- `kpi.kpi_series`: every city's yearly values, with `city_code`;
- `kpi.kpi_rollup`: for the KPIs that `province.yml` says add up (capacity, coal, stock), the
  province's value per year, the cities counted and whether every city with the KPI reported;
- `marts.<mart>`: every mart of any city, all cities' rows with `city_code`;
- `meta.cities`: which cities went in, at which of their snapshots.
What is the province's (its cities, which KPIs add up) is declared in `province.yml`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import yaml

from core import yamlio
from core.errors import ConfigError
from warehouse.db import has_table, quote_ident, relations, sql_literal, transaction
from warehouse.lake import (
    PROVINCE_NAMESPACE,
    LakeConnectError,
    attach_namespace,
    city_namespace,
    connect_pointer,
    read_pointer,
)

_NAME = re.compile(r"[a-z][a-z0-9_]{0,30}")
# kpi.kpi_status_by_city's own columns; each city's is named after the city
_SIDE_BY_SIDE_COLUMNS = ("kpi_id", "name_zh", "name_en", "checkpoint_year", "unit", "cities_on_track",
                         "cities_off_track", "cities_with_checkpoint")


@dataclass(frozen=True)
class City:
    code: str  # six digits: its namespace in the lake
    name: str  # a lowercase identifier: its column in the side-by-side table
    name_zh: str


@dataclass(frozen=True)
class Province:
    name_zh: str
    cities: tuple[City, ...]
    adds_up: tuple[str, ...]  # KPI ids whose province value is the sum of the cities'


def read_province(path: Path) -> Province:
    """Read and check `province.yml`; its `cities:` are config folders, relative to the file."""
    from connectors.spec import load_city  # the one reader of city.yml

    file = str(path)
    try:
        doc = yamlio.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(file, None, "-", "province file not found; see config/province.yml") from None
    except yaml.YAMLError as exc:
        raise ConfigError(file, None, "-", f"not valid YAML: {exc}") from None
    if not isinstance(doc, dict) or set(doc) - {"name", "name_zh", "cities", "adds_up"}:
        raise ConfigError(file, None, "-", "expected the keys name, name_zh, cities, adds_up")
    folders = doc.get("cities")
    if not isinstance(folders, list) or not folders or not all(isinstance(f, str) for f in folders):
        raise ConfigError(file, None, "cities", "expected a list of city config folders, e.g. [mianyang]")
    cities = []
    for folder in folders:
        city = load_city(Path(path).parent / folder / "city.yml")
        name, code = str(city.get("name", "")), city.get("code")
        if code is None:
            raise ConfigError(file, folder, "code", f"`{folder}/city.yml` has no `code:`; the lake keeps "
                              "each city under its six-digit administrative division code", kind="city")
        if not _NAME.fullmatch(name) or name in _SIDE_BY_SIDE_COLUMNS:
            raise ConfigError(file, folder, "name", f"`{name}` must be a lowercase identifier, e.g. "
                              "mianyang, and not one of " + ", ".join(_SIDE_BY_SIDE_COLUMNS), kind="city")
        cities.append(City(code, name, str(city.get("name_zh") or name)))
    for key, value in (("code", [c.code for c in cities]), ("name", [c.name for c in cities])):
        if len(set(value)) != len(value):
            raise ConfigError(file, None, "cities", f"two cities share a {key}: {sorted(value)}")
    adds_up = doc.get("adds_up") or []
    if not isinstance(adds_up, list) or not all(isinstance(k, str) and _NAME.fullmatch(k) for k in adds_up):
        raise ConfigError(file, None, "adds_up", "expected a list of KPI ids, e.g. [clean_power_capacity]")
    return Province(str(doc.get("name_zh") or doc.get("name") or ""), tuple(cities), tuple(adds_up))


def connect_province(pointer: Path, province: Province, read_only: bool = False
                     ) -> duckdb.DuckDBPyConnection:
    """The province's namespace as `lake` (in use), and each city's read-only as `city_<code>`."""
    con = connect_pointer(pointer, PROVINCE_NAMESPACE, read_only=read_only)
    catalog = read_pointer(pointer).catalog
    try:
        for city in province.cities:
            attach_namespace(con, catalog, city_namespace(city.code), city_namespace(city.code),
                             read_only=True)
    except LakeConnectError as exc:
        con.close()
        raise LakeConnectError(f"{exc} (city `{city.name}`)") from None
    return con


@dataclass(frozen=True)
class ProvinceBuild:
    cities: int
    status_rows: int
    marts: int
    rollup_rows: int


def build_province(con: duckdb.DuckDBPyConnection, province: Province) -> ProvinceBuild:
    """Write the province's tables (see the module docstring) in one transaction."""
    cities = province.cities
    ns = {c.code: city_namespace(c.code) for c in cities}
    missing = [c.name for c in cities if not has_table(con, "kpi", "kpi_status", ns[c.code])]
    if missing:
        raise LakeConnectError(f"no `kpi.kpi_status` yet for {', '.join(missing)}: run each city's "
                               "build (`carbonpeak build` with its CARBONPEAK_CONFIG_DIR) first")
    marts = sorted({t for c in cities for t in relations(con, "marts", ns[c.code])})
    with transaction(con):
        for schema in ("meta", "kpi", "marts"):
            con.execute(f"create schema if not exists {schema}")
        con.execute("create or replace table meta.cities as " + " union all ".join(
            f"select {sql_literal(c.code)} as city_code, {sql_literal(c.name)} as city_name, "
            f"{sql_literal(c.name_zh)} as city_name_zh, (select max(snapshot_id) from "
            f"ducklake_snapshots({sql_literal(ns[c.code])})) as snapshot_id, now() as built_at"
            for c in cities))
        _union(con, "kpi.kpi_status", [(c, f"{ns[c.code]}.kpi.kpi_status") for c in cities], names=True)
        series = [(c, f"{ns[c.code]}.kpi.kpi_series") for c in cities
                  if has_table(con, "kpi", "kpi_series", ns[c.code])]
        if series:
            _union(con, "kpi.kpi_series", series)
        else:  # no city has a series yet: an empty table, so the roll-up has nothing to add
            con.execute("create or replace table kpi.kpi_series (city_code varchar, kpi_id varchar, "
                        "year integer, value double)")
        for mart in marts:
            _union(con, f"marts.{quote_ident(mart)}",
                   [(c, f"{ns[c.code]}.marts.{quote_ident(mart)}") for c in cities
                    if has_table(con, "marts", mart, ns[c.code])])
        _side_by_side(con, cities)
        _rollup(con, province.adds_up)
        counts = con.execute("select (select count(*) from kpi.kpi_status), "
                             "(select count(*) from kpi.kpi_rollup)").fetchone()
    return ProvinceBuild(len(cities), counts[0], len(marts), counts[1])


def _union(con: duckdb.DuckDBPyConnection, target: str, parts: list[tuple[City, str]],
           names: bool = False) -> None:
    """`target` := every part's rows, `city_code` (and the city's names) first; by column name.

    A city's marts and kpi_status carry its own `city_code` (config.city) already; the province
    writes the code of province.yml, the one its namespace is named after, in its place (a city
    built before the column existed has none).
    """
    def select(city: City, relation: str) -> str:
        extra = (f", {sql_literal(city.name)} as city_name, {sql_literal(city.name_zh)} as city_name_zh"
                 if names else "")
        return (f"select {sql_literal(city.code)} as city_code{extra}, "
                f"columns(lambda c: c <> 'city_code') from {relation}")

    con.execute(f"create or replace table {target} as "
                + " union all by name ".join(select(c, r) for c, r in parts))


def _side_by_side(con: duckdb.DuckDBPyConnection, cities: tuple[City, ...]) -> None:
    """One row per KPI and checkpoint year; each city's status in a column named after the city."""
    columns = ", ".join(
        f"max(status) filter (where city_code = {sql_literal(c.code)}) as {quote_ident(c.name)}"
        for c in cities)
    con.execute(f"""
        create or replace table kpi.kpi_status_by_city as
        select kpi_id, any_value(name_zh) as name_zh, any_value(name_en) as name_en, checkpoint_year,
               string_agg(distinct unit, ' / ') as unit, {columns},
               count(*) filter (where status in ('achieved', 'on_track')) as cities_on_track,
               count(*) filter (where status in ('at_risk', 'off_track')) as cities_off_track,
               count(*) as cities_with_checkpoint
        from kpi.kpi_status
        group by kpi_id, checkpoint_year
        order by min(catalogue_position), kpi_id, checkpoint_year
    """)


def _rollup(con: duckdb.DuckDBPyConnection, adds_up: tuple[str, ...]) -> None:
    """The province's yearly value of each KPI that adds up: the sum over the cities that have it.

    A year counts as complete only when every city whose plan has the KPI reported it; the sum
    of a year some city has not reported yet is shown, but flagged incomplete. A KPI whose cities
    measure it in different units is not added up (`unit` lists them, `value` stays null).
    """
    wanted = "[" + ", ".join(sql_literal(k) for k in adds_up) + "]::varchar[]"
    con.execute(f"""
        create or replace table kpi.kpi_rollup as
        with kpi_cities as (
            select kpi_id, count(distinct city_code) as cities_with_kpi,
                   count(distinct unit) as units, string_agg(distinct unit, ' / ') as unit
            from kpi.kpi_status
            where list_contains({wanted}, kpi_id)
            group by kpi_id
        ),
        yearly as (
            select kpi_id, year, sum(value) as value, count(distinct city_code) as cities_reporting,
                   string_agg(distinct city_code, ',' order by city_code) as city_codes
            from kpi.kpi_series
            where list_contains({wanted}, kpi_id) and value is not null
            group by kpi_id, year
        ),
        final as (
            select y.kpi_id, y.year, k.unit, case when k.units = 1 then y.value end as value,
                   y.cities_reporting, k.cities_with_kpi,
                   y.cities_reporting = k.cities_with_kpi and k.units = 1 as is_complete, y.city_codes
            from yearly as y
            inner join kpi_cities as k on y.kpi_id = k.kpi_id
        )
        select * from final order by kpi_id, year
    """)


def read_side_by_side(con: duckdb.DuckDBPyConnection) -> tuple[list[str], list[dict], list[dict]]:
    """The cities (by name), `kpi.kpi_status_by_city` and `kpi.kpi_rollup`, from the province's namespace."""
    from warehouse.db import as_dicts

    try:
        cities = [r[0] for r in con.execute("select city_name from meta.cities").fetchall()]
        rows = as_dicts(con.execute("select * from kpi.kpi_status_by_city"))
        rollup = as_dicts(con.execute("select * from kpi.kpi_rollup"))
    except duckdb.CatalogException:
        raise LakeConnectError("the province has not been built yet: run `carbonpeak province build`"
                               ) from None
    return cities, rows, rollup
