from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears.kernel.delinquency import bucket_for, days_past_due
from arrears.kernel.errors import InvalidTerms
from arrears.kernel.terms import Bucket, ProductTerms


def test_dpd_counts_from_the_earliest_unpaid_due_date_above_tolerance():
    due = date(2026, 3, 15)
    rows = [(due, 100), (date(2026, 4, 15), 5000)]
    assert days_past_due(rows, date(2026, 3, 25), tolerance=50) == 10
    assert days_past_due(rows, date(2026, 3, 25), tolerance=100) == 0
    assert days_past_due(rows, due, tolerance=0) == 0  # due today is not past due


@pytest.mark.parametrize(
    ("dpd", "bucket"),
    [
        (0, "M0"),
        (1, "M1"),
        (30, "M1"),
        (31, "M2"),
        (60, "M2"),
        (61, "M3"),
        (90, "M3"),
        (91, "M4"),
        (121, "M5"),
        (151, "M6"),
        (180, "M6"),
        (181, "M7+"),
        (5000, "M7+"),
    ],
)
def test_default_buckets_follow_the_thirty_day_ranges(dpd, bucket):
    assert bucket_for(dpd) == bucket


@given(st.integers(0, 10_000))
def test_every_dpd_has_exactly_one_bucket(dpd):
    names = [
        b.name
        for b in ProductTerms().buckets
        if b.min_dpd <= dpd and (b.max_dpd is None or dpd <= b.max_dpd)
    ]
    assert names == [bucket_for(dpd)]


@given(st.lists(st.tuples(st.dates(), st.integers(0, 1000)), max_size=10), st.dates())
def test_dpd_is_never_negative_and_zero_when_nothing_is_past_due(rows, as_of):
    dpd = days_past_due(rows, as_of, tolerance=0)
    assert dpd >= 0
    if all(due >= as_of or unpaid == 0 for due, unpaid in rows):
        assert dpd == 0
    else:
        assert as_of - timedelta(days=dpd) in {due for due, unpaid in rows if unpaid > 0}


def test_buckets_with_a_gap_are_rejected():
    with pytest.raises(InvalidTerms):
        ProductTerms(buckets=(Bucket("M0", 0, 0), Bucket("M1", 2, None)))
