"""Data exchange with an agency: placements out (CSV, Parquet, JSON), results in.

Results arrive as a *batch* — rows of contact attempts (and promises) — from the JSON API or
from a CSV/Parquet file. Both end in :func:`submit`, so they are validated and applied by the
same code:

* **validated as a whole**: every row is checked (types, lengths, allowed values, the case is
  placed with this agency now, the channel and party are in its contract, the time is not in
  the future, not before the placement, not older than ``MAX_AGE_DAYS``) and *all* errors are
  returned, each with its row, field, stable code and message;
* **all-or-nothing**: the rows are applied in time order inside one transaction, each contact
  through the compliance gate (``actions.log_contact``); a row the gate refuses is a row error
  and the whole batch is rolled back;
* **idempotent by reference**: the agency's reference and the SHA-256 of the batch's canonical
  content are stored (``ResultBatch``); the same reference with the same content returns the
  original result and changes nothing; the same reference with other content is refused
  (``results-reference-conflict``, HTTP 409). A refused batch is not stored, so it can be
  corrected and sent again under the same reference;
* **bounded**: file size, rows, field lengths and amounts have limits (below);
* an agency never reports money it collected: a ``paid``/``collected``-like field is refused —
  payments come only from the ledger.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Any

import polars as pl
import pyarrow.parquet as pq
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone

from arrears import errorcodes
from arrears.agencies import access, actions
from arrears.agencies.models import Agency, Placement, ResultBatch
from arrears.collections.models import Case, ContactAttempt, Promise
from arrears.collections.workflow import business_date
from arrears.kernel.errors import ArrearsError
from arrears.ledger.masking import mask_national_id, mask_phone
from arrears.ledger.models import Loan, Phone
from arrears.spreadsheets import safe_frame

#: Bounds on what an agency may send (hostile sizes).
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ROWS = 1000
MAX_NOTE = 1000
MAX_REFERENCE = 80
MAX_LOAN_REF = 64
MAX_AMOUNT_MINOR = 10**12
MAX_CASE_ID = 10**15
#: Columns a results file may have (the fields, and a few the checks name as unknown).
MAX_COLUMNS = 30
#: A Parquet file's data once uncompressed (a small file must not expand into gigabytes).
MAX_UNCOMPRESSED_BYTES = 32 * 1024 * 1024
#: Errors listed in one answer; the message still says how many there are.
MAX_ERRORS = 200
#: A contact reported more than this many days after it happened is refused: the gate judged
#: later contacts without it, so a late report would make the history lie.
MAX_AGE_DAYS = 7
#: A little clock skew between the agency's system and ours is not "the future".
FUTURE_SKEW = timedelta(minutes=5)

#: The result fields, in canonical order. ``case_id`` or ``loan_ref`` names the case.
FIELDS = (
    "case_id",
    "loan_ref",
    "at",
    "channel",
    "party",
    "outcome",
    "note",
    "promise_amount_minor",
    "promise_due_date",
)
REQUIRED = ("at", "channel", "party", "outcome")
#: A field whose name says money reached the agency is refused outright, whatever its value.
_COLLECTED = re.compile(r"paid|collect|recover|repaid|received|cash", re.I)

FORMATS = ("csv", "parquet")

#: The export's columns, in order (documented in ``docs/agency-exchange.md``).
EXPORT_COLUMNS = (
    "placement_id",
    "case_id",
    "loan_refs",
    "borrower_name",
    "national_id_masked",
    "phones_masked",
    "bucket",
    "dpd",
    "total_due_minor",
    "currency",
    "placed_on",
    "ends_on",
    "promise_amount_minor",
    "promise_due_date",
)


class ResultsRefused(ArrearsError):
    """A batch was refused as a whole; ``errors`` lists every row error. Nothing applied."""

    code = "results-invalid"

    def __init__(self, message: str, *, errors: Sequence[RowError] = (), **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.errors = list(errors)


class ResultsConflict(ArrearsError):
    """The reference was already used for different content (HTTP 409)."""

    code = "results-reference-conflict"


errorcodes.define(
    {
        "results-invalid": "the batch has %(n)s errors; nothing was applied",
        "results-reference": "a batch needs a reference of 1 to %(max)s characters",
        "results-reference-conflict": (
            "reference %(reference)s was already used on %(received)s for different content"
        ),
        "results-empty": "a batch needs at least one row",
        "results-too-many-rows": "at most %(max)s rows per batch (%(n)s given)",
        "results-not-rows": "results must be a list of objects",
        "results-file-too-large": "the file has %(size)s bytes; at most %(max)s are accepted",
        "results-file-unreadable": "the file cannot be read as %(format)s",
        "results-format": "%(value)s is not one of %(allowed)s",
        "results-unknown-field": "%(name)s is not a result field",
        "results-too-many-columns": "the file has %(n)s columns; at most %(max)s are accepted",
        "results-duplicate-column": "the column %(column)s appears more than once",
        "results-contact-duplicate": "this contact was already reported (%(at)s, %(channel)s)",
        "results-collected-refused": (
            "agencies do not report collected amounts; payments come only from the ledger"
        ),
        "results-required": "this field is required",
        "results-too-long": "at most %(max)s characters",
        "results-not-integer": "%(value)s is not a whole number",
        "results-amount-range": "must be between 1 and %(max)s minor units",
        "results-not-datetime": (
            "%(value)s is not a date and time with an offset, e.g. 2026-12-02T10:30:00+08:00"
        ),
        "results-not-date": "%(value)s is not a date (YYYY-MM-DD)",
        "results-unknown-value": "%(value)s is not one of %(allowed)s",
        "results-no-case": "give case_id or loan_ref",
        "results-case-not-placed": "%(value)s is not a case placed with your agency",
        "results-case-loan-mismatch": "loan %(loan)s is not on case %(case)s",
        "results-at-future": "%(at)s is in the future",
        "results-at-too-old": "%(at)s is more than %(days)s days ago",
        "results-at-before-placement": (
            "%(at)s is before the case was placed with your agency on %(placed)s"
        ),
        "results-promise-fields": (
            "an outcome of promise needs promise_amount_minor and promise_due_date; "
            "other outcomes have neither"
        ),
    }
)


@dataclass(frozen=True)
class RowError:
    """One problem in a batch: the row (1 = the first row), the field and the refusal."""

    row: int
    field: str
    error: ArrearsError

    @property
    def code(self) -> str:
        return self.error.code

    def message(self) -> str:
        """The reason in English (the API's language)."""
        text = str(self.error)
        prefix = f"{self.error.field}: "
        return text[len(prefix) :] if self.error.field and text.startswith(prefix) else text

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "code": self.code, "message": self.message()}

    def line(self) -> str:
        """``row N, field F: reason`` — for the command line and logs."""
        where = f"row {self.row}, field {self.field}" if self.field else f"row {self.row}"
        return f"{where}: {self.message()}"


def _refused(row: int, name: str, code: str, /, **params: Any) -> RowError:
    return RowError(row, name, errorcodes.refuse(ResultsRefused, code, field=name, **params))


@dataclass(frozen=True)
class Result:
    """One result row, parsed: exact types, no placement checked yet."""

    row: int
    case_id: int | None
    loan_ref: str
    at: datetime
    channel: str
    party: str
    outcome: str
    note: str
    promise_amount_minor: int | None
    promise_due_date: date | None

    def canonical(self) -> dict[str, Any]:
        """The row as the digest sees it: the same facts give the same bytes whatever their
        source (JSON, CSV or Parquet) or the offset the time was written in."""
        return {
            "case_id": self.case_id,
            "loan_ref": self.loan_ref,
            "at": self.at.astimezone(UTC).isoformat(),
            "channel": self.channel,
            "party": self.party,
            "outcome": self.outcome,
            "note": self.note,
            "promise_amount_minor": self.promise_amount_minor,
            "promise_due_date": self.promise_due_date.isoformat()
            if self.promise_due_date
            else None,
        }


@dataclass
class Outcome:
    """What a batch did (or, for a resend, what it did the first time)."""

    batch: ResultBatch
    replayed: bool = False
    summary: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "reference": self.batch.reference,
            "digest": self.batch.digest,
            "rows": self.batch.rows,
            "received_at": self.batch.received_at.isoformat(),
            "replayed": self.replayed,
            **self.batch.summary,
        }


# --- parsing one row --------------------------------------------------------------------------


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _integer(row: int, name: str, value: Any, errors: list[RowError]) -> int | None:
    if isinstance(value, (bool, float)):
        errors.append(_refused(row, name, "results-not-integer", value=repr(value)))
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if re.fullmatch(r"-?\d{1,19}", text):
        return int(text)
    errors.append(_refused(row, name, "results-not-integer", value=repr(text[:40])))
    return None


def _text(row: int, name: str, value: Any, limit: int, errors: list[RowError]) -> str:
    text = "" if _blank(value) else str(value).strip()
    if len(text) > limit:
        errors.append(_refused(row, name, "results-too-long", max=limit))
        return ""
    return text


def _choice(row: int, name: str, value: Any, allowed: Iterable[str], errors: list[RowError]) -> str:
    text = "" if _blank(value) else str(value).strip()
    options = list(allowed)
    if text not in options:
        errors.append(
            _refused(
                row,
                name,
                "results-unknown-value",
                value=repr(text[:40]),
                allowed=", ".join(options),
            )
        )
    return text


def _when(row: int, value: Any, errors: list[RowError]) -> datetime | None:
    if isinstance(value, datetime):
        parsed: datetime | None = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value).strip()[:40])
        except ValueError:
            parsed = None
    if parsed is None or parsed.tzinfo is None:
        errors.append(_refused(row, "at", "results-not-datetime", value=repr(str(value)[:40])))
        return None
    return parsed


def _day(row: int, name: str, value: Any, errors: list[RowError]) -> date | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    text = str(value).strip()[:40]
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    errors.append(_refused(row, name, "results-not-date", value=repr(text)))
    return None


def parse_row(number: int, raw: Any) -> tuple[Result | None, list[RowError]]:
    """One row from a JSON object or a file's record; every problem is reported."""
    errors: list[RowError] = []
    if not isinstance(raw, Mapping):
        return None, [_refused(number, "", "results-not-rows")]
    for name in raw:
        key = str(name)
        if _COLLECTED.search(key):
            errors.append(_refused(number, key[:40], "results-collected-refused"))
        elif key not in FIELDS:
            errors.append(_refused(number, key[:40], "results-unknown-field", name=key[:40]))
    for name in REQUIRED:
        if _blank(raw.get(name)):
            errors.append(_refused(number, name, "results-required"))
    case_id = (
        None if _blank(raw.get("case_id")) else _integer(number, "case_id", raw["case_id"], errors)
    )
    if case_id is not None and not 0 < case_id <= MAX_CASE_ID:
        errors.append(_refused(number, "case_id", "results-case-not-placed", value=case_id))
        case_id = None
    loan_ref = _text(number, "loan_ref", raw.get("loan_ref"), MAX_LOAN_REF, errors)
    if _blank(raw.get("case_id")) and _blank(raw.get("loan_ref")):
        errors.append(_refused(number, "case_id", "results-no-case"))
    at = None if _blank(raw.get("at")) else _when(number, raw["at"], errors)
    channel = _choice(number, "channel", raw.get("channel"), ContactAttempt.Channel.values, errors)
    party = _choice(number, "party", raw.get("party"), ContactAttempt.Party.values, errors)
    outcome = _choice(number, "outcome", raw.get("outcome"), actions.OUTCOMES, errors)
    note = _text(number, "note", raw.get("note"), MAX_NOTE, errors)
    amount = None
    if not _blank(raw.get("promise_amount_minor")):
        amount = _integer(number, "promise_amount_minor", raw["promise_amount_minor"], errors)
        if amount is not None and not 0 < amount <= MAX_AMOUNT_MINOR:
            errors.append(
                _refused(
                    number, "promise_amount_minor", "results-amount-range", max=MAX_AMOUNT_MINOR
                )
            )
    due = None
    if not _blank(raw.get("promise_due_date")):
        due = _day(number, "promise_due_date", raw["promise_due_date"], errors)
    promised = outcome == ContactAttempt.Outcome.PROMISE
    given = not _blank(raw.get("promise_amount_minor")) or not _blank(raw.get("promise_due_date"))
    complete = not _blank(raw.get("promise_amount_minor")) and not _blank(
        raw.get("promise_due_date")
    )
    if (promised and not complete) or (given and not promised):
        errors.append(_refused(number, "promise_amount_minor", "results-promise-fields"))
    if errors or at is None:
        return None, errors
    return (
        Result(
            row=number,
            case_id=case_id,
            loan_ref=loan_ref,
            at=at,
            channel=channel,
            party=party,
            outcome=outcome,
            note=note,
            promise_amount_minor=amount,
            promise_due_date=due,
        ),
        [],
    )


def parse_rows(raws: Any) -> tuple[list[Result], list[RowError]]:
    """Every row of a batch; bounds on the batch itself are row 0 errors."""
    if not isinstance(raws, list):
        return [], [_refused(0, "results", "results-not-rows")]
    if not raws:
        return [], [_refused(0, "results", "results-empty")]
    if len(raws) > MAX_ROWS:
        return [], [_refused(0, "results", "results-too-many-rows", max=MAX_ROWS, n=len(raws))]
    results: list[Result] = []
    errors: list[RowError] = []
    for number, raw in enumerate(raws, start=1):
        parsed, problems = parse_row(number, raw)
        errors.extend(problems)
        if parsed is not None:
            results.append(parsed)
    return results, errors


def digest(results: Sequence[Result]) -> str:
    """SHA-256 of the batch's canonical content (rows in the order sent)."""
    text = json.dumps([r.canonical() for r in results], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


# --- checking rows against the agency's placements ----------------------------------------------


def _placement(
    agency: Agency, result: Result, day: date
) -> tuple[Placement | None, RowError | None]:
    name = "case_id" if result.case_id is not None else "loan_ref"
    case_id = result.case_id
    if result.loan_ref:
        loan = Loan.objects.filter(ref=result.loan_ref).first()
        open_case = (
            Case.objects.filter(borrower_id=loan.borrower_id, closed_on__isnull=True).first()
            if loan is not None
            else None
        )
        if open_case is None:
            value = result.loan_ref
            return None, _refused(result.row, "loan_ref", "results-case-not-placed", value=value)
        if case_id is not None and case_id != open_case.pk:
            return None, _refused(
                result.row,
                "loan_ref",
                "results-case-loan-mismatch",
                loan=result.loan_ref,
                case=case_id,
            )
        case_id = open_case.pk
    assert case_id is not None
    try:
        return access.placement_of(agency, case_id, day), None
    except Http404:
        value = result.case_id if result.case_id is not None else result.loan_ref
        return None, _refused(result.row, name, "results-case-not-placed", value=value)


def check_rows(
    agency: Agency, results: Sequence[Result], now: datetime, day: date
) -> tuple[dict[int, Placement], list[RowError]]:
    """The placement of each row, and every row that may not be applied by this agency."""
    placements: dict[int, Placement] = {}
    errors: list[RowError] = []
    seen: set[tuple[int, datetime, str, str]] = set()
    channels = access.permitted_channels(agency)
    parties = access.permitted_parties(agency)
    for result in results:
        placement, problem = _placement(agency, result, day)
        if problem is not None:
            errors.append(problem)
        if result.channel not in channels:
            errors.append(
                _refused(
                    result.row, "channel", "agency-channel-not-permitted", channel=result.channel
                )
            )
        if result.party not in parties:
            errors.append(
                _refused(result.row, "party", "agency-party-not-permitted", party=result.party)
            )
        if result.at > now + FUTURE_SKEW:
            errors.append(_refused(result.row, "at", "results-at-future", at=result.at))
        elif result.at < now - timedelta(days=MAX_AGE_DAYS):
            errors.append(
                _refused(result.row, "at", "results-at-too-old", at=result.at, days=MAX_AGE_DAYS)
            )
        elif placement is not None:
            starts = datetime.combine(
                placement.placed_on, dtime(0, 0), tzinfo=timezone.get_current_timezone()
            )
            if result.at < starts:
                errors.append(
                    _refused(
                        result.row,
                        "at",
                        "results-at-before-placement",
                        at=result.at,
                        placed=placement.placed_on,
                    )
                )
        if placement is not None:
            placements[result.row] = placement
            # a contact reported twice (in this batch or an earlier one) would count twice
            # in the gate's history and the agency's scorecard
            key = (placement.case_id, result.at, result.channel, result.party)
            if (
                key in seen
                or ContactAttempt.objects.filter(
                    case_id=placement.case_id,
                    agency=agency,
                    at=result.at,
                    channel=result.channel,
                    party=result.party,
                ).exists()
            ):
                errors.append(
                    _refused(
                        result.row,
                        "at",
                        "results-contact-duplicate",
                        at=result.at,
                        channel=result.channel,
                    )
                )
            seen.add(key)
    return placements, errors


# --- applying a batch ---------------------------------------------------------------------------


class _Rollback(Exception):
    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors


def refuse_batch(errors: Sequence[RowError]) -> ResultsRefused:
    """The batch refused with its errors by row and field (the first ``MAX_ERRORS``)."""
    error = errorcodes.refuse(ResultsRefused, "results-invalid", n=len(errors))
    error.errors = sorted(errors, key=lambda e: (e.row, e.field))[:MAX_ERRORS]
    return error


def check_size(size: int) -> None:
    """Refuse a file above ``MAX_FILE_BYTES`` before reading it."""
    if size > MAX_FILE_BYTES:
        raise refuse_batch(
            [_refused(0, "file", "results-file-too-large", size=size, max=MAX_FILE_BYTES)]
        )


def envelope_error(name: str) -> RowError:
    """A key beside ``reference`` and ``results`` in a batch (row 0: the batch itself)."""
    if _COLLECTED.search(name):
        return _refused(0, name[:40], "results-collected-refused")
    return _refused(0, name[:40], "results-unknown-field", name=name[:40])


def _service_field(name: str | None) -> str:
    """A service's form field → the result field it concerns."""
    return {
        "amount": "promise_amount_minor",
        "tolerance": "promise_amount_minor",
        "due_date": "promise_due_date",
        "override_reason": "at",
        None: "",
    }.get(name, name or "")


def _apply(
    agency: Agency, results: Sequence[Result], placements: Mapping[int, Placement], user: Any
) -> dict[str, Any]:
    """Apply every row in time order; any refusal rolls the whole batch back (``_Rollback``)."""
    errors: list[RowError] = []
    contacts: list[int] = []
    promises: list[int] = []
    for result in sorted(results, key=lambda r: (r.at, r.row)):
        placement = placements[result.row]
        try:
            contact = actions.log_contact(
                placement,
                channel=result.channel,
                party=result.party,
                outcome=result.outcome,
                at=result.at,
                note=result.note,
                user=user,
            )
            contacts.append(contact.pk)
            if result.promise_amount_minor is not None and result.promise_due_date is not None:
                promise: Promise = actions.make_promise(
                    placement,
                    amount_minor=result.promise_amount_minor,
                    due_date=result.promise_due_date,
                    user=user,
                    contact=contact,
                )
                promises.append(promise.pk)
        except ArrearsError as error:
            errors.append(RowError(result.row, _service_field(error.field), error))
    if errors:
        raise _Rollback(errors)
    return {"contacts": len(contacts), "promises": len(promises)}


def submit(
    agency: Agency,
    reference: str,
    raws: Any,
    *,
    source: str,
    user: Any = None,
    now: datetime | None = None,
) -> Outcome:
    """Validate and apply one batch of results (the API and the files both call this).

    Raises :class:`ResultsRefused` (with every row error; nothing applied) or
    :class:`ResultsConflict` (the reference was used for other content).
    """
    when = now or timezone.now()
    reference = (reference or "").strip()
    if not reference or len(reference) > MAX_REFERENCE:
        raise refuse_batch([_refused(0, "reference", "results-reference", max=MAX_REFERENCE)])
    results, errors = parse_rows(raws)
    seen = _earlier(agency, reference, digest(results) if not errors else None)
    if seen is not None:
        return seen
    # every row is judged, including the placement checks of rows that parsed beside rows
    # that did not, so one answer lists everything to correct
    placements, problems = check_rows(agency, results, when, business_date())
    errors += problems
    if errors:
        raise refuse_batch(errors)
    content = digest(results)
    try:
        with transaction.atomic():
            summary = _apply(agency, results, placements, user)
            batch = ResultBatch.objects.create(
                agency=agency,
                reference=reference,
                digest=content,
                source=source,
                rows=len(results),
                summary=summary,
                received_at=when,
                received_by=user if getattr(user, "is_authenticated", False) else None,
            )
    except _Rollback as rollback:
        raise refuse_batch(rollback.errors) from None
    except IntegrityError:  # the same reference committed meanwhile by another request
        seen = _earlier(agency, reference, content)
        if seen is None:
            raise
        return seen
    return Outcome(batch=batch, summary=summary)


def _earlier(agency: Agency, reference: str, content: str | None) -> Outcome | None:
    """The earlier batch under ``reference``: its outcome when the content is the same; a
    conflict when it differs (``content`` ``None`` = the new content is not even valid)."""
    batch = ResultBatch.objects.filter(agency=agency, reference=reference).first()
    if batch is None:
        return None
    if content is not None and batch.digest == content:
        return Outcome(batch=batch, replayed=True, summary=dict(batch.summary))
    raise errorcodes.refuse(
        ResultsConflict,
        "results-reference-conflict",
        field="reference",
        reference=reference,
        received=batch.received_at,
    )


# --- files --------------------------------------------------------------------------------------


def _format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise refuse_batch(
            [
                _refused(
                    0, "format", "results-format", value=repr(fmt[:20]), allowed=", ".join(FORMATS)
                )
            ]
        )
    return fmt


def read_results(data: bytes, fmt: str) -> list[dict[str, Any]]:
    """The rows of a results file, as records for :func:`submit`.

    CSV (UTF-8, a header row) is read as text, so amounts stay exact; Parquet keeps its types,
    and a floating-point amount is refused by the row checks. The file size, the columns, the
    row count and (Parquet) the uncompressed size are bounded before the rows are read.
    """
    _format(fmt)
    check_size(len(data))
    try:
        return _read_csv(data) if fmt == "csv" else _read_parquet(data)
    except ResultsRefused:
        raise
    except Exception:  # any malformed file: one clear refusal, never a traceback
        raise refuse_batch(
            [_refused(0, "file", "results-file-unreadable", format=fmt.upper())]
        ) from None


def _too_many_rows(n: object) -> ResultsRefused:
    return refuse_batch([_refused(0, "results", "results-too-many-rows", max=MAX_ROWS, n=n)])


def _check_columns(names: Sequence[str]) -> None:
    if len(names) > MAX_COLUMNS:
        raise refuse_batch(
            [_refused(0, "file", "results-too-many-columns", n=len(names), max=MAX_COLUMNS)]
        )
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise refuse_batch(
            [_refused(0, name[:40], "results-duplicate-column", column=name[:40]) for name in twice]
        )


def _read_csv(data: bytes) -> list[dict[str, Any]]:
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig")))
    header = [name.strip() for name in next(reader, [])]
    _check_columns(header)
    rows: list[dict[str, Any]] = []
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue  # a blank line is not a row
        if len(rows) >= MAX_ROWS:
            raise _too_many_rows(f">{MAX_ROWS}")
        record: dict[str, Any] = {
            name: cell for name, cell in zip(header, cells, strict=False) if not _blank(cell)
        }
        if len(cells) > len(header):
            record["(extra cells)"] = "x"  # refused as an unknown field, with its row
        rows.append(record)
    return rows


def _read_parquet(data: bytes) -> list[dict[str, Any]]:
    meta = pq.ParquetFile(io.BytesIO(data)).metadata
    _check_columns([meta.schema.column(i).name for i in range(meta.num_columns)])
    if meta.num_rows > MAX_ROWS:
        raise _too_many_rows(meta.num_rows)
    expanded = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if expanded > MAX_UNCOMPRESSED_BYTES:
        raise refuse_batch(
            [_refused(0, "file", "results-file-too-large", size=expanded, max=MAX_FILE_BYTES)]
        )
    frame = pl.read_parquet(io.BytesIO(data))
    return [{k: v for k, v in row.items() if not _blank(v)} for row in frame.to_dicts()]


def import_results(
    agency: Agency,
    data: bytes,
    fmt: str,
    *,
    reference: str,
    user: Any = None,
    now: datetime | None = None,
) -> Outcome:
    """Import a results file (CSV or Parquet) as one batch; see :func:`submit`."""
    return submit(agency, reference, read_results(data, fmt), source="file", user=user, now=now)


def live(agency: Agency, day: date) -> QuerySet[Placement]:
    """The agency's live placements in work order (oldest placement first), with what the rows
    need fetched in a fixed number of queries, whatever their count."""
    return (
        access.live_placements(agency, day)
        .select_related("case", "case__borrower")
        .prefetch_related(
            Prefetch("case__borrower__loans", queryset=Loan.objects.order_by("ref")),
            Prefetch("case__borrower__phones", queryset=Phone.objects.order_by("id")),
            Prefetch(
                "case__promises",
                queryset=Promise.objects.filter(status=Promise.Status.PENDING).order_by(
                    "-made_on", "-id"
                ),
                to_attr="pending_promises",
            ),
        )
        .order_by("placed_on", "id")
    )


def rows_of(agency: Agency, placements: Iterable[Placement]) -> list[dict[str, Any]]:
    """One minimised dict per placement (``access``'s rules), the export's columns."""
    rows: list[dict[str, Any]] = []
    for placement in placements:
        case = placement.case
        borrower = case.borrower
        pending = getattr(case, "pending_promises", None)
        if pending is None:
            pending = list(
                case.promises.filter(status=Promise.Status.PENDING).order_by("-made_on", "-id")
            )
        promise = pending[0] if pending else None
        phones = access.usable(agency, borrower.phones.all())
        rows.append(
            {
                "placement_id": placement.pk,
                "case_id": case.pk,
                "loan_refs": ";".join(loan.ref for loan in borrower.loans.all()),
                "borrower_name": borrower.name,
                "national_id_masked": mask_national_id(borrower.national_id or ""),
                "phones_masked": ";".join(mask_phone(p.number) for p in phones),
                "bucket": case.bucket,
                "dpd": case.dpd,
                "total_due_minor": case.total_due_minor,
                "currency": case.currency,
                "placed_on": placement.placed_on,
                "ends_on": placement.ends_on,
                "promise_amount_minor": promise.amount_minor if promise else None,
                "promise_due_date": promise.due_date if promise else None,
            }
        )
    return rows


def placement_rows(agency: Agency, day: date) -> list[dict[str, Any]]:
    """Every live placement of the agency as export rows."""
    return rows_of(agency, live(agency, day))


def export_placements(agency: Agency, day: date, fmt: str) -> bytes:
    """The live placements as a CSV or Parquet file (columns ``EXPORT_COLUMNS``)."""
    _format(fmt)
    schema = {
        "placement_id": pl.Int64,
        "case_id": pl.Int64,
        "loan_refs": pl.String,
        "borrower_name": pl.String,
        "national_id_masked": pl.String,
        "phones_masked": pl.String,
        "bucket": pl.String,
        "dpd": pl.Int64,
        "total_due_minor": pl.Int64,
        "currency": pl.String,
        "placed_on": pl.Date,
        "ends_on": pl.Date,
        "promise_amount_minor": pl.Int64,
        "promise_due_date": pl.Date,
    }
    frame = pl.DataFrame(placement_rows(agency, day), schema=schema)
    out = io.BytesIO()
    if fmt == "csv":  # a spreadsheet opens it: formula-like text is quoted (arrears.spreadsheets)
        safe_frame(frame).write_csv(out)
    else:
        frame.write_parquet(out)
    return out.getvalue()
