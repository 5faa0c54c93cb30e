"""The day's placements: round-robin, capacity, dates, idempotence, recalls and re-placement."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User

from arrears.agencies import notices
from arrears.agencies import placement as placing
from arrears.agencies.models import Agency, Placement
from arrears.collections import services
from arrears.collections.models import Case, CaseEvent, Collector, Team, WorkItem
from arrears.contact.models import OutboxMessage
from arrears.ledger import models
from tests import factories, sharing
from tests.agencies.daystep import DAY, loans, new_agency, run, two_agencies

Book = Callable[[int], list[models.Loan]]


def _placed() -> list[tuple[str, str]]:
    return [
        (p.case.borrower.ref, p.agency.code)
        for p in Placement.objects.select_related("case__borrower", "agency").order_by("case_id")
    ]


def test_round_robin_alternates_between_two_agencies_and_notifies_each_borrower(
    pair: tuple[Agency, Agency], book: Book
) -> None:
    book(4)
    line = run(DAY)
    assert line == f"{DAY}: agencies: 4 placed, 0 recalled"
    # Queue order is priority (equal here: same debt) then case id: alpha, beta, alpha, beta.
    assert _placed() == [("B0", "alpha"), ("B1", "beta"), ("B2", "alpha"), ("B3", "beta")]
    first = Placement.objects.order_by("id").first()
    assert first is not None
    assert first.ends_on == DAY + timedelta(days=29)
    assert (first.method, first.bucket, first.dpd) == ("round_robin", "M3", 64)
    assert first.total_due_minor == first.case.total_due_minor > 0
    # The pending placement work item is done, and the case says who has it and why.
    assert first.work_item is not None
    first.work_item.refresh_from_db()
    assert first.work_item.status == WorkItem.Status.DONE
    event = CaseEvent.objects.get(key=f"{first.case_id}:placement:{first.pk}:placed")
    assert event.to_value == "agency alpha" and "round_robin" in event.cause
    # Each borrower gets one placement SMS naming the agency (rendered at dispatch).
    notice = OutboxMessage.objects.get(key=f"placement:{first.pk}:placed")
    assert (notice.channel, notice.template, notice.locale) == ("sms", "agency_placement", "zh-CN")
    assert notices.agency_extra(notice) == {
        "agency_name": "alpha信息咨询有限公司",
        "agency_phone": "400-800-0001",
    }
    assert OutboxMessage.objects.filter(key__startswith="placement:").count() == 4
    notice.locale = "en"  # an English borrower reads the agency's English name
    assert notices.agency_extra(notice)["agency_name"] == "Alpha Recovery Ltd."


def test_the_turn_continues_from_the_last_placement_on_a_later_day(
    pair: tuple[Agency, Agency], book: Book
) -> None:
    loans = book(3)
    run(DAY)  # B0 alpha, B1 beta, B2 alpha
    factories.loan("L9", factories.borrower("B9", phone="+8613800000199"), loans[0].product)
    run(DAY + timedelta(days=1))
    assert dict(_placed())["B9"] == "beta"  # alpha had the last turn


def test_capacity_licence_and_contract_limit_who_gets_cases(db: None, book: Book) -> None:
    new_agency("alpha", capacity=1)
    new_agency("beta", licence_valid_to=DAY - timedelta(days=1))  # licence lapsed
    new_agency("gamma", contract_starts=DAY + timedelta(days=1))  # contract not started
    new_agency("delta", active=False)
    new_agency("omega", capacity=1, contract_ends=DAY + timedelta(days=9))  # term cut there
    book(3)
    run(DAY)
    assert _placed() == [("B0", "alpha"), ("B1", "omega")]  # B2 waits: nobody has room
    omega = Placement.objects.get(agency__code="omega")
    assert omega.ends_on == DAY + timedelta(days=9)
    assert not Placement.objects.filter(case__borrower__ref="B2").exists()


def test_a_case_that_is_not_eligible_is_not_placed(pair: tuple[Agency, Agency], book: Book) -> None:
    loans = book(2)
    # B1 paid most of it: still in external by dpd, but under CNY 500 due.
    from arrears.ledger import services as ledger

    ledger.record_payment(
        loan=loans[1],
        ref="P1",
        value_date=DAY - timedelta(days=1),
        amount_minor=loans[1].instalments[0].principal + loans[1].instalments[1].principal,
        currency="CNY",
    )
    run(DAY)
    assert [ref for ref, _ in _placed()] == ["B0"]


def test_a_collector_is_released_when_the_case_is_placed(
    pair: tuple[Agency, Agency], book: Book
) -> None:
    book(1)
    day_before = DAY - timedelta(days=1)
    run(day_before)
    team = Team.objects.create(code="t", name="T", owner="internal_team")
    ann = Collector.objects.create(user=User.objects.create_user("ann"), team=team)
    Case.objects.update(collector=ann, assigned_on=day_before)
    run(DAY)
    assert Case.objects.get().collector is None


def _one_placed() -> list[int]:
    """alpha and beta, and B0's loan placed with alpha on ``DAY`` (day run, workflow, agencies)."""
    two_agencies()
    made = loans(1)
    run(DAY)
    return [loan.pk for loan in made]


def _two_placed() -> list[int]:
    """alpha and beta, and B0's and B1's loans placed on ``DAY``: B0 with alpha, B1 with beta."""
    two_agencies()
    made = loans(2)
    run(DAY)
    return [loan.pk for loan in made]


@pytest.fixture(scope="class")
def _one_placement(django_db_setup: None, django_db_blocker: Any) -> Iterator[list[int]]:
    """:func:`_one_placed`, built once for the class that asks for it (tests/sharing.py: rolled
    back after the class's last test)."""
    yield from sharing.module_book(django_db_blocker, _one_placed, lambda ids: ids)


@pytest.fixture(scope="class")
def _two_placement(django_db_setup: None, django_db_blocker: Any) -> Iterator[list[int]]:
    """:func:`_two_placed`, built once for the class that asks for it."""
    yield from sharing.module_book(django_db_blocker, _two_placed, lambda ids: ids)


def _loaded(ids: list[int]) -> list[models.Loan]:
    found = models.Loan.objects.in_bulk(ids)
    return [found[pk] for pk in ids]


class TestOnePlacement:
    """Recalls of one placement: the class's tests start from :func:`_one_placed`, built once
    for the class (tests/sharing.py; each test in its own savepoint)."""

    @pytest.fixture
    def placed(self, _one_placement: list[int], db: None) -> list[models.Loan]:
        """The placed loan, loaded afresh."""
        return _loaded(_one_placement)

    def test_a_complaint_recalls_the_placement_and_stops_placing(
        self, placed: list[models.Loan]
    ) -> None:
        lead = Collector.objects.create(
            user=User.objects.create_user("lead"),
            team=Team.objects.create(code="t", name="T", owner="internal_team"),
            role="team_lead",
        )
        next_day = DAY + timedelta(days=1)
        services.place_hold(
            placed[0].borrower_id,
            reason="complaint",
            starts_on=next_day,
            ends_on=next_day + timedelta(days=30),
            note="complains about the agency",
            user=lead.user,
            today=next_day,
            reevaluate_now=False,
        )
        assert run(next_day) == f"{next_day}: agencies: 0 placed, 1 recalled (complaint=1)"
        gone = Placement.objects.get()
        assert gone.recall_reason == "complaint" and "complaint" in gone.recall_note
        assert run(next_day + timedelta(days=1)).endswith("0 placed, 0 recalled")

    def test_a_closed_case_is_recalled(self, placed: list[models.Loan]) -> None:
        Case.objects.update(closed_on=DAY, status="resolved", resolution="cured")
        assert placing.recall_due(
            DAY + timedelta(days=1), {"external": placing.PlacementRule()}
        ) == {"case_closed": 1}

    def test_an_ended_contract_recalls_before_the_term(self, placed: list[models.Loan]) -> None:
        Agency.objects.update(contract_ends=DAY + timedelta(days=2))
        rules = {"external": placing.PlacementRule()}
        assert placing.recall_due(DAY + timedelta(days=1), rules) == {}
        assert placing.recall_due(DAY + timedelta(days=3), rules) == {"agency_ended": 1}

    def test_recall_on_request_is_for_supervisors_with_a_reason(
        self, placed: list[models.Loan]
    ) -> None:
        live = Placement.objects.get()
        team = Team.objects.create(code="t", name="T", owner="internal_team")
        ann = Collector.objects.create(user=User.objects.create_user("ann"), team=team)
        lead = Collector.objects.create(
            user=User.objects.create_user("lead"), team=team, role="team_lead"
        )
        with pytest.raises(placing.PlacementError) as refused:
            placing.recall(live, by=ann.user, note="rude calls", on=DAY)
        assert refused.value.code == "placement-recall-not-supervisor"
        with pytest.raises(placing.PlacementError) as empty:
            placing.recall(live, by=lead.user, note="  ", on=DAY)
        assert empty.value.code == "placement-recall-note-required"
        done = placing.recall(live, by=lead.user, note="rude calls reported", on=DAY)
        assert (done.recall_reason, done.recalled_by, done.recalled_on) == (
            "request",
            lead.user,
            DAY,
        )
        assert OutboxMessage.objects.filter(key=f"placement:{live.pk}:recalled").exists()
        with pytest.raises(placing.PlacementError) as twice:
            placing.recall(live, by=lead.user, note="again", on=DAY)
        assert twice.value.code == "placement-already-recalled"

    def test_the_notice_names_the_agency_when_rendered_at_dispatch(
        self, placed: list[models.Loan]
    ) -> None:
        from django.utils import timezone

        from arrears.contact.render import Rendered, render_message

        notice = OutboxMessage.objects.get(template="agency_placement")
        rendered = render_message(notice, timezone.now())
        assert isinstance(rendered, Rendered)
        assert "alpha信息咨询有限公司" in rendered.body and "400-800-0001" in rendered.body
        live = Placement.objects.get()
        boss = User.objects.create_superuser("boss")
        placing.recall(live, by=boss, note="testing the recall notice", on=DAY)
        recall = OutboxMessage.objects.get(template="agency_recall")
        text = render_message(recall, timezone.now())
        assert isinstance(text, Rendered)
        assert "已终止委托alpha信息咨询有限公司" in text.body


class TestTwoPlacements:
    """The day run again and at the end of the term: the class's tests start from
    :func:`_two_placed`, built once for the class (tests/sharing.py)."""

    @pytest.fixture
    def placed(self, _two_placement: list[int], db: None) -> list[models.Loan]:
        """The two placed loans, loaded afresh."""
        return _loaded(_two_placement)

    def test_running_the_day_twice_places_and_notifies_nobody_twice(
        self, placed: list[models.Loan]
    ) -> None:
        before = (
            Placement.objects.count(),
            OutboxMessage.objects.count(),
            CaseEvent.objects.count(),
        )
        assert placing.place_day(DAY) == f"{DAY}: agencies: 0 placed, 0 recalled"
        after = (
            Placement.objects.count(),
            OutboxMessage.objects.count(),
            CaseEvent.objects.count(),
        )
        assert after == before

    def test_term_end_recalls_and_places_with_the_other_agency(
        self, placed: list[models.Loan]
    ) -> None:
        end = DAY + timedelta(days=29)
        run(end)
        assert Placement.objects.filter(recalled_on__isnull=True).count() == 2  # still in term
        line = run(end + timedelta(days=1))
        assert line == f"{end + timedelta(days=1)}: agencies: 2 placed, 2 recalled (term_end=2)"
        old = Placement.objects.filter(recalled_on__isnull=False).order_by("case_id")
        assert [p.recall_reason for p in old] == ["term_end", "term_end"]
        live = {
            p.case.borrower.ref: p.agency.code for p in Placement.objects.filter(recalled_on=None)
        }
        assert live == {"B0": "beta", "B1": "alpha"}  # each to the agency it did not have
        recalled = OutboxMessage.objects.get(key=f"placement:{old[0].pk}:recalled")
        assert recalled.template == "agency_recall"
        assert notices.agency_extra(recalled)["agency_name"] == "alpha信息咨询有限公司"


def _publish_with(placement_block: str) -> None:
    from arrears.collections import strategies

    text = strategies.default_source()
    start = text.index("    placement:\n")
    end = text.index("    treatments:", start)
    text = text.replace(text[start:end], placement_block).replace("version: 1", "version: 2")
    strategies.publish(text, source_name="test.yaml", note="test")


def test_weighted_placement_follows_weight_and_recent_recovery(db: None, book: Book) -> None:
    new_agency("alpha", weight=1)
    new_agency("beta", weight=3)
    _publish_with(
        "    placement:\n      eligible: NOT on_hold\n      method: weighted\n      term_days: 30\n"
    )
    loans = book(4)
    run(DAY)
    # scores 100 and 300, no history: beta, beta, (300/3 = 100/1: tie to alpha), beta
    assert _placed() == [("B0", "beta"), ("B1", "beta"), ("B2", "alpha"), ("B3", "beta")]
    alpha = Placement.objects.get(agency__code="alpha")
    from arrears.ledger import services as ledger

    half = -(-alpha.total_due_minor // 2)  # at least half, whatever the parity
    ledger.record_payment(
        loan=loans[2],
        ref="P",
        value_date=DAY + timedelta(days=2),
        amount_minor=half,
        currency="CNY",
    )
    rule = placing.PlacementRule(method="weighted")
    scores = {c.code: c.score for c in placing.candidates(DAY + timedelta(days=5), rule)}
    assert scores == {"alpha": 1 * 150, "beta": 3 * 100}  # alpha recovered 50% → 150


def test_champion_challenger_placement_records_the_arm(db: None, book: Book) -> None:
    new_agency("alpha")
    new_agency("beta")
    _publish_with(
        "    placement:\n      eligible: NOT on_hold\n      method: champion_challenger\n"
        "      term_days: 30\n      champion: alpha\n      challenger: beta\n"
        "      challenger_share: 50\n"
    )
    book(6)
    run(DAY)
    placed = list(Placement.objects.select_related("agency"))
    assert len(placed) == 6
    for p in placed:
        assert p.method == "champion_challenger"
        assert p.agency.code == ("beta" if p.arm == "challenger" else "alpha")


def test_the_step_runs_after_the_workflow_and_before_the_outbox() -> None:
    from arrears.collections import dayflow

    order = [s.name for s in dayflow.steps()]
    assert order.index("workflow") < order.index("agencies") < order.index("outbox")
