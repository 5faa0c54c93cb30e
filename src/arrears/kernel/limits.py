"""The bounds of what the ledger stores and the kernel computes: one place, no framework.

Every value that enters the ledger — an import row, a form, a service call — is checked against
these before the database sees it, so SQLite and PostgreSQL refuse exactly the same values
(SQLite stores 100 000 characters in a ``varchar(200)`` and PostgreSQL does not; PostgreSQL
refuses an amount ≥ 2^63 as ``bigint out of range`` where SQLite raises ``OverflowError``).
The bounds are chosen so that everything the kernel derives from a valid loan stays computable:
an amount below 10^13 minor units (10^11 yuan) leaves room for years of penalty and compound
interest inside a signed 64-bit integer, and dates from 1970 to 2199 keep every schedule,
holiday calendar and day count inside what ``datetime.date`` and the engines' day numbers
represent (a loan starting in year 1 overflowed the kernel; one in 9999 has no room for a term).

The checks here raise the kernel's typed errors with a message that names the bound; callers add
the row and field (``row N, field F: reason``). ``docs/architecture.md`` ("Importing") has the
table of limits.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal

from arrears.kernel.errors import ArrearsError, InvalidAmount, InvalidDate, InvalidTerms

#: Amounts (principal, payments, instalments) are whole minor units with 0 < x < 10^13.
MAX_AMOUNT_MINOR = 10**13 - 1
#: The first and last date the ledger accepts (start dates, value dates, due dates).
MIN_DATE = date(1970, 1, 1)
MAX_DATE = date(2199, 12, 31)
#: The sanity cap on a contract rate, as a daily rate (1 % a day, 365 % a year): above it a
#: value is far more likely a typo (``5`` for ``0.05``) than a contract, and penalties
#: compounding on it would leave the 64-bit range within a term.
MAX_DAILY_RATE = Decimal("0.01")
#: Days in a year when an annual rate is compared with the daily cap (the largest year basis).
RATE_YEAR_DAYS = 365
#: References (loans, borrowers, payments): letters, digits, ``-``, ``_`` and ``.``, starting
#: with a letter or digit (so ``/loans/<ref>/`` always routes and ``..`` is never a reference).
MAX_REF_LENGTH = 64
REF_PATTERN = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{MAX_REF_LENGTH - 1}}}", re.ASCII)
REF_ALPHABET = "letters, digits, '-', '_' and '.'"
#: Names and other free text the ledger stores in a 200-character column.
MAX_NAME_LENGTH = 200
#: Any one value of an import file (the longest column, a postal address, holds 300).
MAX_FIELD_LENGTH = 1_000
#: Error messages quote at most this much of a bad value.
MAX_QUOTED = 300
#: Every value that reaches a 64-bit column or the engines' integer frames must fit this.
INT64_MAX = 2**63 - 1


class LimitExceeded(ArrearsError):
    """A value outside the documented bounds of the ledger."""

    code = "ledger-limit-exceeded"


class LoanNotComputable(ArrearsError):
    """A stored loan the kernel or an engine cannot compute (values that bypassed validation:
    the admin, raw SQL, a restore). The daily run reports and skips it; ``explain`` shows this
    one line instead of a traceback."""

    code = "loan-not-computable"


#: What computing a loan with absurd stored values raises besides :class:`ArrearsError`
#: (``OverflowError`` from dates, ``decimal.InvalidOperation``, a ``KeyError`` from a calendar
#: year that does not exist): a failure of that loan, not of the run. Database errors are not
#: here on purpose — a lost connection fails the run, it does not turn every loan into an error.
COMPUTE_FAILURES: tuple[type[BaseException], ...] = (
    ArithmeticError,
    ValueError,
    LookupError,
    TypeError,
)


def not_computable(error: BaseException) -> ArrearsError:
    """``error`` as the one line a person reads: a domain error as it is, anything else as a
    :class:`LoanNotComputable` naming what went wrong (never a traceback)."""
    if isinstance(error, ArrearsError):
        return error
    text = str(error).strip().splitlines()
    detail = text[0][:200] if text else ""
    kind = type(error).__name__
    return LoanNotComputable(
        f"the loan's stored values cannot be computed ({kind}{': ' + detail if detail else ''}); "
        "correct the loan's data",
        params={"error": kind},
    )


def check_amount(value: int, *, name: str = "amount") -> int:
    """A positive amount in minor units below 10^13."""
    if type(value) is not int:
        raise InvalidAmount(f"{value!r} is not a whole number of minor units")
    if value <= 0:
        raise InvalidAmount(f"{value} is not positive")
    if value > MAX_AMOUNT_MINOR:
        raise LimitExceeded(
            f"is too large (at most {MAX_AMOUNT_MINOR} minor units, below 10^13)",
            params={"limit": MAX_AMOUNT_MINOR},
            field=name,
        )
    return value


def check_date(value: date, *, name: str = "date") -> date:
    """A date from 1970-01-01 to 2199-12-31."""
    if not MIN_DATE <= value <= MAX_DATE:
        raise InvalidDate(
            f"{value.isoformat()} is outside {MIN_DATE.isoformat()}..{MAX_DATE.isoformat()}",
            field=name,
        )
    return value


def check_daily_rate(value: Decimal, basis: str, *, cap: Decimal = MAX_DAILY_RATE) -> Decimal:
    """A contract rate at or below ``cap`` a day (an annual rate divided by 365)."""
    daily = value if basis == "daily" else value / RATE_YEAR_DAYS
    if daily > cap:
        limit = f"{cap:f} a day" if basis == "daily" else f"{cap * RATE_YEAR_DAYS:f} a year"
        raise InvalidTerms(
            f"{value:f} is above the sanity cap of {limit}",
            params={"cap": str(cap)},
            field="rate",
        )
    return value


def check_ref(value: str, *, name: str = "ref") -> str:
    """A reference of at most 64 letters, digits, ``-``, ``_`` and ``.`` (no ``/``, no NUL)."""
    if len(value) > MAX_REF_LENGTH:
        raise LimitExceeded(f"is longer than {MAX_REF_LENGTH} characters", field=name)
    if has_control(value):
        raise LimitExceeded("holds a control character (NUL, tab, newline…)", field=name)
    if not REF_PATTERN.fullmatch(value):
        raise LimitExceeded(
            f"may hold only {REF_ALPHABET}, starting with a letter or digit", field=name
        )
    return value


def has_control(value: str) -> bool:
    """Whether ``value`` holds a NUL, another control character or a lone surrogate."""
    if value.isprintable():  # no character of any "C" category (nor a separator but space)
        return False
    return any(unicodedata.category(c) in {"Cc", "Cs"} for c in value)


def check_text(value: str, *, name: str = "text", max_length: int = MAX_NAME_LENGTH) -> str:
    """Free text (a name, an address line): at most ``max_length`` characters, none of them a
    control character (a NUL is refused by PostgreSQL and truncates C strings elsewhere)."""
    if len(value) > max_length:
        raise LimitExceeded(f"is longer than {max_length} characters", field=name)
    if has_control(value):
        raise LimitExceeded("holds a control character (NUL, tab, newline…)", field=name)
    return value
