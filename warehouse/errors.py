"""Errors of the warehouse."""

from __future__ import annotations

from core.errors import CarbonpeakError


class WarehouseError(CarbonpeakError):
    """The warehouse file cannot be opened or written."""


class WarehouseBusy(WarehouseError):
    """Another run, or another process, holds the warehouse: nobody's data is at fault."""


class AccountingError(WarehouseError):
    """Rows in != loaded + quarantined + unchanged + duplicates: something was lost or invented."""


class ModelError(WarehouseError):
    """A SQL model cannot be resolved or built."""

    def __init__(self, model: str, problem: str) -> None:
        self.model, self.problem = model, problem
        super().__init__(f"model `{model}`: {problem}")
