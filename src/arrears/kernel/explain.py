"""Explain a loan's state line by line, so a person can check every fen by hand.

The explanation is plain data (JSON-ready dicts of strings and ints) built only from a
:class:`~arrears.kernel.state.LoanState`; the CLI prints it as text or JSON and the web app
renders the same data, so the three can never disagree.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from arrears.kernel.accrual import PenaltyPeriod, daily_amount
from arrears.kernel.allocation import AllocationLine
from arrears.kernel.money import Money, Rounding
from arrears.kernel.plans import PlanState
from arrears.kernel.state import InstalmentState, LoanState, WaiverApplication
from arrears.kernel.terms import AccrualRounding, LoanTerms, ProductTerms

ROUNDING_POINT = {
    AccrualRounding.DAILY: "rounded per day",
    AccrualRounding.PERIOD: "rounded per period",
}
#: ``period`` under a cost cap: the exact running total is rounded once
#: (:class:`~arrears.kernel.accrual.RunningTotalAccrual`); each line is a step of it.
RUNNING_POINT = "running total rounded once"


def running_total(product: ProductTerms) -> bool:
    """Whether ``product`` accrues as one exact running total (``period`` under a cost cap)."""
    return (
        product.cost_cap_annual is not None and product.accrual_rounding is AccrualRounding.PERIOD
    )


def percent(rate: Decimal) -> str:
    """``0.00075`` → ``"0.075%"``: exact, no trailing zeros, never scientific notation."""
    text = format((rate * 100).normalize(), "f")
    return f"{text}%"


def amount(minor: int, currency: str) -> str:
    return str(Money(minor, currency).amount)


def _money(minor: int, currency: str) -> dict[str, Any]:
    return {"amount": amount(minor, currency), "minor": minor}


def _period(
    p: PenaltyPeriod, currency: str, rounding: Rounding, mode: AccrualRounding, running: bool
) -> dict[str, Any]:
    base = amount(p.base, currency)
    per_day: int | None = None
    if mode is AccrualRounding.DAILY and not p.capped:
        per_day = daily_amount(p.base, p.rate, rounding)
        formula = (
            f"{p.days} days × {base} × {percent(p.rate)} = {amount(p.amount, currency)}"
            f" ({amount(per_day, currency)}/day, {rounding.value} per day)"
        )
    else:
        formula = f"{p.days} days × {base} × {percent(p.rate)} = {amount(p.amount, currency)}"
        if p.capped:
            formula += " (capped by the cost cap)"
        elif p.cut_by_plan:
            formula += " (rounded down: a repayment plan froze the days after)"
        elif running:
            formula += f" ({rounding.value} on the running total)"
        else:
            formula += f" ({rounding.value} per period)"
    return {
        "from": p.start.isoformat(),
        "to": p.end.isoformat(),
        "days": p.days,
        "base": _money(p.base, currency),
        "rate": percent(p.rate),
        "amount": _money(p.amount, currency),
        "capped": p.capped,
        "cut_by_plan": p.cut_by_plan,
        "running": running,
        # the day's amount when each day is rounded (``None`` per period or when capped)
        "per_day": _money(per_day, currency) if per_day is not None else None,
        "formula": formula,
    }


def _instalment(i: InstalmentState, loan: LoanTerms) -> dict[str, Any]:
    cur, product = loan.currency, loan.product

    def part(due: int, paid: int, waived: int) -> dict[str, Any]:
        return {
            "due": _money(due, cur),
            "paid": _money(paid, cur),
            "waived": _money(waived, cur),
            "outstanding": _money(due - paid - waived, cur),
        }

    periods = [
        _period(p, cur, product.rounding, product.accrual_rounding, running_total(product))
        for p in i.penalty_periods
    ]
    compound = [
        _period(p, cur, product.rounding, product.accrual_rounding, running_total(product))
        for p in i.compound_periods
    ]
    return {
        "seq": i.seq,
        "due_date": i.due_date.isoformat(),
        "status": i.status.value,
        "dpd": i.dpd,
        "paid_on": i.paid_on.isoformat() if i.paid_on else None,
        "principal": part(i.principal, i.principal_paid, i.principal_waived),
        "interest": part(i.interest, i.interest_paid, i.interest_waived),
        "penalty": {**part(i.penalty, i.penalty_paid, i.penalty_waived), "periods": periods},
        "compound": {**part(i.compound, i.compound_paid, i.compound_waived), "periods": compound},
        "waived": _money(i.waived, cur),
        "grace_penalty_pending": _money(i.grace_penalty_pending, cur),
        "outstanding": _money(i.outstanding, cur),
    }


def _lines(lines: tuple[AllocationLine, ...], currency: str) -> list[dict[str, Any]]:
    return [
        {
            "seq": line.seq,
            "component": line.component.value,
            "amount": _money(line.amount, currency),
        }
        for line in lines
    ]


def _waiver(w: WaiverApplication, currency: str) -> dict[str, Any]:
    return {
        "ref": w.ref,
        "day": w.day.isoformat(),
        # ``all``: a settlement waiving whatever was left on every component
        "component": w.component.value if w.component is not None else "all",
        "amount": _money(w.amount, currency),
        "applied": _money(w.applied, currency),
        "unused": _money(w.unused, currency),
        "waived": _lines(w.lines, currency),
    }


#: The parts of the payoff, in the order the payoff line names them; ``credit`` is subtracted.
PAYOFF_PARTS = (
    "principal_outstanding",
    "interest_due",
    "penalty",
    "compound",
    "interest_for_days_used",
    "credit",
)


def _payoff_parts(s: LoanState) -> dict[str, int]:
    """The payoff split so that the parts add up to it: every principal not yet repaid, what
    is due and unpaid on the instalments due by ``as_of`` (interest, penalty, compound), the
    interest for the days used in the current period, less the credit balance.

    The state computes ``payoff = due now + principal not yet due + days used − credit``,
    floored at zero; ``due now`` holds the principal of the due instalments, which is why the
    principal here is all of it (due or not).
    """
    due = [i for i in s.instalments if i.due_date <= s.as_of]
    return {
        "principal_outstanding": sum(i.principal_outstanding for i in s.instalments),
        "interest_due": sum(i.interest_outstanding for i in due),
        "penalty": sum(i.penalty_outstanding for i in due),
        "compound": sum(i.compound_outstanding for i in due),
        "interest_for_days_used": s.accrued_interest,
        "credit": s.credit,
    }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _plan(p: PlanState, currency: str) -> dict[str, Any]:
    return {
        "ref": p.ref,
        "effective_on": p.effective_on.isoformat(),
        "status": p.status.value,
        "grace_days": p.grace_days,
        "tolerance": _money(p.tolerance, currency),
        "waive_rest": p.waive_rest,
        "total": _money(p.total, currency),
        "coverage": _money(p.coverage, currency),
        "arrears": _money(p.arrears, currency),
        "dpd": p.dpd,
        "broken_on": _iso(p.broken_on),
        "completed_on": _iso(p.completed_on),
        "superseded_on": _iso(p.superseded_on),
        "frozen": {
            "from": p.frozen_from.isoformat(),
            "to": p.frozen_to.isoformat(),
            "days": p.frozen_days,
        },
        "instalments": [
            {
                "seq": i.seq,
                "due_date": i.due_date.isoformat(),
                "amount": _money(i.amount, currency),
                "cumulative": _money(i.cumulative, currency),
                "covered": i.covered,
            }
            for i in p.instalments
        ],
    }


def explain(loan: LoanTerms, s: LoanState) -> dict[str, Any]:
    """The itemised breakdown of ``s`` (the state of ``loan``) as JSON-ready data."""
    cur = loan.currency
    product = loan.product
    return {
        "loan": loan.ref,
        "currency": cur,
        "as_of": s.as_of.isoformat(),
        "dpd": s.dpd,
        "bucket": s.bucket,
        "rates": {
            "daily": percent(loan.daily_rate),
            "penalty_daily": percent(loan.penalty_rate),
            "penalty_multiplier": str(product.penalty_multiplier),
            "rounding": f"{product.rounding.value}, "
            + (
                RUNNING_POINT
                if running_total(product)
                else ROUNDING_POINT[product.accrual_rounding]
            ),
            "running_total": running_total(product),
            "compound": product.compound,
            "grace_days": product.grace_days,
            "grace_retroactive": product.grace_retroactive,
            "cost_cap_annual": percent(product.cost_cap_annual)
            if product.cost_cap_annual is not None
            else None,
            "allocation_order": [c.value for c in product.allocation_order],
        },
        "totals": {
            "overdue_principal": _money(s.overdue_principal, cur),
            "overdue_interest": _money(s.overdue_interest, cur),
            "penalty_outstanding": _money(s.penalty_outstanding, cur),
            "compound_outstanding": _money(s.compound_outstanding, cur),
            "total_due": _money(s.total_due, cur),
            "principal_outstanding": _money(s.principal_outstanding, cur),
            "accrued_interest": _money(s.accrued_interest, cur),
            "payoff": _money(s.payoff, cur),
            # sums to ``payoff``: every part added, ``credit`` subtracted (floored at zero)
            "payoff_parts": {k: _money(v, cur) for k, v in _payoff_parts(s).items()},
            "credit": _money(s.credit, cur),
            "paid_total": _money(s.paid_total, cur),
            "waived_total": _money(s.waived_total, cur),
            "waived_penalty": _money(s.waived_penalty, cur),
            "waived_compound": _money(s.waived_compound, cur),
            "waived_interest": _money(s.waived_interest, cur),
            "waived_principal": _money(s.waived_principal, cur),
        },
        "settled_on": s.settled_on.isoformat() if s.settled_on else None,
        "next_due_on": _iso(s.next_due_on),
        "instalments": [_instalment(i, loan) for i in s.instalments],
        "payments": [
            {
                "ref": a.ref,
                "value_date": a.value_date.isoformat(),
                "amount": _money(a.amount, cur),
                "allocated": _lines(a.lines, cur),
                "to_credit": _money(a.to_credit, cur),
                "settled": a.settled,
            }
            for a in s.applications
        ],
        "waivers": [_waiver(w, cur) for w in s.waivers],
        # the latest plan effective by as_of; while it is active, DPD, bucket and total due
        # follow it rather than the contract
        "plan": {
            "ref": s.plan_ref,
            "status": s.plan_status.value,
            "active": s.plan_active,
            "broken_on": _iso(s.plan_broken_on),
            "due": _money(s.plan_due, cur),
            "paid": _money(s.plan_paid, cur),
        }
        if s.plan_status is not None
        else None,
        "plans": [_plan(p, cur) for p in s.plans],
    }


def render_text(data: dict[str, Any]) -> str:
    """Plain-text rendering of :func:`explain` output for terminals and logs."""
    t = data["totals"]
    r = data["rates"]
    plan = data.get("plan")
    owed = "Owed now under the plan" if plan and plan["active"] else "Owed now"
    contractual = "contractually: " if plan and plan["active"] else ""
    lines = [
        f"Loan {data['loan']} as of {data['as_of']}: DPD {data['dpd']}, bucket {data['bucket']}",
        f"Rates: contract {r['daily']}/day, penalty {r['penalty_daily']}/day "
        f"(× {r['penalty_multiplier']}), rounding {r['rounding']}",
        f"{owed}: {t['total_due']['amount']} {data['currency']} "
        f"({contractual}overdue principal {t['overdue_principal']['amount']}, "
        f"overdue interest {t['overdue_interest']['amount']}, "
        f"penalty {t['penalty_outstanding']['amount']}, "
        f"compound {t['compound_outstanding']['amount']})",
        _payoff_text(t),
    ]
    if plan and plan["active"]:
        lines.append(
            f"Repayment plan {plan['ref']} is active: DPD, bucket and owed now follow the plan "
            f"(plan arrears {plan['due']['amount']}, paid under the plan {plan['paid']['amount']})"
        )
    if t.get("waived_total", {}).get("minor"):
        lines.append(
            f"Waived: {t['waived_total']['amount']} (penalty {t['waived_penalty']['amount']}, "
            f"compound {t['waived_compound']['amount']}, "
            f"interest {t['waived_interest']['amount']}, "
            f"principal {t['waived_principal']['amount']})"
        )
    lines += [
        "",
        f"{'#':>3} {'due':<10} {'status':<8} {'dpd':>4} {'principal':>22} {'interest':>22} "
        f"{'penalty':>22}",
    ]
    for i in data["instalments"]:

        def cell(part: dict[str, Any]) -> str:
            return f"{part['paid']['amount']}/{part['due']['amount']}"

        lines.append(
            f"{i['seq']:>3} {i['due_date']:<10} {i['status']:<8} {i['dpd']:>4} "
            f"{cell(i['principal']):>22} {cell(i['interest']):>22} {cell(i['penalty']):>22}"
        )
        for period in i["penalty"]["periods"]:
            lines.append(f"      penalty  {period['from']}…{period['to']}: {period['formula']}")
        for period in i["compound"]["periods"]:
            lines.append(f"      compound {period['from']}…{period['to']}: {period['formula']}")
        waived = [
            f"{key} {i[key]['waived']['amount']}"
            for key in ("penalty", "compound", "interest", "principal")
            if i[key].get("waived", {}).get("minor")
        ]
        if waived:
            lines.append(f"      waived   {', '.join(waived)}")
    if data["payments"]:
        lines.append("")
        lines.append("Payments:")
        for p in data["payments"]:
            parts = ", ".join(
                f"#{a['seq']} {a['component']} {a['amount']['amount']}" for a in p["allocated"]
            )
            pieces = [parts] if parts else []
            if p["to_credit"]["minor"]:
                pieces.append(f"to credit {p['to_credit']['amount']}")
            settled = " (settled the loan)" if p["settled"] else ""
            applied = ", ".join(pieces) or "nothing applied"
            lines.append(
                f"  {p['value_date']} {p['ref']} {p['amount']['amount']}: {applied}{settled}"
            )
    if data.get("waivers"):
        lines.append("")
        lines.append("Waivers:")
        for w in data["waivers"]:
            parts = ", ".join(
                f"#{a['seq']} {a['component']} {a['amount']['amount']}" for a in w["waived"]
            )
            unused = f", unused {w['unused']['amount']}" if w["unused"]["minor"] else ""
            lines.append(
                f"  {w['day']} {w['ref']} {w['component']} {w['amount']['amount']}: "
                f"{parts or 'nothing to waive'}{unused}"
            )
    for p in data.get("plans", ()):
        lines += ["", *_plan_text(p)]
    return "\n".join(lines)


_PAYOFF_WORDS = {
    "principal_outstanding": "principal outstanding",
    "interest_due": "interest due",
    "penalty": "penalty",
    "compound": "compound",
    "interest_for_days_used": "interest for days used",
    "credit": "credit",
}


def _payoff_text(totals: dict[str, Any]) -> str:
    """``Payoff today: 1799.51 = principal outstanding 1750.00 + interest for days used 49.51``:
    the parts that are not zero, with their signs, adding up to the payoff (the principal is
    always named). A credit larger than everything owed makes the payoff zero, and says so."""
    parts = totals.get("payoff_parts")
    payoff = totals["payoff"]["amount"]
    if parts is None:  # explain data from before the parts were itemised
        return f"Payoff today: {payoff}"
    terms = []
    for key in PAYOFF_PARTS:
        part = parts[key]
        if part["minor"] or key == "principal_outstanding":
            sign = "−" if key == "credit" else "+"
            terms.append(f"{sign} {_PAYOFF_WORDS[key]} {part['amount']}")
    text = " ".join(terms).removeprefix("+ ")
    total = sum(-v["minor"] if k == "credit" else v["minor"] for k, v in parts.items())
    over = " (the credit exceeds what is owed)" if total < 0 else ""
    return f"Payoff today: {payoff} = {text}{over}"


def _plan_text(p: dict[str, Any]) -> list[str]:
    ended = {
        "broken": f", broken on {p['broken_on']}",
        "completed": f", completed on {p['completed_on']}",
        "superseded": f", superseded on {p['superseded_on']}",
    }.get(p["status"], "")
    kind = "Settlement plan" if p["waive_rest"] else "Repayment plan"
    rest = " (waives the rest once covered)" if p["waive_rest"] else ""
    frozen = p["frozen"]
    lines = [
        f"{kind} {p['ref']} from {p['effective_on']}{rest}: {p['status']}{ended}",
        f"  paid under the plan {p['coverage']['amount']} of {p['total']['amount']} "
        f"(grace {p['grace_days']} days, tolerance {p['tolerance']['amount']})",
        f"  penalty and compound frozen {frozen['from']}…{frozen['to']} ({frozen['days']} days)",
    ]
    if p["status"] == "active":
        lines.append(f"  plan arrears {p['arrears']['amount']}, plan DPD {p['dpd']}")
    for i in p["instalments"]:
        covered = "covered" if i["covered"] else "not covered"
        lines.append(
            f"  {i['seq']:>3} {i['due_date']} {i['amount']['amount']:>14} "
            f"(cumulative {i['cumulative']['amount']}) {covered}"
        )
    return lines
