"""The as-of rule, on a test-only report that reads the ledger the way every report must:
payments with ``value_date`` ≤ D **and** recorded before ``params.end_of_day(D)``. Run at the
month's end and run again days later — after a payment back-dated into the month — it gives
the same figures for the same ``as_of``; asked as of a later day it sees the late payment."""

from __future__ import annotations

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db.models import Count, Sum

from arrears.ledger import services
from arrears.ledger.models import Payment
from arrears.reports.base import (
    REGISTRY,
    Column,
    ReportParams,
    ReportResult,
    ReportSpec,
    Table,
)
from arrears.reports.params import end_of_day
from tests import factories
from tests.reports.test_command import _run

SHANGHAI = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db


def received(params: ReportParams) -> ReportResult:
    assert params.start is not None and params.end is not None
    rows = (
        Payment.objects.filter(
            value_date__gte=params.start,
            value_date__lte=params.end,
            created_at__lt=end_of_day(params.as_of),
        )
        .values("currency")
        .annotate(count=Count("id"), total=Sum("amount_minor"))
        .order_by("currency")
    )
    table = Table(
        "received",
        "Received",
        (
            Column("currency", "Currency"),
            Column("payments", "Payments", "count"),
            Column("amount", "Amount", "money"),
        ),
        tuple((r["currency"], r["count"], r["total"]) for r in rows),
    )
    return ReportResult("received-test", "Received", params, (table,))


@pytest.fixture
def received_report(monkeypatch: pytest.MonkeyPatch) -> ReportSpec:
    spec = ReportSpec(name="received-test", title="Received", compute=received, period=True)
    monkeypatch.setitem(REGISTRY, spec.name, spec)
    return spec


def _rows(output: str) -> list[list[object]]:
    return json.loads(output)["tables"][0]["rows"]


def _at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def test_a_past_month_run_now_equals_the_run_at_its_end(received_report: ReportSpec) -> None:
    loan = factories.loan("L-1", factories.borrower(), factories.product())
    ask = ("received-test", "--as-of", "2026-11-30", "--format", "json")
    with time_machine.travel(_at(2026, 11, 30, 23, 59), tick=False):
        services.record_payment(
            loan=loan, ref="P-1", value_date=date(2026, 11, 10), amount_minor=10_000, currency="CNY"
        )
        then = _run(*ask)
    assert _rows(then) == [["CNY", 1, 10_000]]
    with time_machine.travel(_at(2026, 12, 1, 0, 0), tick=False):  # the first instant after
        services.record_payment(
            loan=loan, ref="P-2", value_date=date(2026, 11, 20), amount_minor=5_000, currency="CNY"
        )
    with time_machine.travel(_at(2026, 12, 2, 10, 0), tick=False):
        services.record_payment(
            loan=loan, ref="P-3", value_date=date(2026, 12, 1), amount_minor=7_000, currency="CNY"
        )
        assert _run(*ask) == then
        later = _run(
            "received-test",
            "--as-of",
            "2026-12-01",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--format",
            "json",
        )
    assert _rows(later) == [["CNY", 2, 15_000]]  # the back-dated payment, seen a day on
