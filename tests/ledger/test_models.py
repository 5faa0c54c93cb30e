"""Models, services and admin of the ledger: products convert to kernel terms and freeze once
used, identifiers are normalised and masked, the database refuses impossible payments."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from arrears import errorcodes
from arrears.kernel.errors import CurrencyMismatch, InvalidTerms, UnknownCurrency
from arrears.kernel.schedule import build_schedule
from arrears.kernel.terms import (
    AccrualRounding,
    Bucket,
    Component,
    DayCount,
    InterestRate,
    ProductTerms,
    RateBasis,
    ScheduleMethod,
    ScheduleTerms,
)
from arrears.ledger import models, services
from arrears.ledger.masking import mask_national_id
from tests import factories
from tests.factories import valid_ric

START = date(2026, 1, 31)


@pytest.fixture
def product(db: None) -> models.Product:
    return services.create_product(
        code="PL", version=1, name="Personal loan", effective_from=date(2026, 1, 1)
    )


@pytest.fixture
def borrower(db: None) -> models.Borrower:
    return services.create_borrower(
        ref="B1",
        name="张三",
        id_type="cn_ric",
        national_id=valid_ric(),
        time_zone="Asia/Shanghai",
    )


@pytest.fixture
def loan(borrower: models.Borrower, product: models.Product) -> models.Loan:
    return services.create_loan(
        ref="L1",
        borrower=borrower,
        product=product,
        currency="CNY",
        principal_minor=1_200_000,
        rate_value=Decimal("0.0005"),
        rate_basis="daily",
        term=12,
        method="equal-instalment",
        start_date=START,
    )


# --- products ---------------------------------------------------------------------------


def test_a_new_product_has_the_kernels_default_terms() -> None:
    product = models.Product(code="X", version=1, name="x", effective_from=START)
    assert product.terms() == ProductTerms()


@st.composite
def ladders(draw: st.DrawFn) -> tuple[Bucket, ...]:
    widths = draw(st.lists(st.integers(min_value=1, max_value=60), max_size=6))
    buckets, low = [], 0
    for i, width in enumerate(widths):
        buckets.append(Bucket(f"B{i}", low, low + width - 1))
        low += width
    buckets.append(Bucket("last", low, None))
    return tuple(buckets)


product_terms = st.builds(
    ProductTerms,
    penalty_multiplier=st.decimals(min_value=0, max_value=5, places=4),
    compound=st.booleans(),
    grace_days=st.integers(min_value=0, max_value=30),
    grace_retroactive=st.booleans(),
    cost_cap_annual=st.none() | st.decimals(min_value=Decimal("0.0001"), max_value=2, places=4),
    accrual_rounding=st.sampled_from(AccrualRounding),
    allocation_order=st.permutations(list(Component)).map(tuple),
    tolerance=st.integers(min_value=0, max_value=10_000),
    buckets=ladders(),
)


@given(product_terms)
def test_product_terms_survive_a_round_trip_through_the_model(terms: ProductTerms) -> None:
    product = models.Product(
        code="X", version=1, name="x", effective_from=START, **services.product_fields(terms)
    )
    assert product.terms() == terms


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("allocation_order", "penalty,interest,principal", "exactly once"),
        (
            "buckets",
            [
                {"name": "M0", "min_dpd": 0, "max_dpd": 0},
                {"name": "M2", "min_dpd": 5, "max_dpd": None},
            ],
            "must start the day after",
        ),
        ("buckets", [{"name": "M0", "min_dpd": 0}], "exactly name, min_dpd, max_dpd"),
        ("cost_cap_annual", Decimal("0"), "cost_cap_annual must be positive"),
        ("penalty_multiplier", Decimal("-1"), "penalty_multiplier"),
    ],
)
def test_a_product_the_kernel_refuses_cannot_be_saved_through_validation(
    field: str, value: object, message: str
) -> None:
    product = models.Product(code="X", version=1, name="x", effective_from=START)
    setattr(product, field, value)
    with pytest.raises(InvalidTerms, match=message):
        product.terms()
    with pytest.raises(ValidationError, match=message):
        product.clean()


def test_a_product_without_loans_can_be_edited(product: models.Product) -> None:
    services.update_product(product=product, grace_days=3)
    product.refresh_from_db()
    assert product.grace_days == 3


def test_a_product_version_with_loans_is_frozen(loan: models.Loan) -> None:
    with pytest.raises(services.ProductInUse, match="new version"):
        services.update_product(product=loan.product, grace_days=3)
    loan.product.refresh_from_db()
    assert loan.product.grace_days == 0


def test_a_new_version_carries_the_change_and_leaves_the_old_one_alone(
    loan: models.Loan,
) -> None:
    newer = services.add_product_version(
        product=loan.product, effective_from=date(2026, 6, 1), grace_days=3
    )
    assert (newer.code, newer.version, newer.grace_days) == ("PL", 2, 3)
    assert models.Product.objects.get(code="PL", version=1).grace_days == 0
    assert loan.product.terms() != newer.terms()


def test_code_and_version_are_unique(product: models.Product) -> None:
    with pytest.raises(services.InvalidRecord):
        services.create_product(code="PL", version=1, name="again", effective_from=START)
    assert models.Product.objects.count() == 1


# --- borrowers and phones ---------------------------------------------------------------


def test_a_borrower_is_shown_with_a_masked_id(borrower: models.Borrower) -> None:
    assert borrower.national_id == valid_ric()
    assert valid_ric() not in str(borrower)
    assert mask_national_id(valid_ric()) in str(borrower)


def test_a_borrower_with_a_bad_checksum_is_refused(db: None) -> None:
    bad = valid_ric()[:-1] + ("0" if valid_ric()[-1] != "0" else "1")
    with pytest.raises(services.InvalidRecord, match="national_id"):
        services.create_borrower(ref="B2", name="李四", id_type="cn_ric", national_id=bad)
    assert not models.Borrower.objects.exists()


def test_a_borrower_with_an_unknown_time_zone_is_refused(db: None) -> None:
    with pytest.raises(services.InvalidRecord, match="time_zone"):
        services.create_borrower(
            ref="B2", name="Li", id_type="other", national_id="E1", time_zone="Mars/Base"
        )


def test_phones_are_stored_in_e164_once_per_borrower(borrower: models.Borrower) -> None:
    first = services.add_phone(borrower=borrower, number="138 1234 5678")
    again = services.add_phone(borrower=borrower, number="+8613812345678")
    assert first.number == "+8613812345678"
    assert again.pk == first.pk
    assert str(first) == "+86138****5678"


def test_an_invalid_phone_is_refused(borrower: models.Borrower) -> None:
    with pytest.raises(services.InvalidRecord, match="number"):
        services.add_phone(borrower=borrower, number="12345")


# --- loans ------------------------------------------------------------------------------


def test_a_loan_stores_the_schedule_the_kernel_builds(loan: models.Loan) -> None:
    expected = build_schedule(
        ScheduleTerms(
            principal=1_200_000,
            currency="CNY",
            rate=InterestRate(Decimal("0.0005"), RateBasis.DAILY),
            term=12,
            method=ScheduleMethod.EQUAL_INSTALMENT,
            start=START,
            day_count=DayCount.THIRTY_360,
        )
    )
    stored = list(loan.instalments)
    assert [
        (i.seq, i.due_date, i.principal, i.interest, i.period_start, i.period_end) for i in stored
    ] == [
        (i.seq, i.due_date, i.principal, i.interest, i.period_start, i.period_end) for i in expected
    ]
    assert sum(i.principal for i in stored) == loan.principal_minor
    assert loan.day_count == "30/360"  # the product's default


def test_a_loan_takes_the_product_calendar_into_account(
    borrower: models.Borrower, db: None
) -> None:
    product = services.create_product(
        code="CN",
        version=1,
        name="with holidays",
        effective_from=START,
        calendar="cn",
        convention="following",
    )
    loan = services.create_loan(
        ref="L-CN",
        borrower=borrower,
        product=product,
        currency="CNY",
        principal_minor=300_000,
        rate_value=Decimal("0.18"),
        rate_basis="annual",
        term=3,
        method="equal-principal",
        start_date=date(2025, 12, 31),
        day_count="actual/365",
    )
    # Jan 31 2026 is a Saturday: under "following" the instalment is due the next working day.
    assert loan.instalments[0].due_date == date(2026, 2, 2)
    assert loan.day_count == "actual/365"


def test_a_loan_in_an_unknown_currency_is_refused(
    borrower: models.Borrower, product: models.Product
) -> None:
    with pytest.raises(UnknownCurrency):
        services.create_loan(
            ref="L9",
            borrower=borrower,
            product=product,
            currency="XYZ",
            principal_minor=100,
            rate_value=Decimal("0.0005"),
            rate_basis="daily",
            term=1,
            method="bullet",
            start_date=START,
        )
    assert not models.Loan.objects.exists()


def test_a_rate_that_would_be_rounded_on_storage_is_refused(
    borrower: models.Borrower, product: models.Product
) -> None:
    with pytest.raises(InvalidTerms, match="8 decimal places"):
        services.create_loan(
            ref="L9",
            borrower=borrower,
            product=product,
            currency="CNY",
            principal_minor=100,
            rate_value=Decimal("0.000123456789"),
            rate_basis="daily",
            term=1,
            method="bullet",
            start_date=START,
        )


def test_a_loan_ref_is_used_once(loan: models.Loan) -> None:
    with pytest.raises(services.DuplicateReference):
        services.create_loan(
            ref="L1",
            borrower=loan.borrower,
            product=loan.product,
            currency="CNY",
            principal_minor=100,
            rate_value=Decimal("0.0005"),
            rate_basis="daily",
            term=1,
            method="bullet",
            start_date=START,
        )


# --- payments ---------------------------------------------------------------------------


def test_a_payment_in_another_currency_is_refused(loan: models.Loan) -> None:
    with pytest.raises(CurrencyMismatch):
        services.record_payment(
            loan=loan, ref="P1", value_date=START, amount_minor=100, currency="USD"
        )


@pytest.mark.parametrize("amount", [0, -1])
def test_a_payment_must_be_positive(loan: models.Loan, amount: int) -> None:
    with pytest.raises(services.InvalidPayment, match="positive"):
        services.record_payment(
            loan=loan, ref="P1", value_date=START, amount_minor=amount, currency="CNY"
        )


def test_a_payment_before_the_loan_started_is_refused(loan: models.Loan) -> None:
    with pytest.raises(services.InvalidPayment, match="before loan L1 started"):
        services.record_payment(
            loan=loan, ref="P1", value_date=date(2026, 1, 30), amount_minor=1, currency="CNY"
        )


def test_a_refusal_carries_its_code_field_and_parameters_in_both_languages(
    loan: models.Loan,
) -> None:
    """A page shows ``errorcodes.describe`` and marks ``error.field``: it never parses text."""
    with pytest.raises(services.InvalidPayment) as caught:
        services.record_payment(
            loan=loan, ref="P1", value_date=date(2026, 1, 30), amount_minor=1, currency="CNY"
        )
    error = caught.value
    assert (error.code, error.field) == ("ledger-payment-before-start", "value_date")
    assert error.params["day"] == date(2026, 1, 30) and error.params["loan"] == "L1"
    with translation.override("zh-hans"):
        chinese = errorcodes.describe(error)
    assert "早于借据 L1" in chinese and "before" not in chinese
    with translation.override("en"):
        assert errorcodes.describe(error) == str(error).removeprefix("value_date: ")
    with pytest.raises(services.ProductInUse) as in_use:
        services.update_product(product=loan.product, grace_days=3)
    assert in_use.value.params["count"] == 1 and in_use.value.code == "ledger-product-in-use"


def test_a_payment_ref_names_one_event(loan: models.Loan) -> None:
    payment = services.record_payment(
        loan=loan, ref="P1", value_date=START, amount_minor=1, currency="CNY"
    )
    services.reverse_payment(
        payment=payment, reversed_on=START, reversal_ref="R1", reason="bounced"
    )
    for ref in ("P1", "R1"):
        with pytest.raises(services.DuplicateReference):
            services.record_payment(
                loan=loan, ref=ref, value_date=START, amount_minor=1, currency="CNY"
            )


def test_a_reversal_is_recorded_on_the_payment_once(loan: models.Loan) -> None:
    payment = services.record_payment(
        loan=loan, ref="P1", value_date=date(2026, 3, 1), amount_minor=5000, currency="CNY"
    )
    with pytest.raises(services.InvalidReversal, match="before payment P1's value date"):
        services.reverse_payment(
            payment=payment, reversed_on=date(2026, 2, 28), reversal_ref="R1", reason="x"
        )
    reversed_payment = services.reverse_payment(
        payment=payment, reversed_on=date(2026, 3, 4), reversal_ref="R1", reason="bounced"
    )
    assert (reversed_payment.reversed_on, reversed_payment.reversal_ref) == (
        date(2026, 3, 4),
        "R1",
    )
    with pytest.raises(services.InvalidReversal, match="already reversed"):
        services.reverse_payment(
            payment=payment, reversed_on=date(2026, 3, 5), reversal_ref="R2", reason="again"
        )


@pytest.mark.parametrize(
    "fields",
    [
        {"amount_minor": 0},
        {"amount_minor": -100},
        {"reversed_on": date(2026, 2, 1), "reversal_ref": "R"},  # before the value date
        {"reversed_on": date(2026, 3, 1)},  # a reversal without its reference
    ],
)
def test_the_database_refuses_impossible_payments(loan: models.Loan, fields: dict) -> None:
    values = {
        "ref": "P1",
        "loan": loan,
        "value_date": date(2026, 2, 15),
        "amount_minor": 100,
        "currency": "CNY",
        **fields,
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        models.Payment.objects.create(**values)


# --- admin ------------------------------------------------------------------------------


@pytest.fixture
def admin_client_logged_in(db: None) -> Client:
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw-123456")
    client = Client()
    client.force_login(user)
    return client


def test_every_admin_page_loads(admin_client_logged_in: Client, loan: models.Loan) -> None:
    services.add_phone(borrower=loan.borrower, number="13812345678")
    payment = services.record_payment(
        loan=loan, ref="P1", value_date=START, amount_minor=100, currency="CNY"
    )
    models.ImportBatch.objects.create(
        kind="loans",
        file_name="f.csv",
        sha256="0" * 64,
        row_count=1,
        applied_count=1,
        skipped_count=0,
    )
    objects = [
        loan.product,
        loan.borrower,
        loan.borrower.phones.get(),
        loan,
        payment,
        models.ImportBatch.objects.get(),
    ]
    for obj in objects:
        meta = obj._meta
        changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        change = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
        assert admin_client_logged_in.get(changelist).status_code == 200, changelist
        assert admin_client_logged_in.get(change).status_code == 200, change
    page = admin_client_logged_in.get(reverse("admin:ledger_loan_change", args=[loan.pk]))
    assert all(i.due_date.isoformat() in page.content.decode() for i in loan.instalments)


def test_admin_lists_never_show_full_ids_or_numbers(
    admin_client_logged_in: Client, loan: models.Loan
) -> None:
    services.add_phone(borrower=loan.borrower, number="13812345678")
    for name in ("borrower", "phone", "loan"):
        page = admin_client_logged_in.get(reverse(f"admin:ledger_{name}_changelist"))
        text = page.content.decode()
        assert valid_ric() not in text
        assert "13812345678" not in text
    borrowers = admin_client_logged_in.get(reverse("admin:ledger_borrower_changelist"))
    assert mask_national_id(valid_ric()) in borrowers.content.decode()
    phones = admin_client_logged_in.get(reverse("admin:ledger_phone_changelist"))
    assert "+86138****5678" in phones.content.decode()


def test_admin_refuses_to_edit_a_product_version_with_loans(
    admin_client_logged_in: Client, loan: models.Loan
) -> None:
    product = loan.product
    url = reverse("admin:ledger_product_change", args=[product.pk])
    page = admin_client_logged_in.get(url)
    assert "is used by 1 loan(s) and cannot be edited" in page.content.decode()
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    data["grace_days"] = "5"
    data["buckets"] = form["buckets"].value()
    response = admin_client_logged_in.post(url, data)
    assert response.status_code == 200  # the form comes back with the error
    assert "cannot be edited" in response.content.decode()
    product.refresh_from_db()
    assert product.grace_days == 0


def test_admin_saves_a_used_product_as_a_new_version(
    admin_client_logged_in: Client, loan: models.Loan
) -> None:
    product = loan.product
    url = reverse("admin:ledger_product_change", args=[product.pk])
    form = admin_client_logged_in.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    data.update({"version": "2", "grace_days": "5", "_saveasnew": "Save as new"})
    response = admin_client_logged_in.post(url, data)
    assert response.status_code == 302
    assert models.Product.objects.get(code="PL", version=2).grace_days == 5
    assert models.Product.objects.get(code="PL", version=1).grace_days == 0


@pytest.mark.django_db(transaction=True)
def test_migration_0009_moves_each_schedule_from_its_rows_to_its_loan_and_back() -> None:
    """``ledger.0009``: the instalment rows of loans stored before it become each loan's
    schedule row (the text ``schedules.encode`` writes, with the instalments' revision
    triggers), the instalment table goes, and migrating back makes the rows again, with
    their triggers."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from arrears.daily.services import revision_triggers_present
    from arrears.ledger import schedules

    before = [("ledger", "0008_drop_instalment_loan_due")]
    after = [("ledger", "0009_loan_schedule")]
    product = factories.product()
    owner = factories.borrower()
    made = [factories.loan(f"M{n}", owner, product, term=3 + n) for n in range(3)]
    expected = {loan.ref: loan.schedule.text for loan in made}
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        executor.loader.build_graph()
        old = executor.loader.project_state(before).apps
        rows = old.get_model("ledger", "Instalment").objects.order_by("loan_id", "seq")
        assert [(r.loan.ref, r.seq) for r in rows] == [
            (loan.ref, seq) for loan in made for seq in range(1, loan.term + 1)
        ]
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute(
                    "SELECT name FROM sqlite_master WHERE tbl_name = 'ledger_instalment'"
                )
            else:
                cursor.execute(
                    "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal "
                    "AND tgrelid = 'ledger_instalment'::regclass"
                )
            names = {name for (name,) in cursor.fetchall()}
        assert {"ledger_instalment_rev_ins", "ledger_instalment_rev_del"} <= names
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(after)
    stored = dict(models.Schedule.objects.values_list("loan__ref", "text"))
    assert stored == expected
    assert all(schedules.decode(text) for text in stored.values())
    assert "ledger_instalment" not in connection.introspection.table_names()
    assert revision_triggers_present()  # the schedules' among them
