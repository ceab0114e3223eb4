"""Fixtures of the alert tests: the default scenario's checkpoints, a webhook and an SMTP server."""

from __future__ import annotations

import threading

import pytest

from tests.alerts.support import Receiver, SMTPServer, _checkpoints
from warehouse.db import connect


@pytest.fixture
def scenario(warehouse_copy) -> dict[str, set[tuple[str, int]]]:
    """The default scenario's checkpoints by what alerts should do with them."""
    con = connect(warehouse_copy, read_only=True)
    try:
        out = {"off_track": _checkpoints(con, "status = 'off_track' and qualifier <> 'strive'"),
               "strive": _checkpoints(con, "status = 'off_track' and qualifier = 'strive'"),
               "at_risk": _checkpoints(con, "status = 'at_risk' and qualifier <> 'strive'")}
    finally:
        con.close()
    # values the rest relies on (tests/warehouse pin them down)
    assert {("raw_coal_consumption", 2025), ("public_inst_energy_per_capita", 2025),
            ("hazardous_waste_utilization_rate", 2025)} <= out["off_track"]
    assert ("prefab_building_share", 2025) in out["strive"]
    assert out["at_risk"]
    return out

@pytest.fixture
def receiver():
    server = Receiver()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()

@pytest.fixture
def smtp_server():
    server = SMTPServer()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()

@pytest.fixture
def alert_env(receiver, smtp_server, monkeypatch):
    """Point the committed config/mianyang/alerts.yml at the local webhook and SMTP servers."""
    for name, value in {"CARBONPEAK_ALERT_WEBHOOK_URL": f"{receiver.url}/hook",
                        "CARBONPEAK_ALERT_SMTP_HOST": "127.0.0.1",
                        "CARBONPEAK_ALERT_SMTP_PORT": str(smtp_server.port),
                        "CARBONPEAK_ALERT_SMTP_SECURITY": "none",
                        "CARBONPEAK_ALERT_SMTP_FROM": "carbonpeak@example.org",
                        "CARBONPEAK_ALERT_SMTP_TO": "ops@example.org, fgw@example.org"}.items():
        monkeypatch.setenv(name, value)
