"""The root of every error carbonpeak raises on purpose, and the configuration error.

Each package's errors derive from `CarbonpeakError` (connectors/errors.py, expectations/errors.py,
warehouse/errors.py); the CLI turns any of them into one clean line, never a traceback.
Messages are redacted where they are made (`core.redact`): a token never reaches the attributes
or the text of an error, so no log line, warehouse table or Prefect state can carry it.
"""

from __future__ import annotations

from core.redact import redact


class CarbonpeakError(Exception):
    """Root of every error carbonpeak raises on purpose; the CLI turns these into one clean line."""


class ConfigError(CarbonpeakError):
    """A configuration file is wrong; raised before any data moves.

    It names the file, the subject (a source `energy.gdp`, a KPI, an alert channel, ...) and the
    key, then what is wrong and what to do: "`kpis.yml`: KPI `forest_coverage`, key
    `checkpoints.2025.qualifier`: ...".
    """

    def __init__(self, file: str, subject: str | None, key: str, problem: str,
                 kind: str = "source") -> None:
        problem = redact(problem)  # e.g. "`http://u:token@host` is not an http(s) URL"
        self.file, self.subject, self.key, self.problem, self.kind = file, subject, key, problem, kind
        where = f"{kind} `{subject}`" if subject else "top level"
        super().__init__(f"`{file}`: {where}, key `{key}`: {problem}")

    @property
    def source(self) -> str | None:
        """The subject, by the name the connectors' callers use."""
        return self.subject
