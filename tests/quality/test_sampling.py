"""Drawing review samples: reproducible (seeded by the day and the reviewer), per collector,
recorded contacts only, never the reviewer's own, never a contact already reviewed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.auth.models import User

from arrears.audit.models import AuditEntry
from arrears.collections.models import Case, ContactAttempt
from arrears.quality import services
from arrears.quality.models import ReviewSample
from tests.quality.conftest import DAY, at, client_for, collector, contact

DRAWN = date(2026, 12, 1)


@pytest.fixture
def pool(case: Case, ann: User, bob: User, team: object) -> dict[str, list[int]]:
    """20 recorded calls by ann and 10 by bob on DAY, 5 by the reviewer rita, and some that are
    never candidates: unrecorded, inbound with no collector, and outside the range."""
    rita = collector("rita", team, role="team_lead")  # type: ignore[arg-type]
    made: dict[str, list[int]] = {"ann": [], "bob": [], "rita": []}
    for i in range(20):
        made["ann"].append(contact(case, ann, at(DAY, 9) + timedelta(minutes=i)).pk)
    for i in range(10):
        made["bob"].append(contact(case, bob, at(DAY, 14) + timedelta(minutes=i)).pk)
    for i in range(5):
        made["rita"].append(contact(case, rita, at(DAY, 16) + timedelta(minutes=i)).pk)
    contact(case, ann, at(DAY, 17), recording_ref="")
    contact(case, None, at(DAY, 18))
    contact(case, ann, at(DAY + timedelta(days=1), 10))
    return made


def _rita() -> User:
    return User.objects.get(username="rita")


def test_the_same_reviewer_on_the_same_day_draws_the_same_sample(
    pool: dict[str, list[int]],
) -> None:
    first = services.draw(_rita(), DAY, DAY, drawn_on=DRAWN, per_collector=3)
    again = services.draw(_rita(), DAY, DAY, drawn_on=DRAWN, per_collector=3)
    assert first == again
    seeds = {
        tuple(services.draw(_rita(), DAY, DAY, drawn_on=DRAWN + timedelta(n), per_collector=3))
        for n in range(5)
    }
    assert len(seeds) > 1  # another day, another sample (C(20,3)·C(10,3) possibilities)
    assert services.seed_for(1, DRAWN) != services.seed_for(2, DRAWN)


def test_a_sample_takes_each_collector_s_share_and_never_the_reviewer_s_own(
    pool: dict[str, list[int]],
) -> None:
    ids = services.draw(_rita(), DAY, DAY, drawn_on=DRAWN, per_collector=3)
    assert len(ids) == 6 and ids == sorted(ids)
    assert len(set(ids) & set(pool["ann"])) == 3 and len(set(ids) & set(pool["bob"])) == 3
    assert not set(ids) & set(pool["rita"])
    by_percent = services.draw(_rita(), DAY, DAY, drawn_on=DRAWN, percent=25)
    assert len(set(by_percent) & set(pool["ann"])) == 5  # 25% of 20
    assert len(set(by_percent) & set(pool["bob"])) == 3  # 25% of 10 is 2.5: rounded up
    everything = services.draw(_rita(), DAY, DAY, drawn_on=DRAWN, per_collector=100)
    assert everything == sorted(pool["ann"] + pool["bob"])


def test_one_collector_s_draw_does_not_depend_on_another_s_contacts(
    pool: dict[str, list[int]], case: Case
) -> None:
    before = set(services.draw(_rita(), DAY, DAY, drawn_on=DRAWN, per_collector=3))
    ContactAttempt.objects.filter(pk__in=pool["bob"]).delete()
    after = set(services.draw(_rita(), DAY, DAY, drawn_on=DRAWN, per_collector=3))
    assert after == before & set(pool["ann"])


def test_a_visit_the_reviewer_went_on_is_theirs_too(
    pool: dict[str, list[int]], case: Case, ann: User
) -> None:
    visit = contact(case, ann, at(DAY, 19), channel="visit", visitors=["ann", "rita"])
    everything = services.draw(_rita(), DAY, DAY, drawn_on=DRAWN, per_collector=100)
    assert visit.pk not in everything
    assert services.is_own(visit, _rita())


def test_a_reviewed_contact_is_not_drawn_again(pool: dict[str, list[int]]) -> None:
    from arrears.quality import scorecard

    olga = User.objects.create_user("olga2")
    reviewed = pool["bob"][0]
    services.review_contact(
        ContactAttempt.objects.get(pk=reviewed),
        olga,
        {c.key: "pass" for c in scorecard.CRITERIA},
    )
    everything = services.draw(_rita(), DAY, DAY, drawn_on=DRAWN, per_collector=100)
    assert reviewed not in everything and len(everything) == 29


@pytest.mark.parametrize(
    ("per_collector", "percent"), [(None, None), (3, 10), (0, None), (None, 0), (None, 101)]
)
def test_a_sample_names_either_a_count_or_a_percentage(
    pool: dict[str, list[int]], per_collector: int | None, percent: int | None
) -> None:
    with pytest.raises(services.QualityError) as refused:
        services.draw(
            _rita(), DAY, DAY, drawn_on=DRAWN, per_collector=per_collector, percent=percent
        )
    assert refused.value.code == "quality-sample-size"


def test_dates_out_of_order_are_refused(pool: dict[str, list[int]]) -> None:
    with pytest.raises(services.QualityError) as refused:
        services.draw(_rita(), DAY, DAY - timedelta(1), drawn_on=DRAWN, per_collector=1)
    assert refused.value.code == "quality-sample-dates"


def test_a_drawn_sample_is_kept_and_audited(pool: dict[str, list[int]]) -> None:
    sample = services.draw_sample(_rita(), DAY, DAY, per_collector=2, drawn_on=DRAWN)
    expected = services.draw(_rita(), DAY, DAY, drawn_on=DRAWN, per_collector=2)
    assert sorted(sample.contacts.values_list("pk", flat=True)) == expected
    assert sample.seed == services.seed_for(_rita().pk, DRAWN)
    entry = AuditEntry.objects.get(action="reviewsample.created", subject_id=str(sample.pk))
    assert entry.after is not None and entry.after["contacts"] == expected


def test_drawing_from_the_page_opens_the_sample(pool: dict[str, list[int]], officer: User) -> None:
    client = client_for(officer)
    response = client.post(
        "/compliance/reviews/",
        {"date_from": DAY.isoformat(), "date_to": DAY.isoformat(), "percent": 10},
    )
    sample = ReviewSample.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/compliance/reviews/samples/{sample.pk}/"
    page = client.get(response["Location"])
    assert len(page.context["rows"]) == 2 + 1 + 1  # 10% of 20, of 10 and of 5, rounded up
    assert b"+86138****0001" in page.content and b"+8613800000001" not in page.content
    listed = client.get("/compliance/reviews/")
    assert f'href="/compliance/reviews/samples/{sample.pk}/"'.encode() in listed.content


def test_a_bad_draw_says_why_on_the_page(pool: dict[str, list[int]], officer: User) -> None:
    response = client_for(officer).post(
        "/compliance/reviews/",
        {"date_from": DAY.isoformat(), "date_to": DAY.isoformat()},
    )
    assert response.status_code == 200 and not ReviewSample.objects.exists()
    assert b"give either a number of contacts per collector" in response.content
