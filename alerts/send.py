"""Alerts: after the KPIs are evaluated, decide what to tell, send it, remember it.

What fires (each subject's state in `meta.alert_state`, every attempt in `meta.alerts`):

- `worse`: a KPI checkpoint whose status gets worse and reaches `alert_at` (alerts.yml;
  `off_track` by default, or `at_risk`); worse orders achieved = on_track < at_risk < off_track.
  The first run alerts every checkpoint already at or past `alert_at`; the others are recorded
  silently.
- `recovery`: its status improves below what was last alerted (off_track → at_risk counts when
  `alert_at` is off_track). Also a failed department that answers again, a late dataset that
  is fresh again.
- `reminder`: every `remind_every_days` while a checkpoint stays off_track.
- `late_source`: a department whose source failed at its last run (its KPIs then show `stale`),
  a dataset whose latest freshness check failed.
- `data_quality`: a batch refused by an error-level table check, or with rows quarantined by an
  error-level row check, loaded within `data_quality.lookback_days`: once per batch.

`stale` and `insufficient_data` say nothing about performance: a KPI in either never alerts and
keeps its alert state (a stale KPI's cause is alerted as `late_source`). Each (subject, status)
is told once: a rerun with nothing new sends and writes nothing. `strive` (力争) checkpoints are
stretch goals: their alerts are recorded (channel `-`, status `suppressed`), never sent. An
alert no channel delivered is decided again at the next run; a channel that failed while
another delivered stays recorded as failed and is not retried later.

The year-to-date early warning (年度目标预警, `kpi.kpi_early_warning`), one subject
`warning:<kpi_id>:<year>` per KPI and year, observed from the year's current row (its latest month
while the year's own figure is not published):

- Its level is the status `warning_1` 一级 red, `warning_2` 二级 yellow, `warning_3` 三级 green,
  on the KPIs' scale (red = off_track, yellow = at_risk, green = on_track), so the one `alert_at`
  decides both: by default only 一级 pages; `alert_at: at_risk` pages 二级 too. A KPI checkpoint
  and its warning are separate subjects: the checkpoint is judged on the yearly figures' trend,
  the warning on this year's months, and each change of either is told once.
- `worse` when the level gets worse and reaches `alert_at`; `recovery` when it gets better than
  what was last told (red → yellow eases it, → green lifts it). No reminders: the months move
  the level, and each change is told. A level the model leaves null (too few months, no same
  months last year, nothing the plan requires) never alerts and keeps the state, as stale KPIs do.
- `strive` (力争) checkpoints' warnings are recorded (suppressed), never sent.
- Once the year's own figure is published the row is no longer current and the checkpoint's
  status (`kpi:` subject) governs. If a level is still outstanding, one `closed` message says so,
  with the published figure and the checkpoint's status; otherwise the subject ends silently.
  Either way its state becomes `published` with nothing outstanding, so alerts/owed.py never
  sends an old warning to a channel added later, and the year is not observed again. Silence
  after a red warning would leave the official's last word on the year a red warning the
  figures may have overturned (and an at_risk checkpoint that turns achieved alerts nothing);
  the closing message states facts and asks nothing, so it is not a false page.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from alerts.channels import Channel, Delivery, Message, deliver
from alerts.config import AlertsConfig
from alerts.messages import render_data, render_kpi, render_warning
from alerts.owed import deliver_owed, summarize
from alerts.state import (
    LEVELS,
    AlertState,
    Observation,
    ensure_alert_tables,
    observe_data,
    observe_kpis,
    observe_warnings,
    read_alert_states,
    record_alert,
    remember,
)
from warehouse.db import transaction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Decision:
    observation: Observation
    kind: str  # worse | recovery | reminder | data_quality | late_source | closed
    from_status: str | None
    told: str | None  # what is outstanding once this alert went out (None: all clear)


@dataclass(frozen=True)
class AlertResult:
    alert_id: str
    kind: str
    subject: str
    from_status: str | None
    to_status: str
    message_zh: str
    message_en: str
    deliveries: tuple[Delivery, ...]  # empty: no channel could send (not recorded)

    @property
    def sent(self) -> bool:
        return any(d.status == "sent" for d in self.deliveries)


def decide(observations: list[Observation], states: dict[str, AlertState], config: AlertsConfig,
           now: dt.datetime) -> list[Decision]:
    """The alerts due, from what each subject looks like now and what was last told."""
    due = []
    for o in observations:
        state, level = states.get(o.subject), o.level
        told = state.alerted_status if state else None
        if o.ends:
            if told is not None:
                due.append(Decision(o, "closed", told, None))
            continue
        if level is None:
            continue
        if o.once:
            if state is None and level >= o.threshold:
                due.append(Decision(o, "data_quality", None, o.status))
            continue
        told_level = LEVELS[told] if told else None
        if level >= o.threshold and (told_level is None or level > told_level):
            kind = "worse" if o.subject.startswith(("kpi:", "warning:")) else "late_source"
            due.append(Decision(o, kind, state.last_status if state else None, o.status))
        elif told_level is not None and level < told_level:
            due.append(Decision(o, "recovery", told, o.status if level >= o.threshold else None))
        elif (o.status == told == "off_track" and config.remind_every
              and state.alerted_at + config.remind_every <= now):
            due.append(Decision(o, "reminder", told, told))
    return due


def render(decision: Decision, alert_id: str, state: AlertState | None, now: dt.datetime
           ) -> Message:
    o = decision.observation
    if o.subject.startswith("kpi:"):
        return render_kpi(alert_id, decision.kind, o.facts, decision.from_status, now,
                          since=state.alerted_since if state else None)
    if o.subject.startswith("warning:"):
        return render_warning(alert_id, decision.kind, o.facts, o.status, decision.from_status,
                              now)
    return render_data(alert_id, decision.kind, o.subject, o.facts, decision.from_status, now)


def usable_channels(config: AlertsConfig) -> list[Channel]:
    for name, why in config.skipped:
        log.info("alert channel `%s` skipped: %s", name, why)
    usable = []
    for channel in config.channels:
        why = channel.unavailable()
        if why:
            log.info("alert channel `%s` skipped: %s", channel.name, why)
        else:
            usable.append(channel)
    return usable


def send_alerts(con: duckdb.DuckDBPyConnection, config: AlertsConfig | None,
                now: dt.datetime | None = None, departments: dict[str, str] | None = None,
                sleep: Callable[[float], None] = time.sleep) -> list[AlertResult]:
    """Decide, send and record the alerts due now; one result per alert decided.

    `config` None (the city has no alerts.yml) sends nothing and writes nothing. `now` is the
    clock (reminders, the data-quality look-back); `departments` maps department codes to their
    Chinese names, for the messages.
    """
    if config is None:
        return []
    now = now or dt.datetime.now(dt.UTC)
    ensure_alert_tables(con)
    channels = usable_channels(config)
    # what earlier runs decided but no person received (a failed channel, one added since, only a
    # Prefect event): once to each channel that missed it, before anything new
    deliver_owed(con, channels, now, sleep=sleep)
    states = read_alert_states(con)
    observations = (observe_kpis(con, config) + observe_warnings(con, config, states)
                     + observe_data(con, config, now, departments or {}))
    decisions = decide(observations, states, config, now)
    results, down = [], set()
    for number, decision in enumerate(decisions, 1):
        o, state = decision.observation, states.get(decision.observation.subject)
        alert_id = f"{now:%Y%m%dT%H%M%S}-{number:03d}-{uuid.uuid4().hex[:6]}"  # sorts in run order
        message = render(decision, alert_id, state, now)
        if o.suppressed:
            deliveries = (Delivery("-", "suppressed", 0, o.suppressed),)
        elif not channels:
            log.warning("not sent, no alert channel can send (see alerts.yml): %s", message.title_en)
            deliveries = ()
        else:
            # a channel that failed all its retries in this run gets one attempt per later alert
            deliveries = tuple(deliver(c, message, attempts=1 if c.name in down else None,
                                       sleep=sleep) for c in channels)
            down |= {d.channel for d in deliveries if d.status == "failed"}
        results.append(AlertResult(alert_id, decision.kind, o.subject, decision.from_status,
                                   o.status, message.text_zh, message.text_en, deliveries))
        if deliveries:
            with transaction(con):
                record_alert(con, message, o, deliveries, now)
                if o.suppressed or results[-1].sent:
                    remember(con, o, state, now, decision.kind, decision.told)
            log.info("alert %s (%s): %s", alert_id,
                     ", ".join(f"{d.channel} {d.status}" for d in deliveries), message.title_en)
    # the rest only moved (or appeared): nothing to tell, but the next change starts from here
    decided = {d.observation.subject for d in decisions}
    with transaction(con):
        for o in observations:
            state = states.get(o.subject)
            if o.subject not in decided and (state is None or state.last_status != o.status):
                remember(con, o, state, now)
    summary, owed = summarize(con, list(config.channels))
    (log.warning if owed else log.info)("alert delivery: %s", summary)
    return results
