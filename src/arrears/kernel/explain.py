"""Explain a loan's state line by line, so a person can check every fen by hand.

The explanation is plain data (JSON-ready dicts of strings and ints) built only from a
:class:`~arrears.kernel.state.LoanState`; the CLI prints it as text or JSON and the web app
renders the same data, so the three can never disagree.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from arrears.kernel.accrual import PenaltyPeriod, daily_amount
from arrears.kernel.money import Money, Rounding
from arrears.kernel.state import InstalmentState, LoanState
from arrears.kernel.terms import AccrualRounding, LoanTerms

ROUNDING_POINT = {
    AccrualRounding.DAILY: "rounded per day",
    AccrualRounding.PERIOD: "rounded per period",
}


def percent(rate: Decimal) -> str:
    """``0.00075`` → ``"0.075%"``: exact, no trailing zeros, never scientific notation."""
    text = format((rate * 100).normalize(), "f")
    return f"{text}%"


def amount(minor: int, currency: str) -> str:
    return str(Money(minor, currency).amount)


def _money(minor: int, currency: str) -> dict[str, Any]:
    return {"amount": amount(minor, currency), "minor": minor}


def _period(
    p: PenaltyPeriod, currency: str, rounding: Rounding, mode: AccrualRounding
) -> dict[str, Any]:
    base = amount(p.base, currency)
    if mode is AccrualRounding.DAILY and not p.capped:
        per_day = daily_amount(p.base, p.rate, rounding)
        formula = (
            f"{p.days} days × {base} × {percent(p.rate)} = {amount(p.amount, currency)}"
            f" ({amount(per_day, currency)}/day, {rounding.value} per day)"
        )
    else:
        formula = f"{p.days} days × {base} × {percent(p.rate)} = {amount(p.amount, currency)}"
        formula += " (capped by the cost cap)" if p.capped else f" ({rounding.value} per period)"
    return {
        "from": p.start.isoformat(),
        "to": p.end.isoformat(),
        "days": p.days,
        "base": _money(p.base, currency),
        "rate": percent(p.rate),
        "amount": _money(p.amount, currency),
        "capped": p.capped,
        "formula": formula,
    }


def _instalment(i: InstalmentState, loan: LoanTerms) -> dict[str, Any]:
    cur, product = loan.currency, loan.product

    def part(due: int, paid: int) -> dict[str, Any]:
        return {
            "due": _money(due, cur),
            "paid": _money(paid, cur),
            "outstanding": _money(due - paid, cur),
        }

    periods = [
        _period(p, cur, product.rounding, product.accrual_rounding) for p in i.penalty_periods
    ]
    compound = [
        _period(p, cur, product.rounding, product.accrual_rounding) for p in i.compound_periods
    ]
    return {
        "seq": i.seq,
        "due_date": i.due_date.isoformat(),
        "status": i.status.value,
        "dpd": i.dpd,
        "paid_on": i.paid_on.isoformat() if i.paid_on else None,
        "principal": part(i.principal, i.principal_paid),
        "interest": part(i.interest, i.interest_paid),
        "penalty": {**part(i.penalty, i.penalty_paid), "periods": periods},
        "compound": {**part(i.compound, i.compound_paid), "periods": compound},
        "grace_penalty_pending": _money(i.grace_penalty_pending, cur),
        "outstanding": _money(i.outstanding, cur),
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
            "rounding": f"{product.rounding.value}, {ROUNDING_POINT[product.accrual_rounding]}",
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
            "credit": _money(s.credit, cur),
            "paid_total": _money(s.paid_total, cur),
        },
        "settled_on": s.settled_on.isoformat() if s.settled_on else None,
        "instalments": [_instalment(i, loan) for i in s.instalments],
        "payments": [
            {
                "ref": a.ref,
                "value_date": a.value_date.isoformat(),
                "amount": _money(a.amount, cur),
                "allocated": [
                    {
                        "seq": line.seq,
                        "component": line.component.value,
                        "amount": _money(line.amount, cur),
                    }
                    for line in a.lines
                ],
                "to_credit": _money(a.to_credit, cur),
                "settled": a.settled,
            }
            for a in s.applications
        ],
    }


def render_text(data: dict[str, Any]) -> str:
    """Plain-text rendering of :func:`explain` output for terminals and logs."""
    t = data["totals"]
    r = data["rates"]
    lines = [
        f"Loan {data['loan']} as of {data['as_of']}: DPD {data['dpd']}, bucket {data['bucket']}",
        f"Rates: contract {r['daily']}/day, penalty {r['penalty_daily']}/day "
        f"(× {r['penalty_multiplier']}), rounding {r['rounding']}",
        f"Owed now: {t['total_due']['amount']} {data['currency']} "
        f"(overdue principal {t['overdue_principal']['amount']}, "
        f"overdue interest {t['overdue_interest']['amount']}, "
        f"penalty {t['penalty_outstanding']['amount']}, "
        f"compound {t['compound_outstanding']['amount']})",
        f"Payoff today: {t['payoff']['amount']} (principal outstanding "
        f"{t['principal_outstanding']['amount']}, interest for days used "
        f"{t['accrued_interest']['amount']}, credit {t['credit']['amount']})",
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
    if data["payments"]:
        lines.append("")
        lines.append("Payments:")
        for p in data["payments"]:
            parts = ", ".join(
                f"#{a['seq']} {a['component']} {a['amount']['amount']}" for a in p["allocated"]
            )
            extra = f", to credit {p['to_credit']['amount']}" if p["to_credit"]["minor"] else ""
            settled = " (settled the loan)" if p["settled"] else ""
            lines.append(
                f"  {p['value_date']} {p['ref']} {p['amount']['amount']}: {parts}{extra}{settled}"
            )
    return "\n".join(lines)
