"""Errors of carbonpeak's connectors: a departmental source that cannot be read.

Messages are redacted where they are made (`core.redact`): a token a server echoed, or one left in
a URL variable, never reaches the attributes or the text of an error.
"""

from __future__ import annotations

from core.errors import CarbonpeakError
from core.redact import redact


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
