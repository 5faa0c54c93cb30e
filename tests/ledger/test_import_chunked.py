"""The loans import's tests again with a file read, validated and written one row at a time
(``pipeline.CHUNK_ROWS = 1``, a CSV read a few bytes at a time, every pass over the file a row
at a time): every chunk boundary the tests' files have is crossed — a borrower on several
rows, a repeated reference, an error on a later row after earlier chunks were written — and
every outcome is the same as with the whole file in one chunk, all or nothing. The payments
tests run so in ``test_import_payments_chunked.py`` (their loans are a book of their own)."""

from __future__ import annotations

import pytest

from arrears.ledger.importers import bounds, pipeline, reading
from tests.ledger.test_import import *  # noqa: F403
from tests.ledger.test_import_limits import *  # noqa: F403

# a file of 300 one-row chunks makes 300 rounds of lookups: that test is about one chunk
del test_validation_and_writes_do_not_grow_with_the_number_of_rows  # noqa: F821


@pytest.fixture(autouse=True)
def one_row_per_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    """One row per chunk and per frame of every pass, and a CSV read 7 bytes at a time."""
    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 1)
    monkeypatch.setattr(bounds, "BOUNDS_ROWS", 1)
    monkeypatch.setattr(reading, "LARGEST_FRAME", 1)
    monkeypatch.setattr(reading, "BLOCK_BYTES", 7)


def test_a_borrower_written_by_an_earlier_chunk_is_compared_with_its_first_row(
    tmp_path: Path,  # noqa: F405
) -> None:
    """Row 2's chunk writes B1; row 3 names B1 with another name: the error is the in-file
    one only (B1 is not "already stored" — this import stored it)."""
    other = {"borrower_ref": "B1", "borrower_name": "别人", "national_id": valid_ric(1)}  # noqa: F405
    rows = [loan_row(1), loan_row(2, **other)]  # noqa: F405
    message = rejected("loans", write_csv(tmp_path / "loans.csv", rows))  # noqa: F405
    assert message.splitlines()[1:] == [
        "row 3, field borrower_name: borrower B1 has a different borrower_name on row 2"
    ]
    assert "already exists" not in message
    assert counts() == {  # noqa: F405
        "Borrower": 0, "Phone": 0, "Loan": 0, "Instalment": 0, "Payment": 0
    }  # fmt: skip
