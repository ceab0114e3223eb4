"""The lineage of one KPI drawn as an inline SVG: raw sources on the left, the KPI on the right.

Columns are the longest path to the KPI, so every arrow points right; within a column, nodes sit
near the nodes they feed (one barycentre pass), which keeps the arrows short for these small graphs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from publishing.dictionary.catalog import Catalog, Kpi

NODE_H, ROW_GAP, COL_GAP, PAD, MARGIN = 42, 12, 64, 12, 8


@dataclass
class _Node:
    key: str
    title: str
    subtitle: str
    css: str  # schema, for the colour
    href: str | None
    depth: int = 0
    x: float = 0
    y: float = 0
    width: float = 0


def text_width(text: str, latin: float) -> float:
    """Rough rendered width: CJK characters are square, others `latin` px wide."""
    return sum(latin * 1.75 if ord(c) >= 0x2E80 else latin for c in text)


def lineage_svg(kpi: Kpi, catalog: Catalog, href: Callable[[str], str]) -> str:
    """The SVG (as markup) of `kpi` <- its view <- models <- sources; `href(relation)` links a box."""
    if not kpi.view:
        return ""
    nodes: dict[str, _Node] = {"kpi": _Node("kpi", kpi.name_zh, f"KPI {kpi.kpi_id}", "kpi-node", None)}
    edges = [(kpi.view, "kpi")]
    for relation in (*kpi.models, *kpi.sources):
        info = catalog.relations.get(relation)
        schema, name = relation.split(".", 1)
        if info and info.origin:
            subtitle = f"{info.origin.department_zh} {info.origin.department}.{info.origin.dataset}"
        elif info:
            rows = f" · {info.row_count:,} rows" if info.row_count is not None else ""
            subtitle = f"{schema} · {info.kind}{rows}"
        else:
            subtitle = schema
        nodes[relation] = _Node(relation, name, subtitle, schema, href(relation) if info else None)
        edges += [(parent, relation) for parent in catalog.edges.get(relation, ()) if parent in
                  (*kpi.models, *kpi.sources)]
    _place(nodes, edges, sources=set(kpi.sources))
    return _draw(nodes, edges, kpi)


def _place(nodes: dict[str, _Node], edges: list[tuple[str, str]], sources: set[str]) -> None:
    children: dict[str, list[str]] = {}
    for parent, child in edges:
        children.setdefault(parent, []).append(child)

    memo: dict[str, int] = {}

    def depth(key: str) -> int:  # the model graph is acyclic: build_order refuses cycles
        if key not in memo:
            memo[key] = max((depth(c) + 1 for c in children.get(key, ())), default=0)
        return memo[key]

    for node in nodes.values():
        node.depth = depth(node.key)
    deepest = max((n.depth for k, n in nodes.items() if k not in sources), default=0) + 1
    for key in sources:  # every source in the leftmost column
        nodes[key].depth = max(nodes[key].depth, deepest)
    columns: dict[int, list[_Node]] = {}
    for node in nodes.values():
        columns.setdefault(node.depth, []).append(node)
    height = max(len(c) for c in columns.values()) * (NODE_H + ROW_GAP) - ROW_GAP
    x = MARGIN
    order: dict[str, int] = {}
    widths = {}
    for d, column in columns.items():
        widths[d] = max(max(text_width(n.title, 7.0), text_width(n.subtitle, 6.0)) for n in column) + 2 * PAD
    for d in sorted(columns):  # the KPI first: each column ordered after the one it feeds
        column = columns[d]

        def centre(node: _Node) -> float:
            below = [order[c] for c in children.get(node.key, ()) if c in order]
            return sum(below) / len(below) if below else 0.0

        column.sort(key=lambda n: (centre(n), n.key))
        top = MARGIN + (height - (len(column) * (NODE_H + ROW_GAP) - ROW_GAP)) / 2
        for i, node in enumerate(column):
            order[node.key] = i + (len(column) - 1) / -2  # centred, comparable across columns
            node.y = top + i * (NODE_H + ROW_GAP)
    for d in sorted(columns, reverse=True):
        for node in columns[d]:
            node.x, node.width = x, widths[d]
        x += widths[d] + COL_GAP


def _draw(nodes: dict[str, _Node], edges: list[tuple[str, str]], kpi: Kpi) -> str:
    width = max(n.x + n.width for n in nodes.values()) + MARGIN
    height = max(n.y + NODE_H for n in nodes.values()) + MARGIN
    parts = [f'<svg class="lineage" xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
             f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
             f'aria-label="lineage of {escape(kpi.kpi_id)}">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
             'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>']
    for parent, child in edges:
        a, b = nodes.get(parent), nodes.get(child)
        if a is None or b is None:
            continue
        x1, y1, x2, y2 = a.x + a.width, a.y + NODE_H / 2, b.x, b.y + NODE_H / 2
        bend = (x2 - x1) / 2
        parts.append(f'<path class="edge" d="M{x1:.1f},{y1:.1f} C{x1 + bend:.1f},{y1:.1f} '
                     f'{x2 - bend:.1f},{y2:.1f} {x2:.1f},{y2:.1f}" marker-end="url(#arrow)"/>')
    for node in nodes.values():
        box = (f'<g class="node {escape(node.css)}"><title>{escape(node.key)}</title>'
               f'<rect x="{node.x:.1f}" y="{node.y:.1f}" width="{node.width:.1f}" height="{NODE_H}" rx="6"/>'
               f'<text x="{node.x + PAD:.1f}" y="{node.y + 17:.1f}" class="t">{escape(node.title)}</text>'
               f'<text x="{node.x + PAD:.1f}" y="{node.y + 33:.1f}" class="s">{escape(node.subtitle)}</text>'
               "</g>")
        parts.append(f'<a href="{escape(node.href)}">{box}</a>' if node.href else box)
    parts.append("</svg>")
    return "".join(parts)
