"""Errors services raise: each has a title and a message a person can act on."""

from __future__ import annotations

__all__ = ["Conflict", "NotFound", "ServiceError"]


class ServiceError(ValueError):
    """A refused use case. `field` names the input at fault when there is one."""

    title = "Not done"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.message = message
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


class NotFound(ServiceError):
    """A reference (family, loan, village, product) that is not in the ledger."""

    title = "Not found"


class Conflict(ServiceError):
    """The ledger already holds something that contradicts the request (e.g. a duplicate)."""

    title = "Already in the ledger"
