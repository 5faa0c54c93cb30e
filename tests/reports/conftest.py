"""A test-only report, registered for the test that asks for it (``sample_report``), so the
pages, downloads, command and pack are tested on a result with every kind of cell: two
currencies, a rate without denominator, a text cell a spreadsheet would run as a formula, a
bar chart over money (drawn once per currency), a line chart of rates and a roll matrix."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy as _

from arrears.ledger.models import Loan
from arrears.reports.base import (
    REGISTRY,
    Chart,
    Column,
    ReportParams,
    ReportResult,
    ReportSpec,
    Table,
)

NAME = "sample-test"


def compute(params: ReportParams) -> ReportResult:
    balances = Table(
        key="balances",
        title=_("Bucket"),
        columns=(
            Column("bucket", _("Bucket"), "text"),
            Column("currency", _("Currency"), "text"),
            Column("loans", _("Loans"), "count"),
            Column("balance", _("Balance"), "money"),
            Column("share", _("Share"), "rate"),
        ),
        rows=(
            ("M0", "CNY", 10, 1_234_567, Decimal("0.5")),
            ("M1", "CNY", 3, 99_999, Decimal(1) / Decimal(3)),
            ("=HYPERLINK(1)", "USD", 1, 500, None),
            ("as of", "JPY", params.as_of.day, 1500, Decimal("0.125")),
        ),
    )
    roll = Table(
        key="roll",
        title=_("Roll rates"),
        columns=(
            Column("from", _("From"), "text"),
            Column("M0", "M0", "count"),
            Column("M1", "M1", "count"),
        ),
        rows=(("M0", 8, 2), ("M1", 1, 2)),
    )
    return ReportResult(
        name=NAME,
        title=_("Bucket inventory"),
        params=params,
        tables=(balances, roll),
        charts=(
            Chart("balance", _("Balance"), "bar", "balances", "bucket", ("balance",)),
            Chart("share", _("Share"), "line", "balances", "bucket", ("share",)),
            Chart("roll", _("Roll rates"), "matrix", "roll", "from", ("M0", "M1")),
        ),
        notes=(f"start={params.start} end={params.end}",),
    )


SPEC = ReportSpec(name=NAME, title=_("Bucket inventory"), compute=compute, period=True, order=5)


@pytest.fixture
def sample_report(monkeypatch: pytest.MonkeyPatch) -> Iterator[ReportSpec]:
    monkeypatch.setitem(REGISTRY, NAME, SPEC)
    yield SPEC


SAMPLE_DAY = date(2026, 11, 30)


def loan_keys(loans: list[Loan]) -> list[int]:
    """What a module's shared book of loans keeps between tests: their keys, in order."""
    return [loan.pk for loan in loans]


def load_loans(keys: list[int], *related: str) -> list[Loan]:
    """A module's shared loans, loaded afresh in the order they were made."""
    loans = Loan.objects.select_related(*related).in_bulk(keys)
    return [loans[pk] for pk in keys]
