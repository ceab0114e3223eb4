"""Bulk row work without the cyclic garbage collector.

Quarantining 18,000 readings makes ~100,000 small dicts and tuples. Each few hundred allocations
wake the collector, and now and then it walks every object the process holds (~300,000 once
Prefect and Great Expectations are imported): 0.2 s of a 10 M-row load (bench/bench_meters.py).
Those rows hold no reference cycles, so reference counting frees them all the same.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic collector for the block; leave it as it was found (pauses nest)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
