"""Every line the project logs is masked: the runserver access line, Django's "Not Found" line
(both print request paths), application warnings and tracebacks, and a day run (issue 14 #7).

The test captures what the *configured* handlers write — every stream handler of every logger,
Django's own included — rather than adding a handler of its own, because the defect was a
handler the project had not configured."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from datetime import date

import pytest
from django.core.management import call_command
from django.test import Client

from arrears.ledger.masking import MaskPIIFilter
from tests.ledger import books

#: Unmasked personal numbers: a mainland mobile, an E.164 US number, an SSN, a resident ID.
UNMASKED = re.compile(
    r"(?<!\d)1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?!\d)|\+1\d{10}|(?<!\d)\d{3}-\d{2}-\d{4}(?!\d)"
    r"|(?<!\d)\d{17}[\dX](?!\d)"
)


def stream_handlers() -> list[logging.StreamHandler[io.TextIOBase]]:
    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    found = []
    for logger in loggers:
        for handler in getattr(logger, "handlers", []):
            if type(handler).__module__.startswith("_pytest"):
                continue  # pytest's own capture, not part of the project's configuration
            if isinstance(handler, logging.StreamHandler) and handler not in found:
                found.append(handler)
    return found


@pytest.fixture
def written(settings: object) -> Iterator[io.StringIO]:
    """All the configured stream handlers write here (Django's debug console included)."""
    settings.DEBUG = True  # type: ignore[attr-defined]  # the console behind "Not Found"
    out = io.StringIO()
    handlers = stream_handlers()
    old = [h.setStream(out) for h in handlers]
    yield out
    for handler, stream in zip(handlers, old, strict=True):
        handler.setStream(stream)  # type: ignore[arg-type]


def test_every_configured_handler_masks() -> None:
    handlers = stream_handlers()
    names = {getattr(h, "name", None) for h in handlers}
    assert "django.server" in names  # the runserver access line's own handler
    for handler in handlers:
        assert any(isinstance(f, MaskPIIFilter) for f in handler.filters), handler


@pytest.mark.django_db
def test_a_representative_run_logs_no_unmasked_number(written: io.StringIO) -> None:
    client = Client()
    for path in (
        "/loans/13812345678/",
        "/no-such-page/+12125551234/",
        "/borrowers/110101199003074518/",
        "/search/123-45-6789/",
    ):
        assert client.get(path).status_code in (302, 404)
    # the access line runserver writes for each request, with the request line as an argument
    logging.getLogger("django.server").info(
        '"%s" %s %s', "GET /loans/138-1234-5678/ HTTP/1.1", "404", "179"
    )
    logging.getLogger("arrears").warning("no borrower with phone %s", "138 1234 5678")
    try:
        raise LookupError("resident id 11010119900307451X unknown")
    except LookupError:
        logging.getLogger("arrears").exception("lookup failed")
    books.concession_book(loans=12)
    call_command("run-day", "--as-of", date(2026, 6, 10).isoformat(), "--no-workflow")

    text = written.getvalue()
    assert "Not Found: /no-such-page/+121****1234/" in text
    assert "GET /loans/138-****-5678/" in text
    assert "110101********451X unknown" in text
    assert UNMASKED.findall(text) == []
