"""Alerts a person has not yet received: delivery tracked per (alert, channel).

An alert counts only when a person can read it. A Prefect event to the temporary server of
`bootstrap.sh run` reaches no one, so an alert that went only there, or to a channel that failed,
or was decided before a channel was configured, is still owed to every person-facing channel.
At the start of each run, every open alert (its subject still alerted in `meta.alert_state`) goes
once to each usable person-facing channel that has no `sent` row for it in `meta.alerts`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from alerts.channels import Channel, Delivery, Message, deliver
from warehouse.db import as_dicts, transaction

log = logging.getLogger(__name__)


def reaches_a_person(channel: Channel) -> bool:
    """Webhook, e-mail and the robots do; a Prefect event only feeds automations."""
    return channel.type != "prefect_event"


@dataclass(frozen=True)
class Owed:
    message: Message
    sent_to: frozenset[str]  # the channels that already delivered it


def read_open_alerts(con: duckdb.DuckDBPyConnection) -> list[Owed]:
    """The latest alert of every subject still alerted, with the channels it reached."""
    rows = as_dicts(con.execute("""
        with latest as (
            select a.alert_id
            from meta.alerts a
            join meta.alert_state s on s.subject = a.subject
            where s.alerted_status is not null and a.status <> 'suppressed'
                and a.to_status = s.alerted_status and a.kind <> 'recovery'
            qualify row_number() over (partition by a.subject order by a.created_at desc,
                                       a.alert_id desc) = 1
        )
        select alert_id, any_value(payload)::varchar as payload,
               list(channel) filter (where status = 'sent') as sent_to
        from meta.alerts
        where alert_id in (select alert_id from latest)
        group by alert_id
        order by alert_id"""))
    owed = []
    for row in rows:
        body = json.loads(row["payload"])
        message = Message(alert_id=body["alert_id"], kind=body["kind"], subject=body["subject"],
                          from_status=body.get("from_status"), to_status=body["to_status"],
                          title_zh=body["title_zh"], title_en=body["title_en"],
                          text_zh=body["message_zh"], text_en=body["message_en"], event="",
                          resource_id="", fields=body.get("fields") or {})
        owed.append(Owed(message, frozenset(row["sent_to"] or ())))
    return owed


def deliver_owed(con: duckdb.DuckDBPyConnection, channels: list[Channel], now: object,
                 sleep: Callable[[float], None] = time.sleep) -> list[Delivery]:
    """Send each open alert to the person-facing channels that missed it; record each attempt."""
    people = [c for c in channels if reaches_a_person(c)]
    done = []
    for item in read_open_alerts(con) if people else []:
        for channel in (c for c in people if c.name not in item.sent_to):
            delivery = deliver(channel, item.message, sleep=sleep)
            done.append(delivery)
            with transaction(con):
                # the alert's other rows stay; this channel's row becomes this attempt
                # (delete, then insert: the same on a DuckDB file and on a lake, which has no keys)
                con.execute("""
                    create or replace temp table owed_attempt as
                    select alert_id, ?::varchar as channel, kind, subject, kpi_id, checkpoint_year,
                           from_status, to_status, ?::varchar as status, ?::integer as attempts,
                           ?::varchar as error, message_zh, message_en, payload, ?::timestamptz as created_at
                    from meta.alerts where alert_id = ?
                    limit 1""", [channel.name, delivery.status, delivery.attempts, delivery.error, now,
                                 item.message.alert_id])
                con.execute("delete from meta.alerts where alert_id = ? and channel = ?",
                            [item.message.alert_id, channel.name])
                con.execute("insert into meta.alerts select * from owed_attempt")
                con.execute("drop table owed_attempt")
            log.info("alert %s owed to `%s`: %s", item.message.alert_id, channel.name, delivery.status)
    return done


def summarize(con: duckdb.DuckDBPyConnection, configured: list[Channel]) -> tuple[str, int]:
    """One line for the run's log, and how many deliveries are still owed in all.

    Per person-facing channel: the open alerts it delivered and those it still owes.
    """
    open_alerts = read_open_alerts(con)
    people = [c for c in configured if reaches_a_person(c)]
    if not people:
        return (f"no person-facing alert channel configured: {len(open_alerts)} open alert(s) owed "
                "(configure a webhook, e-mail, DingTalk or WeCom channel in alerts.yml)",
                len(open_alerts))
    parts, owed = [], 0
    for channel in people:
        sent = sum(channel.name in o.sent_to for o in open_alerts)
        owed += len(open_alerts) - sent
        parts.append(f"{channel.name} {sent} sent, {len(open_alerts) - sent} owed")
    return f"{len(open_alerts)} open alert(s): " + "; ".join(parts), owed
