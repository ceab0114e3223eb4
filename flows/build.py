"""The `build-warehouse` flow: every SQL model and its tests in one transaction, then the snapshot."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import duckdb
from prefect import flow, get_run_logger

from connectors.spec import load_city, load_sources
from flows.settings import Settings
from flows.writing import writing
from publishing.clock import city_today
from warehouse.catalogue import read_catalogue
from warehouse.kpi_views import GeneratedModel, generated_models
from warehouse.lake import is_pointer
from warehouse.models import build_models
from warehouse.seed import build_seed
from warehouse.snapshot import publish_snapshot


@dataclass(frozen=True)
class BuildInputs:
    """What every build takes from the city's configuration, read before the build starts.

    `seed` writes the KPI catalogue, the city (its code) and what the age of the data is judged
    on; `generated` are the KPI views kpis.yml declares (and kpi_series). A broken kpis.yml,
    sources.yml or city.yml stops the build with one line, before anything is written.
    """

    seed: Callable[[duckdb.DuckDBPyConnection], None]
    generated: list[GeneratedModel]


def build_inputs(settings: Settings) -> BuildInputs:
    catalogue = read_catalogue(settings.kpis_file)
    sources = load_sources(settings.sources_file)
    city = load_city(settings.city_file)
    as_of = settings.as_of or city_today()

    return BuildInputs(build_seed(catalogue, city, sources, as_of),
                       generated_models(catalogue, settings.kpis_file.name))


@flow(name="build-warehouse")
def build_warehouse(select: str | None = None, full_refresh: bool = False) -> list[str]:
    """Build the SQL models, then publish the analysts' read-only snapshot of the warehouse.

    The KPI catalogue and every model (staging → marts → kpi) are built in one transaction; the
    snapshot is published only once that transaction has committed. Incremental models add
    only what was loaded since the last build, unless `full_refresh`.
    """
    from prefect.runtime import flow_run

    logger = get_run_logger()
    settings = Settings.from_env()
    inputs = build_inputs(settings)
    with writing("build-warehouse"):
        con = settings.open_warehouse()
        try:
            built = build_models(con, settings.sql_dir, select, seed=inputs.seed,
                                 generated=inputs.generated, full_refresh=full_refresh)
        finally:
            con.close()
        logger.info("built %d models", len(built))
        if is_pointer(settings.warehouse):  # a lake: analysts attach it read-only, no copy to make
            logger.info("analysts read the lake itself, read-only: `carbonpeak kpi status` (with "
                        "%s) or the ATTACH line of `carbonpeak lake status`", settings.snapshot)
            return [m.relation for m in built]
        snapshot = publish_snapshot(settings.warehouse, settings.snapshot, build_id=flow_run.id)
    logger.info("published the analyst snapshot %s; open it with `duckdb -readonly %s`",
                snapshot, snapshot)
    return [m.relation for m in built]
