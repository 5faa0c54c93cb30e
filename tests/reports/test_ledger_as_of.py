"""The ledger reports as of a past month: run now, after back-dated payments, a late waiver, a
reversal back-dated into the month, a late write-off and the month's days rerun, they give what
they gave at the month's end; and every page, download and the command render them.

The book (twelve loans of ``concession_book``, recorded before any starts) is built once for
the module (tests/sharing.py); each test runs in its own savepoint on it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine

from arrears.collections.models import Case, CaseEvent
from arrears.daily.services import day_run
from arrears.ledger import models, services
from arrears.reports.base import load_all
from tests import sharing
from tests.reports.conftest import load_loans, loan_keys
from tests.reports.test_command import _run
from tests.reports.test_ledger_states import SHANGHAI, recorded_book
from tests.roles import Role, client_for, make_user

pytestmark = pytest.mark.django_db
LEDGER = ("bucket_inventory", "roll_rates", "cure_recovery", "penalty_flows")


def _build() -> list[models.Loan]:
    return recorded_book(12)


@pytest.fixture(scope="module")
def _shared_book(django_db_setup: None, django_db_blocker: Any) -> Iterator[list[int]]:
    yield from sharing.module_book(django_db_blocker, _build, loan_keys)


@pytest.fixture
def book(_shared_book: list[int], db: None) -> list[models.Loan]:
    """The module's twelve loans, loaded afresh, in the order they were made."""
    return load_loans(_shared_book, "borrower")


def _ask(name: str) -> object:
    """The report's tables as of 30 June (its notes say how many states were read stored and
    how many replayed: where the figures came from, which may differ; the figures may not)."""
    args = [name, "--as-of", "2026-06-30", "--format", "json", "--language", "en"]
    if load_all()[name].period:
        args += ["--from", "2026-03-01", "--to", "2026-06-30"]
    return json.loads(_run(*args))["tables"]


def test_a_past_month_run_now_equals_the_run_at_its_end(book: list[models.Loan]) -> None:
    with time_machine.travel(datetime(2026, 7, 1, 0, 30, tzinfo=SHANGHAI), tick=False):
        day_run(as_of=date(2026, 5, 31))
        day_run(as_of=date(2026, 6, 30))
        then = {name: _ask(name) for name in LEDGER}
    with time_machine.travel(datetime(2026, 7, 5, 10, 0, tzinfo=SHANGHAI), tick=False):
        for n, loan in enumerate(book[:6]):  # paid in June, recorded in July
            services.record_payment(
                loan=loan,
                ref=f"LATE-{n}",
                value_date=date(2026, 6, 10),
                amount_minor=300_000,
                currency="CNY",
            )
        models.Waiver.objects.create(
            ref="W-LATE",
            loan=book[7],
            component="penalty",
            amount_minor=5_000,
            effective_on=date(2026, 6, 1),
            reason="hardship",
            status=models.Approval.APPROVED,
            requested_by=models.Waiver.objects.first().requested_by,  # type: ignore[union-attr]
        )
        paid = (
            models.Payment.objects.filter(
                loan__in=book[6:], value_date__lte=date(2026, 6, 15), reversed_on__isnull=True
            )
            .order_by("value_date", "id")
            .last()
        )
        assert paid is not None
        services.reverse_payment(  # bounced in June, recorded in July
            payment=paid, reversed_on=date(2026, 6, 15), reversal_ref="LATE-R", reason="bounced"
        )
        case = Case.objects.create(
            borrower=book[0].borrower, currency="CNY", opened_on=date(2026, 3, 1)
        )
        CaseEvent.objects.create(
            case=case, on=date(2026, 6, 20), kind="closed", to_value="written_off", cause="x"
        )
        day_run(as_of=date(2026, 6, 30))  # the stored day now holds the late rows
        day_run(as_of=date(2026, 4, 30))  # and a month end stored only now
        for name in LEDGER:
            assert _ask(name) == then[name], name
        # asked as known today, the late rows count
        later = json.loads(_run("bucket_inventory", "--as-of", "2026-07-05", "--format", "json"))
    assert later["tables"][0]["rows"] != then["bucket_inventory"][0]["rows"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("name", "language"),
    [
        ("bucket_inventory", "zh-hans"),
        ("roll_rates", "en"),
        ("cure_recovery", "zh-hans"),
        ("penalty_flows", "en"),
    ],
)
def test_each_ledger_report_page_and_download_renders(
    book: list[models.Loan], name: str, language: str
) -> None:
    client = client_for(make_user(Role.MANAGER), language)
    assert f'href="/reports/{name}/"' in client.get("/reports/").content.decode()
    query = "?as_of=2026-06-30&from=2026-04-01&to=2026-06-30"
    page = client.get(f"/reports/{name}/{query}")
    assert page.status_code == 200
    assert "<canvas" in page.content.decode() or "heat" in page.content.decode()
    assert client.get(f"/reports/{name}/download.csv{query}").status_code == 200
    xlsx = client.get(f"/reports/{name}/download.xlsx{query}")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


def test_the_monthly_pack_draws_the_ledger_reports(book: list[models.Loan], tmp_path: Path) -> None:
    out = tmp_path / "pack.pdf"
    with time_machine.travel(datetime(2026, 7, 2, 9, 0, tzinfo=SHANGHAI), tick=False):
        text = _run("pack", "--month", "2026-06", "--language", "zh-hans", "--out", str(out))
    assert f"({len(load_all())} reports," in text  # every registered report, ours included
    assert out.read_bytes()[:5] == b"%PDF-" and out.stat().st_size > 20_000
