"""The payments import's tests again with a file read, validated and written one row at a
time (``test_import_chunked.one_row_per_chunk``): a reversal before or after its payment, a
repeated reference, an error on a later row after earlier chunks were written — every outcome
the same as with the whole file in one chunk, all or nothing."""

from __future__ import annotations

from tests.ledger.test_import_chunked import one_row_per_chunk  # noqa: F401 - autouse
from tests.ledger.test_import_payments import *  # noqa: F403
