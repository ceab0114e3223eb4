"""Plain-text tables that line up with Chinese text (wide characters take two columns)."""

from __future__ import annotations

import unicodedata


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, size: int) -> str:
    return text + " " * (size - width(text))


def render(headers: list[str], rows: list[list[object]]) -> str:
    cells = [[_show(v) for v in row] for row in rows]
    sizes = [max([width(h)] + [width(r[i]) for r in cells]) for i, h in enumerate(headers)]
    line = lambda values: "  ".join(pad(v, s) for v, s in zip(values, sizes, strict=True)).rstrip()  # noqa: E731
    out = [line(headers), line(["-" * s for s in sizes])]
    out += [line(r) for r in cells]
    return "\n".join(out)


def _show(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:g}" if abs(value) >= 1e6 else f"{round(value, 2):g}"
    return str(value)
