"""Text for one line of a table or a message: clipped with an ellipsis, never cut silently."""

from __future__ import annotations


def clip(text: str | None, width: int) -> str | None:
    """`text` at most `width` characters, the last one `…` when it was longer (None stays None)."""
    return text if text is None or len(text) <= width else text[:width - 1] + "…"
