"""HTML of the dictionary: an index, one page per KPI, one per table or view. Chinese with English beside.

Why ~300 lines: three page kinds (index, KPI, table) in one HTML vocabulary; the helpers
they share would otherwise be imported back and forth.
"""

from __future__ import annotations

from html import escape

from publishing.clock import city_time
from publishing.dictionary.assets import CSS, FILTER_JS
from publishing.dictionary.catalog import Catalog, Checkpoint, Kpi, Relation
from publishing.dictionary.graph import lineage_svg
from publishing.status_words import QUALIFIER_WORDS, STATUS_ZH, target_symbol

# A lower_is_better KPI's `at_least` target is a cut at least this large: −14 % or lower.
DIRECTION = {"higher_is_better": "越高越好 higher is better", "lower_is_better": "越低越好 lower is better"}
LAYERS = {  # schema -> (Chinese, English) of what it holds
    "raw": ("原始数据", "departmental data as received, every vintage kept"),
    "staging": ("清洗层", "current vintage of each raw table: renamed, cast, canonical units"),
    "marts": ("汇总层", "yearly city-level tables the KPIs are computed from"),
    "kpi": ("指标层", "one view per KPI of the plan, the long series and the status per checkpoint"),
    "meta": ("元数据", "bookkeeping: loads, validations, quarantine, source state and health, lineage"),
    "config": ("配置", "the KPI catalogue of the plan, from kpis.yml"),
}


def kpi_path(kpi_id: str) -> str:
    return f"kpi/{kpi_id}.html"


def relation_path(relation: str) -> str:
    return f"tables/{relation}.html"


# --- small pieces ---------------------------------------------------------------------------------
def _h(text: object) -> str:
    return escape("" if text is None else str(text))


def _num(value: float | None) -> str:
    return "–" if value is None else f"{value:,.6g}" if abs(value) >= 1e6 else f"{value:g}"


def _rows(count: int | None) -> str:
    return "–" if count is None else f"{count:,}"


def _en(text: str) -> str:
    return f'<span class="en">{_h(text)}</span>'


def _heading(level: int, zh: str, en: str, anchor: str = "", extra: str = "") -> str:
    ident = f' id="{anchor}"' if anchor else ""
    return f"<h{level}{ident}>{zh} {_en(en)}{extra}</h{level}>"


def _table(*headers: tuple[str, str], css: str = "") -> str:
    """The opening of a table whose header cells are (Chinese, English) pairs."""
    cells = "".join(f"<th>{zh} {_en(en)}</th>" if en else f"<th>{zh}</th>" for zh, en in headers)
    return f'<table{f" class={css}" if css else ""}><thead><tr>{cells}</tr></thead><tbody>'


def _facts(items: list[tuple[str, str]]) -> str:
    """`label: value` pairs on a line; values are markup."""
    spans = "".join(f"<span>{label}: <b>{value}</b></span>" for label, value in items)
    return f'<div class="facts">{spans}</div>'


def _rel(relation: str, root: str, catalog: Catalog) -> str:
    if relation not in catalog.relations:
        return f"<code>{_h(relation)}</code>"
    return f'<a href="{root}{relation_path(relation)}"><code>{_h(relation)}</code></a>'


def _rels(relations: tuple[str, ...] | list[str], root: str, catalog: Catalog) -> str:
    return ", ".join(_rel(r, root, catalog) for r in relations) or "–"


def _layer(schema: str) -> str:
    return f'<span class="layer {_h(schema)}">{_h(schema)}</span>'


def _badge(status: str | None) -> str:
    if not status:
        return '<span class="badge">–</span>'
    return f'<span class="badge s-{_h(status)}">{_h(STATUS_ZH.get(status, ""))} {_h(status)}</span>'


def target_text(cp: Checkpoint, kpi: Kpi) -> str:
    """`≥ 56.5 % 以上 at least`, `≈ 45 ± 0.9 % 左右 about`, `> 30 % 超过 more than`."""
    tolerance = f" ± {cp.tolerance:g}" if cp.qualifier == "about" and cp.tolerance is not None else ""
    return (f"{target_symbol(cp.qualifier, kpi.direction)} {cp.target_value:g}{tolerance} {kpi.unit} "
            f"{QUALIFIER_WORDS.get(cp.qualifier, cp.qualifier)}")


def page(title: str, body: list[str], root: str, catalog: Catalog, script: str = "") -> str:
    plan = f"{catalog.city} · {catalog.plan}" if catalog.plan else catalog.city
    as_of = (f"data loaded up to 数据更新至 {city_time(catalog.data_as_of)} · "
             if catalog.data_as_of else "")
    body_html = "\n".join(body)
    return f"""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_h(title)} · 数据字典 data dictionary</title>
<style>{CSS}</style>
</head>
<body>
<header class="top"><a href="{root}index.html">数据字典 {_en("carbonpeak data dictionary")}</a>
<span class="plan">{_h(plan)}</span>
<nav><a href="{root}index.html#kpis">指标 KPIs</a>
<a href="{root}index.html#tables">表 Tables</a></nav></header>
<main>
{body_html}
</main>
<footer>{as_of}written by <code>carbonpeak docs</code> from the warehouse and dbt_like_sql/; every page opens
offline (no network, all styles inline).</footer>
{f"<script>{script}</script>" if script else ""}
</body>
</html>
"""


# --- index ----------------------------------------------------------------------------------------
def render_index(catalog: Catalog) -> str:
    by_schema: dict[str, list[Relation]] = {}
    for rel in catalog.relations.values():
        by_schema.setdefault(rel.schema, []).append(rel)
    cards = [("指标 KPIs", len(catalog.kpis)),
             ("目标节点 checkpoints", sum(len(k.checkpoints) for k in catalog.kpis))]
    cards += [(f"{LAYERS.get(s, ('',))[0]} {s}", len(rels)) for s, rels in by_schema.items()]
    body = [_heading(1, "数据字典", "Data dictionary"),
            f'<p class="desc">{_h(catalog.plan)} 的每个指标从规划条款到模型与原始数据的来龙去脉，'
            '以及仓库中的每张表。<br><span class="note">Every KPI of the plan, from its clause to the models '
            "and raw sources it is computed from, and every table and view of the warehouse.</span></p>",
            '<div class="cards">' + "".join(f"<div class=card><b>{n}</b>{_h(label)}</div>"
                                            for label, n in cards) + "</div>",
            '<input class="filter" type="search" placeholder="筛选 filter: 森林 / forest / raw. …" '
            'aria-label="filter">',
            _heading(2, "指标", "KPIs", "kpis")]
    if not catalog.kpis:
        body.append('<p class="pending">No KPI catalogue in this warehouse yet (<code>config.kpis</code>); '
                    "run <code>carbonpeak run</code> or <code>carbonpeak build</code>.</p>")
    else:
        body.append(_table(("#", ""), ("指标", "KPI"), ("单位", "unit"), ("条款", "clause"),
                           ("目标", "targets"), ("状态", "status"), ("来源", "sources"), css="filterable"))
        for n, kpi in enumerate(catalog.kpis, 1):
            origins = [catalog.relations[s].origin for s in kpi.sources if s in catalog.relations]
            departments = " ".join(sorted({o.department_zh for o in origins if o}))
            targets = "<br>".join(f"{cp.year}: {_h(target_text(cp, kpi))}" for cp in kpi.checkpoints)
            body.append(
                f'<tr><td class="num">{n}</td><td><a href="{kpi_path(kpi.kpi_id)}">{_h(kpi.name_zh)}</a> '
                f'<span class="note">{_h(kpi.name_en)}</span><br><code class="note">{_h(kpi.kpi_id)}</code>'
                f"</td><td>{_h(kpi.unit)}</td><td>{_h(kpi.section)}</td><td>{targets}</td>"
                f"<td>{''.join(_badge(cp.status) for cp in kpi.checkpoints) or _badge(None)}</td>"
                f"<td>{_h(departments) or '<span class=note>pending</span>'}</td></tr>")
        body.append("</tbody></table>")
    body.append(_heading(2, "表和视图", "Tables and views", "tables"))
    for schema, rels in by_schema.items():
        zh, en = LAYERS.get(schema, ("", ""))
        body.append(f'<h3 id="schema-{_h(schema)}">{_layer(schema)} {_h(zh)} {_en(en)}</h3>')
        body.append(_table(("名称", "name"), ("类型", "kind"), ("行数", "rows"), ("列", "columns"),
                           ("说明", "description"), css="filterable"))
        for rel in rels:
            body.append(f"<tr><td>{_rel(rel.relation, '', catalog)}</td><td>{_h(rel.kind)}</td>"
                        f'<td class="num">{_rows(rel.row_count)}</td><td class="num">{len(rel.columns)}</td>'
                        f"<td>{_h(rel.description)}</td></tr>")
        body.append("</tbody></table>")
    return page("index", body, "", catalog, FILTER_JS)


# --- one KPI --------------------------------------------------------------------------------------
def render_kpi(kpi: Kpi, catalog: Catalog) -> str:
    root = "../"
    unit = f"{kpi.unit} ({kpi.unit_en})" if kpi.unit_en else kpi.unit
    facts = [("指标编号 id", f"<code>{_h(kpi.kpi_id)}</code>"), ("单位 unit", _h(unit)),
             ("方向 direction", _h(DIRECTION.get(kpi.direction, kpi.direction))),
             ("领域 sector", _h(kpi.sector or "–"))]
    if kpi.base_year:
        facts.append(("基准年 base year", str(kpi.base_year)))
    if kpi.after_last_checkpoint:
        facts.append(("之后 after the last checkpoint", _h(kpi.after_last_checkpoint)))
    if kpi.definition:
        choice, zh, en = kpi.definition
        facts.append(("口径 definition", f"<code>{_h(choice)}</code>: {_h(zh)} {_en(en)}"))
    body = [f'<p class="crumbs"><a href="{root}index.html">数据字典</a> › '
            f'<a href="{root}index.html#kpis">指标 KPIs</a> › {_h(kpi.kpi_id)}</p>',
            f"<h1>{_h(kpi.name_zh)} {_en(kpi.name_en)}</h1>", _facts(facts),
            _heading(2, "规划条款", "Plan clause", "clause"),
            f'<blockquote class="clause"><p class="where">{_h(catalog.plan)} · 条款 {_en("section")} '
            f'<b>{_h(kpi.section)}</b></p><p class="quote">“{_h(kpi.quote or "")}”</p></blockquote>',
            _heading(2, "目标节点", "Checkpoints", "checkpoints")]
    if kpi.checkpoints:
        body.append(_table(("年份", "year"), ("目标", "target"), ("说明", "note"), ("最新", "latest"),
                           ("预测", "projected"), ("差距", "gap"), ("状态", "status"), ("原因", "reason")))
        for cp in kpi.checkpoints:
            latest = f"{_num(cp.latest_value)} ({cp.latest_year})" if cp.latest_year else "–"
            body.append(f"<tr><td>{cp.year}</td><td>{_h(target_text(cp, kpi))}</td><td>{_h(cp.note_en)}</td>"
                        f'<td class="num">{latest}</td><td class="num">{_num(cp.projected_value)}</td>'
                        f'<td class="num">{_num(cp.gap)}</td><td>{_badge(cp.status)}</td>'
                        f"<td>{_h(cp.status_reason)}</td></tr>")
        body.append("</tbody></table>")
    else:
        body.append('<p class="note">无量化目标节点 No dated numeric target.</p>')
    body.append(_heading(2, "数据血缘", "Lineage", "lineage"))
    if not kpi.view:
        reason = f": {_h(kpi.pending)}" if kpi.pending else "."
        body.append(f'<p class="pending">尚无指标视图 No KPI view computes this KPI yet{reason}</p>')
        return page(kpi.name_zh, body, root, catalog)
    body.append('<p class="note">原始数据 → 清洗 → 汇总 → 指标 · raw sources on the left, the KPI on the '
                "right; click a box for its table.</p>")
    body.append(f'<div class="graph">{lineage_svg(kpi, catalog, lambda r: root + relation_path(r))}</div>')
    body += _sources(kpi, catalog, root)
    view = catalog.relations.get(kpi.view)
    body.append(f"{_heading(3, '指标视图', 'KPI view')}<p>{_rel(kpi.view, root, catalog)} — "
                f"{_h(view.description if view else '')}</p>")
    body.append(_heading(3, "模型", "Models", "models", f" ({len(kpi.models)})"))
    body.append(_table(("层", "layer"), ("模型", "model"), ("类型", "kind"), ("读取", "reads"),
                       ("说明", "description")))
    for relation in kpi.models:
        rel = catalog.relations.get(relation)
        body.append(f"<tr><td>{_layer(relation.split('.')[0])}</td><td>{_rel(relation, root, catalog)}</td>"
                    f"<td>{_h(rel.kind if rel else '–')}</td>"
                    f"<td>{_rels(catalog.edges.get(relation, ()), root, catalog)}</td>"
                    f"<td>{_h(rel.description if rel else '')}</td></tr>")
    body.append("</tbody></table>")
    return page(kpi.name_zh, body, root, catalog)


def _sources(kpi: Kpi, catalog: Catalog, root: str) -> list[str]:
    raw = [s for s in kpi.sources if s.startswith("raw.")]
    other = [s for s in kpi.sources if not s.startswith("raw.")]
    out = [_heading(3, "原始数据来源", "Raw sources", "sources", f" ({len(raw)})"),
           _table(("原始表", "raw table"), ("部门", "department"), ("数据集", "dataset"),
                  ("格式 · 路径", "format · path"), ("最近来源", "last fetched from"), ("行数", "rows"),
                  ("健康", "health"))]
    for relation in raw:
        rel = catalog.relations.get(relation)
        o = rel.origin if rel else None
        rows = _rows(rel.row_count if rel else None)
        if o is None:
            out.append(f"<tr><td>{_rel(relation, root, catalog)}</td><td colspan=4 class=note>not in "
                       f'sources.yml</td><td class="num">{rows}</td><td>–</td></tr>')
            continue
        fetched = (f"<br><span class=note>{city_time(o.last_fetched_at)}</span>"
                   if o.last_fetched_at else "")
        error = f"<br><span class=note>{_h(o.error)}</span>" if o.error else ""
        out.append(f"<tr><td>{_rel(relation, root, catalog)}</td><td>{_h(o.department_zh)} "
                   f"<span class=note>{_h(o.department_en)} ({_h(o.department)})</span></td>"
                   f"<td><code>{_h(o.dataset)}</code><br><span class=note>{_h(o.description)}</span></td>"
                   f"<td>{_h(o.format)} <code class=url>{_h(o.path)}</code></td>"
                   f"<td><code class=url>{_h(o.last_url or '–')}</code>{fetched}</td>"
                   f'<td class="num">{rows}</td><td>{_h(o.health or "–")}{error}</td></tr>')
    out.append("</tbody></table>")
    if other:
        out.append(f"<p>其他输入 {_en('other inputs')}: {_rels(other, root, catalog)}</p>")
    return out


# --- one table or view ----------------------------------------------------------------------------
def render_relation(rel: Relation, catalog: Catalog) -> str:
    root = "../"
    facts = [("层 layer", _layer(rel.schema)), ("类型 kind", _h(rel.kind))]
    if rel.row_count is not None:
        facts.append(("行数 rows", _rows(rel.row_count)))
    if rel.model_path:
        facts.append(("模型文件 model", f"<code>{_h(rel.model_path)}</code>"))
    body = [f'<p class="crumbs"><a href="{root}index.html">数据字典</a> › '
            f'<a href="{root}index.html#schema-{_h(rel.schema)}">{_h(rel.schema)}</a> › {_h(rel.name)}</p>',
            f"<h1><code>{_h(rel.relation)}</code></h1>", _facts(facts),
            f'<p class="desc">{_h(rel.description) or "<span class=note>no description</span>"}</p>']
    if rel.origin:
        o = rel.origin
        origin = [("部门 department", f"{_h(o.department_zh)} {_h(o.department_en)} ({_h(o.department)})"),
                  ("数据集 dataset", f"<code>{_h(o.dataset)}</code>"),
                  ("格式 format", f"{_h(o.format)} <code>{_h(o.path)}</code>"),
                  ("频率 cadence", _h(o.cadence)), ("地址变量 URL variable", f"<code>{_h(o.url_env)}</code>")]
        if o.landing_env:
            origin.append(("落地目录 landing folder variable", f"<code>{_h(o.landing_env)}</code>"))
        origin += [("批次 loads", str(o.loads)),
                   ("最近来源 last fetched from", f"<code class=url>{_h(o.last_url or '–')}</code>"),
                   ("sha256", f"<code>{_h((o.last_sha256 or '–')[:16])}</code>"),
                   ("健康 health", _h(o.health or "–"))]
        body += [_heading(2, "来源", "Origin"), _facts(origin)]
    body.append(_heading(2, "列", "Columns", "", f" ({len(rel.columns)})"))
    published = any(c.published for c in rel.columns)
    headers = [("#", ""), ("列", "column"), ("类型", "type"), ("单位", "unit"), ("说明", "description")]
    body.append(_table(*headers, *([("发布字段", "published as")] if published else [])))
    for n, c in enumerate(rel.columns, 1):
        body.append(f'<tr><td class="num">{n}</td><td><code>{_h(c.name)}</code></td>'
                    f"<td><code>{_h(c.data_type)}</code></td><td>{_h(c.unit) or '–'}</td>"
                    f"<td>{_h(c.description)}</td>" + (f"<td>{_h(c.published)}</td>" if published else "")
                    + "</tr>")
    body.append("</tbody></table>")
    kpis = catalog.kpis_reading(rel.relation)
    kpi_links = ", ".join(f'<a href="{root}{kpi_path(k.kpi_id)}">{_h(k.name_zh)}</a>' for k in kpis) or "–"
    body.append(_heading(2, "血缘", "Lineage") + "<table><tbody>")
    for zh, en, links in (("读取", "reads", _rels(rel.upstream, root, catalog)),
                          ("被读取", "read by", _rels(rel.downstream, root, catalog)),
                          ("源表", "sources, transitively", _rels(rel.raw_sources, root, catalog)),
                          ("指标", "KPIs", kpi_links)):
        body.append(f"<tr><th>{zh} {_en(en)}</th><td>{links}</td></tr>")
    body.append("</tbody></table>")
    if rel.sql:
        body.append(f"<details><summary>SQL <code>{_h(rel.model_path)}</code></summary>"
                    f"<pre>{_h(rel.sql)}</pre></details>")
    return page(rel.relation, body, root, catalog)
