"""The `backfill` flow: the status of every checkpoint as of each year of a range, one child run a year."""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.states import Failed

from core.errors import CarbonpeakError
from flows.settings import Settings
from warehouse.kpi import STATUSES, check_kpi_status, read_kpi_status_through


class BackfillError(CarbonpeakError):
    """A backfill cannot run as asked."""


@flow(name="evaluate-kpis-through", flow_run_name="evaluate-kpis-through-{year}")
def evaluate_kpis_through(year: int) -> list[dict]:
    """The status of every checkpoint as it stood with the figures up to `year`."""
    settings = Settings.from_env()
    con = settings.open_warehouse(read_only=True)
    try:
        rows = read_kpi_status_through(con, settings.sql_dir, year)
    finally:
        con.close()
    check_kpi_status(rows)
    counts = {s: sum(r["status"] == s for r in rows) for s in STATUSES}
    get_run_logger().info("through %d: %s", year, ", ".join(f"{n} {s}" for s, n in counts.items() if n))
    return [{"through_year": year, **r} for r in rows]


@flow(name="backfill")
def backfill(from_year: int, to_year: int) -> list[dict] | Failed:
    """Re-run the status evaluation for each year of a range, one child run per year.

    Departments deliver whole series, so re-ingesting a period fetches nothing a normal run does
    not: a period's re-run is the status as of that year, from the figures up to it (today's
    vintage of each figure, not the one first published).
    """
    try:
        if not 1990 <= from_year <= to_year <= 2100:
            raise BackfillError(f"backfill `--from {from_year} --to {to_year}`: expected two years "
                                "between 1990 and 2100, the first not after the second, e.g. "
                                "--from 2015 --to 2024")
        return [row for year in range(from_year, to_year + 1) for row in evaluate_kpis_through(year)]
    except CarbonpeakError as exc:  # one clear line, as the ingest flows do
        get_run_logger().error("%s", exc)
        return Failed(message=str(exc))


# short enough for ten years side by side; `insufficient_data` becomes None (shown as –)
HISTORY_LABELS = {"achieved": "achieved", "on_track": "on", "at_risk": "risk", "off_track": "OFF",
                  "insufficient_data": None, "stale": "stale"}
HISTORY_LEGEND = "on = on_track, risk = at_risk, OFF = off_track, – = insufficient_data"


def status_history(rows: list[dict]) -> tuple[list[str], list[list[object]]]:
    """`backfill`'s rows as a table: one line per checkpoint, one column per year (`HISTORY_LEGEND`)."""
    years = sorted({r["through_year"] for r in rows})
    lines: dict[tuple, dict[int, str | None]] = {}
    for r in rows:
        key = (r["name_zh"], r["name_en"], r["checkpoint_year"])
        lines.setdefault(key, {})[r["through_year"]] = HISTORY_LABELS.get(r["status"], r["status"])
    headers = ["KPI 指标", "checkpoint", *[str(y) for y in years]]
    return headers, [[f"{zh} {en}", cp, *[by_year.get(y) for y in years]]
                     for (zh, en, cp), by_year in lines.items()]
