"""`alerts.yml`: when to alert, how often to remind, and the channels, checked before anything is sent.

Secrets never sit in the file: a channel names the environment variable that holds each one
(`token_env: VARIABLE`), and a channel whose variable is unset is skipped with the reason.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from alerts.channels import SMTP_PORTS, Channel
from core import yamlio
from core.errors import ConfigError
from core.redact import Secret

ALERT_LEVELS = ("at_risk", "off_track")  # the least bad KPI status that alerts (`alert_at`)
SECRET_KEYS = ("token", "password", "secret", "key")


class AlertsConfigError(ConfigError):
    """`alerts.yml` is malformed; raised before anything is sent."""

    def __init__(self, file: str, channel: str | None, key: str, problem: str) -> None:
        super().__init__(file, channel, key, problem, kind="channel")


@dataclass(frozen=True)
class AlertsConfig:
    file: str
    alert_at: str = "off_track"
    remind_every: dt.timedelta | None = dt.timedelta(days=30)
    lookback: dt.timedelta = dt.timedelta(days=7)  # how far back rejected/quarantined loads count
    channels: tuple[Channel, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()  # (channel, why) for disabled or unconfigured ones


# per type: (required keys, optional keys)
CHANNEL_KEYS = {
    "webhook": (("url",), ("token",)),
    "smtp": (("host", "from", "to"), ("port", "security", "username", "password")),
    "dingtalk": (("token",), ("base_url", "secret")),
    "wecom": (("key",), ("base_url",)),
    "prefect_event": ((), ()),
}


def read_alerts_config(path: Path, env: Mapping[str, str] = os.environ) -> AlertsConfig | None:
    """Read `alerts.yml`; None when the city has none (then nothing is ever sent)."""
    file = str(path)
    try:
        doc = yamlio.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        return None
    except yaml.YAMLError as exc:
        raise AlertsConfigError(file, None, "-", f"not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise AlertsConfigError(file, None, "-", "expected a mapping")
    alert_at = doc.get("alert_at", "off_track")
    if alert_at not in ALERT_LEVELS:
        raise AlertsConfigError(file, None, "alert_at", f"`{alert_at}` is not one of "
                                + ", ".join(ALERT_LEVELS))
    remind = _number(file, None, doc, "remind_every_days", 30)
    retry = doc.get("retry") or {}
    channels, skipped = [], []
    for name, body in (doc.get("channels") or {}).items():
        if not isinstance(body, dict):
            raise AlertsConfigError(file, name, name, "expected a mapping")
        channel = _channel(file, name, body, retry, env)
        if isinstance(channel, Channel):
            channels.append(channel)
        else:
            skipped.append((name, channel))
    return AlertsConfig(
        file=file, alert_at=alert_at,
        remind_every=dt.timedelta(days=remind) if remind else None,
        lookback=dt.timedelta(days=_number(file, None, doc.get("data_quality") or {},
                                           "lookback_days", 7)),
        channels=tuple(channels), skipped=tuple(skipped))


def _number(file: str, channel: str | None, body: dict, key: str, default: float) -> float:
    value = body.get(key, default)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise AlertsConfigError(file, channel, key, f"`{value}` is not a number >= 0")
    return value


def _channel(file: str, name: str, body: dict, retry: dict, env: Mapping[str, str]
             ) -> Channel | str:
    """The channel, or why it is skipped."""
    kind = body.get("type")
    if kind not in CHANNEL_KEYS:
        raise AlertsConfigError(file, name, "type", f"unknown type `{kind}`; expected one of "
                                + ", ".join(CHANNEL_KEYS))
    if body.get("enabled", True) is False:
        return "disabled in alerts.yml"
    required, optional = CHANNEL_KEYS[kind]
    options: dict = {}
    for key in required + optional:
        if key in SECRET_KEYS and key in body:
            raise AlertsConfigError(file, name, key, f"secrets do not go in the file; name the "
                                    f"environment variable that holds it: `{key}_env: VARIABLE`")
        variable = body.get(f"{key}_env")
        value = env.get(variable) if variable else None
        if not value:
            value = body.get(key)
        if value in (None, "") and key in required:
            if not variable:
                raise AlertsConfigError(file, name, key, f"is required (`{key}: ...` or "
                                        f"`{key}_env: VARIABLE`)")
            return f"`{variable}` is not set"
        if value not in (None, ""):
            options[key] = Secret(value) if key in SECRET_KEYS or key == "url" else value
    if kind == "smtp":
        options["security"] = str(options.get("security", "starttls")).lower()
        if options["security"] not in SMTP_PORTS:
            raise AlertsConfigError(file, name, "security", f"`{options['security']}` is not one "
                                    "of " + ", ".join(SMTP_PORTS))
        options["port"] = int(options.get("port") or SMTP_PORTS[options["security"]])
        to = options["to"]
        options["to"] = [a.strip() for a in (to.split(",") if isinstance(to, str) else to)]
    settings = retry | (body.get("retry") or {})
    return Channel(name, kind, options,
                   attempts=max(1, int(_number(file, name, settings, "attempts", 3))),
                   backoff_s=float(_number(file, name, settings, "backoff_s", 2.0)),
                   timeout_s=float(_number(file, name, body, "timeout_s", 10.0)))
