"""Alert channels: `alerts.yml` read into channels, and one small sender per channel type.

Types: `webhook` (generic JSON POST), `smtp` (e-mail), `dingtalk` and `wecom` (group robots),
`prefect_event` (a Prefect event, for Prefect Automations to route further). Secrets never sit
in the file: a key `<name>_env: VAR` reads the value from the environment variable VAR (a plain
`<name>` beside it is the default when VAR is unset); `token`, `password`, `secret` and `key` can
only be given that way. A channel that is disabled, or whose required variable is unset, is
skipped with a log line. `deliver` retries a failing channel with backoff and never raises, so
one channel's failure cannot stop the others; secrets are redacted from the errors it reports.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import html
import json
import logging
import smtplib
import time
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime

import requests

from core.errors import CarbonpeakError
from core.redact import Secret
from publishing.clock import CITY_TIMEZONE

log = logging.getLogger(__name__)

DINGTALK_URL = "https://oapi.dingtalk.com/robot/send"
WECOM_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
SMTP_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


class ChannelError(CarbonpeakError):
    """A channel refused or could not take a message (after the sender's own checks)."""


@dataclass(frozen=True)
class Message:
    """One alert, rendered: what every sender gets."""

    alert_id: str
    kind: str  # worse | recovery | reminder | data_quality | late_source | closed
    subject: str
    from_status: str | None
    to_status: str
    title_zh: str
    title_en: str
    text_zh: str  # starts with the title
    text_en: str
    event: str  # Prefect event name, e.g. carbonpeak.kpi.status-changed
    resource_id: str  # Prefect resource, e.g. carbonpeak.kpi.forest_coverage.2025
    fields: dict = field(default_factory=dict)  # the structured facts (a kpi_status row, ...)
    created_at: dt.datetime | None = None

    def as_json(self) -> dict:
        """Both languages and the structured fields, JSON-safe."""
        body = {k: getattr(self, k) for k in ("alert_id", "kind", "subject", "from_status",
                                              "to_status", "title_zh", "title_en")}
        body |= {"message_zh": self.text_zh, "message_en": self.text_en,
                 "created_at": self.created_at.isoformat() if self.created_at else None,
                 "fields": self.fields}
        return json.loads(json.dumps(body, ensure_ascii=False, default=str))

    def text(self, max_bytes: int) -> str:
        """Chinese, then English, cut at `max_bytes` of UTF-8 (robots limit a message's size)."""
        text = f"{self.text_zh}\n\n{self.text_en}"
        raw = text.encode("utf-8")
        if len(raw) <= max_bytes:
            return text
        return raw[:max_bytes - 3].decode("utf-8", errors="ignore") + "…"


@dataclass(frozen=True)
class Channel:
    name: str
    type: str
    options: dict  # resolved values; secrets are `Secret`s
    attempts: int = 3
    backoff_s: float = 2.0
    timeout_s: float = 10.0

    def secrets(self) -> list[str]:
        return [str(v) for v in self.options.values() if isinstance(v, Secret) and v]

    def unavailable(self) -> str | None:
        """Why this channel cannot send right now, or None."""
        if self.type == "prefect_event":
            from prefect.context import FlowRunContext, TaskRunContext
            from prefect.settings import PREFECT_API_URL

            # Outside a run and with no API, emitting would start a temporary server (~10-30 s)
            # that is thrown away with its events.
            if not PREFECT_API_URL.value() and not (FlowRunContext.get() or TaskRunContext.get()):
                return "no Prefect API (PREFECT_API_URL unset) and not inside a flow run"
        return None

    def send(self, message: Message) -> None:
        SENDERS[self.type](self, message)


@dataclass(frozen=True)
class Delivery:
    channel: str
    status: str  # sent | failed | suppressed
    attempts: int
    error: str | None = None


# --- delivery ------------------------------------------------------------------------------

def deliver(channel: Channel, message: Message, attempts: int | None = None,
            sleep: Callable[[float], None] = time.sleep) -> Delivery:
    """Send with retries and exponential backoff; never raises: the outcome is the result."""
    attempts = attempts or channel.attempts
    error = None
    for attempt in range(1, attempts + 1):
        try:
            channel.send(message)
            return Delivery(channel.name, "sent", attempt)
        except Exception as exc:  # noqa: BLE001 (whatever one channel does, the others go on)
            error = _redact(f"{type(exc).__name__}: {exc}", channel.secrets())
            log.warning("alert %s via `%s`, attempt %d of %d failed: %s", message.alert_id,
                        channel.name, attempt, attempts, error)
            if attempt < attempts:
                sleep(channel.backoff_s * 2 ** (attempt - 1))
    return Delivery(channel.name, "failed", attempts, error)


def _redact(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        parts = [secret]
        if "://" in secret:  # a webhook URL's path and query are its secret (requests' errors
            url = urllib.parse.urlsplit(secret)  # quote only the path: `url: /hooks/T0/B0/xyz`)
            parts += [p for p in (url.path + (f"?{url.query}" if url.query else ""), url.path,
                                  url.query) if len(p) > 1]
        for part in parts:
            text = text.replace(part, "***")
            text = text.replace(urllib.parse.quote(part, safe=""), "***")
    return text[:1000]


def _check_http(response: requests.Response) -> None:
    if response.status_code >= 300:
        raise ChannelError(f"HTTP {response.status_code}: {response.text[:200]}")


def _check_robot(response: requests.Response) -> None:
    """DingTalk and WeCom answer 200 with `errcode` != 0 when they refuse a message."""
    _check_http(response)
    try:
        answer = response.json()
    except ValueError:
        raise ChannelError(f"answer is not JSON: {response.text[:200]}") from None
    if answer.get("errcode", 0) != 0:
        raise ChannelError(f"errcode {answer.get('errcode')}: {answer.get('errmsg')}")


def send_webhook(channel: Channel, message: Message) -> None:
    token = channel.options.get("token")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    _check_http(requests.post(str(channel.options["url"]), json=message.as_json(),
                              headers=headers, timeout=channel.timeout_s))


def send_smtp(channel: Channel, message: Message) -> None:
    o = channel.options
    email = EmailMessage()
    email["Subject"] = f"{message.title_zh} / {message.title_en}"
    email["From"] = o["from"]
    email["To"] = ", ".join(o["to"])
    # Without Date and Message-ID many mail servers score a message as spam, or drop it.
    email["Date"] = format_datetime(dt.datetime.now(CITY_TIMEZONE))  # the inbox shows the city's time
    email["Message-ID"] = message_id(message.alert_id, str(o["from"]).rpartition("@")[2])
    email.set_content(f"{message.text_zh}\n\n{message.text_en}\n", cte="base64")
    email.add_alternative(email_html(message), subtype="html", cte="base64")
    smtp_class = smtplib.SMTP_SSL if o["security"] == "ssl" else smtplib.SMTP
    with smtp_class(o["host"], o["port"], timeout=channel.timeout_s) as smtp:
        if o["security"] == "starttls":
            smtp.starttls()
        if o.get("username"):
            smtp.login(o["username"], str(o.get("password", "")))
        smtp.send_message(email)


# What an official reads first in the e-mail's table, when the alert is about a KPI checkpoint.
_EMAIL_FIELDS = (("name_zh", "指标 KPI"), ("checkpoint_year", "目标年份 checkpoint"),
                 ("status", "状态 status"), ("latest_value", "最新值 latest"),
                 ("latest_year", "年份 year"), ("target_value", "目标值 target"), ("unit", "单位 unit"),
                 ("status_reason", "原因 reason"))
# ... and when it is about a year's early warning.
_WARNING_EMAIL_FIELDS = (("name_zh", "指标 KPI"), ("period_zh", "期间 months"),
                         ("warning_label", "预警等级 warning level"),
                         ("projected_value", "全年预计 projected"),
                         ("required_value", "要求 required"), ("actual_value", "年度实际 actual"),
                         ("unit", "单位 unit"), ("warning_reason_zh", "原因 reason"))


def email_html(message: Message) -> str:
    """The e-mail's HTML part: the title, a table of the facts, both texts; every value escaped."""
    from publishing.status_words import status_label

    def cell(key: str, value: object) -> str:
        text = status_label(str(value)) if key == "status" else ("–" if value is None else str(value))
        return html.escape(text)

    fields = _WARNING_EMAIL_FIELDS if message.subject.startswith("warning:") else _EMAIL_FIELDS
    rows = "".join(f"<tr><th style='text-align:left;padding:4px 8px;background:#f1f5f9'>{html.escape(label)}"
                   f"</th><td style='padding:4px 8px'>{cell(key, message.fields.get(key))}</td></tr>"
                   for key, label in fields if key in message.fields)
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for text in (message.text_zh, message.text_en)
                         for line in text.split("\n") if line.strip())
    return (f"<!doctype html><html><head><meta charset='utf-8'></head><body style='font-family:sans-serif'>"
            f"<h2>{html.escape(message.title_zh)}</h2><p>{html.escape(message.title_en)}</p>"
            + (f"<table style='border-collapse:collapse;border:1px solid #cbd5e1'>{rows}</table>"
               if rows else "")
            + f"{paragraphs}</body></html>")


def dingtalk_sign(timestamp: str, secret: str) -> str:
    """A signed robot's `sign`: base64(HMAC-SHA256 of "timestamp\\nsecret").

    Not URL-quoted here: requests encodes query parameters once, as DingTalk expects (apprise
    quotes it and requests then quotes it again).
    """
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def send_dingtalk(channel: Channel, message: Message) -> None:
    params = {"access_token": str(channel.options["token"])}
    if channel.options.get("secret"):
        timestamp = str(round(time.time() * 1000))
        params |= {"timestamp": timestamp, "sign": dingtalk_sign(timestamp, channel.options["secret"])}
    body = {"msgtype": "text", "text": {"content": message.text(4000)}}
    _check_robot(requests.post(channel.options.get("base_url", DINGTALK_URL), params=params,
                               json=body, timeout=channel.timeout_s))


def send_wecom(channel: Channel, message: Message) -> None:
    body = {"msgtype": "text", "text": {"content": message.text(2048)}}
    _check_robot(requests.post(channel.options.get("base_url", WECOM_URL),
                               params={"key": str(channel.options["key"])}, json=body,
                               timeout=channel.timeout_s))


def send_prefect_event(channel: Channel, message: Message) -> None:
    from prefect.events import emit_event

    event = emit_event(event=message.event, payload=message.as_json(),
                       resource={"prefect.resource.id": message.resource_id,
                                 "prefect.resource.name": message.title_en})
    if event is None:
        raise ChannelError("Prefect did not take the event (events are off for this API)")


SENDERS: dict[str, Callable[[Channel, Message], None]] = {
    "webhook": send_webhook, "smtp": send_smtp, "dingtalk": send_dingtalk, "wecom": send_wecom,
    "prefect_event": send_prefect_event,
}


def message_id(alert_id: str, domain: str) -> str:
    """`<alert id.random@domain>`: short enough never to be folded onto a second header line.

    `make_msgid` adds a timestamp, the pid and a long random number: with a long alert id the
    header passes 78 characters, is folded, and some parsers then read it with a leading space.
    """
    return f"<{alert_id[:32]}.{uuid.uuid4().hex[:12]}@{domain or 'carbonpeak.invalid'}>"
