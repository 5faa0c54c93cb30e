"""May this case get a door visit? A pure rule over a facts record, and the selector that
gathers the facts from the database as of a date.

The rule (``ARREARS_FIELD_VISIT_RULE``, a dict; every key optional, defaults from the article):

* ``min_dpd`` (90): the worst loan's days past due;
* ``min_total_due`` (5,000,000 fen = CNY 50,000): everything due on the borrower's loans;
* contactability — *either* unreachable (失联, ``unreachable_days`` as the daily frame defines
  it: every attempt since the last right-party contact failed) for ``min_unreachable_days``
  (30) with at least ``min_remote_attempts`` (10) remote attempts since that contact (outbound
  logged calls, texts, e-mails, letters and in-app messages, plus messages the outbox sent),
  *or* at least ``min_broken_promises`` (2) broken promises;
* no open complaint or dispute (holds of those reasons in force), and no hold of any reason;
* ordinary collection has failed: the case was worked internally — at least
  ``min_internal_calls`` (1) outbound call logged on it, or the case has been in one of
  ``worked_stages`` (internal, external, legal) by the date.

Why pure: the same answer drives the request form, the refusal, the CLI and the tests, and a
rule change is a setting, not code. Facts reuse the daily frame's definitions
(``collections.frames``) so a case's "unreachable days" mean the same here as in the strategy.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

DEFAULT_RULE: dict[str, Any] = {
    "min_dpd": 90,
    "min_total_due": 5_000_000,
    "min_unreachable_days": 30,
    "min_remote_attempts": 10,
    "min_broken_promises": 2,
    "min_internal_calls": 1,
    "worked_stages": ["internal", "external", "legal"],
}
REMOTE_CHANNELS = ("call", "sms", "email", "letter", "in_app")


@dataclass(frozen=True, slots=True)
class Rule:
    min_dpd: int
    min_total_due: int
    min_unreachable_days: int
    min_remote_attempts: int
    min_broken_promises: int
    min_internal_calls: int
    worked_stages: tuple[str, ...]


def rule() -> Rule:
    """The rule in force: the setting over the defaults (unknown keys are a configuration
    error, so a typo never silently keeps a default)."""
    given: dict[str, Any] = dict(getattr(settings, "ARREARS_FIELD_VISIT_RULE", {}) or {})
    unknown = sorted(set(given) - set(DEFAULT_RULE))
    if unknown:
        raise ValueError(f"ARREARS_FIELD_VISIT_RULE: unknown key(s) {', '.join(unknown)}")
    merged = {**DEFAULT_RULE, **given}
    return Rule(
        **{k: int(v) for k, v in merged.items() if k != "worked_stages"},
        worked_stages=tuple(str(s) for s in merged["worked_stages"]),
    )


@dataclass(frozen=True, slots=True)
class Facts:
    """What the rule looks at, for one case as of one date."""

    as_of: date
    state_date: date | None  # the daily run the ledger facts come from (None: no run yet)
    currency: str
    dpd: int
    total_due: int
    unreachable_days: int
    remote_attempts: int
    broken_promises: int
    complaints_open: int
    disputes_open: int
    holds_active: int
    internal_calls: int
    stages_worked: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Condition:
    """One line of the answer: ``actual op threshold`` and whether it holds.

    ``required`` is False for the two halves of the contactability alternative (shown for
    information; the alternative itself is the required line).
    """

    name: str
    op: str
    threshold: Any
    actual: Any
    met: bool
    required: bool = True


@dataclass(frozen=True, slots=True)
class Answer:
    eligible: bool
    conditions: tuple[Condition, ...]
    facts: Facts

    @property
    def failing(self) -> list[str]:
        """Names of the required conditions that do not hold."""
        return [c.name for c in self.conditions if c.required and not c.met]

    def as_dict(self) -> dict[str, Any]:
        facts = asdict(self.facts)
        facts["as_of"] = self.facts.as_of.isoformat()
        facts["state_date"] = self.facts.state_date.isoformat() if self.facts.state_date else None
        facts["stages_worked"] = list(self.facts.stages_worked)
        return {
            "eligible": self.eligible,
            "failing": self.failing,
            "conditions": [
                {**asdict(c), "threshold": _plain(c.threshold), "actual": _plain(c.actual)}
                for c in self.conditions
            ],
            "facts": facts,
        }


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def evaluate(facts: Facts, r: Rule) -> Answer:
    """The answer for ``facts`` under ``r``: every condition with its value, and the overall."""
    unreachable = facts.unreachable_days >= r.min_unreachable_days
    attempts = facts.remote_attempts >= r.min_remote_attempts
    broken = facts.broken_promises >= r.min_broken_promises
    worked_stage = sorted(set(facts.stages_worked) & set(r.worked_stages))
    conditions = (
        Condition("dpd", ">=", r.min_dpd, facts.dpd, facts.dpd >= r.min_dpd),
        Condition(
            "total_due", ">=", r.min_total_due, facts.total_due, facts.total_due >= r.min_total_due
        ),
        Condition(
            "unreachable_days",
            ">=",
            r.min_unreachable_days,
            facts.unreachable_days,
            unreachable,
            required=False,
        ),
        Condition(
            "remote_attempts",
            ">=",
            r.min_remote_attempts,
            facts.remote_attempts,
            attempts,
            required=False,
        ),
        Condition(
            "broken_promises",
            ">=",
            r.min_broken_promises,
            facts.broken_promises,
            broken,
            required=False,
        ),
        Condition(
            "unreachable_or_broken_promises",
            "any",
            "(unreachable_days and remote_attempts) or broken_promises",
            "yes" if (unreachable and attempts) or broken else "no",
            (unreachable and attempts) or broken,
        ),
        Condition(
            "complaints_or_disputes_open",
            "==",
            0,
            facts.complaints_open + facts.disputes_open,
            facts.complaints_open + facts.disputes_open == 0,
        ),
        Condition("holds_active", "==", 0, facts.holds_active, facts.holds_active == 0),
        Condition(
            "worked_internally",
            "any",
            f"internal_calls >= {r.min_internal_calls} or stage in {list(r.worked_stages)}",
            f"internal_calls={facts.internal_calls}; stages={','.join(worked_stage) or '-'}",
            facts.internal_calls >= r.min_internal_calls or bool(worked_stage),
        ),
    )
    eligible = all(c.met for c in conditions if c.required)
    return Answer(eligible, conditions, facts)


def gather(case: Any, as_of: date) -> Facts:
    """The facts of ``case`` as of the end of ``as_of``, from the latest daily run on or before
    it and the case's history (contacts, promises, holds, stage events) up to that day.

    The ledger and case-history facts are the daily frames' own columns, computed for this
    one borrower (without the columns the rule does not read: the pre-due horizon, the
    plans' replay); the case's contacts are read once for the three facts drawn from them.
    """
    import polars as pl

    from arrears.collections import frames
    from arrears.collections.models import CaseEvent, ContactAttempt
    from arrears.contact.models import OutboxMessage
    from arrears.daily.models import LoanState

    borrower = case.borrower_id
    state_date = (
        LoanState.objects.filter(loan__borrower_id=borrower, as_of__lte=as_of)
        .order_by("-as_of")
        .values_list("as_of", flat=True)
        .first()
    )
    dpd = total_due = 0
    currency = case.currency
    if state_date is not None:
        loans = frames.borrower_frame(frames.loan_frame(state_date, [borrower], next_due=False))
        if loans.height:
            row = loans.row(0, named=True)
            dpd, total_due, currency = int(row["dpd"]), int(row["total_due"]), row["currency"]
    holds = frames.active_holds(as_of, [borrower])
    history = frames.case_frame(as_of, [borrower], holds=holds, plans=False)
    mine = history.filter(pl.col("case_pk") == case.pk)
    row = mine.row(0, named=True) if mine.height else history.row(0, named=True)
    end = timezone.make_aware(datetime.combine(as_of + timedelta(days=1), time.min))
    contacts = list(
        ContactAttempt.objects.filter(case=case, at__lt=end).values_list(
            "at", "outcome", "direction", "channel"
        )
    )
    last_rpc = max(
        (at for at, outcome, _, _ in contacts if outcome in frames.REACHED), default=None
    )
    # remote attempts count from the last right-party contact (all of them without one)
    remote = sum(
        1
        for at, _, direction, channel in contacts
        if direction == "outbound"
        and channel in REMOTE_CHANNELS
        and (last_rpc is None or at > last_rpc)
    )
    sent = OutboxMessage.objects.filter(
        case=case,
        sent_at__lt=end,
        status__in=("sent", "delivered", "uncertain"),
    )
    if last_rpc:
        sent = sent.filter(sent_at__gt=last_rpc)
    stages = set(
        CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.STAGE, on__lte=as_of).values_list(
            "to_value", flat=True
        )
    )
    if case.stage and (case.stage_since is None or case.stage_since <= as_of):
        stages.add(case.stage)
    return Facts(
        as_of=as_of,
        state_date=state_date,
        currency=currency,
        dpd=dpd,
        total_due=total_due,
        unreachable_days=int(row.get("unreachable_days") or 0),
        remote_attempts=remote + sent.count(),
        broken_promises=int(row.get("broken_promises") or 0),
        complaints_open=int(row.get("complaints_open") or 0),
        disputes_open=int(row.get("disputes_open") or 0),
        holds_active=len(holds),
        internal_calls=sum(
            1
            for _, _, direction, channel in contacts
            if direction == "outbound" and channel == "call"
        ),
        stages_worked=tuple(sorted(s for s in stages if s)),
    )


def check(case: Any, as_of: date) -> Answer:
    """The answer for ``case`` as of ``as_of`` under the rule in force."""
    return evaluate(gather(case, as_of), rule())
