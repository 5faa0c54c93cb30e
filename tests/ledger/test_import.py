"""``arrears import``: every row validated first, every error reported, all rows or none,
and a second import of the same file changes nothing."""

from __future__ import annotations

import csv
import hashlib
from datetime import date
from decimal import Decimal
from io import StringIO
from pathlib import Path

import polars as pl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from arrears.kernel.schedule import build_schedule
from arrears.kernel.terms import DayCount, InterestRate, RateBasis, ScheduleMethod, ScheduleTerms
from arrears.ledger import models, services
from arrears.ledger.importers import LOAN_COLUMNS, LOAN_OPTIONAL
from tests import factories

pytestmark = pytest.mark.django_db


def valid_ric(n: int = 0) -> str:
    return factories.valid_ric(f"11010119900307{n:03d}")


def bad_ric() -> str:
    good = valid_ric()
    return good[:-1] + ("1" if good[-1] != "1" else "2")


@pytest.fixture(autouse=True)
def product(shared_import_product: int, db: None) -> models.Product:
    """The product the files name, built once for the module (``tests/ledger/conftest.py``)."""
    return models.Product.objects.get(pk=shared_import_product)


def loan_row(n: int, **overrides: str) -> dict[str, str]:
    row = {
        "loan_ref": f"L{n}",
        "borrower_ref": f"B{n}",
        "borrower_name": f"借款人{n}",
        "id_type": "cn_ric",
        "national_id": valid_ric(n),
        "phone": f"1381234{n:04d}",
        "time_zone": "Asia/Shanghai",
        "locale": "zh-hans",
        "product_code": "PL",
        "product_version": "1",
        "currency": "CNY",
        "principal": "12000.00",
        "rate_basis": "daily",
        "rate": "0.0005",
        "term": "12",
        "method": "equal-instalment",
        "start_date": "2026-01-15",
        "day_count": "",
    }
    row.update(overrides)
    return row


def write_csv(path: Path, rows: list[dict[str, str]], header: list[str] | None = None) -> Path:
    header = header or list(rows[0])
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def run(kind: str, path: Path) -> str:
    out = StringIO()
    call_command("import", kind, str(path), stdout=out)
    return out.getvalue()


def rejected(kind: str, path: Path) -> str:
    with pytest.raises(CommandError) as caught:
        run(kind, path)
    return str(caught.value)


def payment_row(ref: str, **overrides: str) -> dict[str, str]:
    row = {
        "payment_ref": ref,
        "loan_ref": "L1",
        "value_date": "2026-02-15",
        "amount": "1000.00",
        "currency": "CNY",
        "reverses": "",
    }
    row.update(overrides)
    return row


def counts() -> dict[str, int]:
    """Rows of each ledger table, and the instalments of every stored schedule."""
    found = {
        model.__name__: model.objects.count()
        for model in (models.Borrower, models.Phone, models.Loan, models.Payment)
    }
    found["Instalment"] = sum(len(loan.instalments) for loan in models.Loan.objects.all())
    return found


# --- loans ------------------------------------------------------------------------------


def test_a_loans_file_creates_borrowers_phones_loans_and_schedules(tmp_path: Path) -> None:
    rows = [
        loan_row(1),
        loan_row(
            2,
            borrower_ref="B1",
            borrower_name="借款人1",
            national_id=valid_ric(1),
            phone="1381234 0001",
        ),
        loan_row(
            3,
            time_zone="",
            locale="en",
            term="6",
            day_count="actual/365",
            rate_basis="annual",
            rate="0.18",
            principal="5000.5",
        ),
    ]
    path = write_csv(tmp_path / "loans.csv", rows)
    out = run("loans", path)
    assert "applied 3, skipped 0" in out
    assert counts() == {"Borrower": 2, "Phone": 2, "Loan": 3, "Instalment": 30, "Payment": 0}
    first = models.Loan.objects.get(ref="L1")
    assert (first.principal_minor, first.day_count, first.borrower.ref) == (
        1_200_000,
        "30/360",
        "B1",
    )
    assert models.Loan.objects.get(ref="L2").borrower_id == first.borrower_id
    third = models.Loan.objects.get(ref="L3")
    assert (third.principal_minor, third.day_count, third.rate_value) == (
        500_050,
        "actual/365",
        Decimal("0.18"),
    )
    assert third.borrower.time_zone is None and third.borrower.locale == "en"
    assert first.borrower.phones.get().number == "+8613812340001"
    schedule = build_schedule(
        ScheduleTerms(
            principal=500_050,
            currency="CNY",
            rate=InterestRate(Decimal("0.18"), RateBasis.ANNUAL),
            term=6,
            method=ScheduleMethod.EQUAL_INSTALMENT,
            start=date(2026, 1, 15),
            day_count=DayCount.ACTUAL_365,
        )
    )
    assert [
        (i.seq, i.due_date, i.principal, i.interest, i.period_start, i.period_end)
        for i in third.instalments
    ] == [
        (i.seq, i.due_date, i.principal, i.interest, i.period_start, i.period_end) for i in schedule
    ]
    batch = models.ImportBatch.objects.get()
    assert (batch.kind, batch.file_name, batch.row_count, batch.applied_count) == (
        "loans",
        "loans.csv",
        3,
        3,
    )
    assert batch.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_importing_the_same_loans_file_twice_changes_nothing(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "loans.csv", [loan_row(n) for n in range(1, 5)])
    run("loans", path)
    before = counts()
    out = run("loans", path)
    assert "applied 0, skipped 4" in out
    assert counts() == before


def test_imported_loans_keep_the_revision_triggers_and_a_schedule_change_bumps_one(
    tmp_path: Path,
) -> None:
    """Every revision trigger is there after an import (SQLite's payment trigger is
    suspended only inside a payments import), and a change of an imported loan's schedule
    bumps its revision."""
    from arrears.daily.services import revision_triggers_present

    run("loans", write_csv(tmp_path / "loans.csv", [loan_row(n) for n in range(1, 4)]))
    assert revision_triggers_present()
    loan = models.Loan.objects.get(ref="L2")
    shorter = ";".join(loan.schedule.text.split(";")[:-1])
    models.Schedule.objects.filter(loan=loan).update(text=shorter)
    assert models.Loan.objects.get(pk=loan.pk).revision > loan.revision


def test_imported_loans_are_at_the_revision_of_a_created_loan_with_their_schedules(
    tmp_path: Path, product: models.Product
) -> None:
    """Each imported loan is at the revision a loan made by ``create_loan`` gets (the first:
    a schedule's insert bumps nothing, its loan is new), on both databases, with the very
    schedule ``create_loan`` would have stored; a loan created afterwards gets an id of its
    own."""
    run("loans", write_csv(tmp_path / "loans.csv", [loan_row(n) for n in range(1, 4)]))
    loans = list(models.Loan.objects.order_by("ref"))
    later = factories.loan("L9", factories.borrower("B9"), product)
    assert {loan.revision for loan in loans} == {models.Loan.objects.get(pk=later.pk).revision}
    assert {loan.revision for loan in loans} == {0}
    for loan in loans:
        assert [i.seq for i in loan.instalments] == list(range(1, 13))
        assert sum(i.principal for i in loan.instalments) == 1_200_000
        assert loan.instalments == services.schedule_for(
            product=loan.product,
            currency=loan.currency,
            principal_minor=loan.principal_minor,
            rate=InterestRate(loan.rate_value, RateBasis(loan.rate_basis)),
            term=loan.term,
            method=ScheduleMethod(loan.method),
            start_date=loan.start_date,
            day_count=DayCount(loan.day_count),
        )
    assert later.pk not in {loan.pk for loan in loans}
    assert models.Loan.objects.get(pk=later.pk).ref == "L9"


def test_a_parquet_file_is_read_like_the_same_csv(tmp_path: Path) -> None:
    rows = [loan_row(n) for n in range(1, 4)]
    frame = pl.DataFrame(rows).with_columns(
        pl.col("start_date").str.to_date(),  # a real Date column is read as YYYY-MM-DD
        pl.col("principal").cast(pl.Decimal(12, 2)),
    )
    frame.write_parquet(tmp_path / "loans.parquet")
    assert "applied 3, skipped 0" in run("loans", tmp_path / "loans.parquet")
    # The same rows as CSV are recognised as already imported: identical values.
    assert "applied 0, skipped 3" in run("loans", write_csv(tmp_path / "loans.csv", rows))


def test_a_parquet_float_column_is_refused(tmp_path: Path) -> None:
    frame = pl.DataFrame([loan_row(1)]).with_columns(pl.col("principal").cast(pl.Float64))
    frame.write_parquet(tmp_path / "loans.parquet")
    message = rejected("loans", tmp_path / "loans.parquet")
    assert "principal hold floating-point numbers" in message
    assert counts()["Loan"] == 0


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (
            {"product_code": "NOPE"},
            "row 3, field product_code: product NOPE version 1 does not exist",
        ),
        (
            {"product_version": "7"},
            "row 3, field product_version: product PL version 7 does not exist",
        ),
        ({"start_date": "2026-02-30"}, "row 3, field start_date: '2026-02-30' is not a valid date"),
        ({"start_date": "15/01/2026"}, "row 3, field start_date: '15/01/2026' is not a valid date"),
        ({"principal": "-5.00"}, "row 3, field principal: -5.00 is negative"),
        ({"principal": "0.00"}, "row 3, field principal: 0.00 is zero"),
        ({"principal": "12,000.00"}, "row 3, field principal: '12,000.00' is not a decimal number"),
        (
            {"principal": "100.001"},
            "row 3, field principal: '100.001' has more than 2 decimal places for CNY",
        ),
        (
            {"currency": "JPY", "principal": "100.5"},
            "row 3, field principal: '100.5' has more than 0 decimal places for JPY",
        ),
        ({"currency": "XYZ"}, "row 3, field currency: 'XYZ' is not a supported ISO 4217"),
        ({"national_id": bad_ric()}, "row 3, field national_id: 110101********"),
        ({"phone": "12345"}, "row 3, field phone: ***** is not a valid phone number"),
        (
            {"time_zone": "Mars/Base"},
            "row 3, field time_zone: 'Mars/Base' is not an IANA time zone",
        ),
        ({"loan_ref": "L1"}, "row 3, field loan_ref: L1 appears again (first on row 2)"),
        (
            {"borrower_ref": "B1"},
            "row 3, field national_id: borrower B1 has a different national_id on row 2",
        ),
        (
            {"borrower_ref": "B1", "national_id": valid_ric(1)},
            "row 3, field borrower_name: borrower B1 has a different borrower_name on row 2",
        ),
        ({"rate": "5e-4"}, "row 3, field rate: '5e-4' is not a decimal number"),
        ({"rate": "0.000000001"}, "row 3, field rate: 0.000000001 has more than 8 decimal places"),
        ({"rate_basis": "monthly"}, "row 3, field rate_basis: 'monthly' is not a rate basis"),
        ({"method": "balloon"}, "row 3, field method: 'balloon' is not a schedule method"),
        ({"term": "0"}, "row 3, field term: '0' is not a whole number from 1 to 600"),
        ({"day_count": "30/365"}, "row 3, field day_count: '30/365' is not a day count"),
        (
            {"id_type": "passport"},
            "row 3, field id_type: 'passport' is not one of cn_ric, us_ssn, other",
        ),
        ({"locale": "fr"}, "row 3, field locale: 'fr' is not one of zh-hans, en"),
        ({"borrower_name": ""}, "row 3, field borrower_name: is required"),
    ],
)
def test_one_bad_loan_row_among_good_ones_imports_nothing(
    tmp_path: Path, overrides: dict[str, str], expected: str
) -> None:
    rows = [loan_row(1), loan_row(2, **overrides), loan_row(3)]
    message = rejected("loans", write_csv(tmp_path / "loans.csv", rows))
    assert expected in message
    assert "nothing was imported" in message
    assert counts() == dict.fromkeys(counts(), 0)
    assert not models.ImportBatch.objects.exists()


def test_every_error_of_every_row_is_reported_at_once(tmp_path: Path) -> None:
    rows = [
        loan_row(1, principal="-1.00", start_date="2026-13-01"),
        loan_row(2),
        loan_row(3, product_version="9"),
    ]
    message = rejected("loans", write_csv(tmp_path / "loans.csv", rows))
    assert "row 2, field principal: -1.00 is negative" in message
    assert "row 2, field start_date:" in message
    assert "row 4, field product_version:" in message
    assert message.startswith("3 error(s)")


def test_a_full_id_never_appears_in_an_error(tmp_path: Path) -> None:
    message = rejected("loans", write_csv(tmp_path / "l.csv", [loan_row(1, national_id=bad_ric())]))
    assert bad_ric() not in message


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    header = [c for c in LOAN_COLUMNS if c != "currency"]
    message = rejected("loans", write_csv(tmp_path / "loans.csv", [loan_row(1)], header))
    assert "row 1, field currency: required column is missing" in message


def test_an_unknown_column_is_refused_rather_than_ignored(tmp_path: Path) -> None:
    rows = [{**loan_row(1), "daycount": "actual/365"}]
    message = rejected("loans", write_csv(tmp_path / "loans.csv", rows))
    assert "row 1, field daycount: unknown column" in message


def test_the_optional_column_may_be_left_out(tmp_path: Path) -> None:
    header = [c for c in LOAN_COLUMNS if c not in LOAN_OPTIONAL]
    assert "applied 1" in run("loans", write_csv(tmp_path / "l.csv", [loan_row(1)], header))


def test_a_loan_already_imported_with_different_terms_is_an_error(tmp_path: Path) -> None:
    run("loans", write_csv(tmp_path / "a.csv", [loan_row(1)]))
    before = counts()
    message = rejected(
        "loans", write_csv(tmp_path / "b.csv", [loan_row(1, principal="13000.00", term="6")])
    )
    assert "row 2, field loan_ref: loan L1 already exists with a different principal, term" in (
        message
    )
    assert counts() == before


def test_a_known_borrower_must_match_the_database(tmp_path: Path) -> None:
    run("loans", write_csv(tmp_path / "a.csv", [loan_row(1)]))
    message = rejected(
        "loans",
        write_csv(tmp_path / "b.csv", [loan_row(2, borrower_ref="B1", national_id=valid_ric(1))]),
    )
    assert "row 2, field borrower_name: borrower B1 already exists with a different" in message


def test_a_new_loan_for_a_known_borrower_reuses_the_borrower(tmp_path: Path) -> None:
    run("loans", write_csv(tmp_path / "a.csv", [loan_row(1)]))
    second = loan_row(
        2, borrower_ref="B1", borrower_name="借款人1", national_id=valid_ric(1), phone="13900000000"
    )
    assert "applied 1, skipped 0" in run("loans", write_csv(tmp_path / "b.csv", [second]))
    borrower = models.Borrower.objects.get(ref="B1")
    assert borrower.loans.count() == 2
    assert sorted(borrower.phones.values_list("number", flat=True)) == [
        "+8613812340001",
        "+8613900000000",
    ]


# --- e-mail and postal address (letters) ------------------------------------------------


ADDRESS = "上海市浦东新区世纪大道100号 环球金融中心 5F"


def test_email_and_postal_address_are_imported_from_csv_and_parquet(tmp_path: Path) -> None:
    rows = [
        loan_row(1, email="Li.Lei@Example.COM", postal_address=f"  {ADDRESS}  "),
        loan_row(2, email="", postal_address=""),
    ]
    assert "applied 2, skipped 0" in run("loans", write_csv(tmp_path / "loans.csv", rows))
    b1 = models.Borrower.objects.get(ref="B1")
    assert (b1.email, b1.postal_address) == ("Li.Lei@example.com", ADDRESS)
    b2 = models.Borrower.objects.get(ref="B2")
    assert (b2.email, b2.postal_address) == ("", "")  # optional: blank is fine
    rows3 = [loan_row(3, email="wang@example.cn", postal_address="北京市朝阳区建国路1号\n2单元")]
    pl.DataFrame(rows3).write_parquet(tmp_path / "more.parquet")
    assert "applied 1, skipped 0" in run("loans", tmp_path / "more.parquet")
    b3 = models.Borrower.objects.get(ref="B3")
    assert (b3.email, b3.postal_address) == ("wang@example.cn", "北京市朝阳区建国路1号\n2单元")


def test_a_bad_email_or_address_rejects_the_file_without_echoing_it(tmp_path: Path) -> None:
    rows = [
        loan_row(1, email="li.lei(at)example.com", postal_address=""),
        loan_row(2, email="", postal_address="地址" * 200),
        loan_row(3, email="", postal_address="bad\x00address"),
    ]
    message = rejected("loans", write_csv(tmp_path / "loans.csv", rows))
    assert "row 2, field email: is not a valid e-mail address" in message
    assert "row 3, field postal_address: has 400 characters; at most 300" in message
    assert "row 4, field postal_address: contains control characters" in message
    assert "li.lei(at)example.com" not in message
    assert counts()["Loan"] == 0


def test_a_later_file_fills_in_a_known_borrowers_blank_contact_details(tmp_path: Path) -> None:
    run("loans", write_csv(tmp_path / "a.csv", [loan_row(1)]))
    again = [loan_row(1, email="b1@example.com", postal_address=ADDRESS)]
    out = run("loans", write_csv(tmp_path / "b.csv", again))
    assert "applied 0, skipped 1; contact details added to 1 known borrower(s)" in out
    b1 = models.Borrower.objects.get(ref="B1")
    assert (b1.email, b1.postal_address) == ("b1@example.com", ADDRESS)
    assert "applied 0, skipped 1" in run("loans", write_csv(tmp_path / "c.csv", [loan_row(1)]))
    moved = [loan_row(1, postal_address="北京市朝阳区建国路1号")]
    message = rejected("loans", write_csv(tmp_path / "d.csv", moved))
    assert "field postal_address: borrower B1 already exists with a different" in message


def test_an_imported_address_reaches_the_lawyers_letter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The letter is rendered for the imported address, not suppressed as "no usable letter
    address" (issue 9, item 20)."""
    from django.utils import timezone

    from arrears.contact import render
    from arrears.contact.models import OutboxMessage

    run("loans", write_csv(tmp_path / "loans.csv", [loan_row(1, postal_address=ADDRESS)]))
    monkeypatch.setattr(render, "_render_template", lambda message, context: ("律师函", "正文"))
    letter = OutboxMessage.objects.create(
        key="wi:letter",
        borrower=models.Borrower.objects.get(ref="B1"),
        channel="letter",
        template="lawyer_letter",
        locale="zh-CN",
        not_before=timezone.now(),
    )
    rendered = render.render_message(letter, timezone.now())
    assert isinstance(rendered, render.Rendered), rendered
    assert rendered.to == f"借款人1\n{ADDRESS}"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("loans.csv", b"loan_ref,borrower_ref\nL1,B1,extra\n", "is not a readable csv file"),
        ("loans.csv", b'loan_ref,borrower_ref\nL1,"B1\n', "is not a readable csv file"),
        ("loans.csv", b"loan_ref,borrower_ref\n\xff\xfe,B1\n", "is not a readable csv file"),
        ("loans.csv", b"", "loans.csv is empty"),
        ("loans.parquet", b"PAR1 this is not parquet", "is not a readable parquet file"),
        ("loans.xlsx", b"PK\x03\x04", "expected a .csv or .parquet file"),
    ],
)
def test_an_unreadable_file_is_reported_not_guessed(
    tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    assert expected in rejected("loans", path)


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    assert "cannot read nowhere.csv" in rejected("loans", tmp_path / "nowhere.csv")


def test_validation_and_writes_do_not_grow_with_the_number_of_rows(tmp_path: Path) -> None:
    """One query per chunk of references and multi-row inserts: a design with a query per row
    would need at least 600 (a loan and its schedule each) for 300 loans."""
    rows = [loan_row(n, borrower_ref=f"B{n}") for n in range(300)]
    path = write_csv(tmp_path / "loans.csv", rows)
    with CaptureQueriesContext(connection) as captured:
        run("loans", path)
    assert models.Loan.objects.count() == 300
    assert len(captured.captured_queries) < 100
