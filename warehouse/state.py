"""What the warehouse remembers of each source between runs, for conditional GETs."""

from __future__ import annotations

import duckdb

from connectors.result import SourceState
from warehouse.raw import ensure_meta


def read_source_states(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], SourceState]:
    """(dataset table name, source key) -> the state recorded at the last successful check."""
    ensure_meta(con)
    rows = con.execute("select dataset, source_key, etag, last_modified, payload_sha256, watermark "
                       "from meta.source_state").fetchall()
    return {(d, k): SourceState(k, e, m, h, w) for d, k, e, m, h, w in rows}


def states_of(states: dict[tuple[str, str], SourceState], dataset: str) -> dict[str, SourceState]:
    """The states of one dataset (raw table name), by source key: what `fetch_dataset` takes."""
    return {key: state for (table, key), state in states.items() if table == dataset}
