"""Phase timing for the benches' child processes (`phase("stage")` records time since the last)."""

from __future__ import annotations

import time


class Phases:
    """Seconds per named phase, in order, and the total since the first."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._start = self._last = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = now - self._last
        self._last = now

    @property
    def total(self) -> float:
        return time.perf_counter() - self._start
