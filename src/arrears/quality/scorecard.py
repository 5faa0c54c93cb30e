"""The quality-review scorecard as data, and the one rule that turns answers into a score.

Each criterion has a weight (the weights add up to 100) and may be *critical*: a contact that
fails a critical criterion (threats or abusive language, calling outside the permitted hours)
scores 0 whatever else went well. A criterion may be answered "not applicable" (no plan could
be offered to a borrower who paid in full, say): it then counts neither for nor against, and
the score is the passed weight over the applicable weight, as a percentage rounded half up to
a whole number (``Decimal``, ``ROUND_HALF_UP``: 2.5 → 3). With nothing applicable the score is
100 (nothing went wrong). Labels go through gettext, so the scorecard reads in both languages.

Changing the criteria or weights is a new ``VERSION``: every review keeps the name and version
it was scored with.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

NAME = "contact-qa"
VERSION = 1
PASS, FAIL, NA = "pass", "fail", "na"
ANSWERS = (PASS, FAIL, NA)


@dataclass(frozen=True)
class Criterion:
    key: str
    weight: int
    label: str | Promise
    critical: bool = False


CRITERIA: tuple[Criterion, ...] = (
    Criterion("identified", 15, _("Identified themselves and the company")),
    Criterion("purpose", 10, _("Stated the purpose of the contact")),
    Criterion("no_threats", 25, _("No threats or abusive language"), critical=True),
    Criterion("hours", 10, _("Respected the permitted contact hours"), critical=True),
    Criterion("amount", 15, _("Stated the correct amount due")),
    Criterion("options", 10, _("Offered repayment plan options")),
    Criterion("recorded", 15, _("Recorded the contact accurately")),
)


def label() -> str:
    """The name and version a review records."""
    return f"{NAME} v{VERSION}"


class InvalidAnswers(ValueError):
    """Answers that do not fit the scorecard (a missing or unknown criterion or answer)."""


def check_answers(answers: Mapping[str, str], criteria: Sequence[Criterion] = CRITERIA) -> None:
    keys = {c.key for c in criteria}
    if set(answers) != keys:
        raise InvalidAnswers(f"answer exactly {sorted(keys)}")
    wrong = sorted(k for k, v in answers.items() if v not in ANSWERS)
    if wrong:
        raise InvalidAnswers(f"answers must be {', '.join(ANSWERS)}: {', '.join(wrong)}")


def score(answers: Mapping[str, str], criteria: Sequence[Criterion] = CRITERIA) -> int:
    """The total score 0–100 of complete answers (see the module doc for the rule)."""
    check_answers(answers, criteria)
    if any(c.critical and answers[c.key] == FAIL for c in criteria):
        return 0
    applicable = sum(c.weight for c in criteria if answers[c.key] != NA)
    if applicable == 0:
        return 100
    passed = sum(c.weight for c in criteria if answers[c.key] == PASS)
    exact = Decimal(100 * passed) / Decimal(applicable)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def failed(answers: Mapping[str, str], criteria: Sequence[Criterion] = CRITERIA) -> list[str]:
    """The criteria answered "fail", in scorecard order."""
    return [c.key for c in criteria if answers.get(c.key) == FAIL]
