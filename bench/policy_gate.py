"""Benchmark: the compliance gate deciding a day's batch of contact requests.

Run: ``.venv/bin/python bench/policy_gate.py --requests 100000``. Builds a realistic batch
(borrowers in Chinese and US time zones, a few with unknown zones, mostly SMS and calls, some
holds, opt-outs and rendered texts) and a week of contact history (~2 records per request), then
times ``decide_many`` for each shipped pack at a morning and an evening instant, and prints one
line of figures per run. Building the inputs is timed separately from deciding.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from arrears.policy import ContactRecord, ContactRequest, Hold, decide_many, load_pack

ZONES = [
    ("Asia/Shanghai", 60),
    ("Asia/Urumqi", 2),
    ("America/New_York", 12),
    ("America/Chicago", 8),
    ("America/Los_Angeles", 8),
    ("Pacific/Honolulu", 2),
    (None, 8),  # unknown: country known (CN or US), or nothing at all
]
CHANNELS = [(("sms", "sms"), 55), (("voice", "call"), 30), (("email", "email"), 8),
            (("letter", "letter"), 5), (("voice", "voicemail"), 2)]  # fmt: skip
TEXT = (
    "【微众银行】您的借款已逾期5天，截至今日应还金额1,234.56元（含罚息12.34元）。请通过微众银行App"
    "还款，切勿向任何个人账户转账。投诉请致电95384。验证码K7Q2M9。回复TD退订"
)
FACTS = {
    "lender_name": "微众银行",
    "amount_due": "1,234.56",
    "penalty": "12.34",
    "repayment_channel": "微众银行App",
    "complaint_channel": "95384",
    "verification_code": "K7Q2M9",
}


def pick(rng: random.Random, weighted: list[tuple[object, int]]) -> object:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


def build(n: int, now: datetime, seed: int) -> tuple[list[ContactRequest], list[ContactRecord]]:
    rng = random.Random(seed)
    people = max(1, n * 2 // 3)  # some people get two contacts in the batch
    holidays = frozenset({now.date() + timedelta(days=30)})
    requests: list[ContactRequest] = []
    for i in range(n):
        person = rng.randrange(people)
        zone = pick(rng, ZONES)
        channel, action = pick(rng, CHANNELS)  # type: ignore[misc]
        country = None
        if zone is None:
            country = rng.choice(["CN", "US", None]) if rng.random() < 0.9 else None
        holds = (Hold("complaint", "loan", f"D{person}"),) if rng.random() < 0.02 else ()
        text = TEXT if channel == "sms" and rng.random() < 0.1 else None
        requests.append(
            ContactRequest(
                debt_id=f"D{person}",
                person_id=f"P{person}",
                party="borrower",
                channel=channel,
                action=action,
                request_id=f"r{i}",
                address=f"+86 138 {person:08d}",
                timezone=zone,  # type: ignore[arg-type]
                country=country,
                opt_outs=frozenset({"sms"}) if rng.random() < 0.03 else frozenset(),
                holds=holds,
                holidays=holidays,
                text=text,
                facts=FACTS,
            )
        )
    history: list[ContactRecord] = []
    for _ in range(2 * n):
        person = rng.randrange(people)
        channel, action = pick(rng, CHANNELS[:3])  # type: ignore[misc]
        history.append(
            ContactRecord(
                at=now - timedelta(minutes=rng.randrange(7 * 24 * 60)),
                channel=channel,
                action=action,
                person_id=f"P{person}",
                debt_id=f"D{person}",
                address=f"+86 138 {person:08d}",
                reached=rng.random() < 0.7,
                conversation=rng.random() < 0.1,
            )
        )
    return requests, history


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    shanghai = ZoneInfo("Asia/Shanghai")
    instants = {
        "morning": datetime(2026, 3, 10, 10, 0, tzinfo=shanghai),
        "evening": datetime(2026, 3, 10, 21, 30, tzinfo=shanghai),
    }
    for label, now in instants.items():
        started = time.perf_counter()
        requests, history = build(args.requests, now, args.seed)
        built = time.perf_counter() - started
        for name in ("cn", "us-regf", "default"):
            pack = load_pack(name)
            started = time.perf_counter()
            decisions = decide_many(requests, history, now, pack=pack)
            took = time.perf_counter() - started
            outcomes = Counter(d.outcome for d in decisions)
            print(
                f"pack={name} now={label}({now.astimezone(UTC):%H:%MZ}) requests={len(requests)} "
                f"history={len(history)} build_s={built:.2f} decide_s={took:.2f} "
                f"per_s={len(requests) / took:,.0f} allow={outcomes['allow']} "
                f"defer={outcomes['defer']} deny={outcomes['deny']}"
            )


if __name__ == "__main__":
    main()
