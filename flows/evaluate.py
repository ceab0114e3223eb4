"""The `evaluate-kpis` flow: read kpi.kpi_status and log how many checkpoints are in each status."""

from __future__ import annotations

from prefect import flow, get_run_logger

from flows.settings import Settings
from warehouse.kpi import check_kpi_status, read_kpi_status


@flow(name="evaluate-kpis")
def evaluate_kpis() -> list[dict]:
    """Read `kpi.kpi_status` and report how many checkpoints are in each status."""
    logger = get_run_logger()
    con = Settings.from_env().open_warehouse(read_only=True)
    try:
        rows = read_kpi_status(con)
    finally:
        con.close()
    check_kpi_status(rows)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    logger.info("%d checkpoints: %s", len(rows),
                ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    return rows
