"""Ledger use cases: each function is one use case in one transaction, with keyword-only
typed arguments, validating before it writes.

The schedule of a loan is built by the kernel (:func:`arrears.kernel.schedule.build_schedule`)
when the loan is created and stored as it was built; a product version that a loan uses is
frozen (:class:`ProductInUse`), so later rule changes go into a new version.

Every refusal carries a code from :mod:`arrears.errorcodes` (defined below), its parameters
and the field it concerns, so the admin and the pages show it in the reader's language.
"""

from __future__ import annotations

from dataclasses import fields as dataclass_fields
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from arrears import errorcodes
from arrears.calendars import by_name
from arrears.kernel import limits
from arrears.kernel.calendar import BusinessDayConvention
from arrears.kernel.errors import ArrearsError, CurrencyMismatch, InvalidTerms
from arrears.kernel.money import Rounding, exponent
from arrears.kernel.schedule import build_schedule
from arrears.kernel.terms import (
    DayCount,
    Instalment,
    InterestRate,
    ProductTerms,
    RateBasis,
    ScheduleMethod,
    ScheduleTerms,
)
from arrears.ledger import models, schedules, signals

errorcodes.define(
    {
        "ledger-product-in-use": "product %(product)s v%(version)s is used by %(count)s loan(s) "
        "and cannot be edited; create a new version instead",
        "ledger-product-fixed-fields": "cannot change %(fields)s of a product",
        "ledger-record-refused": "the record was refused: %(problems)s",
        "ledger-rate-not-decimal": "%(value)s must be a finite Decimal",
        "ledger-rate-negative": "%(value)s is negative",
        "ledger-rate-too-large": "%(value)s is too large (at most 9999.99999999)",
        "ledger-rate-too-precise": "%(value)s has more than %(places)s decimal places",
        "ledger-unknown-choice": "%(value)s is not one of %(allowed)s",
        "ledger-loan-exists": "loan %(ref)s already exists",
        "ledger-payment-currency": "payment %(ref)s is in %(currency)s but loan %(loan)s is in "
        "%(loan_currency)s",
        "ledger-payment-not-positive": "payment %(ref)s must be a positive int of minor units",
        "ledger-payment-before-start": "payment %(ref)s on %(day)s is before loan %(loan)s "
        "started (%(start)s)",
        "ledger-reference-taken": "%(ref)s is already used by another payment or reversal",
        "ledger-already-reversed": "payment %(ref)s was already reversed on %(day)s (%(reversal)s)",
        "ledger-reversal-before-payment": "%(day)s is before payment %(ref)s's value date "
        "%(value_date)s",
        "ledger-reversal-ref-required": "a reversal needs a reference of its own",
    }
)


class LedgerError(ArrearsError):
    code = "ledger-error"


class ProductInUse(LedgerError):
    code = "ledger-product-in-use"


class DuplicateReference(LedgerError):
    code = "ledger-duplicate-reference"


class InvalidPayment(LedgerError):
    code = "ledger-invalid-payment"


class InvalidReversal(LedgerError):
    code = "ledger-invalid-reversal"


class InvalidRecord(LedgerError):
    """A row that Django's field validation refused (the message lists field: problem)."""

    code = "ledger-invalid-record"


RATE_MAX_DECIMALS = 8
RATE_LIMIT = Decimal(10) ** 4  # Decimal(max_digits=12, decimal_places=8)


def _full_clean(instance: Any, exclude: list[str] | None = None) -> None:
    _validated(lambda: instance.full_clean(exclude=exclude))


def _validated(check: Any) -> None:
    """Run a Django validation step, turning its ``ValidationError`` into a domain error."""
    try:
        check()
    except ValidationError as error:
        problems = error.message_dict
        parts = [f"{name}: {' '.join(messages)}" for name, messages in problems.items()]
        first = next(iter(problems), None)
        field = None if first in (None, "__all__") else first
        raise errorcodes.refuse(
            InvalidRecord, "ledger-record-refused", field=field, problems="; ".join(parts)
        ) from None


# --- products ---------------------------------------------------------------------------


def product_fields(terms: ProductTerms) -> dict[str, Any]:
    """The model field values that store ``terms`` (the inverse of ``Product.terms()``)."""
    return {
        "penalty_multiplier": terms.penalty_multiplier,
        "compound": terms.compound,
        "grace_days": terms.grace_days,
        "grace_retroactive": terms.grace_retroactive,
        "cost_cap_annual": terms.cost_cap_annual,
        "rounding": terms.rounding.value,
        "accrual_rounding": terms.accrual_rounding.value,
        "allocation_order": ",".join(c.value for c in terms.allocation_order),
        "tolerance_minor": terms.tolerance,
        "buckets": [
            {"name": b.name, "min_dpd": b.min_dpd, "max_dpd": b.max_dpd} for b in terms.buckets
        ],
    }


@transaction.atomic
def create_product(
    *,
    code: str,
    version: int,
    name: str,
    effective_from: date,
    terms: ProductTerms | None = None,
    day_count: DayCount = DayCount.THIRTY_360,
    calendar: str = "none",
    convention: BusinessDayConvention = BusinessDayConvention.NONE,
) -> models.Product:
    product = models.Product(
        code=code,
        version=version,
        name=name,
        effective_from=effective_from,
        day_count=DayCount(day_count).value,
        calendar=calendar,
        convention=BusinessDayConvention(convention).value,
        **product_fields(terms or ProductTerms()),
    )
    _full_clean(product)
    product.save()
    return product


_EDITABLE_PRODUCT_FIELDS = frozenset(
    {"name", "effective_from", "day_count", "calendar", "convention"}
    | {f.name for f in dataclass_fields(ProductTerms)}
    | {"tolerance_minor"}
) - {"tolerance"}


def _editable(changes: dict[str, Any]) -> None:
    unknown = set(changes) - _EDITABLE_PRODUCT_FIELDS
    if unknown:
        raise errorcodes.refuse(
            InvalidRecord, "ledger-product-fixed-fields", fields=sorted(unknown)
        )


@transaction.atomic
def update_product(*, product: models.Product, **changes: Any) -> models.Product:
    """Change a product version that no loan uses yet; a used version is frozen."""
    product = models.Product.objects.select_for_update().get(pk=product.pk)
    count = product.loans.count()
    if count:
        raise errorcodes.refuse(
            ProductInUse,
            "ledger-product-in-use",
            product=product.code,
            version=product.version,
            count=count,
        )
    _editable(changes)
    for name, value in changes.items():
        setattr(product, name, value)
    _full_clean(product)
    product.save()
    return product


@transaction.atomic
def add_product_version(
    *, product: models.Product, effective_from: date, **changes: Any
) -> models.Product:
    """A copy of ``product`` as the next version of its code, with ``changes`` applied."""
    _editable(changes)
    latest = models.Product.objects.filter(code=product.code).aggregate(v=Max("version"))["v"]
    copy = models.Product.objects.get(pk=product.pk)
    copy.pk = None
    copy._state.adding = True
    copy.version = (latest or 0) + 1
    copy.effective_from = effective_from
    for name, value in changes.items():
        setattr(copy, name, value)
    _full_clean(copy)
    copy.save(force_insert=True)
    return copy


# --- borrowers --------------------------------------------------------------------------


@transaction.atomic
def create_borrower(
    *,
    ref: str,
    name: str,
    id_type: str,
    national_id: str,
    time_zone: str | None = None,
    locale: str = "zh-hans",
) -> models.Borrower:
    limits.check_ref(ref, name="borrower_ref")
    limits.check_text(name, name="name")
    borrower = models.Borrower(
        ref=ref,
        name=name,
        id_type=id_type,
        national_id=national_id,
        time_zone=time_zone or None,
        locale=locale,
    )
    _full_clean(borrower)
    borrower.save()
    return borrower


@transaction.atomic
def add_phone(
    *,
    borrower: models.Borrower,
    number: str,
    kind: str = models.Phone.Kind.MOBILE,
    source: str = models.Phone.Source.APPLICATION,
) -> models.Phone:
    """Add a phone (normalised to E.164); adding a number the borrower already has returns the
    existing row unchanged."""
    phone = models.Phone(borrower=borrower, number=number, kind=kind, source=source)
    _validated(phone.clean)
    existing = models.Phone.objects.filter(borrower=borrower, number=phone.number).first()
    if existing is not None:
        return existing
    _full_clean(phone)
    phone.save()
    return phone


# --- loans ------------------------------------------------------------------------------


def check_rate(value: Decimal) -> Decimal:
    """A rate that fits the stored ``Decimal(12, 8)`` exactly (no silent rounding)."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise errorcodes.refuse(
            InvalidTerms, "ledger-rate-not-decimal", field="rate", value=repr(value)
        )
    text = f"{value:f}"
    if value < 0:
        raise errorcodes.refuse(InvalidTerms, "ledger-rate-negative", field="rate", value=text)
    if value >= RATE_LIMIT:
        raise errorcodes.refuse(InvalidTerms, "ledger-rate-too-large", field="rate", value=text)
    exp = value.as_tuple().exponent
    if isinstance(exp, int) and exp < -RATE_MAX_DECIMALS:
        raise errorcodes.refuse(
            InvalidTerms,
            "ledger-rate-too-precise",
            field="rate",
            value=text,
            places=RATE_MAX_DECIMALS,
        )
    return value


def _choice(kind: Any, value: Any, field: str) -> Any:
    """``value`` as a member of the enum ``kind``, or a refusal naming the allowed values."""
    try:
        return kind(value)
    except ValueError:
        raise errorcodes.refuse(
            InvalidTerms,
            "ledger-unknown-choice",
            field=field,
            value=repr(value),
            allowed=[str(v.value) for v in kind],
        ) from None


def schedule_terms(
    *,
    product: models.Product,
    currency: str,
    principal_minor: int,
    rate: InterestRate,
    term: int,
    method: ScheduleMethod,
    start_date: date,
    day_count: DayCount,
) -> ScheduleTerms:
    """The kernel's terms of a schedule under the product's rounding, calendar and business-day
    convention (holiday data for every year the term can touch, plus one for a shift into
    January)."""
    years = range(start_date.year, start_date.year + term // 12 + 3)
    return ScheduleTerms(
        principal=principal_minor,
        currency=currency,
        rate=rate,
        term=term,
        method=ScheduleMethod(method),
        start=start_date,
        day_count=DayCount(day_count),
        rounding=Rounding(product.rounding),
        calendar=by_name(product.calendar, years),
        convention=BusinessDayConvention(product.convention),
    )


def schedule_for(
    *,
    product: models.Product,
    currency: str,
    principal_minor: int,
    rate: InterestRate,
    term: int,
    method: ScheduleMethod,
    start_date: date,
    day_count: DayCount,
) -> tuple[Instalment, ...]:
    """The kernel schedule of :func:`schedule_terms`."""
    return build_schedule(
        schedule_terms(
            product=product,
            currency=currency,
            principal_minor=principal_minor,
            rate=rate,
            term=term,
            method=method,
            start_date=start_date,
            day_count=day_count,
        )
    )


@transaction.atomic
def create_loan(
    *,
    ref: str,
    borrower: models.Borrower,
    product: models.Product,
    currency: str,
    principal_minor: int,
    rate_value: Decimal,
    rate_basis: RateBasis | str,
    term: int,
    method: ScheduleMethod | str,
    start_date: date,
    day_count: DayCount | str | None = None,
) -> models.Loan:
    """Create a loan and store the schedule the kernel builds for it (``day_count`` defaults
    to the product's). The product is currency-agnostic; the loan's currency must be known."""
    exponent(currency)
    check_rate(rate_value)
    # the ledger's limits (arrears.kernel.limits), before the database or the kernel sees them
    limits.check_ref(ref, name="loan_ref")
    limits.check_amount(principal_minor, name="principal")
    limits.check_date(start_date, name="start_date")
    limits.check_daily_rate(rate_value, str(rate_basis))
    if models.Loan.objects.filter(ref=ref).exists():
        raise errorcodes.refuse(DuplicateReference, "ledger-loan-exists", field="loan_ref", ref=ref)
    basis = _choice(RateBasis, rate_basis, "rate_basis")
    method = _choice(ScheduleMethod, method, "method")
    counted = _choice(DayCount, day_count or product.day_count, "day_count")
    product.terms()  # a product the kernel refuses must not get loans
    rate = InterestRate(rate_value, basis)
    schedule = schedule_for(
        product=product,
        currency=currency,
        principal_minor=principal_minor,
        rate=rate,
        term=term,
        method=method,
        start_date=start_date,
        day_count=counted,
    )
    loan = models.Loan.objects.create(
        ref=ref,
        borrower=borrower,
        product=product,
        currency=currency,
        principal_minor=principal_minor,
        rate_value=rate_value,
        rate_basis=basis.value,
        term=term,
        method=method.value,
        day_count=counted.value,
        start_date=start_date,
    )
    models.Schedule.objects.create(loan=loan, text=schedules.encode(schedule))
    return loan


# --- payments ---------------------------------------------------------------------------


def reference_taken(ref: str) -> bool:
    """Payment refs and reversal refs share one namespace: a ref names one event."""
    return models.Payment.objects.filter(Q(ref=ref) | Q(reversal_ref=ref)).exists()


@transaction.atomic
def record_payment(
    *,
    loan: models.Loan,
    ref: str,
    value_date: date,
    amount_minor: int,
    currency: str,
    source: str = "",
) -> models.Payment:
    """Record a payment received on ``value_date``; it must be in the loan's currency,
    positive, and not dated before the loan started."""
    if currency != loan.currency:
        raise errorcodes.refuse(
            CurrencyMismatch,
            "ledger-payment-currency",
            field="currency",
            ref=ref,
            currency=currency,
            loan=loan.ref,
            loan_currency=loan.currency,
        )
    if type(amount_minor) is not int or amount_minor <= 0:
        raise errorcodes.refuse(
            InvalidPayment, "ledger-payment-not-positive", field="amount", ref=ref
        )
    limits.check_amount(amount_minor, name="amount")
    limits.check_date(value_date, name="value_date")
    if value_date < loan.start_date:
        raise errorcodes.refuse(
            InvalidPayment,
            "ledger-payment-before-start",
            field="value_date",
            ref=ref,
            day=value_date,
            loan=loan.ref,
            start=loan.start_date,
        )
    if reference_taken(ref):
        raise errorcodes.refuse(
            DuplicateReference, "ledger-reference-taken", field="payment_ref", ref=ref
        )
    payment = models.Payment.objects.create(
        ref=ref,
        loan=loan,
        value_date=value_date,
        amount_minor=amount_minor,
        currency=currency,
        source=source,
    )
    _announce(payment, "recorded")
    return payment


def _announce(payment: models.Payment, change: str) -> None:
    transaction.on_commit(
        lambda: signals.payment_changed.send(sender=models.Payment, payment=payment, change=change)
    )


@transaction.atomic
def reverse_payment(
    *, payment: models.Payment, reversed_on: date, reversal_ref: str, reason: str
) -> models.Payment:
    """Reverse a payment (bounce, chargeback) from ``reversed_on``: from that date on the
    kernel treats it as never made. The row is kept; a payment is reversed at most once."""
    payment = models.Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.reversed_on is not None:
        raise errorcodes.refuse(
            InvalidReversal,
            "ledger-already-reversed",
            ref=payment.ref,
            day=payment.reversed_on,
            reversal=payment.reversal_ref,
        )
    if reversed_on < payment.value_date:
        raise errorcodes.refuse(
            InvalidReversal,
            "ledger-reversal-before-payment",
            field="reversed_on",
            day=reversed_on,
            ref=payment.ref,
            value_date=payment.value_date,
        )
    if not reversal_ref:
        raise errorcodes.refuse(
            InvalidReversal, "ledger-reversal-ref-required", field="reversal_ref"
        )
    if reference_taken(reversal_ref):
        raise errorcodes.refuse(
            DuplicateReference, "ledger-reference-taken", field="reversal_ref", ref=reversal_ref
        )
    payment.reversed_on = reversed_on
    payment.reversal_ref = reversal_ref
    payment.reversal_reason = reason
    payment.reversed_at = timezone.now()
    payment.save(update_fields=["reversed_on", "reversal_ref", "reversal_reason", "reversed_at"])
    _announce(payment, "reversed")
    return payment
