"""Typed domain errors with a stable code, so callers and the API can react without parsing text."""

from __future__ import annotations

from collections.abc import Mapping


class ArrearsError(ValueError):
    """Base of every domain error: a stable machine code plus a message a person can act on.

    ``params`` carries the values the message names (so a user interface can render the code
    in any language without parsing the text) and ``field`` the input it concerns, if any.
    """

    code: str = "arrears-error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        params: Mapping[str, object] | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message
        self.params: dict[str, object] = dict(params or {})
        self.field = field

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


class ScheduleUnreadable(InvalidTerms):
    """A loan's stored schedule that is not what the ledger writes (changed past its services,
    e.g. by raw SQL): the loan cannot be computed, and is reported, never guessed at."""

    code = "loan-schedule-unreadable"


#: How a loan without a stored schedule is reported, by the ledger's reader and the engines'.
NO_SCHEDULE = "the loan has no stored schedule"


class InvalidDate(ArrearsError):
    code = "calendar-invalid-date"
