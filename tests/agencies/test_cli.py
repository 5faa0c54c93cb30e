"""``arrears agency``: the register, placements, statements and scorecards on the command line,
with mistakes as one-line errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from arrears.agencies.models import Agency, CommissionTier, Placement
from arrears.ledger import models
from arrears.ledger import services as ledger
from tests.agencies.daystep import DAY, run

Book = Callable[[int], list[models.Loan]]


def agency(*args: str) -> str:
    out = StringIO()
    call_command("agency", *args, stdout=out)
    return out.getvalue()


ADD = [
    "add",
    "north",
    "--name",
    "North Recovery Ltd.",
    "--name-zh",
    "北方信息咨询有限公司",
    "--licence",
    "LIC-9",
    "--licence-valid-to",
    "2027-06-30",
    "--contract",
    "2026-01-01",
    "2027-06-30",
    "--phone",
    "400-800-9999",
    "--capacity",
    "50",
    "--tier",
    ":0:1000",
    "--tier",
    "M3:100000:1500",
]


def test_add_then_list(db: None) -> None:
    assert agency(*ADD).startswith("added North Recovery Ltd. (north) (2 tier(s)")
    north = Agency.objects.get(code="north")
    assert (north.capacity, north.name_zh, north.contract_ends) == (
        50,
        "北方信息咨询有限公司",
        date(2027, 6, 30),
    )
    tiers = list(CommissionTier.objects.filter(agency=north).values_list("bucket", "above_minor"))
    assert sorted(tiers) == [("", 0), ("M3", 100_000)]
    listed = agency("list")
    assert "north" in listed and "LIC-9" in listed and "2027-06-30" in listed
    assert listed.splitlines()[1].split()[-1] == "0"  # no live placements


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("north", "North!"), "is not an agency code"),
        (("2027-06-30", "2027-02-30"), "--licence-valid-to: '2027-02-30' is not a date"),
        (("M3:100000:1500", "M3:100000:15000"), "the rate must be 0 to 10000 basis points"),
        (("M3:100000:1500", "M3-100000"), "write BUCKET:ABOVE:BP"),
        (("50", "0"), "capacity must be 1 to"),
        (("2026-01-01", "2028-01-01"), "the contract ends (2027-06-30) before it starts"),
    ],
)
def test_add_refuses_mistakes_in_one_line(db: None, change: tuple[str, str], message: str) -> None:
    old, new = change
    args = [new if a == old else a for a in ADD]
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        agency(*args)
    assert not Agency.objects.exists()


def test_add_refuses_a_taken_code(db: None) -> None:
    agency(*ADD)
    with pytest.raises(CommandError, match="there is already an agency north"):
        agency(*ADD)


def test_placements_statement_and_scorecard(pair: tuple[Agency, Agency], book: Book) -> None:
    loans = book(2)
    run(DAY)
    ledger.record_payment(
        loan=loans[0], ref="P1", value_date=date(2026, 4, 25), amount_minor=80_005, currency="CNY"
    )
    listed = agency("placements", "alpha")
    assert listed.count("\n") == 1 and "borrower B0" in listed and ": live" in listed
    assert agency("placements", "--live", "--as-of", "2026-04-19") == ""
    assert agency("placements", "--live").count("\n") == 2
    text = agency("statement", "alpha", "--month", "2026-04")
    # alpha's tier: 10% from the first fen; 80005 x 10% = 8000.5 -> 8001 (half up)
    assert "total: recovered 80005 (CN¥800.05), commission 8001 (CN¥80.01)" in text
    data = json.loads(agency("statement", "alpha", "--month", "2026-04", "--json"))
    assert data["total"]["commission"] == {"minor": 8001, "formatted": "CN¥80.01"}
    assert data["lines"][0]["recovered_in_month"]["minor"] == 80_005
    card = json.loads(
        agency("scorecard", "alpha", "--from", "2026-04-01", "--to", "2026-04-30", "--json")
    )
    assert card["recovered_minor"] == 80_005 and card["cases_placed"] == 1
    for args, message in (
        (("statement", "nobody", "--month", "2026-04"), "no agency 'nobody'"),
        (("statement", "alpha", "--month", "2026-13"), "is not a month"),
        (("placements", "--as-of", "soon"), "is not a date"),
    ):
        with pytest.raises(CommandError, match=message):
            agency(*args)


def test_recall_on_the_command_line_needs_a_supervisor(
    pair: tuple[Agency, Agency], book: Book
) -> None:
    book(1)
    run(DAY)
    live = Placement.objects.get()
    User.objects.create_user("clerk")
    User.objects.create_superuser("boss")
    with pytest.raises(CommandError, match="only a team lead, a manager or a superuser"):
        agency("recall", str(live.pk), "--by", "clerk", "--note", "x", "--as-of", "2026-04-21")
    out = agency("recall", str(live.pk), "--by", "boss", "--note", "audit", "--as-of", "2026-04-21")
    assert out.strip() == f"recalled #{live.pk} from alpha on 2026-04-21"


def test_add_records_the_permitted_channels_and_parties_and_refuses_unknown_ones(
    db: None,
) -> None:
    agency(*ADD, "--channels", "call,sms,visit", "--parties", "emergency")
    north = Agency.objects.get(code="north")
    assert north.permitted_channels == ["call", "sms", "visit"]
    assert north.permitted_parties == ["emergency"]
    with pytest.raises(CommandError, match="fax is not a channel"):
        agency(*[a if a != "north" else "south" for a in ADD], "--channels", "call,fax")
    assert not Agency.objects.filter(code="south").exists()
