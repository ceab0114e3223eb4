"""The data dictionary of the default warehouse: KPI → plan clause → models → raw sources, offline."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from html import unescape

import pytest

from cli.main import main
from connectors.spec import load_sources
from flows.settings import PROJECT_ROOT
from publishing.dictionary import Catalog, Dictionary, read_catalog, write_dictionary
from publishing.dictionary.catalog import LINEAGE_DOCS
from publishing.dictionary.render import render_kpi
from publishing.dictionary.units import infer_unit
from tests.browser import chromium, png_pixels
from warehouse.db import connect
from warehouse.raw import LINEAGE_COLUMNS

MIANYANG = PROJECT_ROOT / "config" / "mianyang"
# What a browser would fetch: src/href of script, link and img, and CSS url(). <a href> may go anywhere.
REMOTE_LOAD = re.compile(r"""<(?:script|link|img)\b[^>]*\b(?:src|href)=["']?(?:https?:)?//[^>]*>"""
                         r"""|url\(["']?(?:https?:)?//""", re.IGNORECASE)
FOREST_QUOTE = "森林覆盖率达到56.5% … 森林覆盖率稳定在56.5%以上"
FOREST_MODELS = ("kpi.kpi_forestry__forest_coverage", "marts.mart_forestry__forest_yearly",
                 "staging.stg_forestry__forest_resources")


@pytest.fixture(scope="module")
def facts(default_warehouse) -> dict:
    """What the pages must say, read from the warehouse itself (read-only)."""
    con = connect(default_warehouse, read_only=True)
    try:
        return {
            "kpis": [k for (k,) in con.sql("select kpi_id from config.kpis order by position").fetchall()],
            "relations": con.execute("""
                select (select count(*) from duckdb_tables() where database_name = current_database())
                     + (select count(*) from duckdb_views() where database_name = current_database()
                        and not internal)""").fetchone()[0],
            "forest_rows": con.execute("select count(*) from raw.forestry__forest_resources").fetchone()[0],
            "forest_status": con.execute(
                "select checkpoint_year, status, latest_year, latest_value from kpi.kpi_status "
                "where kpi_id = 'forest_coverage' order by 1").fetchall(),
        }
    finally:
        con.close()


@pytest.fixture(scope="module")
def catalog(default_warehouse) -> Catalog:
    con = connect(default_warehouse, read_only=True)
    try:
        return read_catalog(con, PROJECT_ROOT / "dbt_like_sql", load_sources(MIANYANG / "sources.yml"),
                            MIANYANG / "kpis.yml")
    finally:
        con.close()


@pytest.fixture(scope="module")
def site(catalog, tmp_path_factory) -> Dictionary:
    return write_dictionary(catalog, tmp_path_factory.mktemp("dictionary") / "site")






def text_of(html: str) -> str:
    """The page's text as a reader sees it: tags and styles dropped, entities decoded, spaces squeezed."""
    text = re.sub(r"<(style|script)\b.*?</\1>|<[^>]+>", " ", html, flags=re.S)
    return re.sub(r"\s+([,.;:])", r"\1", re.sub(r"\s+", " ", unescape(text)))


def test_every_kpi_and_every_table_and_view_has_a_page(site, facts):
    root = site.index.parent
    assert (site.kpis, site.relations) == (len(facts["kpis"]), facts["relations"])
    assert site.pages == 1 + site.kpis + site.relations == len(list(root.rglob("*.html")))
    assert sorted(p.stem for p in (root / "kpi").glob("*.html")) == sorted(facts["kpis"])
    index = site.index.read_text(encoding="utf-8")
    for kpi_id in facts["kpis"]:
        assert f'href="kpi/{kpi_id}.html"' in index
    for page in root.rglob("*.html"):  # every link inside the site leads to a page that exists
        for target in re.findall(r'href="([^"#:]+\.html)', page.read_text(encoding="utf-8")):
            assert (page.parent / target).is_file(), f"{page.name}: {target}"


def test_a_kpi_page_shows_its_clause_checkpoints_models_and_raw_sources(site, facts):
    html = (site.index.parent / "kpi/forest_coverage.html").read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and '<meta charset="utf-8">' in html
    text = text_of(html)
    assert "森林覆盖率 forest coverage" in text
    assert f"“{FOREST_QUOTE}”" in text and "《绵阳市碳达峰实施方案》 · 条款 section 一(三), 二(七)2" in text
    for year, status, latest_year, latest_value in facts["forest_status"]:
        words = "以上 at least" if year == 2025 else "稳定在…以上 stay at or above"
        assert re.search(rf"{year} ≥ 56.5 % {words} .*? {latest_value:g} \({latest_year}\)", text), year
        assert f'class="badge s-{status}"' in html
    assert [s for _, s, _, _ in facts["forest_status"]] == ["at_risk", "on_track"]
    # the chain of models, each linked to its page, from the KPI view down to staging
    models = re.search(r'id="models".*?</table>', html, re.S).group(0)
    assert re.findall(r'</span></td><td><a href="../tables/([\w.]+)\.html">', models) == list(FOREST_MODELS)
    # the raw source with its department, dataset, configured path and the URL it was last fetched from
    sources = text_of(re.search(r'id="sources".*?</table>', html, re.S).group(0))
    assert "raw.forestry__forest_resources 林业局 forestry bureau (forestry) forest_resources" in sources
    assert "csv /files/forestry/forest_resources_by_county.csv" in sources
    assert re.search(r"http://127\.0\.0\.1:\d+/files/forestry/forest_resources_by_county\.csv", sources)
    assert f" {facts['forest_rows']:,} " in sources
    # the drawn lineage: one box per relation, linked, and the KPI itself
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    for relation in (*FOREST_MODELS, "raw.forestry__forest_resources", "config.city"):
        assert f'<a href="../tables/{relation}.html"><g class="node {relation.split(".")[0]}">' in svg
    # raw → staging → mart → view → KPI, and the city's code into the mart
    assert svg.count('class="edge"') == 5 and ">KPI forest_coverage<" in svg


def test_a_kpi_with_a_cut_target_and_one_without_a_view(site, catalog):
    html = (site.index.parent / "kpi/energy_intensity_change.html").read_text(encoding="utf-8")
    assert "≤ -14 % change vs base" in html  # a cut of at least 14 %
    assert all(f"../tables/raw.energy__{t}.html" in html for t in ("balance", "gdp"))
    # its view is generated from the KPI's measure: (the base year written in, no config lookup)
    view = (site.index.parent / "tables/kpi.kpi_economy__energy_intensity_change.html").read_text(
        encoding="utf-8")
    assert "generated from kpis.yml (measure:)" in view and "where year = 2020" in view
    # a KPI the plan sets but no model computes yet: its clause and targets, and why there is no data
    kpi = next(k for k in catalog.kpis if k.kpi_id == "carbon_peak")
    pending = text_of(render_kpi(replace(kpi, view=None, models=(), sources=(), pending="no inventory yet"),
                                 catalog))
    assert "确保2030年前如期实现碳达峰" in pending and "2030 ≤ 2030 year" in pending
    assert "尚无指标视图 No KPI view computes this KPI yet: no inventory yet" in pending
    assert "<svg" not in pending


def test_table_pages_have_columns_types_units_descriptions_and_row_counts(site, facts):
    root = site.index.parent
    raw = text_of((root / "tables/raw.forestry__forest_resources.html").read_text(encoding="utf-8"))
    assert f"行数 rows: {facts['forest_rows']:,}" in raw
    assert "部门 department: 林业局 forestry bureau (forestry)" in raw
    # column, type, unit (canonical, as stored), description, header and unit as the bureau publishes
    assert "forest_area_ha DOUBLE ha Forest area, ha 森林面积 (公顷)" in raw
    assert "stock_volume_m3 DOUBLE m³ Standing stock volume, m³ 森林蓄积量 (万立方米)" in raw
    assert "_load_seq BIGINT – order of the loads: the highest per key is the current vintage" in raw
    assert set(LINEAGE_DOCS) == set(LINEAGE_COLUMNS)  # every column the loader adds is described
    assert "KPIs 森林覆盖率, 森林蓄积量" in raw
    mart = text_of((root / "tables/marts.mart_forestry__forest_yearly.html").read_text(encoding="utf-8"))
    assert "City forest resources per year, summed over the counties." in mart  # COMMENT ON TABLE
    assert "forest_coverage_pct DOUBLE % Σ forest area / Σ land area × 100 (KPI forest_coverage)" in mart
    assert "dbt_like_sql/marts/mart_forestry__forest_yearly.sql" in mart
    assert ("reads staging.stg_forestry__forest_resources, config.city 被读取 read by "
            "kpi.kpi_forestry__forest_coverage, "
            "kpi.kpi_forestry__forest_stock_volume 源表 sources, transitively config.city, "
            "raw.forestry__forest_resources"
            ) in mart
    view = text_of((root / "tables/kpi.kpi_forestry__forest_coverage.html").read_text(encoding="utf-8"))
    assert "value DOUBLE % Σ forest area / Σ land area × 100, percent" in view  # the KPI's unit
    assert "行数" not in view  # a view is not computed for a row count
    economy = text_of((root / "tables/marts.mart_economy__energy_intensity_yearly.html").read_text("utf-8"))
    assert "energy_intensity_tce_per_10k_cny DOUBLE tce/10,000 CNY" in economy


@pytest.mark.parametrize("column, unit", [
    ("forest_area_ha", "ha"), ("nonfossil_share_pct", "%"), ("co2_kg_per_m2", "kg/m²"),
    ("co2_kg_per_10_tkm", "kg/10 t·km"), ("energy_intensity_tce_per_10k_cny", "tce/10,000 CNY"),
    ("energy_kgce_per_person", "kgce/person"), ("capacity_tpd", "t/day"), ("county_name", ""), ("year", "")])
def test_units_are_read_from_column_names(column, unit):
    assert infer_unit(column) == unit


def test_no_page_loads_anything_from_the_network(site):
    for page in site.index.parent.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not REMOTE_LOAD.findall(text), page
        assert "<link" not in text and "<script src" not in text and "<img" not in text, page


def test_the_kpi_page_renders_offline_in_headless_chromium(site, tmp_path):
    page = site.index.parent / "kpi/forest_coverage.html"
    dom = chromium(page, tmp_path / "profile", "--dump-dom").stdout
    text = text_of(dom)
    assert FOREST_QUOTE in text and "规划条款 Plan clause" in text
    for relation in (*FOREST_MODELS, "raw.forestry__forest_resources"):
        assert relation in text
    assert "林业局" in text and "/files/forestry/forest_resources_by_county.csv" in text

    shot = tmp_path / "kpi.png"
    chromium(page, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,1000")
    width, height, pixels = png_pixels(shot.read_bytes())
    assert (width, height) == (1280, 1000)
    # A blank page compresses to ~5 KB with a handful of byte values; this one has text, colour, a graph.
    assert shot.stat().st_size > 60_000 and len(set(pixels)) > 128


def test_carbonpeak_docs_writes_the_site_and_leaves_the_warehouse_alone(warehouse_copy, facts, tmp_path,
                                                                       monkeypatch, capsys):
    monkeypatch.setenv("CARBONPEAK_WAREHOUSE", str(warehouse_copy))
    before = hashlib.sha256(warehouse_copy.read_bytes()).hexdigest()
    out = tmp_path / "site"
    (out / "tables").mkdir(parents=True)
    (out / "tables/raw.gone.html").write_text("a table dropped since the last build", encoding="utf-8")
    assert main(["docs", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    kpis, relations = len(facts["kpis"]), facts["relations"]
    assert printed == (f"data dictionary written: {out / 'index.html'} ({1 + kpis + relations} pages: "
                       f"{kpis} KPIs, {relations} tables and views; opens offline in any browser)\n")
    assert FOREST_QUOTE in (out / "kpi/forest_coverage.html").read_text(encoding="utf-8")
    assert not (out / "tables/raw.gone.html").exists()
    assert hashlib.sha256(warehouse_copy.read_bytes()).hexdigest() == before


def test_carbonpeak_docs_without_a_warehouse_is_one_clear_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CARBONPEAK_WAREHOUSE", str(tmp_path / "none.duckdb"))
    assert main(["docs", "--out", str(tmp_path / "site")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist yet; run `carbonpeak run` first" in err
    assert not (tmp_path / "site").exists()


def test_a_kpi_page_states_the_definition_the_city_chose(site):
    # 资源化利用 with or without incineration: kpis.yml names the choice, the page states it
    page = site.index.parent / "kpi/domestic_waste_recycling_share.html"
    text = text_of(page.read_text(encoding="utf-8"))
    assert "口径 definition: recycling_plus_incineration: 资源化利用量 = 回收利用量 + 焚烧发电" in text
    assert "per the urban management ledger's footnote" in text
