"""Reads that turn ledger rows into the kernel's values (the input of ``kernel.state``).

``portfolio`` is the bulk form: a fixed number of queries per chunk of loans (loans with their
product and stored schedule, then their payments and concessions), never one per loan.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from django.db.models import Prefetch, Q, QuerySet, Sum

from arrears.kernel import limits
from arrears.kernel.errors import ArrearsError
from arrears.kernel.limits import COMPUTE_FAILURES, not_computable
from arrears.kernel.state import LoanState, state
from arrears.kernel.terms import (
    LOAN_KEYS,
    Component,
    LoanTerms,
    Payment,
    PlanInstalment,
    ProductTerms,
    RepaymentPlan,
    Waiver,
    loan_terms_from,
)
from arrears.ledger import models

#: Loans fetched per round trip by :func:`portfolio` (each chunk costs three queries).
PORTFOLIO_CHUNK = 2000


def _terms(loan: models.Loan, product: ProductTerms) -> LoanTerms:
    return loan_terms_from(
        {key: getattr(loan, key) for key in LOAN_KEYS}, product, loan.instalments
    )


def loan_terms(loan: models.Loan) -> LoanTerms:
    """The kernel's view of ``loan``: schedule, rate and its product version's rules."""
    return _terms(loan, loan.product.terms())


def loan_payments(loan: models.Loan) -> tuple[Payment, ...]:
    """Every payment of ``loan`` (reversed ones included, with ``reversed_on``), in value-date
    order; the kernel decides as of each date which of them count."""
    rows = sorted(loan.payments.all(), key=lambda row: (row.value_date, row.ref))
    return tuple(
        Payment(
            ref=row.ref,
            value_date=row.value_date,
            amount=row.amount_minor,
            reversed_on=row.reversed_on,
        )
        for row in rows
    )


#: Waiver statuses the kernel reads: approved, and approved then reversed (the kernel needs the
#: reversed ones too, to replay the dates before their reversal).
WAIVERS_IN_FORCE = frozenset({models.Approval.APPROVED, models.Approval.REVERSED})
#: Plan statuses the kernel reads (a plan is never reversed; it breaks or completes in the replay).
PLANS_IN_FORCE = frozenset({models.Approval.APPROVED})


def loans_with_concessions(
    loans: QuerySet[models.Loan], *, plans_only: bool = False, started_by: date | None = None
) -> QuerySet[models.Loan]:
    """The loans among ``loans`` with a concession in force: a waiver or repayment plan the
    kernel replays (``WAIVERS_IN_FORCE``, ``PLANS_IN_FORCE``); only plans with ``plans_only``;
    only concessions effective on or before ``started_by`` when given.

    The one definition every reader shares — the daily run's kernel fallback, the snapshot
    export's refusal, the workflow's plan checks — so "in force" cannot drift between them.
    Subqueries rather than joins: no duplicate rows, no ``distinct`` over a wide join.
    """
    dated = {} if started_by is None else {"effective_on__lte": started_by}
    planned = models.RepaymentPlan.objects.filter(status__in=PLANS_IN_FORCE, **dated)
    matches = Q(id__in=planned.values("loan_id"))
    if not plans_only:
        waived = models.Waiver.objects.filter(status__in=WAIVERS_IN_FORCE, **dated)
        matches |= Q(id__in=waived.values("loan_id"))
    return loans.filter(matches)


def loan_waivers(loan: models.Loan) -> tuple[Waiver, ...]:
    """The loan's waivers that were put in force (``WAIVERS_IN_FORCE``)."""
    rows = sorted(
        (w for w in loan.waivers.all() if w.status in WAIVERS_IN_FORCE),
        key=lambda w: (w.effective_on, w.ref),
    )
    return tuple(
        Waiver(
            ref=w.ref,
            effective_on=w.effective_on,
            component=Component(w.component),
            amount=w.amount_minor,
            reversed_on=w.reversed_on,
        )
        for w in rows
    )


def loan_plans(loan: models.Loan) -> tuple[RepaymentPlan, ...]:
    """The loan's repayment plans in force (``PLANS_IN_FORCE``), oldest first, with their
    instalments."""
    rows = sorted(
        (p for p in loan.plans.all() if p.status in PLANS_IN_FORCE),
        key=lambda p: (p.effective_on, p.ref),
    )
    return tuple(
        RepaymentPlan(
            ref=p.ref,
            effective_on=p.effective_on,
            instalments=tuple(
                PlanInstalment(i.due_date, i.amount_minor)
                for i in sorted(p.instalments.all(), key=lambda i: i.seq)
            ),
            grace_days=p.grace_days,
            tolerance=p.tolerance_minor,
            waive_rest=p.waive_rest,
        )
        for p in rows
    )


def loan_state(
    loan: models.Loan,
    as_of: date,
    *,
    payments: tuple[Payment, ...] = (),
    waivers: tuple[Waiver, ...] = (),
    plans: tuple[RepaymentPlan, ...] | None = None,
) -> tuple[LoanTerms, LoanState]:
    """The loan's terms and its state as of ``as_of`` from its whole ledger history (payments,
    waivers, plans), plus hypothetical ``payments``/``waivers`` and, when given, ``plans``
    instead of the recorded ones (previews use these; nothing is stored).

    A loan whose stored values are outside the ledger's limits or that the kernel cannot
    compute raises one :class:`~arrears.kernel.errors.ArrearsError` saying so (the daily run
    skips such a loan; ``explain`` shows the line instead of a traceback)."""
    try:
        limits.check_amount(loan.principal_minor, name="principal")
        limits.check_date(loan.start_date, name="start_date")
        terms = loan_terms(loan)
        current = state(
            terms,
            (*loan_payments(loan), *payments),
            as_of,
            waivers=(*loan_waivers(loan), *waivers),
            plans=loan_plans(loan) if plans is None else plans,
        )
    except (ArrearsError, *COMPUTE_FAILURES) as error:
        raise limits.LoanNotComputable(
            f"loan {loan.ref} cannot be computed: {not_computable(error)}",
            params={"loan": loan.ref},
        ) from None
    return terms, current


@dataclass(frozen=True, slots=True)
class PortfolioEntry:
    """One loan of a portfolio scan: its kernel terms, or the error that stopped building them."""

    loan_id: int
    ref: str
    terms: LoanTerms | None
    payments: tuple[Payment, ...]
    error: ArrearsError | None = None
    waivers: tuple[Waiver, ...] = ()
    plans: tuple[RepaymentPlan, ...] = ()

    @property
    def adjusted(self) -> bool:
        """Has waivers or plans: the compiled engine leaves such loans to the kernel."""
        return bool(self.waivers or self.plans)


def history_prefetch() -> tuple[Prefetch | str, ...]:
    """What a replay reads of a loan besides its row (which holds its schedule), for
    ``prefetch_related``: its payments, waivers, and plans with their instalments (the daily
    run's reads, and a page replaying one loan many times)."""
    return (
        Prefetch("payments", queryset=models.Payment.objects.order_by("value_date", "ref")),
        "waivers",
        Prefetch("plans", queryset=models.RepaymentPlan.objects.prefetch_related("instalments")),
    )


def portfolio_entries(
    loans: QuerySet[models.Loan], *, chunk_size: int = PORTFOLIO_CHUNK
) -> Iterator[PortfolioEntry]:
    """Every loan of ``loans`` streamed in chunks of ``chunk_size`` with prefetched payments
    and concessions; a loan whose rows the kernel rejects comes with its ``error`` instead of
    terms, so one corrupt loan never stops a portfolio run."""
    queryset = (
        loans.select_related("product", "schedule")
        .prefetch_related(*history_prefetch())
        .order_by("id")
    )
    products: dict[int, ProductTerms | ArrearsError] = {}
    for loan in queryset.iterator(chunk_size=chunk_size):
        product = products.get(loan.product_id)
        if product is None:
            try:
                product = products[loan.product_id] = loan.product.terms()
            except ArrearsError as error:
                product = products[loan.product_id] = error
        try:
            if isinstance(product, ArrearsError):
                raise product
            payments = loan_payments(loan)
            yield PortfolioEntry(
                loan.id,
                loan.ref,
                _terms(loan, product),
                payments,
                waivers=loan_waivers(loan),
                plans=loan_plans(loan),
            )
        except (ArrearsError, *COMPUTE_FAILURES) as error:  # absurd stored values included
            yield PortfolioEntry(loan.id, loan.ref, None, (), not_computable(error))


def portfolio(
    loans: QuerySet[models.Loan], *, chunk_size: int = PORTFOLIO_CHUNK
) -> Iterator[tuple[LoanTerms, tuple[Payment, ...]]]:
    """``(terms, payments)`` for every loan of ``loans`` (see :func:`portfolio_entries`);
    raises the first loan's error instead of skipping it."""
    for entry in portfolio_entries(loans, chunk_size=chunk_size):
        if entry.error is not None:
            raise entry.error
        assert entry.terms is not None
        yield entry.terms, entry.payments


def paid_between(borrower_id: int, first: date, last: date, as_of: date) -> int:
    """Cash received on the borrower's loans with value dates in [first, last], as known on
    ``as_of`` (a payment reversed by then does not count). Promise judging and the
    dispatcher's "paid since the message's day" read the same figure."""
    total = (
        models.Payment.objects.filter(
            loan__borrower_id=borrower_id, value_date__gte=first, value_date__lte=last
        )
        .exclude(reversed_on__lte=as_of)
        .aggregate(total=Sum("amount_minor"))["total"]
    )
    return int(total or 0)
