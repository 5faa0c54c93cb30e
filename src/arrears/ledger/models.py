"""The ledger: versioned products, borrowers and their phones, loans with their schedules,
payments, and a record of every import.

Amounts are ``BigIntegerField`` counts of minor units (names end in ``_minor``) in the loan's
currency; rates are ``DecimalField``; there is no float anywhere. Business logic lives in
:mod:`arrears.ledger.services`; models only validate their own rows and convert to kernel values.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Right

from arrears.calendars import CALENDAR_NAMES
from arrears.kernel.calendar import BusinessDayConvention
from arrears.kernel.errors import ArrearsError
from arrears.kernel.money import Rounding
from arrears.kernel.terms import (
    DEFAULT_BUCKETS,
    PENALTY_FIRST,
    PRODUCT_KEYS,
    AccrualRounding,
    Component,
    DayCount,
    Instalment,
    ProductTerms,
    RateBasis,
    ScheduleMethod,
    product_terms_from,
)
from arrears.ledger import schedules
from arrears.ledger.masking import mask_national_id, mask_phone
from arrears.ledger.validators import (
    ID_TYPES,
    LOCALES,
    normalise_national_id,
    normalise_phone,
    validate_allocation_order,
    validate_currency,
    validate_time_zone,
)


def _choices(values: Iterable[StrEnum] | Iterable[str]) -> list[tuple[str, str]]:
    return [(str(v), str(v)) for v in values]


def default_buckets() -> list[dict[str, Any]]:
    """The kernel's default M0…M7+ ladder as JSON (a callable, so each product gets a copy)."""
    return [{"name": b.name, "min_dpd": b.min_dpd, "max_dpd": b.max_dpd} for b in DEFAULT_BUCKETS]


DEFAULT_ALLOCATION_ORDER = ",".join(c.value for c in PENALTY_FIRST)


class Product(models.Model):
    """One version of a loan product. A version referenced by a loan is frozen: changing the
    rules means a new version, so every loan keeps being computed by the rules it was sold with.
    """

    code = models.CharField(max_length=40)
    version = models.PositiveIntegerField(default=1)
    name = models.CharField(max_length=200)
    effective_from = models.DateField()
    # --- kernel ProductTerms ------------------------------------------------------------
    penalty_multiplier = models.DecimalField(max_digits=8, decimal_places=4, default=Decimal("1.5"))
    compound = models.BooleanField(default=False)
    grace_days = models.PositiveSmallIntegerField(default=0)
    grace_retroactive = models.BooleanField(default=False)
    cost_cap_annual = models.DecimalField(max_digits=8, decimal_places=4, null=True, blank=True)
    rounding = models.CharField(
        max_length=12, choices=_choices(Rounding), default=Rounding.HALF_UP.value
    )
    accrual_rounding = models.CharField(
        max_length=12, choices=_choices(AccrualRounding), default=AccrualRounding.DAILY.value
    )
    allocation_order = models.CharField(
        max_length=80, default=DEFAULT_ALLOCATION_ORDER, validators=[validate_allocation_order]
    )
    tolerance_minor = models.BigIntegerField(default=0)
    buckets = models.JSONField(default=default_buckets)
    # --- schedule defaults --------------------------------------------------------------
    day_count = models.CharField(
        max_length=12, choices=_choices(DayCount), default=DayCount.THIRTY_360.value
    )
    calendar = models.CharField(max_length=12, choices=_choices(CALENDAR_NAMES), default="none")
    convention = models.CharField(
        max_length=20,
        choices=_choices(BusinessDayConvention),
        default=BusinessDayConvention.NONE.value,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("code", "version")
        constraints = (
            models.UniqueConstraint(fields=["code", "version"], name="product_code_version_unique"),
            models.CheckConstraint(
                condition=Q(tolerance_minor__gte=0), name="product_tolerance_not_negative"
            ),
        )

    def __str__(self) -> str:
        return f"{self.code} v{self.version} ({self.name})"

    def terms(self) -> ProductTerms:
        """The kernel's view of this product; raises :class:`InvalidTerms` when the rules are
        inconsistent (the kernel is the single place that knows what a valid product is)."""
        return product_terms_from({key: getattr(self, key) for key in PRODUCT_KEYS})

    def clean(self) -> None:
        """Refuse a product the kernel would refuse, so admin cannot save a broken one."""
        try:
            self.terms()
        except ArrearsError as error:
            raise ValidationError(str(error), code=error.code) from None

    @property
    def in_use(self) -> bool:
        return self.pk is not None and self.loans.exists()


class Borrower(models.Model):
    """A person who owes. ``national_id`` is stored compact and validated for its ``id_type``;
    it is shown masked everywhere except the borrower's own change page."""

    class IdType(models.TextChoices):
        CN_RIC = "cn_ric", "PRC resident ID (居民身份证)"
        US_SSN = "us_ssn", "US Social Security number"
        OTHER = "other", "Other document"

    class Locale(models.TextChoices):
        ZH_HANS = "zh-hans", "简体中文"
        EN = "en", "English"

    ref = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    id_type = models.CharField(max_length=10, choices=IdType.choices, default=IdType.CN_RIC)
    national_id = models.CharField(max_length=32)
    time_zone = models.CharField(
        max_length=64,
        null=True,
        blank=True,
        validators=[validate_time_zone],
        help_text="IANA name; empty when unknown",
    )
    locale = models.CharField(max_length=10, choices=Locale.choices, default=Locale.ZH_HANS)
    email = models.EmailField(blank=True, default="", help_text="for email notices; optional")
    postal_address = models.TextField(blank=True, default="", help_text="for letters; optional")
    created_at = models.DateTimeField(auto_now_add=True)
    #: The ID's last four characters, computed by the database (every write path keeps it) and
    #: indexed: the workbench search finds a borrower by an ID suffix without reading every ID.
    national_id_tail = models.GeneratedField(
        expression=Right("national_id", 4),
        output_field=models.CharField(max_length=4),
        db_persist=True,
    )

    class Meta:
        ordering = ("ref",)
        indexes = (
            # the workbench search's name prefix (PostgreSQL's LIKE 'x%' needs the pattern
            # opclass)
            models.Index(
                fields=["name"], name="borrower_name_prefix", opclasses=["varchar_pattern_ops"]
            ),
            # the ID suffix search: the tail is only compared whole, so one plain index (a
            # field's db_index would add a pattern index on PostgreSQL, written by every
            # import and never read)
            models.Index(fields=["national_id_tail"], name="borrower_id_tail"),
        )

    def __str__(self) -> str:
        return f"{self.ref} {self.name} ({self.masked_national_id})"

    @property
    def masked_national_id(self) -> str:
        return mask_national_id(self.national_id or "")

    def clean(self) -> None:
        if self.id_type not in ID_TYPES:
            return  # the choices check on the field reports it
        try:
            self.national_id = normalise_national_id(self.national_id, self.id_type)
        except ArrearsError as error:
            raise ValidationError({"national_id": str(error)}, code=error.code) from None
        if self.time_zone == "":
            self.time_zone = None
        if self.locale not in LOCALES:  # pragma: no cover - choices already refuse it
            raise ValidationError({"locale": f"expected one of {', '.join(LOCALES)}"})


class Phone(models.Model):
    """A phone number of a borrower in E.164; ``is_valid`` off marks a known wrong number."""

    class Kind(models.TextChoices):
        MOBILE = "mobile"
        HOME = "home"
        WORK = "work"

    class Source(models.TextChoices):
        APPLICATION = "application"
        BORROWER = "borrower"
        CONTACT_REPAIR = "contact_repair"
        THIRD_PARTY = "third_party"

    #: Not indexed alone: the unique (borrower, number) index begins with it and serves every
    #: lookup by borrower.
    borrower = models.ForeignKey(
        Borrower, on_delete=models.CASCADE, related_name="phones", db_index=False
    )
    number = models.CharField(max_length=20)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.MOBILE)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.APPLICATION)
    is_valid = models.BooleanField(default=True, help_text="off: known wrong number")
    created_at = models.DateTimeField(auto_now_add=True)
    #: The number's last four digits, computed by the database and indexed, for the workbench
    #: search by phone suffix (a suffix cannot use an index on the number itself).
    number_tail = models.GeneratedField(
        expression=Right("number", 4),
        output_field=models.CharField(max_length=4),
        db_persist=True,
    )

    class Meta:
        ordering = ("borrower_id", "id")
        constraints = (
            models.UniqueConstraint(fields=["borrower", "number"], name="phone_borrower_number"),
        )
        # compared whole only: one plain index, not a field's db_index (see Borrower's)
        indexes = (models.Index(fields=["number_tail"], name="phone_number_tail"),)

    def __str__(self) -> str:
        return mask_phone(self.number or "")

    @property
    def masked_number(self) -> str:
        return mask_phone(self.number or "")

    def clean(self) -> None:
        """Normalise to E.164 (national numbers are read as mainland China numbers)."""
        try:
            self.number = normalise_phone(self.number)
        except ArrearsError as error:
            raise ValidationError({"number": str(error)}, code=error.code) from None


class Loan(models.Model):
    """A loan (借据) on one product version, with the schedule the kernel built for it when it
    was created (its :class:`Schedule`, read as :attr:`instalments`)."""

    ref = models.CharField(max_length=64, unique=True)
    borrower = models.ForeignKey(Borrower, on_delete=models.PROTECT, related_name="loans")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="loans")
    currency = models.CharField(max_length=3, validators=[validate_currency])
    principal_minor = models.BigIntegerField()
    rate_value = models.DecimalField(max_digits=12, decimal_places=8)
    rate_basis = models.CharField(max_length=10, choices=_choices(RateBasis))
    term = models.PositiveSmallIntegerField()
    method = models.CharField(max_length=20, choices=_choices(ScheduleMethod))
    day_count = models.CharField(max_length=12, choices=_choices(DayCount))
    start_date = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    #: Bumped by database triggers (migration ``0004_loan_revision``) on every write to the
    #: loan, its schedule, its product, payments, waivers, plans and plan instalments,
    #: whatever the write path. It only ever grows, so a stored daily state
    #: computed at this revision is still exact while the revision is unchanged (the daily
    #: rerun skips such loans).
    revision = models.BigIntegerField(default=0, db_default=0, editable=False)

    class Meta:
        ordering = ("ref",)
        constraints = (
            models.CheckConstraint(
                condition=Q(principal_minor__gt=0), name="loan_principal_positive"
            ),
            models.CheckConstraint(condition=Q(rate_value__gte=0), name="loan_rate_not_negative"),
            models.CheckConstraint(condition=Q(term__gte=1), name="loan_term_positive"),
        )

    def __str__(self) -> str:
        return self.ref

    @property
    def instalments(self) -> tuple[Instalment, ...]:
        """The stored schedule as the kernel's instalments, in ``seq`` order
        (:class:`~arrears.kernel.errors.ScheduleUnreadable` if it is missing or was changed
        past the services into something else). Select it with the loan
        (``select_related("schedule")``) where many loans are read."""
        try:
            text = self.schedule.text
        except Schedule.DoesNotExist:
            text = ""
        return schedules.decode(text)


class Schedule(models.Model):
    """A loan's schedule: its instalments (期供) exactly as the kernel built them, as one text
    value (:mod:`arrears.ledger.schedules`), one row a loan (migration 0009).

    Written once, when the loan is created, and always read whole, so one row a loan rather
    than one an instalment (twelve rows, index entries and foreign-key checks a loan were two
    thirds of a PostgreSQL import's server work); and a row of its own rather than a column of
    the loan, so the loan's row stays narrow: every payment, waiver and plan bumps the loan's
    revision, and an update rewrites the whole row (docs/architecture.md, "The stored
    schedule")."""

    loan = models.OneToOneField(
        Loan, on_delete=models.CASCADE, primary_key=True, related_name="schedule"
    )
    text = models.TextField()

    def __str__(self) -> str:
        return f"schedule of {self.loan_id}"


class Payment(models.Model):
    """A payment received (还款). A reversal (bounce, chargeback) is recorded on the payment
    itself with the date from which it counts as never made (``reversed_on``) and the instant
    it was recorded (``reversed_at``: a reversal back-dated into a past month is not known to
    a report as of that month's end run later); rows are never deleted."""

    ref = models.CharField(max_length=64, unique=True)
    #: No index of its own: ``payment_loan_value_date`` starts with it.
    loan = models.ForeignKey(
        Loan, on_delete=models.PROTECT, related_name="payments", db_index=False
    )
    value_date = models.DateField()
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3, validators=[validate_currency])
    reversed_on = models.DateField(null=True, blank=True)
    reversal_ref = models.CharField(max_length=64, null=True, blank=True, unique=True)
    reversal_reason = models.CharField(max_length=200, blank=True, default="")
    #: When the reversal was recorded; empty on a reversal recorded before this column
    #: existed and found nowhere in the audit chain: read as recorded at the start of
    #: ``reversed_on`` (``reports.history.reversal_known``).
    reversed_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("loan_id", "value_date", "ref")
        constraints = (
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(reversed_on__isnull=True) | Q(reversed_on__gte=F("value_date")),
                name="payment_reversed_after_value_date",
            ),
            models.CheckConstraint(
                condition=(Q(reversed_on__isnull=True) & Q(reversal_ref__isnull=True))
                | (Q(reversed_on__isnull=False) & Q(reversal_ref__isnull=False)),
                name="payment_reversal_complete",
            ),
        )
        indexes = (models.Index(fields=["loan", "value_date"], name="payment_loan_value_date"),)

    def __str__(self) -> str:
        return self.ref


class Approval(models.TextChoices):
    """Where a concession (waiver, plan) stands in its maker-checker approval."""

    REQUESTED = "requested"  # made, waiting for (enough) approvers
    APPROVED = "approved"  # in force: the kernel reads it
    REJECTED = "rejected"
    REVERSED = "reversed"  # was in force; counts as never made from ``reversed_on``


class Waiver(models.Model):
    """A waiver (减免) of one component of a loan's debt, in force once approved.

    Only approved waivers reach the kernel; reversing one sets ``reversed_on`` and the replay
    treats it as never made from that date; ``reversed_at`` is when the reversal was recorded
    (as on a payment). Waived totals are derived by replay, never stored.
    """

    class Reason(models.TextChoices):
        HARDSHIP = "hardship"
        COMPLAINT = "complaint"
        GOODWILL = "goodwill"
        SETTLEMENT = "settlement"
        ERROR = "error", "Correction of an error"
        DECEASED = "deceased"

    ref = models.CharField(max_length=64, unique=True)
    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="waivers")
    component = models.CharField(max_length=10, choices=_choices(Component))
    amount_minor = models.BigIntegerField()
    effective_on = models.DateField()
    reason = models.CharField(max_length=12, choices=Reason.choices)
    note = models.TextField(blank=True, default="")
    status = models.CharField(max_length=10, choices=Approval.choices, default=Approval.REQUESTED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    approvals = models.JSONField(default=list, blank=True, help_text="[{user, role, at}]")
    reversed_on = models.DateField(null=True, blank=True)
    reversal_reason = models.CharField(max_length=200, blank=True, default="")
    reversed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("loan_id", "effective_on", "ref")
        constraints = (
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="waiver_amount_positive"),
        )

    def __str__(self) -> str:
        return f"{self.ref} {self.component} {self.amount_minor} ({self.status})"


class RepaymentPlan(models.Model):
    """A negotiated repayment plan (分期协商) or settlement of one loan.

    Proposed by a collector, in force once approved: the kernel then freezes penalty accrual and
    measures days past due on the plan's instalments; it breaks itself when an instalment stays
    unpaid past ``grace_days`` (derived by replay, so ``explain`` and the daily run agree).
    """

    ref = models.CharField(max_length=64, unique=True)
    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="plans")
    effective_on = models.DateField()
    grace_days = models.PositiveSmallIntegerField(default=3)
    tolerance_minor = models.BigIntegerField(default=0)
    waive_rest = models.BooleanField(default=False, help_text="settlement: waive what remains")
    concession_minor = models.BigIntegerField(
        default=0, help_text="current path cost minus plan cost, from the preview"
    )
    status = models.CharField(max_length=10, choices=Approval.choices, default=Approval.REQUESTED)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    approvals = models.JSONField(default=list, blank=True, help_text="[{user, role, at}]")
    note = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("loan_id", "effective_on", "ref")

    def __str__(self) -> str:
        return f"{self.ref} from {self.effective_on} ({self.status})"


class PlanInstalment(models.Model):
    """One instalment of a repayment plan."""

    plan = models.ForeignKey(RepaymentPlan, on_delete=models.CASCADE, related_name="instalments")
    seq = models.PositiveSmallIntegerField()
    due_date = models.DateField()
    amount_minor = models.BigIntegerField()

    class Meta:
        ordering = ("plan_id", "seq")
        constraints = (
            models.UniqueConstraint(fields=["plan", "seq"], name="plan_instalment_seq"),
            models.CheckConstraint(
                condition=Q(amount_minor__gt=0), name="plan_instalment_amount_positive"
            ),
        )

    def __str__(self) -> str:
        return f"{self.plan_id} #{self.seq} {self.amount_minor} due {self.due_date}"


class ImportBatch(models.Model):
    """One run of ``arrears import``: which file (by content hash) and what it changed."""

    class Kind(models.TextChoices):
        LOANS = "loans"
        PAYMENTS = "payments"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    row_count = models.PositiveIntegerField()
    applied_count = models.PositiveIntegerField()
    skipped_count = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name_plural = "import batches"

    def __str__(self) -> str:
        return f"{self.kind} {self.file_name} ({self.applied_count} applied)"
