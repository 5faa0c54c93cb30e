"""``arrears complaint list|show|resolve``."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from arrears.collections.models import Hold
from arrears.complaints import services
from arrears.complaints.models import Complaint
from tests.complaints.conftest import Book


def _run(*args: str) -> str:
    out = StringIO()
    call_command("complaint", *args, stdout=out)
    return out.getvalue()


def _file(book: Book) -> Complaint:
    return services.file_complaint(
        borrower=book.borrower,
        kind="complaint",
        category="harassment",
        description="Calls at night.",
        channel="phone",
        received_at=timezone.make_aware(datetime.combine(date(2026, 12, 4), time(10))),
    )


def test_list_show_and_resolve(book: Book) -> None:
    complaint = _file(book)
    ref = complaint.reference
    assert ref in _run("list", "--open") and "1 complaint(s)" in _run("list")
    overdue = json.loads(_run("list", "--overdue", "--as-of", "2026-12-08", "--json"))
    assert [row["reference"] for row in overdue] == [ref]
    assert json.loads(_run("list", "--overdue", "--as-of", "2026-12-07", "--json")) == []
    shown = json.loads(_run("show", ref, "--json"))
    assert shown["borrower"] == "B-C" and shown["resolve_by"] == "2026-12-25"
    assert "+8613900000011" not in _run("show", ref)
    out = _run(
        "resolve",
        ref,
        "--by",
        "boss",
        "--root-cause",
        "no_fault",
        "--resolution",
        "Calls were in hours.",
        "--not-upheld",
    )
    assert out.strip() == f"{ref} resolved (no_fault, not upheld)"
    assert Hold.objects.get(pk=complaint.hold_id).released_on is not None
    assert _run("list", "--open").strip() == "0 complaint(s)"


def test_refusals_are_sentences(book: Book) -> None:
    ref = _file(book).reference
    with pytest.raises(CommandError, match="may not handle"):
        _run(
            "resolve",
            ref,
            "--by",
            "ann",
            "--root-cause",
            "no_fault",
            "--resolution",
            "x",
            "--upheld",
        )
    with pytest.raises(CommandError, match="root-cause code"):
        _run(
            "resolve", ref, "--by", "boss", "--root-cause", "luck", "--resolution", "x", "--upheld"
        )
    with pytest.raises(CommandError, match="does not exist"):
        _run("show", "CP-19990101-0001")
    with pytest.raises(CommandError, match="does not exist"):
        _run(
            "resolve",
            ref,
            "--by",
            "ghost",
            "--root-cause",
            "no_fault",
            "--resolution",
            "x",
            "--upheld",
        )
    with pytest.raises(CommandError, match="--as-of"):
        _run("list", "--overdue", "--as-of", "2026-13-40")
