"""One KPI as an inline SVG chart: actuals, the required path, the targets and the trend projection.

Drawn in Python so the report needs no JavaScript and no chart library. Every line carries its points
in data units (`data-points="2020:0 2025:-14"`), for tests and for anyone reading the page source.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 640, 330
LEFT, RIGHT, TOP, BOTTOM = 58, 24, 30, 74  # the bottom margin holds the year labels and the legend
STATUS_COLOURS = {"achieved": "#15803d", "on_track": "#0d9488", "at_risk": "#d97706",
                  "off_track": "#dc2626", "insufficient_data": "#9aa5b1", "stale": "#7c3aed"}
ACTUAL, PATH, PROJECTION = "#1d4ed8", "#6b7280", "#1d4ed8"
LEGEND = (("actual", "实际 actual"), ("path", "所需路径 required path"),
          ("target", "目标 target"), ("projection", "趋势预测 projection"))


@dataclass(frozen=True)
class Target:
    year: int
    value: float
    label: str  # `≥ 56.5`, `≈ 45 ± 1`
    status: str | None = None
    tolerance: float | None = None  # half-width of an `about` band
    projected: float | None = None


@dataclass(frozen=True)
class Chart:
    title: str
    unit_label: str  # the y axis: `%`, `万千瓦`, `较2020年变化 % change vs 2020`
    actuals: tuple[tuple[int, float], ...]
    targets: tuple[Target, ...]
    path: tuple[tuple[int, float], ...] = ()  # the required path, from the base to every target
    zero_line: bool = False  # relative KPIs: 0 is the base
    is_share: bool = False  # a percentage of a whole: the axis stays within 0–100


def fmt(value: float | None) -> str:
    """`56.13`, `0.112`, `-14.59`, `12,345`: four significant digits, never scientific."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if abs(value) >= 10000:
        return f"{value:,.0f}"
    text = f"{value:.4g}"
    return f"{value:.4f}".rstrip("0").rstrip(".") if "e" in text else text


def _nice_step(span: float) -> float:
    raw = span / 5 if span > 0 else 1.0
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)


def _y_range(values: list[float], chart: Chart) -> tuple[float, float, float]:
    lo, hi = min(values), max(values)
    if chart.zero_line:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi - lo < 1e-9:
        lo, hi = lo - max(abs(lo) * 0.1, 1), hi + max(abs(hi) * 0.1, 1)
    lo, hi = lo - (hi - lo) * 0.04, hi + (hi - lo) * 0.04  # a marker on the edge stays inside
    step = _nice_step(hi - lo)
    lo, hi = math.floor(lo / step) * step, math.ceil(hi / step) * step
    if chart.is_share:
        lo, hi = max(lo, 0.0), min(hi, 100.0) if max(values) <= 100 else hi
    return lo, hi, step


def _points(points: list[tuple[float, float]], x, y) -> str:
    return " ".join(f"{x(a):.1f},{y(b):.1f}" for a, b in points)


def _data(points: list[tuple[int, float]]) -> str:
    return " ".join(f"{year}:{fmt(value)}" for year, value in points)


def _legend(x0: float, y0: float) -> list[str]:
    out, x = [], x0
    for kind, text in LEGEND:
        if kind == "actual":
            mark = (f'<line x1="{x}" y1="{y0}" x2="{x + 22}" y2="{y0}" stroke="{ACTUAL}" stroke-width="2"/>'
                    f'<circle cx="{x + 11}" cy="{y0}" r="3" fill="{ACTUAL}"/>')
        elif kind == "path":
            mark = (f'<line x1="{x}" y1="{y0}" x2="{x + 22}" y2="{y0}" stroke="{PATH}" stroke-width="2" '
                    'stroke-dasharray="6 4"/>')
        elif kind == "target":
            mark = f'<path d="M{x + 11} {y0 - 6}l6 6l-6 6l-6 -6z" fill="#334155"/>'
        else:
            mark = (f'<line x1="{x}" y1="{y0}" x2="{x + 22}" y2="{y0}" stroke="{PROJECTION}" '
                    'stroke-width="1.5" stroke-dasharray="2 3"/>'
                    f'<circle cx="{x + 22}" cy="{y0}" r="3" fill="#fff" stroke="{PROJECTION}"/>')
        out.append(f'{mark}<text x="{x + 28}" y="{y0 + 4}" class="legend">{escape(text)}</text>')
        x += 28 + sum(11 if ord(c) > 0x2e80 else 6.2 for c in text) + 22  # CJK glyphs are square
    return out


def render_chart(chart: Chart) -> str:
    """The KPI's SVG (no xmlns: it is inline HTML), sized by CSS, `viewBox` 640 × 330."""
    actual_years = [year for year, _ in chart.actuals]
    # Ten years of actuals are enough to judge a trend, or more to reach back to the path's base.
    since = min([max(actual_years) - 10] + [year for year, _ in chart.path]) if actual_years else None
    actuals = [(yr, v) for yr, v in chart.actuals if since is None or yr >= since]
    years = [yr for yr, _ in actuals] + [yr for yr, _ in chart.path] + [t.year for t in chart.targets]
    x_lo, x_hi = min(years), max(years)
    if x_lo == x_hi:
        x_lo, x_hi = x_lo - 1, x_hi + 1
    values = [v for _, v in actuals] + [v for _, v in chart.path] + [t.value for t in chart.targets]
    values += [t.value + s * t.tolerance for t in chart.targets if t.tolerance for s in (-1, 1)]
    values += [t.projected for t in chart.targets if t.projected is not None]
    y_lo, y_hi, step = _y_range(values, chart)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(year: float) -> float:
        return LEFT + (year - x_lo) / (x_hi - x_lo) * plot_w

    def y(value: float) -> float:
        return TOP + (y_hi - min(max(value, y_lo), y_hi)) / (y_hi - y_lo) * plot_h

    out = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
           f'aria-label="{escape(chart.title)}"><title>{escape(chart.title)}</title>',
           f'<text x="{LEFT}" y="{TOP - 12}" class="axis-label">{escape(chart.unit_label)}</text>']
    tick = y_lo
    while tick <= y_hi + step / 1000:  # horizontal grid and y labels
        cls = "zero" if chart.zero_line and abs(tick) < step / 1000 else "grid"
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
                   f'class="{cls}"/><text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" class="tick" '
                   f'text-anchor="end">{fmt(round(tick, 10))}</text>')
        tick += step
    year_step = 1 if x_hi - x_lo <= 12 else 5
    for year in range(x_lo, x_hi + 1):
        if year % year_step == 0:
            out.append(f'<line x1="{x(year):.1f}" x2="{x(year):.1f}" y1="{TOP + plot_h}" '
                       f'y2="{TOP + plot_h + 4}" class="axis"/><text x="{x(year):.1f}" '
                       f'y="{TOP + plot_h + 18}" class="tick" text-anchor="middle">{year}</text>')
    out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" '
               'class="axis"/>')
    for t in chart.targets:  # a faint guide at each target level, and the `about` band
        colour = STATUS_COLOURS.get(t.status or "", "#334155")
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(t.value):.1f}" y2="{y(t.value):.1f}" '
                   f'stroke="{colour}" stroke-opacity="0.35" stroke-width="1"/>')
        if t.tolerance:
            out.append(f'<rect x="{x(t.year) - 7:.1f}" y="{y(t.value + t.tolerance):.1f}" width="14" '
                       f'height="{y(t.value - t.tolerance) - y(t.value + t.tolerance):.1f}" fill="{colour}" '
                       'fill-opacity="0.18"/>')
    if len(chart.path) > 1:
        out.append(f'<polyline class="path" points="{_points(list(chart.path), x, y)}" fill="none" '
                   f'stroke="{PATH}" stroke-width="2" stroke-dasharray="6 4" '
                   f'data-points="{_data(list(chart.path))}"/>')
    if actuals:
        latest = actuals[-1]
        for t in chart.targets:
            if t.projected is not None and t.year > latest[0]:
                line = [latest, (t.year, t.projected)]
                out.append(f'<polyline class="projection" points="{_points(line, x, y)}" fill="none" '
                           f'stroke="{PROJECTION}" stroke-width="1.5" stroke-dasharray="2 3" '
                           f'data-points="{_data(line)}"/><circle cx="{x(t.year):.1f}" '
                           f'cy="{y(t.projected):.1f}" r="3.5" fill="#fff" stroke="{PROJECTION}" '
                           f'stroke-width="1.5"><title>{t.year} 预测 projected {fmt(t.projected)}</title>'
                           '</circle>')
        out.append(f'<polyline class="actual" points="{_points(actuals, x, y)}" fill="none" '
                   f'stroke="{ACTUAL}" stroke-width="2" data-points="{_data(actuals)}"/>')
        out += [f'<circle cx="{x(yr):.1f}" cy="{y(v):.1f}" r="3" fill="{ACTUAL}"><title>{yr}: {fmt(v)}'
                f'</title></circle>' for yr, v in actuals]
    for t in chart.targets:
        colour = STATUS_COLOURS.get(t.status or "", "#334155")
        cx, cy = x(t.year), y(t.value)
        anchor, dx = ("end", -10) if cx > LEFT + plot_w / 2 else ("start", 10)
        out.append(f'<path class="target" d="M{cx:.1f} {cy - 7:.1f}l7 7l-7 7l-7 -7z" fill="{colour}" '
                   f'stroke="#fff" stroke-width="1.5" data-points="{t.year}:{fmt(t.value)}">'
                   f'<title>{t.year} 目标 target {escape(t.label)}</title></path>'
                   f'<text x="{cx + dx:.1f}" y="{cy - 9:.1f}" class="target-label" text-anchor="{anchor}" '
                   f'style="fill:{colour}">{t.year} {escape(t.label)}</text>')
    out += _legend(LEFT, HEIGHT - 16)
    out.append("</svg>")
    return "".join(out)
