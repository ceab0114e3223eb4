"""Secrets out of every message: the one home of redaction for the connectors.

A departmental server may echo what it was sent (a 401 page printing the Authorization header, an
error quoting the full request URL), and an operator may put a token in the URL variable
(`http://user:token@host/`, `?access_token=…`). Whatever a connector writes — an exception
message, a log line, the provenance URL the warehouse keeps — passes through `redact()` where
the text is made, so no later layer (meta.* tables, kpi.kpi_status, the report, Prefect) can
leak it.

Two nets: the secrets this process was given (remembered by `remember` / `remember_url` when a
session or request is made), replaced wherever they appear; and patterns for what a secret looks
like wherever it comes from (a bearer or basic credential, URL userinfo, a query or key-value
parameter named like a secret).
"""

from __future__ import annotations

import logging
import re
import threading
import urllib.parse
from collections.abc import Iterable

MASK = "***"
# Shorter values are too likely to be ordinary words or numbers: masking them would garble
# messages. Real tokens are far longer; a short one is still caught by the patterns below.
MIN_SECRET_LENGTH = 8
# Query and key-value parameter names whose value is a credential (compared lowercased).
SECRET_PARAMS = ("token", "access_token", "refresh_token", "id_token", "auth_token", "private_token",
                 "key", "apikey", "api_key", "app_key", "appkey", "app_secret", "client_secret",
                 "sign", "signature", "sig", "secret", "password", "passwd", "pwd", "ticket")

_names = "|".join(sorted(map(re.escape, SECRET_PARAMS), key=len, reverse=True))
_PATTERNS = (
    # an Authorization value: `Bearer s3cr3t`, `Basic dXNlcjpwYXNz`, `Token abc`
    # (a credential has a digit or symbol, or is long: "bearer token" in prose is left alone)
    (re.compile(r"\b(Bearer|Basic|Token)(\s+)(?:(?=[A-Za-z.]*[0-9_~+/=:-])[A-Za-z0-9._~+/=:-]{6,}"
                r"|[A-Za-z]{16,})", re.IGNORECASE), rf"\1\2{MASK}"),
    # whatever follows an Authorization header's name, however short
    (re.compile(r"(authorization[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic|token|digest)\s+)?+)"
                rf"(?!{re.escape(MASK)})[^\s\"',;<>]+", re.IGNORECASE), rf"\1{MASK}"),
    # URL userinfo: http://user:token@host or http://token@host
    (re.compile(r"(?<=//)[^/@\s:?#]+(?::[^/@\s?#]*)?@"), f"{MASK}@"),
    # a query parameter: ?access_token=…&  ;  %3D-encoded inside another URL is caught too
    (re.compile(rf"((?:[?&;]|%3F|%26)(?:{_names})(?:=|%3D))[^&#\s\"'<>]*", re.IGNORECASE), rf"\1{MASK}"),
    # key-value text and JSON: token=…, "password": "…", api_key: …
    (re.compile(rf"(?<![A-Za-z0-9_.-])([\"']?(?:{_names})[\"']?\s*[:=]\s*[\"']?)"
                rf"(?!{re.escape(MASK)})[^\s\"'&,;}}<>]+", re.IGNORECASE), rf"\1{MASK}"),
)

_secrets: set[str] = set()
_lock = threading.Lock()


def remember(secret: str | None) -> None:
    """Add a secret this process uses (a token): it is masked in every later message."""
    if secret and len(secret) >= MIN_SECRET_LENGTH:
        with _lock:
            _secrets.add(str(secret))


def remember_url(url: str) -> None:
    """Remember the credentials a URL carries: its userinfo and its secret-named query values."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return
    for value in (parts.username, parts.password):
        if value:
            remember(urllib.parse.unquote(value))
    for name, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True):
        if name.lower() in SECRET_PARAMS:
            remember(value)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every known secret, and anything shaped like one, replaced by `***`.

    `secrets` adds values to mask besides those remembered. Idempotent: redacting twice changes
    nothing more.
    """
    if not text:
        return text
    with _lock:
        known = set(_secrets)
    known.update(s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH)
    # longest first: a secret that contains another is masked whole
    for secret in sorted(known, key=len, reverse=True):
        for form in {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}:
            text = text.replace(form, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Masks secrets in a log record (its message, arguments and traceback) before any handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


def get_logger(name: str) -> logging.Logger:
    """`logging.getLogger(name)` with secrets masked in every record it emits.

    Connector modules take their logger from here: a filter on a logger applies to the records
    that logger makes (not to its children's), so each module's logger carries its own.
    """
    logger = logging.getLogger(name)
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
    return logger


class Secret(str):
    """A string that never shows itself in a repr or a log line."""

    def __repr__(self) -> str:
        return "Secret('***')"
