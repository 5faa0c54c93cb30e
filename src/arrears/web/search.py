"""The workbench's global search (issue 13): one box in the header, by loan ref (the loan
contract's number: the ledger has no separate contract number), borrower ref (the customer
number), borrower name prefix, phone suffix or national-ID suffix.

What a user finds is what they may open: cases through
:func:`arrears.collections.selectors.visible_cases` (so a search never reveals another
collector's borrower), and loans only for back-office staff who may read the ledger. Results
show masked phones and IDs only, even though the query may be a full number: the page repeats
the query masked as well. The query is bounded (:data:`MAX_LENGTH`); every lookup it makes is
an indexed one (see :mod:`arrears.web.selectors`).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from arrears import errorcodes, formfields
from arrears.kernel.errors import ArrearsError
from arrears.ledger.masking import mask_national_id, mask_phone, mask_text
from arrears.ledger.models import Borrower
from arrears.web import selectors
from arrears.web.workbench import label

#: Shortest and longest query: one character matches half the book, and nothing anyone types
#: to find a borrower is longer than a loan ref.
MIN_LENGTH = 2
MAX_LENGTH = 64


class SearchError(ArrearsError):
    """A query the search cannot run (too short or too long)."""


errorcodes.define(
    {
        "search-too-short": "type at least %(min)s characters",
        "search-too-long": "a search is at most %(max)s characters",
        "search-control-character": "remove the control characters (NUL, escape…) from the search",
    }
)


def _first_phone(borrower: Borrower) -> str:
    """The masked first valid phone of a borrower (phones are prefetched in id order)."""
    phones = list(borrower.phones.all())
    phone = next((p for p in phones if p.is_valid), phones[0] if phones else None)
    return mask_phone(phone.number) if phone else ""


def _check(query: str) -> None:
    if len(query) > MAX_LENGTH:
        raise errorcodes.refuse(SearchError, "search-too-long", field="q", max=MAX_LENGTH)
    if len(query) < MIN_LENGTH:
        raise errorcodes.refuse(SearchError, "search-too-short", field="q", min=MIN_LENGTH)
    if formfields.has_control(query):  # PostgreSQL refuses a NUL in a parameter
        raise errorcodes.refuse(SearchError, "search-control-character", field="q")


@login_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    """``/search/?q=``: the cases (and, for ledger staff, loans) matching the query.

    A bad query (empty, too short, too long) is answered 400 with the reason next to the box,
    never searched; an empty box is just the page.
    """
    user: Any = request.user
    raw = request.GET.get("q", "")
    query = raw.strip()
    context: dict[str, Any] = {
        # the box keeps what was typed, masked (a full phone number stays off the page)
        "query": mask_text(query[:MAX_LENGTH]),
        "max_length": MAX_LENGTH,
        "cases": [],
        "loans": [],
        "searched": False,
        "limit": selectors.SEARCH_LIMIT,
    }
    if not query:
        return render(request, "web/search.html", context)
    try:
        _check(query)
    except SearchError as error:
        context["problem"] = errorcodes.describe(error)
        return render(request, "web/search.html", context, status=400)
    terms = selectors.SearchTerms.of(query)
    cases = list(selectors.search_cases(user, terms)[: selectors.SEARCH_LIMIT + 1])
    loans = list(selectors.search_loans(user, terms)[: selectors.SEARCH_LIMIT + 1])
    case_of = selectors.case_of_borrowers(user, {loan.borrower_id for loan in loans})
    context.update(
        searched=True,
        more=len(cases) > selectors.SEARCH_LIMIT or len(loans) > selectors.SEARCH_LIMIT,
        cases=[
            {
                "pk": case.pk,
                "borrower": case.borrower.name,
                "borrower_ref": case.borrower.ref,
                "phone": _first_phone(case.borrower),
                "national_id": mask_national_id(case.borrower.national_id),
                "status": label("case_status", case.status),
                "stage": label("stage", case.stage),
                "dpd": case.dpd,
                "open": case.closed_on is None,
                "collector": case.collector.user.get_username() if case.collector else "",
            }
            for case in cases[: selectors.SEARCH_LIMIT]
        ],
        loans=[
            {
                "ref": loan.ref,
                "borrower": loan.borrower.name,
                "borrower_ref": loan.borrower.ref,
                "phone": _first_phone(loan.borrower),
                "national_id": mask_national_id(loan.borrower.national_id),
                "case": case_of.get(loan.borrower_id),
            }
            for loan in loans[: selectors.SEARCH_LIMIT]
        ],
    )
    return render(request, "web/search.html", context)
