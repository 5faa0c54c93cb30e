"""Benchmark: the reference kernel's replay speed (loans per second) on a synthetic book.

Run: ``.venv/bin/python bench/kernel_replay.py --loans 100000``. Prints one line of figures.
Each loan has 12 monthly equal-instalment instalments; about 10 % are delinquent with partial
payments, the rest pay on time. This is the figure the vectorised engine is compared with.
"""

from __future__ import annotations

import argparse
import random
import resource
import time
from datetime import date, timedelta
from decimal import Decimal

from arrears.kernel.schedule import build_schedule
from arrears.kernel.state import state
from arrears.kernel.terms import (
    InterestRate,
    LoanTerms,
    Payment,
    RateBasis,
    ScheduleMethod,
    ScheduleTerms,
)


def book(n: int, as_of: date, seed: int) -> list[tuple[LoanTerms, list[Payment]]]:
    rnd = random.Random(seed)
    loans = []
    for i in range(n):
        terms = ScheduleTerms(
            principal=rnd.randrange(1_000, 50_000) * 100,
            currency="CNY",
            rate=InterestRate(Decimal("0.0005"), RateBasis.DAILY),
            term=12,
            method=ScheduleMethod.EQUAL_INSTALMENT,
            start=as_of - timedelta(days=rnd.randrange(30, 360)),
        )
        schedule = build_schedule(terms)
        loan = LoanTerms(
            f"L{i}", "CNY", terms.principal, terms.start, terms.rate, terms.day_count, schedule
        )
        delinquent = rnd.random() < 0.10
        payments = []
        for inst in schedule:
            if inst.due_date > as_of:
                break
            amount = inst.total // 2 if delinquent else inst.total
            payments.append(Payment(f"L{i}-{inst.seq}", inst.due_date, amount))
        loans.append((loan, payments))
    return loans


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--loans", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    as_of = date(2026, 11, 29)
    started = time.perf_counter()
    loans = book(args.loans, as_of, args.seed)
    built = time.perf_counter()
    delinquent = sum(state(loan, payments, as_of).dpd > 0 for loan, payments in loans)
    done = time.perf_counter()
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"loans={args.loans} delinquent={delinquent} generate_s={built - started:.2f} "
        f"replay_s={done - built:.2f} loans_per_s={args.loans / (done - built):,.0f} "
        f"peak_rss_mib={rss_mib:.0f}"
    )


if __name__ == "__main__":
    main()
