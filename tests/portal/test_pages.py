"""What I owe and why: the portal's figures are ``explain``'s, to the fen."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client

from arrears.kernel.explain import explain
from arrears.ledger import selectors as ledger_selectors
from tests.portal.conftest import Book


def _explain(book: Book, on):
    return explain(*ledger_selectors.loan_state(book.loan, on))


def test_the_loan_page_itemises_the_balance_with_the_penalty_formula(book: Book, client: Client):
    book.sign_in(client)
    page = client.get(f"/my/loans/{book.loan.ref}/").content.decode()
    data = _explain(book, book.today)
    totals = data["totals"]
    assert totals["penalty_outstanding"]["minor"] > 0
    for name in ("total_due", "overdue_principal", "overdue_interest", "penalty_outstanding"):
        assert str(totals[name]["amount"]) in page, name
    period = data["instalments"][0]["penalty"]["periods"][0]
    assert f"{period['days']} days" in page or f"{period['days']} day" in page
    assert str(period["amount"]["amount"]) in page


def test_the_payoff_quote_names_its_date_and_amount(book: Book, client: Client):
    book.sign_in(client)
    page = client.get(f"/my/loans/{book.loan.ref}/").content.decode()
    until = book.today + timedelta(days=7)
    assert str(_explain(book, until)["totals"]["payoff"]["amount"]) in page
    assert str(until) in page


def test_a_projection_shows_what_is_owed_then_and_where_a_payment_goes(book: Book, client: Client):
    book.sign_in(client)
    on = book.today + timedelta(days=10)
    page = client.get(f"/my/loans/{book.loan.ref}/", {"on": on, "amount": "500"}).content.decode()
    assert str(_explain(book, on)["totals"]["total_due"]["amount"]) in page
    assert 'id="allocation"' in page


def test_a_projection_refuses_a_date_out_of_range_and_odd_amounts(book: Book, client: Client):
    book.sign_in(client)
    path = f"/my/loans/{book.loan.ref}/"
    for query in (
        {"on": "9999-12-31"},
        {"on": str(book.today - timedelta(days=1))},
        {"on": str(book.today), "amount": "1e30"},
        {"on": str(book.today), "amount": "１００"},
        {"on": str(book.today), "amount": "99999999999999"},
    ):
        response = client.get(path, query)
        assert response.status_code == 400, query
        assert 'id="projection-error"' in response.content.decode()
