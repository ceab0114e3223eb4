"""Errors of carbonpeak's connectors, and the root exception every package's errors derive from.

A connector's messages are redacted where they are made (`connectors.redact`): a token a server
echoed, or one left in a URL variable, never reaches the attributes or the text of an error, so
no log line, warehouse table or Prefect state can carry it.
"""

from __future__ import annotations

from connectors.redact import redact


class CarbonpeakError(Exception):
    """Root of every error carbonpeak raises on purpose; the CLI turns these into one clean line."""


class ConfigError(CarbonpeakError):
    """A source configuration is wrong; raised before any data moves."""

    def __init__(self, file: str, source: str | None, key: str, problem: str) -> None:
        problem = redact(problem)  # e.g. "`http://u:token@host` is not an http(s) URL"
        self.file, self.source, self.key, self.problem = file, source, key, problem
        where = f"source `{source}`" if source else "top level"
        super().__init__(f"`{file}`: {where}, key `{key}`: {problem}")


class SourceError(CarbonpeakError):
    """A departmental source could not be read."""

    def __init__(self, source: str, url: str, problem: str) -> None:
        url, problem = redact(url), redact(problem)
        self.source, self.url, self.problem = source, url, problem
        super().__init__(f"source `{source}` ({url}): {problem}")


class SourceUnavailable(SourceError):
    """Retriable failure (timeout, connection refused, 429/5xx, truncated body) that outlived its retries."""


class SourceRejected(SourceError):
    """Fatal failure: a 4xx other than 429, or a payload that is not what the configuration says."""
