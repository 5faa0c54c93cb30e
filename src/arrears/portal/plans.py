"""Make a plan: a borrower proposes a promise to pay or a repayment plan from the portal.

The portal adds no second workflow: a promise goes through ``collections.services.
make_promise`` and a plan through ``concessions.propose_plan``, so the case, the ledger,
``explain`` and the approval inbox see them exactly as a collector's. What the portal adds:

* **Who acts.** A borrower is not a Django user, so a request is filed by the named account
  ``portal`` (inactive, no password): it is the *maker*, and the approval inbox shows it as the
  source. A plan within the lender's bounds (``ARREARS_PORTAL_PLANS``, :func:`limits`) is
  approved at once by a second named account, ``portal-auto-approval``, through
  ``concessions.approve_plan_by_system`` — never by the maker, re-measured against the ledger,
  weighed as the borrower's running total of plan concessions. The role limits bind people, and
  this account is no collector, so it cannot approve anything else anywhere.
* **Anything else goes to a team lead.** A plan outside the bounds stays ``requested`` in
  ``/approvals/`` like a collector's proposal, and a ``plan_request`` hold pauses the reminders
  (texts, robocalls, calls, email, in-app — what a pending promise quiets) for ``hold_days``.
  The hold is released by the portal itself (:func:`on_plan_saved`) the moment the plan is
  approved or rejected, whoever decides; otherwise it simply ends. It is tied to its plan by
  its note (``portal request <ref>:``).
* **One open request per loan.** A pending promise on the borrower's case or a requested or
  active plan on the loan refuses a new request with a sentence saying why.
* **Confirmations.** A promise is confirmed by the ``promise_confirmation`` SMS and an approved
  portal plan by ``plan_confirmation``, queued through the outbox (``queue_notice``, so the gate
  decides at dispatch); :func:`notice_variables` gives their amounts and dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import prefetch_related_objects

from arrears import errorcodes
from arrears.collections import concessions, services
from arrears.collections.models import Case, Hold, Promise
from arrears.collections.workflow import REMINDER_CHANNELS, business_date, reevaluate
from arrears.contact.models import OutboxMessage
from arrears.contact.outbox import queue_notice
from arrears.formatting import format_money
from arrears.kernel.errors import ArrearsError
from arrears.kernel.money import Money
from arrears.ledger import selectors as ledger_selectors
from arrears.ledger.models import Approval, Borrower, Loan, RepaymentPlan
from arrears.portal.config import numbers

#: The account that files a borrower's request (the maker) and the one that approves within
#: bounds (the checker). Both are created on first use, inactive, without a password.
MAKER = "portal"
APPROVER = "portal-auto-approval"
#: How a request's plan note and hold note begin (the hold is found again by it).
NOTE = "portal request"

#: ``ARREARS_PORTAL_PLANS`` keys and defaults. Amounts are minor units of the loan's currency.
DEFAULTS: dict[str, int] = {
    # bounds: a request outside them is refused
    "max_instalments": 6,
    "max_days_to_first": 30,
    "interval_days": 30,
    "promise_max_days": 14,
    # auto-approval: a plan inside all of them is approved at once, otherwise a team lead decides
    "auto_max_instalments": 3,
    "auto_max_days_to_first": 7,
    "auto_min_first_percent": 20,
    "auto_max_concession_minor": 10_000,
    # how long an open plan request pauses reminders at most
    "hold_days": 5,
}

errorcodes.define(
    {
        "portal-plan-instalments": "choose from %(low)s to %(high)s instalments",
        "portal-plan-first-above-total": (
            "the first payment is more than the whole plan (%(total)s)"
        ),
        "portal-plan-nothing-overdue": (
            "nothing is overdue on this loan, so there is nothing to plan; pay as scheduled"
        ),
        "portal-request-open": "your plan %(ref)s is waiting for a decision",
        "portal-request-open-promise": (
            "you have promised to pay %(amount)s by %(day)s; a new request can wait until then"
        ),
        "portal-plan-active": "your repayment plan %(ref)s is already in force",
    }
)


class PlanRequestRefused(ArrearsError):
    code = "portal-plan-refused"


@dataclass(frozen=True)
class Limits:
    max_instalments: int
    max_days_to_first: int
    interval_days: int
    promise_max_days: int
    auto_max_instalments: int
    auto_max_days_to_first: int
    auto_min_first_percent: int
    auto_max_concession_minor: int
    hold_days: int


def limits() -> Limits:
    """``ARREARS_PORTAL_PLANS`` over :data:`DEFAULTS`; an unknown key or a negative or
    non-integer value is a configuration error, not a silent default."""
    values = numbers("ARREARS_PORTAL_PLANS", DEFAULTS, minimum=0)
    if values["max_instalments"] < 1 or values["interval_days"] < 1:
        raise ImproperlyConfigured("ARREARS_PORTAL_PLANS: max_instalments, interval_days ≥ 1")
    if values["promise_max_days"] > services.PROMISE_MAX_DAYS:
        raise ImproperlyConfigured(
            f"ARREARS_PORTAL_PLANS['promise_max_days'] is at most {services.PROMISE_MAX_DAYS}"
        )
    return Limits(**values)


def _account(username: str, name: str) -> Any:
    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"first_name": name, "is_active": False}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def maker() -> Any:
    """The account a borrower's request is filed under (the maker)."""
    return _account(MAKER, "Borrower (portal)")


def approver() -> Any:
    """The account that approves a plan within the portal's bounds (the checker)."""
    return _account(APPROVER, "Portal auto-approval")


def _refuse(code: str, *, field: str | None = None, **params: Any) -> PlanRequestRefused:
    return errorcodes.refuse(PlanRequestRefused, code, field=field, **params)


# --- what may be asked -----------------------------------------------------------------------


def split(total: int, n: int) -> list[int]:
    """``total`` in ``n`` parts that differ by at most one minor unit, the larger ones first."""
    base, rest = divmod(total, n)
    return [base + (1 if i < rest else 0) for i in range(n)]


def schedule(
    total: int, n: int, first_on: date, interval_days: int, first_amount: int | None = None
) -> list[tuple[date, int]]:
    """``n`` instalments from ``first_on``, ``interval_days`` apart, adding up to ``total``: the
    first is ``first_amount`` when given, the rest share what is left."""
    dates = [first_on + timedelta(days=interval_days * i) for i in range(n)]
    if first_amount is None:
        amounts = split(total, n)
    elif n == 1:
        amounts = [total]
    else:
        amounts = [first_amount, *split(total - first_amount, n - 1)]
    return list(zip(dates, amounts, strict=True))


def not_automatic(lim: Limits, instalments: list[tuple[date, int]], today: date) -> list[str]:
    """Which auto-approval bound a plan is outside (by key); empty: the system may approve it,
    provided its concession (checked at approval, against the ledger) is within bounds too."""
    total = sum(a for _, a in instalments)
    first_on, first_amount = instalments[0]
    reasons = []
    if len(instalments) > lim.auto_max_instalments:
        reasons.append("auto_max_instalments")
    if (first_on - today).days > lim.auto_max_days_to_first:
        reasons.append("auto_max_days_to_first")
    if first_amount * 100 < total * lim.auto_min_first_percent:
        reasons.append("auto_min_first_percent")
    return reasons


def overdue(loan: Loan, on: date) -> int:
    """What is overdue on ``loan`` today (what a plan spreads), in minor units."""
    return concessions.ledger_state(loan, on).total_due


@dataclass(frozen=True)
class Option:
    """One plan the borrower may choose, with its cost against paying everything now."""

    count: int
    instalments: tuple[tuple[date, int], ...]
    preview: concessions.PlanPreview
    payoff_now: int
    automatic: bool

    @property
    def extra_cost(self) -> int:
        """What clearing the loan under this plan costs beyond paying it all off today."""
        return self.preview.plan_cost - self.payoff_now


def with_history(loan: Loan) -> Loan:
    """``loan`` with its ledger rows read once — instalments, payments, waivers, plans with
    their instalments, the daily run's reads (``ledger.selectors.history_prefetch``) —
    for a page that replays it many times: every option's preview replays the loan three times
    (now, without and with the plan), and each replay read the rows again (five queries a
    replay, over a hundred for the plan page). The kernel's readers take the rows through
    ``.all()`` and sort them themselves, so the replays are the same. Only for reading: rows
    written after this are not in the caches."""
    prefetch_related_objects([loan], *ledger_selectors.history_prefetch())
    return loan


def options(loan: Loan, today: date) -> list[Option]:
    """Every plan length the bounds allow, equal instalments from the earliest date the
    auto-approval allows, each previewed by the ledger (``concessions.preview_plan``)."""
    lim = limits()
    total = overdue(loan, today)
    if total <= 0:
        return []
    payoff_now = concessions.ledger_state(loan, today).payoff
    first_on = today + timedelta(days=min(lim.auto_max_days_to_first, lim.max_days_to_first))
    found = []
    for n in range(1, lim.max_instalments + 1):
        if total < n:
            break
        rows = schedule(total, n, first_on, lim.interval_days)
        preview = concessions.preview_plan(loan, effective_on=today, instalments=rows)
        automatic = (
            not not_automatic(lim, rows, today)
            and preview.concession <= lim.auto_max_concession_minor
        )
        found.append(Option(n, tuple(rows), preview, payoff_now, automatic))
    return found


# --- open and past requests ------------------------------------------------------------------


def _open_case(borrower: Borrower) -> Case | None:
    return Case.objects.filter(borrower=borrower, closed_on__isnull=True).first()


def open_request(borrower: Borrower, loan: Loan, today: date) -> PlanRequestRefused | None:
    """Why a new request on ``loan`` would be refused now, or ``None``."""
    pending = Promise.objects.filter(case__borrower=borrower, status=Promise.Status.PENDING).first()
    if pending is not None:
        amount = Money(pending.amount_minor, pending.case.currency)
        return _refuse("portal-request-open-promise", amount=amount, day=pending.due_date)
    requested = RepaymentPlan.objects.filter(loan=loan, status=Approval.REQUESTED).first()
    if requested is not None:
        return _refuse("portal-request-open", ref=requested.ref)
    state = concessions.ledger_state(loan, today)
    if state.plan_active:
        return _refuse("portal-plan-active", ref=state.plan_ref)
    return None


@dataclass(frozen=True)
class Request:
    """A promise or plan on the borrower's record, as the portal lists it."""

    kind: str  # "promise" | "plan"
    ref: str
    made_on: date
    summary: list[tuple[date, int]]
    status: str
    from_portal: bool


def requests_of(borrower: Borrower, loan: Loan) -> list[Request]:
    """The loan's plans and the borrower's promises, newest first (also those agreed with a
    collector, so the borrower sees everything they are held to)."""
    portal = get_user_model().objects.filter(username=MAKER).values_list("pk", flat=True).first()
    rows = [
        Request(
            "plan",
            plan.ref,
            plan.effective_on,
            [(i.due_date, i.amount_minor) for i in plan.instalments.all()],
            plan.status,
            plan.proposed_by_id == portal,
        )
        for plan in RepaymentPlan.objects.filter(loan=loan).prefetch_related("instalments")
    ]
    rows += [
        Request(
            "promise",
            f"promise-{promise.pk}",
            promise.made_on,
            [(promise.due_date, promise.amount_minor)],
            promise.status,
            promise.made_by_id is not None and promise.made_by_id == portal,
        )
        for promise in Promise.objects.filter(case__borrower=borrower)
    ]
    return sorted(rows, key=lambda r: (r.made_on, r.kind, r.ref), reverse=True)


# --- making a request ------------------------------------------------------------------------


@dataclass(frozen=True)
class Proposed:
    plan: RepaymentPlan
    approved: bool
    hold: Hold | None


def _check_open(borrower: Borrower, loan: Loan, today: date) -> Case:
    """Lock the borrower (two requests at once are taken one after the other) and refuse a
    second open request; the open case the request belongs to."""
    Borrower.objects.select_for_update().get(pk=borrower.pk)
    refused = open_request(borrower, loan, today)
    if refused is not None:
        raise refused
    case = _open_case(borrower)
    if case is None or overdue(loan, today) <= 0:
        raise _refuse("portal-plan-nothing-overdue")
    return case


def propose(
    borrower: Borrower,
    loan: Loan,
    *,
    today: date,
    count: int,
    first_on: date,
    first_amount: int | None,
) -> Proposed:
    """File a plan request from ``today``: approved at once within the bounds, else left for a
    team lead with reminders paused. ``first_on`` is already within the bounds
    (``views.parse_day``)."""
    lim = limits()
    if not 1 <= count <= lim.max_instalments:
        raise _refuse(
            "portal-plan-instalments", field="instalments", low=1, high=lim.max_instalments
        )
    with transaction.atomic():
        _check_open(borrower, loan, today)
        total = overdue(loan, today)
        if first_amount is not None and first_amount > total:
            raise _refuse(
                "portal-plan-first-above-total",
                field="first_amount",
                total=Money(total, loan.currency),
            )
        if total < count:
            raise _refuse("portal-plan-instalments", field="instalments", low=1, high=max(total, 1))
        rows = schedule(total, count, first_on, lim.interval_days, first_amount)
        plan = concessions.propose_plan(
            loan,
            user=maker(),
            effective_on=today,
            instalments=rows,
            note=f"{NOTE} from the borrower (portal)",
        )
    if not not_automatic(lim, rows, today) and concessions.approve_plan_by_system(
        plan, approver(), up_to=lim.auto_max_concession_minor
    ):
        return Proposed(plan, True, None)
    hold = services.place_hold(
        borrower.pk,
        reason=Hold.Reason.PLAN_REQUEST,
        starts_on=today,
        ends_on=today + timedelta(days=lim.hold_days),
        channels=sorted(REMINDER_CHANNELS),
        note=f"{NOTE} {plan.ref}: reminders pause until a team lead decides",
        user=maker(),
        today=today,
    )
    return Proposed(plan, False, hold)


def promise(
    borrower: Borrower, loan: Loan, *, today: date, amount_minor: int, due_date: date
) -> Promise:
    """Record the borrower's promise to pay through ``make_promise`` (the case becomes
    ``promised``, reminders wait for its date) and queue its confirmation SMS."""
    with transaction.atomic():
        case = _check_open(borrower, loan, today)
        made = services.make_promise(
            case, amount_minor=amount_minor, due_date=due_date, made_on=today, user=maker()
        )
        queue_notice(
            f"promise:{made.pk}:confirmation", borrower, case, "promise_confirmation", today
        )
    return made


# --- when a person decides -------------------------------------------------------------------


def _hold_note(plan: RepaymentPlan) -> str:
    return f"{NOTE} {plan.ref}:"


def release_request_holds(plan: RepaymentPlan, day: date) -> int:
    """Release the reminder pause of ``plan``'s request (it was decided); how many."""
    system = approver()
    released = 0
    holds = Hold.objects.select_for_update().filter(
        borrower_id=plan.loan.borrower_id,
        reason=Hold.Reason.PLAN_REQUEST,
        released_on__isnull=True,
        note__startswith=_hold_note(plan),
    )
    for hold in holds:
        cause = f"hold #{hold.pk} released: plan {plan.ref} {plan.status}"
        services.end_hold(hold, by=system, day=day, cause=cause)
        released += 1
    return released


def on_plan_saved(sender: Any, instance: RepaymentPlan, **kwargs: Any) -> None:
    """A portal plan was approved or rejected (by the system or a person): release its hold and,
    once approved, queue the ``plan_confirmation`` SMS. Runs inside the deciding transaction."""
    fields = kwargs.get("update_fields")
    if kwargs.get("created") or (fields is not None and "status" not in fields):
        return
    if instance.status not in (Approval.APPROVED, Approval.REJECTED):
        return
    if not get_user_model().objects.filter(pk=instance.proposed_by_id, username=MAKER).exists():
        return
    day = business_date()
    released = release_request_holds(instance, day)
    if instance.status == Approval.APPROVED:
        borrower = instance.loan.borrower
        queue_notice(
            f"plan:{instance.pk}:confirmation",
            borrower,
            _open_case(borrower),
            "plan_confirmation",
            day,
        )
    elif released:
        reevaluate(instance.loan.borrower_id, day)  # an approval re-evaluates by itself


def notice_variables(message: OutboxMessage) -> dict[str, str]:
    """The confirmation SMS's own variables (``contact.render.register_extra``)."""
    parts = message.key.split(":")
    if len(parts) != 3 or parts[2] != "confirmation" or not parts[1].isdigit():
        return {}
    if message.template == "promise_confirmation" and parts[0] == "promise":
        found = Promise.objects.filter(pk=int(parts[1])).select_related("case").first()
        if found is None:
            return {}
        money = Money(found.amount_minor, found.case.currency)
        return {
            "promise_amount": format_money(money, message.locale),
            "promise_date": found.due_date.isoformat(),
        }
    if message.template == "plan_confirmation" and parts[0] == "plan":
        plan = RepaymentPlan.objects.filter(pk=int(parts[1])).select_related("loan").first()
        if plan is None:
            return {}
        rows = list(plan.instalments.order_by("seq"))
        if not rows:
            return {}
        currency, locale = plan.loan.currency, message.locale
        return {
            "plan_total": format_money(Money(sum(r.amount_minor for r in rows), currency), locale),
            "plan_instalments": str(len(rows)),
            "plan_first_amount": format_money(Money(rows[0].amount_minor, currency), locale),
            "plan_first_due_date": rows[0].due_date.isoformat(),
        }
    return {}
