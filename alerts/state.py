"""What the warehouse says and remembers for alerts.

The subjects alerts are about, their state (`meta.alert_state`) and every alert attempt
(`meta.alerts`). Subjects: `kpi:<kpi_id>:<year>` (a row of `kpi.kpi_status`),
`warning:<kpi_id>:<year>` (the year-to-date early warning of a year, `kpi.kpi_early_warning`),
`source:<department>` (failed at its last run, `meta.source_health`), `late:<dataset>` (the age of
its data, judged at every build, `kpi.kpi_data_age`), `load:<load_id>` (a batch refused or partly
quarantined by an error-level check, `meta.load_log`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass

import duckdb

from alerts.channels import Delivery, Message
from alerts.config import AlertsConfig
from core.text import clip
from warehouse.backend import portable_ddl
from warehouse.db import as_dicts, ensure_schemas, has_table
from warehouse.errors import WarehouseError
from warehouse.kpi import read_kpi_status

log = logging.getLogger(__name__)

# How bad a status is; statuses not here (stale, insufficient_data, a warning not judged or
# ended) say nothing about performance.
LEVELS = {"achieved": 0, "on_track": 0, "at_risk": 1, "off_track": 2,  # KPI checkpoints
          # the early warning's 三级 green, 二级 yellow, 一级 red: on the KPIs' scale, so that one
          # `alert_at` serves both (off_track: 一级 only; at_risk: 二级 too)
          "warning_3": 0, "warning_2": 1, "warning_1": 2,
          "ok": 0, "late": 1, "failed": 1, "rejected": 1, "quarantined": 1}  # data problems
NOT_JUDGED = "not_judged"  # a current warning without a level (too few months, nothing to judge)
PUBLISHED = "published"  # the year's own figure is out: its warning has ended
STRIVE = "strive target (力争): recorded, not sent"

ALERTS_DDL = """
create table if not exists meta.alert_state (
    subject varchar primary key,        -- kpi:<kpi_id>:<year>, warning:<kpi_id>:<year>, source:<dept>,
                                        -- late:<dataset>, load:<id>
    kpi_id varchar,
    checkpoint_year integer,
    last_status varchar not null,       -- the status at the last run
    alerted_status varchar,             -- what was last told (null: nothing outstanding)
    alerted_since timestamptz,          -- when that was first told
    alerted_at timestamptz,             -- when it was last told (alert or reminder)
    changed_at timestamptz not null
);
create table if not exists meta.alerts (
    alert_id varchar not null,          -- one decision; its channels share it
    channel varchar not null,           -- channel name in alerts.yml; `-` when not sent (strive)
    kind varchar not null,              -- worse | recovery | reminder | data_quality | late_source
                                        -- | closed
    subject varchar not null,
    kpi_id varchar,
    checkpoint_year integer,
    from_status varchar,
    to_status varchar not null,
    status varchar not null,            -- sent | failed | suppressed
    attempts integer not null,
    error varchar,                      -- the last attempt's error, secrets redacted
    message_zh varchar not null,
    message_en varchar not null,
    payload json,                       -- what the webhook got: both languages and the facts
    created_at timestamptz not null,
    primary key (alert_id, channel)
);
"""


@dataclass(frozen=True)
class Observation:
    """What a subject looks like now."""

    subject: str
    status: str
    facts: dict
    threshold: int = 1  # the level from which a change for the worse alerts
    once: bool = False  # a one-off event (a refused batch): alerted once, never recovers
    ends: bool = False  # the subject has ended (a warning's year is published): closed if told
    suppressed: str | None = None  # why it is recorded but never sent

    @property
    def level(self) -> int | None:
        return LEVELS.get(self.status)

    @property
    def kpi_checkpoint(self) -> tuple[str | None, int | None]:
        """The KPI and checkpoint year a KPI or early-warning subject is about (else None, None)."""
        if self.subject.startswith(("kpi:", "warning:")):
            return self.facts.get("kpi_id"), self.facts.get("checkpoint_year")
        return None, None


@dataclass(frozen=True)
class AlertState:
    subject: str
    last_status: str
    alerted_status: str | None = None
    alerted_since: dt.datetime | None = None
    alerted_at: dt.datetime | None = None


def ensure_alert_tables(con: duckdb.DuckDBPyConnection) -> None:
    ensure_schemas(con)
    con.execute(portable_ddl(con, ALERTS_DDL))


def observe_kpis(con: duckdb.DuckDBPyConnection, config: AlertsConfig) -> list[Observation]:
    """Every KPI checkpoint, with the KPI's direction (for ≥ / ≤ in the messages)."""
    try:
        rows = read_kpi_status(con)
    except WarehouseError as exc:
        log.warning("no KPI alerts: %s", exc)
        return []
    if has_table(con, "config", "kpis"):
        direction = dict(con.execute("select kpi_id, direction from config.kpis").fetchall())
        rows = [r | {"direction": direction.get(r["kpi_id"])} for r in rows]
    return [Observation(f"kpi:{r['kpi_id']}:{r['checkpoint_year']}", r["status"], r,
                        LEVELS[config.alert_at],
                        # the status engine says what may page (strive targets may not)
                        suppressed=STRIVE
                        if not r.get("is_pageable", r["qualifier"] != "strive") else None)
            for r in rows]


def observe_warnings(con: duckdb.DuckDBPyConnection, config: AlertsConfig,
                     states: dict[str, AlertState]) -> list[Observation]:
    """Each year's early warning while current; a year told about before, once its figure is out.

    The facts are the year's latest row of `kpi.kpi_early_warning` with the KPI's names, unit,
    direction and plan section, and the status of its checkpoint in `kpi.kpi_status`. A year
    whose own figure is published is observed (as `published`) only while its state has not yet
    ended; a year without rows at all is not observed, so its state stays as it was.
    """
    if not has_table(con, "kpi", "kpi_early_warning"):
        return []
    try:
        # the latest month by a join: DuckDB 1.5 fails a filtered row_number() over this view
        # ("Type mismatch for SET OPERATION")
        rows = as_dicts(con.execute("""
            select w.*, k.name_zh, k.name_en, k.unit, k.direction, k.base_year,
                   k.section as plan_section, s.status as checkpoint_status
            from kpi.kpi_early_warning w
            join (select kpi_id, year, max(through_month) as through_month
                  from kpi.kpi_early_warning group by kpi_id, year) latest
                using (kpi_id, year, through_month)
            left join config.kpis k on k.kpi_id = w.kpi_id
            left join kpi.kpi_status s
                on s.kpi_id = w.kpi_id and s.checkpoint_year = w.checkpoint_year
            order by k.position, w.kpi_id, w.year"""))
    except duckdb.Error as exc:
        log.warning("no early-warning alerts: `kpi.kpi_early_warning` cannot be read (%s); "
                    "rebuild it with `carbonpeak build`", str(exc).splitlines()[0])
        return []
    out = []
    for r in rows:
        subject, level = f"warning:{r['kpi_id']}:{r['year']}", r["warning_level"]
        suppressed = None if r["is_pageable"] else STRIVE
        if r["is_current"]:
            status = NOT_JUDGED if level is None else f"warning_{level}"
            out.append(Observation(subject, status, r,
                                   LEVELS[config.alert_at], suppressed=suppressed))
        elif subject in states and states[subject].last_status != PUBLISHED:
            out.append(Observation(subject, PUBLISHED, r, LEVELS[config.alert_at],
                                   suppressed=suppressed, ends=True))
    return out


def observe_data(con: duckdb.DuckDBPyConnection, config: AlertsConfig, now: dt.datetime,
                 departments: dict[str, str]) -> list[Observation]:
    """Failed departments, late datasets, and recent refused or partly quarantined batches."""
    out = []
    if has_table(con, "meta", "source_health"):
        for r in as_dicts(con.execute("""
                select department, bool_or(status = 'failed') as is_failed,
                       string_agg(dataset, ', ' order by dataset) filter (where status = 'failed')
                           as datasets,
                       max(error) filter (where status = 'failed') as error
                from meta.source_health group by department order by department""")):
            status = "failed" if r["is_failed"] else "ok"
            out.append(Observation(f"source:{r['department']}", status, {
                "department": r["department"], "department_zh": departments.get(r["department"]),
                "status": status, "datasets": r["datasets"], "error": clip(r["error"], 300)}))
    if has_table(con, "kpi", "kpi_data_age"):
        # judged by age at every build: a department that stopped publishing sends nothing new
        for r in as_dicts(con.execute("""
                select a.*, (select string_agg(distinct k.name_zh || ' ' || k.name_en, '、')
                             from meta.lineage l join config.kpis k
                               on k.kpi_id = split_part(l.model, '__', 2)
                             where l.source = 'raw.' || a.dataset and l.model like 'kpi.kpi_%') as kpis
                from kpi.kpi_data_age a order by a.dataset""")):
            status = "late" if r["is_late"] else "ok"
            out.append(Observation(f"late:{r['dataset']}", status, {
                "dataset": r["dataset"], "department": r["department"],
                "department_zh": r["department_zh"] or departments.get(r["department"]),
                "status": status, "latest_period": r["latest_period"], "next_period": r["next_period"],
                "next_due": str(r["next_due"]), "reason_zh": r["age_reason_zh"],
                "reason_en": r["age_reason_en"], "kpis": r["kpis"]}))
    if has_table(con, "meta", "load_log"):
        for r in as_dicts(con.execute("""
                select load_id, department, dataset, status, source_url, loaded_at, rows_in,
                       rows_quarantined, rows_rejected, detail
                from meta.load_log
                where (status = 'rejected' or rows_quarantined > 0) and loaded_at >= ?
                order by load_seq""", [now - config.lookback])):
            checks = [f"{c}: {clip(d, 160)}" if d else c for c, d in con.execute("""
                select check_kind, detail from meta.validation_results
                where load_id = ? and not success and severity = 'error'
                order by check_kind""", [r["load_id"]]).fetchall()]
            status = "rejected" if r["status"] == "rejected" else "quarantined"
            out.append(Observation(f"load:{r['load_id']}", status, r | {
                "status": status, "detail": clip(r["detail"], 300), "failed_checks": checks,
                "department_zh": departments.get(r["department"])}, once=True))
    return out


def read_alert_states(con: duckdb.DuckDBPyConnection) -> dict[str, AlertState]:
    rows = con.execute("select subject, last_status, alerted_status, alerted_since, alerted_at "
                       "from meta.alert_state").fetchall()
    return {r[0]: AlertState(*r) for r in rows}


def record_alert(con: duckdb.DuckDBPyConnection, message: Message, o: Observation,
                 deliveries: tuple[Delivery, ...], now: dt.datetime) -> None:
    """One row per channel the alert went to (or `-` when it was only recorded)."""
    kpi_id, checkpoint_year = o.kpi_checkpoint
    payload = json.dumps(message.as_json(), ensure_ascii=False)
    for d in deliveries:
        con.execute("insert into meta.alerts values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [message.alert_id, d.channel, message.kind, o.subject, kpi_id,
                     checkpoint_year, message.from_status,
                     message.to_status, d.status, d.attempts, d.error, message.text_zh,
                     message.text_en, payload, now])


def remember(con: duckdb.DuckDBPyConnection, o: Observation, state: AlertState | None,
             now: dt.datetime, kind: str | None = None, told: str | None = None) -> None:
    """Write the subject's state: its status now and, after an alert of `kind`, what is told.

    `told` is what stays outstanding after that alert (None after a full recovery).
    """
    told_before, since, told_at = ((state.alerted_status, state.alerted_since, state.alerted_at)
                                   if state else (None, None, None))
    if kind == "reminder":
        told, told_at = told_before, now
    elif kind is not None:
        since = (now if told else None) if told != told_before else since
        told_at = now if told else None
    else:
        told = told_before
    kpi_id, checkpoint_year = o.kpi_checkpoint
    con.execute("""
        merge into meta.alert_state as t
        using (select ?::varchar as subject, ?::varchar as kpi_id, ?::integer as checkpoint_year,
                      ?::varchar as last_status, ?::varchar as alerted_status,
                      ?::timestamptz as alerted_since, ?::timestamptz as alerted_at,
                      ?::timestamptz as changed_at) as s
        on t.subject = s.subject
        when matched then update set
            last_status = s.last_status, alerted_status = s.alerted_status,
            alerted_since = s.alerted_since, alerted_at = s.alerted_at, changed_at = s.changed_at
        when not matched then insert values (s.subject, s.kpi_id, s.checkpoint_year, s.last_status,
                                             s.alerted_status, s.alerted_since, s.alerted_at,
                                             s.changed_at)
    """, [o.subject, kpi_id, checkpoint_year, o.status, told, since, told_at, now])


def read_alerts(con: duckdb.DuckDBPyConnection, limit: int = 50) -> list[dict]:
    """The latest alert attempts, newest first (for a `carbonpeak alerts list`)."""
    if not has_table(con, "meta", "alerts"):
        return []
    return as_dicts(con.execute("""
        select created_at, kind, subject, from_status, to_status, channel, status, attempts,
               error, message_zh, message_en
        from meta.alerts order by alert_id desc, channel limit ?""", [limit]))
