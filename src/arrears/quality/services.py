"""Drawing review samples and recording reviews (maker-checker, append-only, audited).

A sample is reproducible: its seed is the SHA-256 of the day it is drawn and the reviewer's id,
and each collector's contacts are drawn with their own generator seeded by that seed and the
collector's id, so the same reviewer drawing on the same day over the same unchanged contacts
gets the same sample, and one collector's contacts never change what is drawn for another.
The candidates are recorded contacts (``recording_ref`` set) logged by a collector in the date
range (the reviewer's time zone's days), not yet reviewed, and not the reviewer's own (logged by
them, or a visit they went on): a reviewer never reviews their own work.

A review is never edited: a correction is a new review naming the one it ``supersedes`` (and
saying why, in its finding). Sample and review are each recorded in the audit chain in the
transaction that writes them.
"""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from arrears import errorcodes
from arrears.audit import receivers
from arrears.audit import services as audit
from arrears.collections.models import ContactAttempt
from arrears.kernel.errors import ArrearsError
from arrears.quality import scorecard
from arrears.quality.models import ContactReview, ReviewSample

errorcodes.define(
    {
        "quality-own-contact": "contact %(contact)s is your own: another reviewer must review it",
        "quality-answers": "answer every criterion of the scorecard with pass, fail or n/a",
        "quality-already-reviewed": "contact %(contact)s already has review %(review)s: "
        "correct that review instead",
        "quality-stale-review": "review %(review)s has been corrected already (by review "
        "%(newer)s): correct the latest review",
        "quality-other-contact": "review %(review)s is about another contact",
        "quality-correction-reason": "say in the finding why the review is corrected",
        "quality-sample-size": "give either a number of contacts per collector (1 or more) "
        "or a percentage (1 to 100), not both",
        "quality-sample-dates": "the sample's end date %(to)s is before its start date %(since)s",
    }
)

#: The most contacts one sample may hold (a page of reviews a person can work through).
MAX_SAMPLE = 500


class QualityError(ArrearsError):
    """A sample or review that cannot be made as asked."""


def seed_for(reviewer_id: int, drawn_on: date) -> str:
    """The sample's seed: SHA-256 hex of the drawing day and the reviewer."""
    return hashlib.sha256(f"{drawn_on.isoformat()}|{reviewer_id}".encode()).hexdigest()


def day_bounds(since: date, until: date) -> tuple[datetime, datetime]:
    """[start of ``since``, start of the day after ``until``) in the current time zone."""
    zone = timezone.get_current_timezone()
    start = datetime.combine(since, time.min, tzinfo=zone)
    end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


def is_own(contact: Any, user: Any) -> bool:
    """The contact was logged by ``user`` or is a visit ``user`` went on."""
    return contact.collector_id == user.pk or user.get_username() in (contact.visitors or [])


def candidates(reviewer: Any, since: date, until: date) -> QuerySet[ContactAttempt]:
    """Recorded, collector-logged contacts in the range nobody has reviewed, not the
    reviewer's own by collector (visits they went on are left out by :func:`draw`)."""
    start, end = day_bounds(since, until)
    return (
        ContactAttempt.objects.filter(at__gte=start, at__lt=end, collector__isnull=False)
        .exclude(recording_ref="")
        .exclude(collector_id=reviewer.pk)
        .exclude(reviews__isnull=False)
    )


def _how_many(available: int, per_collector: int | None, percent: int | None) -> int:
    if per_collector is not None:
        return min(per_collector, available)
    assert percent is not None
    return min(available, -(-available * percent // 100))  # ceiling: 1% of 3 is 1


def draw(
    reviewer: Any,
    since: date,
    until: date,
    *,
    drawn_on: date,
    per_collector: int | None = None,
    percent: int | None = None,
) -> list[int]:
    """The ids of a reproducible random sample of :func:`candidates`, ``per_collector`` contacts
    or ``percent`` % (rounded up) of each collector's, in id order (see the module doc)."""
    _check_size(per_collector, percent)
    if until < since:
        raise errorcodes.refuse(
            QualityError, "quality-sample-dates", field="date_to", since=since, to=until
        )
    seed = seed_for(reviewer.pk, drawn_on)
    name = reviewer.get_username()
    by_collector: dict[int, list[int]] = defaultdict(list)
    rows = (
        candidates(reviewer, since, until)
        .order_by("collector_id", "id")
        .values_list("collector_id", "id", "visitors")
    )
    for collector_id, pk, visitors in rows.iterator(chunk_size=2000):
        if name not in (visitors or []):
            by_collector[collector_id].append(pk)
    chosen: list[int] = []
    for collector_id in sorted(by_collector):
        ids = by_collector[collector_id]
        rng = random.Random(f"{seed}:{collector_id}")
        chosen.extend(rng.sample(ids, _how_many(len(ids), per_collector, percent)))
    return sorted(chosen)[:MAX_SAMPLE]


def _check_size(per_collector: int | None, percent: int | None) -> None:
    one = (per_collector is None) != (percent is None)
    if (
        not one
        or (per_collector is not None and per_collector < 1)
        or (percent is not None and not 1 <= percent <= 100)
    ):
        raise errorcodes.refuse(QualityError, "quality-sample-size", field="per_collector")


def draw_sample(
    reviewer: Any,
    since: date,
    until: date,
    *,
    per_collector: int | None = None,
    percent: int | None = None,
    drawn_on: date | None = None,
) -> ReviewSample:
    """Draw (:func:`draw`) and keep a sample for ``reviewer``, recorded in the audit chain."""
    day = drawn_on or timezone.localdate()
    ids = draw(reviewer, since, until, drawn_on=day, per_collector=per_collector, percent=percent)
    with transaction.atomic():
        sample = ReviewSample.objects.create(
            reviewer=reviewer,
            drawn_on=day,
            date_from=since,
            date_to=until,
            per_collector=per_collector,
            percent=percent,
            seed=seed_for(reviewer.pk, day),
        )
        sample.contacts.set(ids)
        _audit(
            "reviewsample.created",
            subject_type="quality.ReviewSample",
            subject_id=sample.pk,
            after={
                "reviewer": reviewer.get_username(),
                "drawn_on": day.isoformat(),
                "date_from": since.isoformat(),
                "date_to": until.isoformat(),
                "per_collector": per_collector,
                "percent": percent,
                "seed": sample.seed,
                "contacts": ids,
            },
        )
    return sample


def _audit(action: str, **fields: Any) -> None:
    """Record in the audit chain, unless the chain is switched off (``ARREARS_AUDIT=0``)."""
    if receivers.enabled():
        audit.record(action, **fields)


def _image(review: ContactReview) -> dict[str, Any]:
    return {
        "contact": review.contact_id,
        "reviewer": review.reviewer_id,
        "sample": review.sample_id,
        "scorecard": review.scorecard,
        "answers": review.answers,
        "score": review.score,
        "finding": review.finding,
        "supersedes": review.supersedes_id,
    }


def review_contact(
    contact: ContactAttempt,
    reviewer: Any,
    answers: Mapping[str, str],
    *,
    finding: str = "",
    supersedes: ContactReview | None = None,
    sample: ReviewSample | None = None,
) -> ContactReview:
    """Score ``contact`` on the scorecard as ``reviewer``; with ``supersedes``, correct that
    review (the latest of the contact) with a new one. Refused for the reviewer's own contact,
    incomplete answers, a second first review, or a correction of a corrected review."""
    if is_own(contact, reviewer):
        raise errorcodes.refuse(QualityError, "quality-own-contact", contact=contact.pk)
    try:
        scorecard.check_answers(answers)
    except scorecard.InvalidAnswers as error:
        raise errorcodes.refuse(QualityError, "quality-answers", field="answers") from error
    finding = finding.strip()
    with transaction.atomic():
        # one reviewer at a time per contact: the "already reviewed" check and the insert
        ContactAttempt.objects.select_for_update().filter(pk=contact.pk).first()
        latest = (
            ContactReview.objects.filter(contact=contact, superseded_by__isnull=True)
            .order_by("-id")
            .first()
        )
        if supersedes is None and latest is not None:
            raise errorcodes.refuse(
                QualityError, "quality-already-reviewed", contact=contact.pk, review=latest.pk
            )
        if supersedes is not None:
            if supersedes.contact_id != contact.pk:
                raise errorcodes.refuse(QualityError, "quality-other-contact", review=supersedes.pk)
            if latest is None or latest.pk != supersedes.pk:
                raise errorcodes.refuse(
                    QualityError,
                    "quality-stale-review",
                    review=supersedes.pk,
                    newer=latest.pk if latest else "?",
                )
            if not finding:
                raise errorcodes.refuse(QualityError, "quality-correction-reason", field="finding")
        review = ContactReview.objects.create(
            contact=contact,
            reviewer=reviewer,
            sample=sample,
            scorecard=scorecard.label(),
            answers=dict(answers),
            score=scorecard.score(answers),
            finding=finding,
            supersedes=supersedes,
        )
        _audit(
            "contactreview.created",
            subject_type="quality.ContactReview",
            subject_id=review.pk,
            case_id=contact.case_id,
            before=_image(supersedes) if supersedes is not None else None,
            after=_image(review),
            reason=f"corrects review {supersedes.pk}" if supersedes is not None else "",
        )
    return review
