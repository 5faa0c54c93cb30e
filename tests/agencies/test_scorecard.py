"""An agency's scorecard counts from our records: ledger cash, promises, complaints, the gate,
quality reviews — each only for the agency's own placements and the period."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User

from arrears.agencies.models import Agency, Placement, QualityReview
from arrears.agencies.scorecard import scorecard
from arrears.collections.models import ContactAttempt, Promise
from arrears.complaints.models import Complaint
from arrears.ledger import models
from arrears.ledger import services as ledger
from tests.agencies.daystep import DAY, run

Book = Callable[[int], list[models.Loan]]
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _at(day: date) -> datetime:
    return datetime.combine(day, time(10), tzinfo=SHANGHAI)


def test_scorecard_of_one_agency_for_april(pair: tuple[Agency, Agency], book: Book) -> None:
    loans = book(2)
    alpha, beta = pair
    run(DAY)  # B0 -> alpha, B1 -> beta
    mine = Placement.objects.get(agency=alpha)
    case = mine.case
    ledger.record_payment(
        loan=loans[0], ref="P1", value_date=date(2026, 4, 25), amount_minor=50_000, currency="CNY"
    )
    ledger.record_payment(  # beta's borrower: not alpha's recovery
        loan=loans[1], ref="P2", value_date=date(2026, 4, 25), amount_minor=90_000, currency="CNY"
    )
    for status in ("kept", "broken", "pending"):
        Promise.objects.create(
            case=case,
            amount_minor=10_000,
            made_on=date(2026, 4, 21),
            due_date=date(2026, 4, 24),
            status=status,
            agency=alpha,
        )
    for n, (received, agency) in enumerate(
        ((date(2026, 4, 22), alpha), (date(2026, 5, 2), alpha), (date(2026, 4, 22), beta))
    ):
        complaint = Complaint.objects.create(  # only alpha's April complaint counts
            reference=f"CP-20260422-{n:04d}",
            borrower_id=case.borrower_id,
            case=case,
            kind="complaint",
            category="harassment",
            channel="phone",
            description="calls at night",
            received_at=_at(received),
            acknowledge_by=received,
            resolve_by=received,
        )
        complaint.agencies.set([agency])
    for outcome, gate in (("dispute", "allow"), ("no_answer", "deny")):
        ContactAttempt.objects.create(
            case=case,
            at=_at(date(2026, 4, 23)),
            channel="call",
            direction="outbound",
            party="borrower",
            outcome=outcome,
            gate_outcome=gate,
            overridden=gate == "deny",
            agency=alpha,
        )
    reviewer = User.objects.create_user("qa")
    for score, finding in ((80, ""), (51, "threatened to call the employer")):
        QualityReview.objects.create(
            placement=mine,
            reviewer=reviewer,
            reviewed_on=date(2026, 4, 28),
            score=score,
            finding=finding,
        )
    card = scorecard(alpha, date(2026, 4, 1), date(2026, 4, 30))
    assert (card.cases_placed, card.cases_worked) == (1, 1)
    assert card.recovered_minor == 50_000
    assert card.placed_due_minor == mine.total_due_minor
    assert card.recovery_rate_bp == 50_000 * 10_000 // mine.total_due_minor
    assert (card.promises_judged, card.promises_kept, card.promise_kept_rate_bp) == (2, 1, 5000)
    assert (card.complaints, card.complaints_per_1000) == (1, 1000)  # a dispute contact is not one
    assert card.gate_denials == 1
    assert (card.reviews, card.average_score, card.failed_reviews) == (2, 65, 1)
    assert card.findings == ["2026-04-28 51: threatened to call the employer"]
    assert card.as_dict()["first"] == "2026-04-01"
    # March: nothing placed or worked yet; no rate to divide.
    march = scorecard(alpha, date(2026, 3, 1), date(2026, 3, 31))
    assert (march.cases_worked, march.recovery_rate_bp, march.complaints_per_1000) == (
        0,
        None,
        None,
    )
    assert scorecard(beta, date(2026, 4, 1), date(2026, 4, 30)).recovered_minor == 90_000
