"""Reviewing contacts: exact scores (and their properties, by Hypothesis), maker-checker,
append-only corrections, the audit chain, the pages, and the per-collector scorecard."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from hypothesis import given
from hypothesis import strategies as st

from arrears.audit.models import AuditEntry
from arrears.collections.models import Case, ContactAttempt
from arrears.quality import scorecard, selectors, services
from arrears.quality.models import ContactReview
from tests.quality.conftest import DAY, at, client_for, contact

KEYS = [c.key for c in scorecard.CRITERIA]
ALL_PASS = dict.fromkeys(KEYS, "pass")


def answers(**changed: str) -> dict[str, str]:
    return {**ALL_PASS, **changed}


# --------------------------------------------------------------------------- the arithmetic


def test_the_weights_add_up_to_100_and_the_criteria_are_unique() -> None:
    assert sum(c.weight for c in scorecard.CRITERIA) == 100
    assert len(set(KEYS)) == len(KEYS)


@pytest.mark.parametrize(
    ("changed", "expected"),
    [
        ({}, 100),
        ({"options": "fail"}, 90),
        ({"identified": "fail", "amount": "fail"}, 70),
        ({"no_threats": "fail"}, 0),  # critical
        ({"hours": "fail"}, 0),  # critical
        ({"options": "na"}, 100),
        ({"options": "na", "purpose": "fail"}, 89),  # 80/90 = 88.89
        ({"options": "na", "identified": "fail"}, 83),  # 75/90 = 83.33
        ({"options": "na", "purpose": "na", "recorded": "fail"}, 81),  # 65/80 = 81.25
        # 50/80 = 62.5: half up to 63, where banker's rounding would give 62
        ({"options": "na", "purpose": "na", "recorded": "fail", "amount": "fail"}, 63),
        (dict.fromkeys(KEYS, "na"), 100),
        ({**dict.fromkeys(KEYS, "na"), "purpose": "fail"}, 0),
    ],
)
def test_scores_are_exact(changed: dict[str, str], expected: int) -> None:
    assert scorecard.score(answers(**changed)) == expected


answer_sets = st.fixed_dictionaries({k: st.sampled_from(scorecard.ANSWERS) for k in KEYS})


@given(answer_sets)
def test_a_score_is_the_passed_share_of_the_applicable_weight(given_: dict[str, str]) -> None:
    result = scorecard.score(given_)
    assert 0 <= result <= 100
    critical = any(c.critical and given_[c.key] == "fail" for c in scorecard.CRITERIA)
    applicable = sum(c.weight for c in scorecard.CRITERIA if given_[c.key] != "na")
    passed = sum(c.weight for c in scorecard.CRITERIA if given_[c.key] == "pass")
    if critical:
        assert result == 0
    elif applicable == 0:
        assert result == 100
    else:  # within half a point of the exact share, and .5 goes up (integer arithmetic)
        assert abs(Decimal(result) - Decimal(100 * passed) / applicable) <= Decimal("0.5")
        assert result == (200 * passed + applicable) // (2 * applicable)


@given(answer_sets, st.sampled_from(KEYS))
def test_passing_one_more_criterion_never_lowers_the_score(
    given_: dict[str, str], key: str
) -> None:
    better = {**given_, key: "pass"}
    if given_[key] == "fail":
        assert scorecard.score(better) >= scorecard.score(given_)


@pytest.mark.parametrize(
    "bad", [{k: "pass" for k in KEYS[:-1]}, {**ALL_PASS, "extra": "pass"}, answers(hours="ok")]
)
def test_incomplete_or_unknown_answers_are_refused(bad: dict[str, str]) -> None:
    with pytest.raises(scorecard.InvalidAnswers):
        scorecard.score(bad)


# ------------------------------------------------------------------------------ reviewing


@pytest.fixture
def call(case: Case, ann: User) -> ContactAttempt:
    return contact(case, ann, at(DAY, 10))


def test_a_review_keeps_its_answers_score_and_scorecard_and_is_audited(
    call: ContactAttempt, officer: User
) -> None:
    review = services.review_contact(
        call, officer, answers(options="fail"), finding="  no plan offered  "
    )
    assert (review.score, review.finding, review.scorecard) == (
        90,
        "no plan offered",
        "contact-qa v1",
    )
    entry = AuditEntry.objects.get(action="contactreview.created", subject_id=str(review.pk))
    assert (entry.actor, entry.case_id) == ("system", call.case_id)
    assert entry.after is not None and entry.after["score"] == 90 and entry.before is None


def test_a_reviewer_never_reviews_their_own_contact(call: ContactAttempt, ann: User) -> None:
    with pytest.raises(services.QualityError) as refused:
        services.review_contact(call, ann, ALL_PASS)
    assert refused.value.code == "quality-own-contact"
    assert not ContactReview.objects.exists()


def test_a_second_review_must_be_a_correction_with_a_reason(
    call: ContactAttempt, officer: User, bob: User
) -> None:
    first = services.review_contact(call, officer, ALL_PASS)
    with pytest.raises(services.QualityError) as twice:
        services.review_contact(call, bob, answers(amount="fail"))
    assert twice.value.code == "quality-already-reviewed"
    with pytest.raises(services.QualityError) as unexplained:
        services.review_contact(call, bob, answers(amount="fail"), supersedes=first)
    assert unexplained.value.code == "quality-correction-reason"
    second = services.review_contact(
        call, bob, answers(amount="fail"), supersedes=first, finding="amount was wrong"
    )
    first.refresh_from_db()
    assert (first.score, second.score, second.supersedes) == (100, 85, first)  # untouched
    with pytest.raises(services.QualityError) as stale:
        services.review_contact(call, bob, ALL_PASS, supersedes=first, finding="again")
    assert stale.value.code == "quality-stale-review"
    entry = AuditEntry.objects.get(action="contactreview.created", subject_id=str(second.pk))
    assert entry.before is not None and entry.before["score"] == 100
    assert entry.reason == f"corrects review {first.pk}"


def test_a_correction_names_a_review_of_the_same_contact(
    call: ContactAttempt, case: Case, bob: User, officer: User
) -> None:
    other = services.review_contact(contact(case, bob, at(DAY, 11)), officer, ALL_PASS)
    with pytest.raises(services.QualityError) as refused:
        services.review_contact(call, officer, ALL_PASS, supersedes=other, finding="x")
    assert refused.value.code == "quality-other-contact"


def test_scoring_from_the_page(call: ContactAttempt, officer: User) -> None:
    client = client_for(officer)
    url = f"/compliance/reviews/contacts/{call.pk}/"
    page = client.get(url)
    assert page.status_code == 200 and b"+86138****0001" in page.content
    assert b"+8613800000001" not in page.content
    posted = {f"c_{k}": v for k, v in answers(purpose="fail").items()}
    assert client.post(url, {**posted, "finding": "no purpose"}).status_code == 302
    review = ContactReview.objects.get()
    assert (review.score, review.reviewer, review.finding) == (90, officer, "no purpose")
    correction = client.post(url, {**posted, "c_purpose": "pass"})
    assert correction.status_code == 200
    assert b"say in the finding why the review is corrected" in correction.content
    client.post(url, {**posted, "c_purpose": "pass", "finding": "heard it on replay"})
    latest = ContactReview.objects.get(superseded_by__isnull=True)
    assert (latest.score, latest.supersedes) == (100, review)


def test_the_page_refuses_a_reviewer_their_own_contact(
    call: ContactAttempt, ann: User, team: object
) -> None:
    from tests.quality.conftest import PERMS, collector, grant

    lead = grant(collector("lead", team, role="team_lead"), *PERMS)  # type: ignore[arg-type]
    own = contact(call.case, lead, at(DAY, 12))
    client = client_for(lead)
    page = client.get(f"/compliance/reviews/contacts/{own.pk}/")
    assert b'id="own-contact"' in page.content and b'id="review-form"' not in page.content
    posted = {f"c_{k}": v for k, v in ALL_PASS.items()}
    refused = client.post(f"/compliance/reviews/contacts/{own.pk}/", posted)
    assert b"is your own: another reviewer must review it" in refused.content
    assert not ContactReview.objects.exists()
    assert client.get("/compliance/reviews/contacts/999999/").status_code == 404


# -------------------------------------------------------------------------- the scorecard


def test_the_scorecard_counts_current_reviews_per_collector(
    case: Case, ann: User, bob: User, officer: User
) -> None:
    a1, a2, a3 = (contact(case, ann, at(DAY, 9 + n)) for n in range(3))
    b1 = contact(case, bob, at(DAY, 14))
    late = contact(case, ann, at(DAY + timedelta(days=3), 10))
    services.review_contact(a1, officer, answers(options="fail"))  # 90
    first = services.review_contact(a2, officer, answers(no_threats="fail"))  # 0
    services.review_contact(a2, officer, ALL_PASS, supersedes=first, finding="misheard")  # 100
    services.review_contact(a3, officer, answers(options="fail", amount="fail"))  # 75
    services.review_contact(b1, officer, answers(hours="fail"))  # 0
    services.review_contact(late, officer, ALL_PASS)
    cards = selectors.collector_scorecards(DAY, DAY)
    assert [(c.username, c.count, c.total, c.average) for c in cards] == [
        ("bob", 1, 0, Decimal("0.0")),
        ("ann", 3, 265, Decimal("88.3")),  # 265 / 3 = 88.33
    ]
    assert [(str(label), n) for label, n in cards[1].failed_criteria()] == [
        ("Stated the correct amount due", 1),
        ("Offered repayment plan options", 2),
    ]
    assert cards[1].failed["no_threats"] == 0  # the corrected review no longer counts
    page = client_for(officer).get(
        "/compliance/reviews/scorecards/", {"date_from": DAY, "date_to": DAY}
    )
    assert b'data-collector="ann"' in page.content and b"88.3" in page.content
    assert len(selectors.collector_scorecards(None, None)) == 2
    assert selectors.collector_scorecards(None, None)[1].count == 4


def test_an_average_rounds_half_up() -> None:
    card = selectors.CollectorCard(1, "x", count=4, total=3 * 100 + 81)  # 95.25 → 95.3
    assert card.average == Decimal("95.3")
    assert selectors.CollectorCard(1, "x", count=8, total=761).average == Decimal("95.1")


def test_scoring_from_a_sample_goes_back_to_it(
    call: ContactAttempt, case: Case, bob: User, officer: User
) -> None:
    contact(case, bob, at(DAY, 11))
    drawn = services.draw_sample(officer, DAY, DAY, per_collector=5)
    client = client_for(officer)
    listing = client.get(f"/compliance/reviews/samples/{drawn.pk}/")
    link = f"/compliance/reviews/contacts/{call.pk}/?sample={drawn.pk}"
    assert link.encode() in listing.content
    posted = {f"c_{k}": v for k, v in ALL_PASS.items()}
    response = client.post(link, posted)
    assert response["Location"] == f"/compliance/reviews/samples/{drawn.pk}/"
    assert ContactReview.objects.get().sample == drawn
    after = client.get(f"/compliance/reviews/samples/{drawn.pk}/")
    assert [row["review"] is not None for row in after.context["rows"]] == [True, False]


def test_a_review_is_never_changed_or_deleted(call: ContactAttempt, officer: User) -> None:
    from arrears.quality.models import ReviewIsFinal

    review = services.review_contact(call, officer, ALL_PASS)
    review.score = 0
    with pytest.raises(ReviewIsFinal):
        review.save()
    with pytest.raises(ReviewIsFinal):
        review.delete()
    assert ContactReview.objects.get().score == 100
