"""The request and response shapes of the integrators' API, with a bound on every input.

Bounds are part of the contract (they are in the OpenAPI document): references are short
printable tokens, free text has a length limit and no control characters, amounts are positive
minor units below :data:`MAX_AMOUNT_MINOR`, dates lie in :data:`FIRST_DAY` … :data:`LAST_DAY`,
and a page holds at most :data:`MAX_PAGE` rows.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import AwareDatetime, Field, WithJsonSchema

#: The largest amount accepted anywhere (minor units): 10 billion in a two-decimal currency.
MAX_AMOUNT_MINOR = 1_000_000_000_000
#: The dates the API accepts (a loan's start, a payment's value date, an as-of date…).
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)
#: Rows per page: the default and the most a caller may ask for.
DEFAULT_PAGE = 50
MAX_PAGE = 200

Ref = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")]
Day = Annotated[date, Field(ge=FIRST_DAY, le=LAST_DAY)]
Amount = Annotated[int, Field(ge=1, le=MAX_AMOUNT_MINOR)]
Currency = Annotated[str, Field(min_length=3, max_length=3, pattern=r"^[A-Z]{3}$")]
#: Free text: printable, no control characters but newline and tab.
Text = Annotated[str, Field(max_length=2000, pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$")]
Id = Annotated[int, Field(ge=1, le=2_147_483_647)]
#: A rate per period (0 … 1, at most 8 places), as a JSON number or, to keep it exact, a string.
Rate = Annotated[
    Decimal,
    Field(ge=0, le=1, max_digits=12, decimal_places=8, examples=["0.0005"]),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": 1},
                {
                    "type": "string",
                    "maxLength": 10,
                    "pattern": r"^(0(\.[0-9]{1,8})?|1(\.0{1,8})?)$",
                },
            ]
        }
    ),
]


class ErrorItem(Schema):
    field: str
    code: str
    message: str


class ErrorDetail(Schema):
    code: str
    message: str
    field: str | None = None
    errors: list[ErrorItem] = Field(default_factory=list)


class ErrorOut(Schema):
    error: ErrorDetail


class PageQuery(Schema):
    cursor: str | None = Field(None, max_length=100, description="next_cursor of the last page")
    limit: int = Field(DEFAULT_PAGE, ge=1, le=MAX_PAGE)


# --- loans ---------------------------------------------------------------------------------


class LoanIn(Schema):
    ref: Ref = Field(examples=["L-2026-0001"])
    borrower: Ref = Field(
        description="the borrower's reference (an existing borrower)", examples=["B1"]
    )
    product: Annotated[
        str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_-]+$", examples=["PL"])
    ]
    product_version: int | None = Field(
        None, ge=1, le=10_000, description="default: the latest in force on start_date"
    )
    currency: Currency
    principal_minor: Amount
    rate_value: Rate
    rate_basis: Literal["daily", "annual"]
    term: int = Field(ge=1, le=360, description="instalments")
    method: Literal["equal-instalment", "equal-principal", "interest-first", "bullet"]
    start_date: Day
    day_count: Literal["actual/360", "actual/365", "30/360"] | None = None


class InstalmentOut(Schema):
    seq: int
    due_date: date
    principal_minor: int
    interest_minor: int


class LoanOut(Schema):
    ref: str
    borrower: str
    product: str
    product_version: int
    currency: str
    principal_minor: int
    rate_value: str
    rate_basis: str
    term: int
    method: str
    day_count: str
    start_date: date
    schedule: list[InstalmentOut]


# --- payments ------------------------------------------------------------------------------


class PaymentIn(Schema):
    reference: Ref = Field(
        description="your reference: a retry with it is answered once", examples=["BANK-1"]
    )
    loan: Ref = Field(examples=["L1"])
    value_date: Day
    amount_minor: Amount
    currency: Currency


class ReversalIn(Schema):
    reversal_ref: Ref = Field(description="your reference for the reversal (idempotent)")
    reversed_on: Day
    reason: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")]


class PaymentOut(Schema):
    reference: str
    loan: str
    value_date: date
    amount_minor: int
    currency: str
    reversed_on: date | None
    reversal_ref: str | None


# --- cases and what hangs on them ----------------------------------------------------------


class CaseOut(Schema):
    id: int
    borrower: str
    status: str
    stage: str
    bucket: str
    dpd: int
    total_due_minor: int
    currency: str
    opened_on: date
    closed_on: date | None
    collector: str | None
    loans: list[str]


class CasePage(Schema):
    items: list[CaseOut]
    next_cursor: str | None


class ContactIn(Schema):
    channel: Literal["call", "sms", "email", "letter", "visit", "in_app"]
    direction: Literal["outbound", "inbound"]
    party: Literal["borrower", "co_borrower", "emergency_contact", "third_party"]
    outcome: Literal[
        "rpc",
        "no_answer",
        "wrong_number",
        "third_party",
        "refused",
        "dispute",
        "hardship",
        "promise",
        "callback",
        "hung_up",
    ]
    at: AwareDatetime | None = Field(None, description="default: now; at most 31 days back")
    note: Text = ""
    recording_ref: Annotated[str, Field(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")] = ""
    override_reason: Text = Field(
        "", description="to log a contact the gate would not allow (recorded as overridden)"
    )


class ContactOut(Schema):
    id: int
    case: int
    at: datetime
    channel: str
    direction: str
    party: str
    outcome: str
    phone: str | None = Field(description="masked")
    note: str = Field(description="ID and phone numbers masked")
    gate_outcome: str
    gate_rules: list[str]
    overridden: bool


class ContactPage(Schema):
    items: list[ContactOut]
    next_cursor: str | None


class PromiseIn(Schema):
    amount_minor: Amount
    due_date: Day
    tolerance_minor: int = Field(0, ge=0, le=MAX_AMOUNT_MINOR)


class PromiseOut(Schema):
    id: int
    case: int
    amount_minor: int
    made_on: date
    due_date: date
    tolerance_minor: int
    status: str
    paid_minor: int


class PromisePage(Schema):
    items: list[PromiseOut]
    next_cursor: str | None


class PlanInstalmentIn(Schema):
    due_date: Day
    amount_minor: Amount


class PlanIn(Schema):
    effective_on: Day | None = Field(None, description="default: the business date")
    instalments: list[PlanInstalmentIn] = Field(min_length=1, max_length=60)
    grace_days: int = Field(3, ge=0, le=30)
    tolerance_minor: int = Field(0, ge=0, le=MAX_AMOUNT_MINOR)
    waive_rest: bool = False
    note: Text = ""


class PlanInstalmentOut(Schema):
    seq: int
    due_date: date
    amount_minor: int


class PlanOut(Schema):
    ref: str
    loan: str
    effective_on: date
    status: str
    grace_days: int
    tolerance_minor: int
    waive_rest: bool
    concession_minor: int
    instalments: list[PlanInstalmentOut]


class PlanPage(Schema):
    items: list[PlanOut]
    next_cursor: str | None


class HoldIn(Schema):
    borrower: Ref = Field(examples=["B1"])
    loan: Ref | None = Field(None, description="only this loan (default: all the borrower's)")
    reason: Literal["complaint", "dispute", "hardship", "deceased", "legal"]
    starts_on: Day
    ends_on: Day
    channels: list[
        Literal["sms", "voice", "call_task", "email", "letter", "in_app", "visit_request"]
    ] = Field([], max_length=6)
    note: Text = ""


class HoldOut(Schema):
    id: int
    borrower: str
    loan: str | None
    reason: str
    channels: list[str]
    starts_on: date
    ends_on: date
    released_on: date | None


class HoldPage(Schema):
    items: list[HoldOut]
    next_cursor: str | None


class FiredRuleOut(Schema):
    id: str
    effect: str
    message: str


class GateOut(Schema):
    borrower: str
    channel: str
    party: str
    at: datetime
    allowed: bool
    outcome: str
    next_allowed: datetime | None
    pack: str
    rules: list[FiredRuleOut]


#: The explain document (``arrears explain --json``), passed through as it is.
StateOut = dict[str, Any]
