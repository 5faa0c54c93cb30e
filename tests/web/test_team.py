"""Issue 13, item 3: the team lead's bulk reassignment (service and page), the dashboard's
figures and access, and the approvals page's badge and filters."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from arrears.collections.models import Case, CaseEvent, WorkItem
from arrears.collections.reassign import MAX_BATCH, reassign_many
from arrears.collections.services import CollectionsError
from arrears.ledger.models import Loan, Waiver
from arrears.web import dashboard as figures
from tests import sharing
from tests.web.team_book import (
    TARGET_MINOR,
    TeamBook,
    TeamBookKeys,
    make_team_book,
    seed_figures,
)


@pytest.fixture(scope="module")
def _team_book(django_db_setup: None, django_db_blocker: Any) -> Iterator[TeamBookKeys]:
    """The team book, built once for the module (tests/sharing.py)."""
    yield from sharing.module_book(django_db_blocker, make_team_book, TeamBookKeys.of)


@pytest.fixture
def team_book(request: pytest.FixtureRequest, _team_book: TeamBookKeys, db: None) -> TeamBook:
    """The module's team book as built, loaded afresh (each test in its own savepoint)."""
    sharing.refuse_transactional(request, "make_team_book()")
    return _team_book.load()


def _assigned_events(book: TeamBook) -> int:
    return CaseEvent.objects.filter(
        case__in=book.cases, kind=CaseEvent.Kind.ASSIGNED, actor=book.staff["lead"].user
    ).count()


# --- the service ------------------------------------------------------------------------------


def test_a_lead_moves_ten_cases_at_once_each_with_its_event_and_its_pending_work(team_book):
    book = team_book
    ten = [c.pk for c in book.cases[:10]]
    done = reassign_many(ten, book.staff["bob"], by=book.staff["lead"].user)
    assert sorted(done.moved) == sorted(ten) and done.unchanged == []
    assert set(
        Case.objects.filter(pk__in=ten).values_list("collector__user__username", flat=True)
    ) == {"bob"}
    assert Case.objects.get(pk=book.cases[10].pk).collector == book.staff["ann"]
    events = CaseEvent.objects.filter(
        case_id__in=ten, kind=CaseEvent.Kind.ASSIGNED, actor__isnull=False
    )
    assert events.count() == 10
    assert {(e.from_value, e.to_value, e.actor_id) for e in events} == {
        ("ann", "bob", book.staff["lead"].user_id)
    }
    pending = WorkItem.objects.filter(case_id__in=ten, status=WorkItem.Status.PENDING)
    assert pending.exists()
    assert set(pending.values_list("collector_id", flat=True)) == {book.staff["bob"].pk}


def test_reassigning_to_the_same_collector_again_records_nothing(team_book):
    book = team_book
    ids = [c.pk for c in book.cases[:4]]
    reassign_many(ids, book.staff["bob"], by=book.staff["lead"].user)
    again = reassign_many([*ids, book.cases[4].pk], book.staff["bob"], by=book.staff["lead"].user)
    assert again.moved == [book.cases[4].pk]
    assert sorted(again.unchanged) == sorted(ids)
    assert _assigned_events(book) == 5


def test_one_case_the_lead_may_not_see_refuses_the_whole_batch_and_names_it(team_book):
    book = team_book
    hidden = book.cases[5]
    Case.objects.filter(pk=hidden.pk).update(collector=book.staff["nick"])  # the north team's
    ids = [c.pk for c in book.cases[:8]]
    with pytest.raises(CollectionsError) as refused:
        reassign_many(ids, book.staff["bob"], by=book.staff["lead"].user)
    assert refused.value.code == "bulk-reassign-not-visible"
    assert refused.value.params["case"] == hidden.pk
    assert f"case {hidden.pk} " in str(refused.value)
    assert not Case.objects.filter(collector=book.staff["bob"]).exists()
    assert _assigned_events(book) == 0


def test_a_closed_case_or_an_unknown_id_refuses_the_batch(team_book):
    book = team_book
    closed = book.cases[2]
    Case.objects.filter(pk=closed.pk).update(closed_on=book.today, status="resolved")
    with pytest.raises(CollectionsError) as refused:
        reassign_many([book.cases[0].pk, closed.pk], book.staff["bob"], by=book.staff["lead"].user)
    assert refused.value.code == "bulk-reassign-closed"
    assert refused.value.params["case"] == closed.pk
    with pytest.raises(CollectionsError) as unknown:
        reassign_many([book.cases[0].pk, 99_999], book.staff["bob"], by=book.staff["lead"].user)
    assert unknown.value.code == "bulk-reassign-not-visible"
    assert not Case.objects.filter(collector=book.staff["bob"]).exists()


@pytest.mark.parametrize(
    ("by", "to", "code"),
    [
        ("ann", "bob", "reassign-not-supervisor"),
        ("lead", "nick", "bulk-reassign-other-team"),
        ("olga", "nick", "bulk-reassign-not-visible"),
    ],
)
def test_who_may_move_cases_to_whom(team_book, by, to, code):
    book = team_book
    with pytest.raises(CollectionsError) as refused:
        reassign_many([book.cases[0].pk], book.staff[to], by=book.staff[by].user)
    assert refused.value.code == code
    assert Case.objects.get(pk=book.cases[0].pk).collector == book.staff["ann"]


def test_an_unavailable_collector_an_empty_and_an_oversized_batch_are_refused(team_book):
    book = team_book
    lead = book.staff["lead"].user
    cat = book.staff["cat"]
    cat.available = False
    cat.save()
    with pytest.raises(CollectionsError) as refused:
        reassign_many([book.cases[0].pk], cat, by=lead)
    assert refused.value.code == "reassign-unavailable"
    with pytest.raises(CollectionsError) as empty:
        reassign_many([], book.staff["bob"], by=lead)
    assert empty.value.code == "bulk-reassign-empty"
    with pytest.raises(CollectionsError) as large:
        reassign_many(range(1, MAX_BATCH + 2), book.staff["bob"], by=lead)
    assert large.value.code == "bulk-reassign-too-many"
    assert large.value.params == {"max": MAX_BATCH, "count": MAX_BATCH + 1}


def test_a_superuser_may_move_any_team_s_cases_within_the_stage_owner(team_book):
    book = team_book
    root = User.objects.create_superuser("root", password="pw-root")
    done = reassign_many([book.cases[0].pk], book.staff["bob"], by=root)
    assert done.moved == [book.cases[0].pk]
    with pytest.raises(CollectionsError) as refused:  # north works another stage owner's queue
        reassign_many([book.cases[1].pk], book.staff["nick"], by=root)
    assert refused.value.code == "bulk-reassign-other-owner"
    assert refused.value.params["case"] == book.cases[1].pk


# --- the team page ----------------------------------------------------------------------------


def test_the_team_page_lists_the_team_s_cases_with_filters_and_masked_phones(team_book):
    book = team_book
    Case.objects.filter(pk=book.cases[0].pk).update(collector=book.staff["bob"])
    client = book.client("lead")
    page = client.get("/team/").content.decode()
    assert page.count('name="cases"') == 12
    assert "+8613800000001" not in page and "13800000001" not in page
    only_bob = client.get("/team/", {"collector": book.staff["bob"].pk}).content.decode()
    assert only_bob.count('name="cases"') == 1 and f'data-case="{book.cases[0].pk}"' in only_bob
    staged = client.get("/team/", {"stage": "internal"}).content.decode()
    assert staged.count('name="cases"') == 12
    assert client.get("/team/", {"stage": "legal"}).content.decode().count('name="cases"') == 0


def test_reassign_selected_on_the_page_moves_them_and_says_so(team_book):
    book = team_book
    ids = [c.pk for c in book.cases[:10]]
    client = book.client("lead")
    answer = client.post(
        "/team/?collector=" + str(book.staff["ann"].pk),
        {"cases": ids, "collector": book.staff["bob"].pk},
        follow=True,
    )
    assert answer.redirect_chain[-1][0] == f"/team/?collector={book.staff['ann'].pk}"
    assert "10 case(s) reassigned to bob; 0 already theirs." in answer.content.decode()
    assert Case.objects.filter(collector=book.staff["bob"]).count() == 10
    assert _assigned_events(book) == 10


def test_a_refused_batch_is_shown_with_the_case_named_and_the_ticks_kept(team_book):
    book = team_book
    hidden = book.cases[3]
    Case.objects.filter(pk=hidden.pk).update(collector=book.staff["nick"])
    ids = [c.pk for c in book.cases[:3]] + [hidden.pk]
    answer = book.client("lead").post("/team/", {"cases": ids, "collector": book.staff["bob"].pk})
    assert answer.status_code == 400
    page = answer.content.decode()
    assert f"case {hidden.pk} is not one of your team&#x27;s cases" in page
    assert page.count(" checked") == 3
    assert not Case.objects.filter(collector=book.staff["bob"]).exists()


def test_a_collector_of_another_team_is_not_offered_nor_accepted(team_book):
    book = team_book
    answer = book.client("lead").post(
        "/team/", {"cases": [book.cases[0].pk], "collector": book.staff["nick"].pk}
    )
    assert answer.status_code == 400
    assert "Choose a collector of the team." in answer.content.decode()
    assert Case.objects.get(pk=book.cases[0].pk).collector == book.staff["ann"]


@pytest.mark.parametrize("path", ["/team/", "/team/dashboard/"])
def test_team_pages_are_for_supervisors_only(team_book, path):
    book = team_book
    assert book.client("ann").get(path).status_code == 403
    assert book.client("lead").get(path).status_code == 200
    assert book.client("boss").get(path).status_code == 200
    olga = book.client("olga")
    assert olga.get(path).status_code == 200
    assert olga.get(path, {"team": "internal"}).status_code == 404  # another team: not revealed
    if path == "/team/":
        assert 'name="cases"' not in olga.get(path).content.decode()


def test_a_superuser_picks_the_team(team_book):
    root = User.objects.create_superuser("root", password="pw-root")
    from django.test import Client

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(root)
    page = client.get("/team/dashboard/", {"team": "north"}).content.decode()
    assert "Team dashboard · North team" in page and 'id="team-picker"' in page
    page = client.get("/team/", {"team": "internal"}).content.decode()
    assert page.count('name="cases"') == 12


# --- the dashboard ----------------------------------------------------------------------------


def _table(page: str, name: str) -> str:
    start = page.index(f'id="table-{name}"')
    return page[start : page.index("</table>", start)]


def test_the_dashboard_shows_the_team_s_figures_in_its_tables(team_book):
    book = team_book
    seed_figures(book)
    page = book.client("lead").get("/team/dashboard/").content.decode()
    assert f"figures as of the run of {book.today:%Y-%m-%d}" in page
    queue = _table(page, "queue")
    assert (
        '<th scope="row">Internal collection</th><td class="num">10</td>'
        '<td class="num">2</td><td class="num">12</td>' in queue
    )
    contacts = _table(page, "contacts")
    assert '<th scope="row">ann</th><td class="num">3</td><td class="num">2</td>' in contacts
    assert '<th scope="row">bob</th><td class="num">1</td><td class="num">0</td>' in contacts
    promises = _table(page, "promises")
    assert '<th scope="row">Made</th><td class="num">2</td><td class="num">5</td>' in promises
    assert '<th scope="row">Kept</th><td class="num">1</td><td class="num">1</td>' in promises
    assert (
        '<th scope="row">Partially kept</th><td class="num">0</td><td class="num">1</td>'
        in promises
    )
    assert '<th scope="row">Broken</th><td class="num">0</td><td class="num">1</td>' in promises
    collected = _table(page, "collected")
    assert "CN¥1,234.56" in collected and "CN¥5,000.00" in collected
    assert "24.69%" in collected  # 123456 / 500000, rounded down
    roll = _table(page, "roll")
    assert '<th scope="row">M0</th><td class="num">10</td><td class="num">10</td>' in roll
    assert '<th scope="row">M1</th><td class="num">2</td><td class="num">2</td>' in roll
    # the same figures feed the charts
    assert (
        '"labels": ["M1", "M2"], "datasets": [{"label": "Internal collection", "data": [10, 2]}]'
        in page
    )
    assert 'src="/static/web/vendor/chart.umd.min.js"' in page
    assert page.count("<canvas") == 5


def test_the_figures_cost_a_bounded_number_of_queries(team_book, django_assert_max_num_queries):
    book = team_book
    seed_figures(book)
    with django_assert_max_num_queries(8):
        board = figures.dashboard(book.team, book.today)
    assert board.collected.collected_minor == 123_456
    assert board.collected.target_minor == TARGET_MINOR
    assert board.collected.share_bp == 2469
    assert board.roll.rate_bp("M0") == 10_000
    assert board.queue.total == 12


def test_the_dashboard_is_bilingual(team_book):
    book = team_book
    from django.test import Client

    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(book.staff["lead"].user)
    page = client.get("/team/dashboard/").content.decode()
    assert "团队" in page and "Open cases by stage and bucket" not in page


# --- the approvals page: the badge and the filters --------------------------------------------


def _waiver(book: TeamBook, ref: str, loan: str, minor: int, age_days: int = 0) -> Waiver:
    waiver = Waiver.objects.create(
        ref=ref,
        loan=Loan.objects.get(ref=loan),
        component="penalty",
        amount_minor=minor,
        effective_on=book.today,
        reason="hardship",
        requested_by=book.staff["ann"].user,
    )
    if age_days:
        Waiver.objects.filter(pk=waiver.pk).update(
            created_at=timezone.now() - timedelta(days=age_days)
        )
    return waiver


def test_the_nav_counts_the_requests_waiting_for_the_reader(team_book):
    book = team_book
    _waiver(book, "W-1", "L-01", 10_000)
    _waiver(book, "W-2", "L-02", 2_000)
    page = book.client("lead").get("/team/").content.decode()
    assert '<span class="badge" id="approvals-badge"' in page
    assert 'title="waiting for approval">2</span>' in page
    assert 'id="approvals-badge"' not in book.client("ann").get("/queue/").content.decode()
    assert 'id="approvals-badge"' not in book.client("olga").get("/team/").content.decode()


def test_the_approvals_page_filters_by_kind_amount_and_age(team_book):
    book = team_book
    big = _waiver(book, "W-BIG", "L-01", 10_000, age_days=5)
    small = _waiver(book, "W-SMALL", "L-02", 2_000)
    client = book.client("lead")

    def shown(**params: object) -> set[int]:
        page = client.get("/approvals/", params).content.decode()
        return {w.pk for w in (big, small) if f'data-waiver="{w.pk}"' in page}

    assert shown() == {big.pk, small.pk}
    assert shown(min_amount="50") == {big.pk}
    assert shown(max_amount="20.00") == {small.pk}
    assert shown(min_amount="20.01", max_amount="99.99") == set()
    assert shown(min_days=3) == {big.pk}
    assert shown(kind="plan") == set()
    assert shown(kind="waiver") == {big.pk, small.pk}
    answer = client.get("/approvals/", {"min_amount": "lots"})
    assert answer.status_code == 200 and 'id="approval-filters"' in answer.content.decode()
