"""Errors of the lake's PostgreSQL server."""

from __future__ import annotations

from core.errors import CarbonpeakError


class LakeError(CarbonpeakError):
    """The catalog server cannot be found, set up, started or reached; the message says what to do."""

    def __init__(self, problem: str, folder: object = None) -> None:
        self.problem, self.folder = problem, folder
        super().__init__(problem)


class PortBusy(LakeError):
    """Another process listens on the port the server was asked to use."""

    def __init__(self, port: int, folder: object = None) -> None:
        self.port = port
        super().__init__(f"port {port} on 127.0.0.1 is busy; choose another with `--port`", folder)
