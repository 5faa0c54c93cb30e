"""Everything a portal page reads, always scoped to the signed-in borrower.

A loan, complaint or message is looked up *among the borrower's own*: another borrower's id
typed into a URL is simply not found (404), never "forbidden" (which would say it exists).
The figures come from the same ``kernel.explain`` as the staff pages and ``arrears explain``,
so the portal shows the borrower exactly what staff see, to the fen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.http import Http404
from django.utils import timezone

from arrears.kernel import limits
from arrears.kernel.explain import explain
from arrears.kernel.terms import Payment
from arrears.ledger import selectors as ledger_selectors
from arrears.ledger.models import Borrower, Loan

#: How far ahead a borrower may project ("if I pay on date X"): a year.
MAX_PROJECTION_DAYS = 366
#: The largest amount a borrower may try in a projection (10^13 minor units, the ledger bound).
MAX_AMOUNT_MINOR = limits.MAX_AMOUNT_MINOR


def today() -> date:
    """The lender's business date now (the portal always speaks of "now")."""
    return timezone.localdate()


def loans_of(borrower: Borrower) -> list[Loan]:
    return list(Loan.objects.filter(borrower=borrower).select_related("product").order_by("ref"))


def loan_of(borrower: Borrower, ref: str) -> Loan:
    """The borrower's loan ``ref``; 404 for any other (whether or not it exists)."""
    loan = (
        Loan.objects.select_related("product", "borrower")
        .filter(borrower=borrower, ref=ref[:64])
        .first()
    )
    if loan is None:
        raise Http404("no such loan")
    return loan


def statement(loan: Loan, as_of: date, payments: tuple[Payment, ...] = ()) -> dict[str, Any]:
    """``explain`` of ``loan`` as of ``as_of`` (plus hypothetical ``payments``)."""
    as_of = max(as_of, loan.start_date)
    return explain(*ledger_selectors.loan_state(loan, as_of, payments=payments))


def quote_days() -> int:
    return int(getattr(settings, "ARREARS_PORTAL_QUOTE_DAYS", 7))


@dataclass(frozen=True)
class Quote:
    """A payoff quote: pay ``amount`` (minor units) on or before ``valid_to`` and the loan is
    settled; paid on an earlier day it is ``today_amount``…``amount`` (interest and penalty
    accrue day by day), any excess becoming a credit that is returned."""

    today_amount: dict[str, Any]
    amount: dict[str, Any]
    valid_to: date


def quote(loan: Loan, on: date) -> Quote:
    """The payoff today and the payoff at the end of the quote's validity."""
    valid_to = on + timedelta(days=quote_days())
    return Quote(
        today_amount=statement(loan, on)["totals"]["payoff"],
        amount=statement(loan, valid_to)["totals"]["payoff"],
        valid_to=valid_to,
    )


def projection(loan: Loan, on: date, amount_minor: int | None) -> dict[str, Any]:
    """ "If I pay ``amount`` on ``on``": what is due on that day before paying, where the
    payment goes (the product's allocation order, oldest instalment first) and what is left."""
    before = statement(loan, on)
    result: dict[str, Any] = {"on": on, "before": before["totals"], "dpd": before["dpd"]}
    if amount_minor:
        after = statement(loan, on, (Payment("portal-projection", on, amount_minor),))
        paid = next(p for p in after["payments"] if p["ref"] == "portal-projection")
        result.update(
            after=after["totals"], allocated=paid["allocated"], to_credit=paid["to_credit"]
        )
    return result
