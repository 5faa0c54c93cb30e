"""The collections workflow's records: strategies, teams, cases, work, contacts, promises, holds.

Cases group a borrower's delinquent loans; everything that happens to a case is a
:class:`CaseEvent` with its cause, and everything the daily run asks for is a :class:`WorkItem`
with an idempotency key, so re-running a day adds nothing. Amounts are integer minor units.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy


class StrategyVersion(models.Model):
    """A published strategy document. Exactly one is active; the daily run uses the one active
    when it starts, and records its name and version on every event and work item."""

    name = models.CharField(max_length=80)
    version = models.PositiveIntegerField()
    source = models.TextField(help_text="the YAML document as published")
    sha256 = models.CharField(max_length=64)
    active = models.BooleanField(default=False)
    published_at = models.DateTimeField(auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ("-published_at",)
        constraints = (
            models.UniqueConstraint(fields=["name", "version"], name="strategy_name_version"),
            models.UniqueConstraint(
                fields=["active"], condition=Q(active=True), name="strategy_one_active"
            ),
        )

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class Team(models.Model):
    """A collection team; ``owner`` is the strategy stage owner it works (e.g. internal_team)."""

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    owner = models.CharField(max_length=40, db_index=True, help_text="strategy stage owner")
    #: What the team should collect in a calendar month, in minor units of ``target_currency``
    #: (the team dashboard sets the month's payments against it); 0 means no target set.
    monthly_target_minor = models.BigIntegerField(
        default=0,
        help_text="payments the team should collect in a month, in minor units "
        "(100000 = CNY 1,000.00); 0: no target",
    )
    target_currency = models.CharField(max_length=3, default="CNY")

    class Meta:
        ordering = ("code",)
        constraints = (
            models.CheckConstraint(
                condition=Q(monthly_target_minor__gte=0), name="team_target_not_negative"
            ),
        )

    def __str__(self) -> str:
        return self.name


class Collector(models.Model):
    """A user who works cases, with a role that sets their approval limits."""

    class Role(models.TextChoices):
        COLLECTOR = "collector", gettext_lazy("Collector")
        TEAM_LEAD = "team_lead", gettext_lazy("Team lead")
        MANAGER = "manager", gettext_lazy("Collections manager")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collector"
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="collectors")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.COLLECTOR)
    capacity = models.PositiveIntegerField(default=100, help_text="most open cases at once")
    available = models.BooleanField(default=True, help_text="off: no new cases, cases released")

    class Meta:
        ordering = ("team__code", "user__username")

    def __str__(self) -> str:
        return f"{self.user.get_username()} ({self.team.code})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save, and when the collector is new or changes team, record the move
        (:class:`TeamMembership`) in the same transaction: a report as of a past day puts a
        collector's work under the team they were in then."""
        fields = kwargs.get("update_fields")
        moved = (fields is None or "team" in fields or "team_id" in fields) and (
            self._state.adding
            or not Collector.objects.filter(pk=self.pk, team_id=self.team_id).exists()
        )
        with transaction.atomic():
            super().save(*args, **kwargs)
            if moved:
                TeamMembership.objects.create(
                    collector=self, team_id=self.team_id, since=timezone.now()
                )

    @staticmethod
    def role_of(user: object) -> str:
        """The user's collections role, or '' for someone without a collector profile."""
        try:
            return str(user.collector.role)  # type: ignore[attr-defined]
        except (Collector.DoesNotExist, AttributeError):
            return ""

    @staticmethod
    def supervises(user: object) -> bool:
        """A team lead, a manager, or a superuser."""
        return Collector.role_of(user) in (
            Collector.Role.TEAM_LEAD,
            Collector.Role.MANAGER,
        ) or bool(getattr(user, "is_superuser", False))


class TeamMembership(models.Model):
    """A collector's team from an instant on: written by :meth:`Collector.save` whenever a
    collector is created or moved, never changed. ``since`` is when the move was recorded
    (a move has no business date: it holds from when it was made); empty on the rows the
    migration that introduced this history wrote for the teams collectors were already in,
    with nothing older known (in force since before any record). The team of a collector
    as of an instant is the last row with ``since`` before it (``reports.history.teams``)."""

    collector = models.ForeignKey(Collector, on_delete=models.CASCADE, related_name="memberships")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    since = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("collector_id", "id")
        indexes = (models.Index(fields=["collector", "since"], name="membership_collector_since"),)

    def __str__(self) -> str:
        return f"{self.collector_id} in {self.team_id} since {self.since or 'the start'}"


class ApprovalLimit(models.Model):
    """How much a role may approve, per kind (waiver, plan). Edited in the admin, never in code.

    ``approve_up_to`` (minor units of the loan's currency; at the limit is allowed) bounds the
    *running total* of that kind of concession on the borrower's loans over
    ``settings.ARREARS_CONCESSION_WINDOW_DAYS`` — this request plus the others requested or
    approved in the window — so splitting a request does not get past it. There is no
    self-approval amount: the maker never approves their own request (maker-checker), whatever
    the amount. Above ``settings.ARREARS_DUAL_APPROVAL_ABOVE[kind]`` two approvers, neither the
    maker, are needed. A role without a row approves nothing.
    """

    class Kind(models.TextChoices):
        WAIVER = "waiver", gettext_lazy("Waiver")
        PLAN = "plan", gettext_lazy("Repayment plan concession")

    kind = models.CharField(max_length=10, choices=Kind.choices)
    role = models.CharField(max_length=20, choices=Collector.Role.choices)
    approve_up_to = models.BigIntegerField(
        default=0,
        help_text="the most this role may approve, in minor units (100000 = CNY 1,000.00), "
        "counting the borrower's other concessions of this kind in the window",
    )

    class Meta:
        ordering = ("kind", "approve_up_to")
        verbose_name = gettext_lazy("approval limit")
        verbose_name_plural = gettext_lazy("approval limits")
        constraints = (
            models.UniqueConstraint(fields=["kind", "role"], name="limit_kind_role"),
            models.CheckConstraint(
                condition=Q(approve_up_to__gte=0), name="limit_approve_up_to_not_negative"
            ),
        )

    def __str__(self) -> str:
        return f"{self.kind} {self.role} ≤ {self.approve_up_to}"


class Case(models.Model):
    """One borrower in arrears (案件). At most one open case per borrower."""

    class Status(models.TextChoices):
        OPEN = "open"
        PROMISED = "promised"
        IN_PLAN = "in_plan"
        ON_HOLD = "on_hold"
        PLACED = "placed"
        FIELD = "field"
        RESOLVED = "resolved"
        WRITTEN_OFF = "written_off"

    class Resolution(models.TextChoices):
        CURED = "cured"  # back to current, loans still running
        PAID = "paid"  # every loan of the case paid off

    borrower = models.ForeignKey("ledger.Borrower", on_delete=models.PROTECT, related_name="cases")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    resolution = models.CharField(max_length=8, choices=Resolution.choices, blank=True, default="")
    currency = models.CharField(max_length=3)
    opened_on = models.DateField()
    closed_on = models.DateField(null=True, blank=True)
    stage = models.CharField(max_length=40, blank=True, default="")
    stage_since = models.DateField(null=True, blank=True)
    owner = models.CharField(max_length=40, blank=True, default="", help_text="stage owner queue")
    variant = models.CharField(max_length=40, blank=True, default="")
    strategy = models.ForeignKey(
        StrategyVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    collector = models.ForeignKey(
        Collector, null=True, blank=True, on_delete=models.SET_NULL, related_name="cases"
    )
    assigned_on = models.DateField(null=True, blank=True)
    priority = models.BigIntegerField(default=0)
    dpd = models.PositiveIntegerField(default=0)
    bucket = models.CharField(max_length=16, blank=True, default="")
    total_due_minor = models.BigIntegerField(default=0)
    evaluated_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ("-priority", "id")
        constraints = (
            models.UniqueConstraint(
                fields=["borrower"], condition=Q(closed_on__isnull=True), name="case_one_open"
            ),
        )
        indexes = (models.Index(fields=["owner", "status"], name="case_owner_status"),)

    def __str__(self) -> str:
        return f"case {self.pk} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.closed_on is None


class CaseEvent(models.Model):
    """A change to a case with its cause; ``key`` makes the daily run's events idempotent."""

    class Kind(models.TextChoices):
        OPENED = "opened"
        STATUS = "status"
        STAGE = "stage"
        ASSIGNED = "assigned"
        PROMISE = "promise"
        PLAN = "plan"
        WAIVER = "waiver"
        HOLD = "hold"
        CONTACT = "contact"
        CLOSED = "closed"
        PLACEMENT = "placement"  # placed with or recalled from an agency
        LETTER = "letter"  # a lawyer's letter issued or withdrawn
        VISIT = "visit"  # a field visit's step
        COMPLAINT = "complaint"  # a complaint or dispute received, acknowledged or resolved

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    on = models.DateField()
    at = models.DateTimeField(auto_now_add=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    from_value = models.CharField(max_length=60, blank=True, default="")
    to_value = models.CharField(max_length=60, blank=True, default="")
    cause = models.TextField()
    strategy = models.CharField(max_length=100, blank=True, default="", help_text="name vN")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    key = models.CharField(max_length=200, null=True, blank=True, unique=True)

    class Meta:
        ordering = ("on", "id")

    def __str__(self) -> str:
        return f"{self.on} {self.kind} {self.from_value}→{self.to_value}"


class WorkItem(models.Model):
    """One treatment the strategy asked for on one day: a message, a call task, a placement…

    ``key`` = the contact: borrower, channel, template and date (``workflow.contact_key``), never
    the strategy version (recorded in ``strategy``): the unique constraint is what makes
    re-running a day — under the same or a newly published version — create nothing new.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        DONE = "done"
        SUPPRESSED = "suppressed"
        CANCELLED = "cancelled"

    key = models.CharField(max_length=200, unique=True)
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.CASCADE, related_name="work_items"
    )
    borrower = models.ForeignKey(
        "ledger.Borrower", on_delete=models.CASCADE, related_name="work_items"
    )
    due_on = models.DateField()
    stage = models.CharField(max_length=40)
    treatment = models.PositiveSmallIntegerField()
    channel = models.CharField(max_length=20)
    template = models.CharField(max_length=80)
    owner = models.CharField(max_length=40)
    collector = models.ForeignKey(
        Collector, null=True, blank=True, on_delete=models.SET_NULL, related_name="work_items"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    status_reason = models.CharField(max_length=200, blank=True, default="")
    reason = models.TextField(help_text="strategy version and condition that asked for it")
    strategy = models.CharField(max_length=100)
    variant = models.CharField(max_length=40)
    priority = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("due_on", "-priority", "id")
        indexes = (
            models.Index(fields=["owner", "status", "due_on"], name="work_owner_status_due"),
            models.Index(fields=["channel", "status"], name="work_channel_status"),
        )

    def __str__(self) -> str:
        return f"{self.due_on} {self.channel}:{self.template} ({self.status})"


class ContactAttempt(models.Model):
    """One contact attempt (催记): who was tried, how, and what came of it.

    An outbound attempt also keeps the compliance gate's answer for it at its time
    (``gate_outcome``, ``gate_rules``). One the gate would not have allowed is only recorded
    with an ``override_reason`` and is then ``overridden`` — a flag compliance can query.
    A callback request is the person's prior consent to be called in a window
    (``consent_by`` the party who asked, ``consent_starts``/``consent_ends``), which the gate
    honours for that person only. A visit lists its ``visitors`` (the collectors who went).
    """

    class Channel(models.TextChoices):
        CALL = "call"
        SMS = "sms"
        EMAIL = "email"
        LETTER = "letter"
        VISIT = "visit"
        IN_APP = "in_app"

    class Direction(models.TextChoices):
        OUTBOUND = "outbound"
        INBOUND = "inbound"

    class Party(models.TextChoices):
        BORROWER = "borrower"
        CO_BORROWER = "co_borrower"
        EMERGENCY_CONTACT = "emergency_contact"
        THIRD_PARTY = "third_party"

    class Outcome(models.TextChoices):
        RIGHT_PARTY = "rpc", "Right-party contact"
        NO_ANSWER = "no_answer", "No answer"
        WRONG_NUMBER = "wrong_number", "Wrong number"
        THIRD_PARTY = "third_party", "Third party reached"
        REFUSED = "refused", "Refused to pay"
        DISPUTE = "dispute", "Disputes the debt"
        HARDSHIP = "hardship", "Hardship"
        PROMISE = "promise", "Promise made"
        CALLBACK = "callback", "Callback requested"
        HUNG_UP = "hung_up", "Answered and hung up"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="contacts")
    collector = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    work_item = models.ForeignKey(
        WorkItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )
    at = models.DateTimeField()
    channel = models.CharField(max_length=10, choices=Channel.choices)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    party = models.CharField(max_length=20, choices=Party.choices)
    phone = models.ForeignKey(
        "ledger.Phone", null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )
    outcome = models.CharField(max_length=15, choices=Outcome.choices)
    note = models.TextField(blank=True, default="")
    recording_ref = models.CharField(max_length=200, blank=True, default="")
    gate_outcome = models.CharField(
        max_length=6, blank=True, default="", help_text="allow | deny | defer; blank if inbound"
    )
    gate_rules = models.JSONField(default=list, blank=True, help_text="rules that fired")
    overridden = models.BooleanField(
        default=False, db_index=True, help_text="logged although the gate would not allow it"
    )
    override_reason = models.TextField(blank=True, default="")
    #: When the row was recorded (``at`` is when the contact was made, and may be
    #: back-dated); empty on a row from before this column that the audit chain gave no
    #: instant for (``reports.history`` then reads it by its own time).
    created_at = models.DateTimeField(auto_now_add=True, null=True, blank=True)
    consent_by = models.CharField(
        max_length=20, blank=True, default="", help_text="the party who asked to be contacted"
    )
    consent_starts = models.DateTimeField(null=True, blank=True)
    consent_ends = models.DateTimeField(null=True, blank=True)
    visitors = models.JSONField(default=list, blank=True, help_text="who went on a visit")
    agency = models.ForeignKey(
        "agencies.Agency",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contacts",
        help_text="the agency whose user logged or reported it",
    )

    class Meta:
        ordering = ("at", "id")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.channel} {self.outcome}"


class Promise(models.Model):
    """A promise to pay (承诺还款): ``amount`` by ``due_date``, judged with ``tolerance``."""

    class Status(models.TextChoices):
        PENDING = "pending"
        KEPT = "kept"
        PARTIAL = "partially_kept"
        BROKEN = "broken"
        CANCELLED = "cancelled"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="promises")
    amount_minor = models.BigIntegerField()
    made_on = models.DateField()
    due_date = models.DateField()
    tolerance_minor = models.BigIntegerField(default=0)
    status = models.CharField(max_length=15, choices=Status.choices, default=Status.PENDING)
    paid_minor = models.BigIntegerField(default=0, help_text="paid from made_on to due_date")
    resolved_on = models.DateField(null=True, blank=True)
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    contact = models.ForeignKey(
        ContactAttempt, null=True, blank=True, on_delete=models.SET_NULL, related_name="promises"
    )
    agency = models.ForeignKey(
        "agencies.Agency",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="promises",
        help_text="the agency whose user took the promise",
    )
    #: When the row was recorded (``made_on`` may be back-dated); empty on a row from before
    #: this column that the audit chain gave no instant for (``reports.history`` then reads
    #: it by its own time).
    created_at = models.DateTimeField(auto_now_add=True, null=True, blank=True)

    class Meta:
        ordering = ("due_date", "id")
        constraints = (
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="promise_amount_positive"),
            models.CheckConstraint(
                condition=Q(due_date__gte=models.F("made_on")), name="promise_due_after_made"
            ),
        )

    def __str__(self) -> str:
        return f"promise {self.amount_minor} by {self.due_date} ({self.status})"


class Hold(models.Model):
    """A stop on collection (暂停催收) for a borrower or one loan, with a mandatory end.

    ``channels`` empty means every treatment stops; otherwise only the named channels do.
    Anyone working the case may place any hold; who may *release* one early depends on its
    reason (``arrears.collections.holds.RELEASE_ROLES``), and the release names who did it.
    """

    class Reason(models.TextChoices):
        COMPLAINT = "complaint"
        DISPUTE = "dispute"
        HARDSHIP = "hardship"
        DECEASED = "deceased"
        LEGAL = "legal"
        #: the borrower's own plan request waits for a decision (portal): reminders pause,
        #: released when it is approved or rejected
        PLAN_REQUEST = "plan_request"

    borrower = models.ForeignKey("ledger.Borrower", on_delete=models.CASCADE, related_name="holds")
    loan = models.ForeignKey(
        "ledger.Loan", null=True, blank=True, on_delete=models.CASCADE, related_name="holds"
    )
    reason = models.CharField(max_length=12, choices=Reason.choices)
    channels = models.JSONField(default=list, blank=True)
    starts_on = models.DateField()
    ends_on = models.DateField()
    released_on = models.DateField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("starts_on", "id")
        permissions = (
            # compliance: may release a hold of any reason (a Django group in the admin)
            ("release_any_hold", "Can release a hold of any reason"),
        )
        constraints = (
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="hold_ends_after_start"
            ),
        )

    def __str__(self) -> str:
        return f"hold {self.reason} {self.starts_on}–{self.ends_on}"

    def active_on(self, day: date) -> bool:
        """In force on ``day``: started, not past its end, not released on or before it."""
        return self.starts_on <= day <= self.ends_on and (
            self.released_on is None or self.released_on > day
        )
