"""Typed domain errors with a stable code, so callers and the API can react without parsing text."""

from __future__ import annotations


class ArrearsError(ValueError):
    """Base of every domain error: a stable machine code plus a message a person can act on."""

    code: str = "arrears-error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message


class CurrencyMismatch(ArrearsError):
    code = "money-currency-mismatch"


class UnknownCurrency(ArrearsError):
    code = "money-unknown-currency"


class InvalidAmount(ArrearsError):
    code = "money-invalid-amount"


class InvalidTerms(ArrearsError):
    code = "loan-invalid-terms"


class InvalidDate(ArrearsError):
    code = "calendar-invalid-date"
