"""Errors of the expectation suites."""

from __future__ import annotations

from core.errors import CarbonpeakError


class SuiteError(CarbonpeakError):
    """A suite file is missing, unreadable, or holds an expectation GX would not load."""

    def __init__(self, file: str, problem: str) -> None:
        self.file, self.problem = file, problem
        super().__init__(f"`{file}`: {problem}")


class DataDocsError(CarbonpeakError):
    """The Data Docs could not be built to work offline."""

    def __init__(self, file: str, problem: str) -> None:
        self.file, self.problem = file, problem
        super().__init__(f"`{file}`: {problem}")
