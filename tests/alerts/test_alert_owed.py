"""An alert counts only when a person can read it: delivery is tracked per (alert, channel)."""

from __future__ import annotations

import datetime as dt
import logging

from tests.alerts.support import _config, _keys
from warehouse.db import connect


class Lines(logging.Handler):
    """The records of one logger (Prefect's logging setup keeps them from pytest's caplog)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def summary(self) -> logging.LogRecord:
        return [r for r in self.records if r.getMessage().startswith("alert delivery:")][-1]


def test_alerts_a_prefect_event_carried_are_owed_to_the_first_real_channel(
        prefect_harness, warehouse_copy, receiver, tmp_path, scenario):  # noqa: F811
    from alerts.send import send_alerts

    off_track = scenario["off_track"]
    con = connect(warehouse_copy)
    t0 = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)
    # `bootstrap.sh run`: only a Prefect event, to a temporary server nobody watches
    (tmp_path / "a").mkdir()
    events_only = _config(tmp_path / "a", "channels:\n  events: {type: prefect_event}\n")
    lines, logger = Lines(), logging.getLogger("alerts.send")
    level = logger.level
    logger.addHandler(lines)
    logger.setLevel(logging.INFO)
    first = send_alerts(con, events_only, now=t0)
    assert {r.subject for r in first if r.sent} == {f"kpi:{k}:{y}" for k, y in off_track}
    assert receiver.posts == []
    line = lines.summary()
    assert line.levelno == logging.WARNING
    assert (f"no person-facing alert channel configured: {len(off_track)} open alert(s) owed"
            in line.getMessage())

    # the first real channel is configured: every open alert reaches it, once
    (tmp_path / "b").mkdir()
    with_webhook = _config(tmp_path / "b", f"""
channels:
  events: {{type: prefect_event}}
  webhook: {{type: webhook, url: "{receiver.url}/hook"}}
""")
    assert send_alerts(con, with_webhook, now=t0 + dt.timedelta(hours=1)) == []  # nothing new
    posts = receiver.to("/hook")
    assert _keys(posts) == off_track and len(posts) == len(off_track)
    assert {p["body"]["alert_id"] for p in posts} == {r.alert_id for r in first if r.sent}
    line = lines.summary()
    logger.removeHandler(lines)
    logger.setLevel(level)
    assert f"webhook {len(off_track)} sent, 0 owed" in line.getMessage(), line.getMessage()
    assert line.levelno == logging.INFO

    # and never again
    assert send_alerts(con, with_webhook, now=t0 + dt.timedelta(hours=2)) == []
    assert len(receiver.to("/hook")) == len(off_track)
    sent = con.execute("select count(*) from meta.alerts where channel = 'webhook' and status = 'sent'"
                       ).fetchone()[0]
    con.close()
    assert sent == len(off_track)
