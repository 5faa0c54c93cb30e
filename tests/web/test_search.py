"""The workbench's global search: what it finds, for whom, and what it shows."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test import Client

from arrears.ledger.models import Borrower, Phone
from arrears.web import selectors
from tests import factories
from tests.web.conftest import Book
from tests.web.conftest import no_pii as _no_pii


def _found(client: Client, query: str) -> tuple[int, list[int], str]:
    response = client.get("/search/", {"q": query})
    page = response.content.decode()
    cases = [int(n) for n in re.findall(r'<tr data-case="(\d+)"', page)]
    return response.status_code, cases, page


def test_a_collector_finds_her_case_by_phone_suffix_and_not_someone_elses(book: Book) -> None:
    ann, bob = book.client("ann"), book.client("bob")
    # +8613800000002 is case 1's borrower (ann's); +8613800000003 is case 2's (bob's)
    assert _found(ann, "0002")[:2] == (200, [book.cases[1].pk])
    assert _found(ann, "00000002")[:2] == (200, [book.cases[1].pk])
    assert _found(ann, "0003")[:2] == (200, [])
    assert _found(bob, "0003")[:2] == (200, [book.cases[2].pk])
    # full-width digits (a Chinese input method's) are digits
    assert _found(ann, "０００２")[:2] == (200, [book.cases[1].pk])
    # a longer suffix is checked in full, not only its last four digits
    assert _found(ann, "90002")[:2] == (200, [])


def test_a_full_number_finds_the_case_but_the_page_shows_it_masked(book: Book) -> None:
    status, cases, page = _found(book.client("ann"), "+86 138-0000-0001")
    assert (status, cases) == (200, [book.cases[0].pk])
    assert "138****0001" in page
    _no_pii(page)


def test_an_id_suffix_finds_only_the_visible_cases(book: Book) -> None:
    tail = factories.valid_ric()[-6:]  # every borrower of the book has this ID
    status, cases, page = _found(book.client("ann"), tail)
    assert status == 200 and sorted(cases) == sorted([book.cases[0].pk, book.cases[1].pk])
    assert factories.valid_ric() not in page
    assert "110101********" in page  # masked: the first six and the last four only


def test_a_lower_case_x_finds_an_id_ending_in_x(book: Book) -> None:
    borrower = book.cases[0].borrower
    Borrower.objects.filter(pk=borrower.pk).update(national_id="11010519491231002X")
    assert _found(book.client("ann"), "002x")[1] == [book.cases[0].pk]


def test_a_loan_ref_and_a_name_prefix_find_cases(book: Book) -> None:
    ann = book.client("ann")
    assert _found(ann, "L-2")[1] == [book.cases[1].pk]
    assert _found(ann, "L-3")[1] == []  # bob's
    assert _found(ann, "B-1")[1] == [book.cases[0].pk]  # the customer ref
    Borrower.objects.filter(pk=book.cases[0].borrower_id).update(name="李小龙")
    assert _found(ann, "李小")[1] == [book.cases[0].pk]
    assert _found(ann, "小龙")[1] == []  # a prefix, not anywhere in the name


def test_a_lead_finds_the_teams_cases_and_another_team_nothing(book: Book) -> None:
    assert sorted(_found(book.client("lead"), "L-")[1]) == sorted(c.pk for c in book.cases)
    assert _found(book.client("olga"), "L-")[1] == []


@pytest.mark.parametrize(
    ("query", "message"),
    [("a", "type at least 2 characters"), ("9" * 65, "a search is at most 64 characters")],
)
def test_a_bad_query_is_a_400_with_the_reason(book: Book, query: str, message: str) -> None:
    status, cases, page = _found(book.client("ann"), query)
    assert (status, cases) == (400, [])
    assert message in page


def test_an_empty_box_is_just_the_page(book: Book) -> None:
    status, cases, page = _found(book.client("ann"), "  ")
    assert (status, cases) == (200, []) and 'id="search-cases"' not in page


def test_the_search_needs_a_login(client: Client, book: Book) -> None:
    response = client.get("/search/", {"q": "0001"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_search_speaks_chinese(book: Book) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(book.staff["ann"].user)
    page = client.get("/search/", {"q": "x"}).content.decode()
    assert "请至少输入 2 个字符" in page and "搜索" in page


def test_ledger_staff_find_loans_without_a_case_and_plain_staff_do_not(book: Book) -> None:
    product = factories.product("PX")
    factories.loan("NOCASE-1", factories.borrower("B-9", phone="+8613900009999"), product)
    clerk = User.objects.create_user("clerk", password="pw-clerk", is_staff=True)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(clerk)
    page = client.get("/search/", {"q": "9999"}).content.decode()
    assert 'data-loan="NOCASE-1"' not in page  # staff without the ledger's view permission
    clerk.user_permissions.add(Permission.objects.get(codename="view_loan"))
    client.force_login(User.objects.get(pk=clerk.pk))
    page = client.get("/search/", {"q": "9999"}).content.decode()
    assert 'data-loan="NOCASE-1"' in page and "139****9999" in page
    assert "+8613900009999" not in page


def test_a_superuser_sees_loans_linked_to_their_cases(client: Client, book: Book) -> None:
    client.force_login(User.objects.create_superuser("root", password="pw-root"))
    page = client.get("/search/", {"q": "L-1"}).content.decode()
    row = re.search(r'<tr data-loan="L-1">.*?</tr>', page, re.S)
    assert row is not None and f'href="/cases/{book.cases[0].pk}/"' in row.group(0)


def test_the_search_makes_a_bounded_number_of_queries(
    book: Book, django_assert_max_num_queries: object
) -> None:
    ann = book.client("ann")
    with django_assert_max_num_queries(10):  # type: ignore[operator]
        assert ann.get("/search/", {"q": "0001"}).status_code == 200


def test_the_tails_are_kept_by_the_database_on_every_write_path(book: Book) -> None:
    phone = Phone.objects.get(borrower=book.cases[0].borrower)
    assert phone.number_tail == "0001"
    Phone.objects.filter(pk=phone.pk).update(number="+8613812345678")  # no save(), no signal
    phone.refresh_from_db()
    assert phone.number_tail == "5678"
    borrower = Borrower.objects.get(pk=book.cases[0].borrower_id)
    assert borrower.national_id_tail == factories.valid_ric()[-4:]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's plan text")
@pytest.mark.parametrize("query", ["00000001", "11010119900307451", "张三", "L-1"])
def test_every_search_lookup_reads_an_index_not_a_table(book: Book, query: str) -> None:
    """SQLite's planner uses an index even on a tiny table, so its plan shows the choice
    (PostgreSQL's would seq-scan three rows whatever the indexes). No step is a ``SCAN``."""
    terms = selectors.SearchTerms.of(query)
    for rows in (
        selectors.search_cases(book.staff["ann"].user, terms),
        selectors.search_loans(User.objects.create_superuser(f"su{len(query)}"), terms),
    ):
        sql, params = rows.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = [str(row[-1]) for row in cursor.fetchall()]
        assert not [step for step in plan if step.startswith("SCAN")], plan
        if terms.digits:
            assert any("number_tail" in step for step in plan)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plan text")
@pytest.mark.parametrize("query", ["00000001", "11010119900307451", "张三", "L-1"])
def test_on_postgresql_every_search_lookup_can_use_an_index(book: Book, query: str) -> None:
    """PostgreSQL seq-scans a three-row table whatever the indexes, so the plan is asked with
    sequential scans priced out: a ``Seq Scan`` left on a ledger table means no index fits."""
    terms = selectors.SearchTerms.of(query)
    root = User.objects.create_superuser(f"su{len(query)}")
    for rows in (selectors.search_loans(root, terms), selectors.search_cases(root, terms)):
        sql, params = rows.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql, params)
            lines = [str(row[0]) for row in cursor.fetchall()]
        plan = "\n".join(lines)
        for table in ("ledger_phone", "ledger_borrower", "ledger_loan", "collections_case"):
            assert f"Seq Scan on {table}" not in plan, plan
        # and no index is walked whole: every index scan has a condition on the index
        for n, line in enumerate(lines):
            if "Index Scan" in line:
                assert "Index Cond" in lines[n + 1], plan
        if terms.digits:
            assert "number_tail" in plan, plan
