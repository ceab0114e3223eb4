"""The `send-alerts` flow: send what the alert rules decide after `evaluate-kpis` (alerts/).

Not named `flows/alerts.py`: a process worker loads `flows/run_all.py` by path with `flows/` on
`sys.path`, where a module `alerts` would hide the `alerts` package from every import.
"""

from __future__ import annotations

from prefect import flow, get_run_logger

from alerts.config import read_alerts_config
from alerts.send import AlertResult, send_alerts
from connectors.spec import load_sources
from core.errors import ConfigError
from flows.settings import Settings
from flows.writing import writing


@flow(name="send-alerts")
def alert() -> list[AlertResult]:
    """Send the alerts due after `evaluate-kpis` through the channels of the city's alerts.yml."""
    logger = get_run_logger()
    settings = Settings.from_env()
    config = read_alerts_config(settings.config_dir / "alerts.yml")
    if config is None:
        logger.info("no alerts.yml in %s: no alerts are sent", settings.config_dir)
        return []
    try:
        names = {d.name: d.name_zh for d in load_sources(settings.sources_file).departments}
    except ConfigError:
        names = {}  # the messages then name departments by their code only
    # one sender per city at a time: two runs deciding at once would both page for the same change
    with writing("send-alerts"):
        con = settings.open_warehouse()
        try:
            results = send_alerts(con, config, departments=names)
        finally:
            con.close()
    suppressed = sum(any(d.status == "suppressed" for d in r.deliveries) for r in results)
    sent = sum(r.sent for r in results)
    logger.info("%d alerts: %d sent, %d recorded only (strive), %d not delivered", len(results),
                sent, suppressed, len(results) - sent - suppressed)
    failed = sorted({d.channel for r in results for d in r.deliveries if d.status == "failed"})
    if failed:
        logger.warning("alert channels that failed (see meta.alerts): %s", ", ".join(failed))
    return results
