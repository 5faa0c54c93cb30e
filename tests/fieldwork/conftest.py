"""A small book for field visits: one borrower deep in arrears with a large balance (eligible
once two promises are broken), a team with a collector, a lead and a manager working the case,
and two field agents.

Where ``arrears.verification`` is not installed yet (it lands on main in parallel) the
credential backend is a fake with the same contract, so the workflow is tested either way.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client

from arrears.collections.models import Case, Promise
from arrears.fieldwork.models import FieldAgent
from tests import factories, sharing

if TYPE_CHECKING:
    from tests.fieldwork.book import FieldKeys

AGENT_IDS = {"fay": factories.valid_ric("11010119850101123"), "gus": factories.valid_ric()}


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, settings: Any) -> Iterator[None]:
    """Authorisation letters go to a temporary folder."""
    settings.ARREARS_FIELDWORK_DIR = str(tmp_path / "letters")
    yield


@dataclass
class Field:
    today: date
    case: Case
    staff: dict[str, Any]
    agents: dict[str, FieldAgent]

    def client(self, who: str) -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(self.staff[who])
        return client

    def break_promises(self, n: int = 2) -> None:
        for k in range(n):
            made = self.today - timedelta(days=40 + 10 * k)
            Promise.objects.create(
                case=self.case,
                amount_minor=100_000,
                made_on=made,
                due_date=made + timedelta(days=3),
                status=Promise.Status.BROKEN,
                resolved_on=made + timedelta(days=4),
            )


@pytest.fixture
def field(db: None) -> Field:
    """Borrower B-F, CNY 240,000 lent 200 days ago, so ~170 days late with well over
    CNY 50,000 due; the case is worked by ann (collector), lead and boss supervise
    (``tests/fieldwork/book.py``, which modules that share one book build it with)."""
    from tests.fieldwork.book import build_field

    return build_field()


@pytest.fixture(scope="module")
def _field_book(django_db_setup: None, django_db_blocker: Any) -> Iterator[FieldKeys]:
    """The book, built once for the module (tests/sharing.py); only modules whose tests ask
    for ``shared_field`` build it."""
    from tests.fieldwork.book import FieldKeys, build_field

    yield from sharing.module_book(django_db_blocker, build_field, FieldKeys.of)


@pytest.fixture
def shared_field(request: pytest.FixtureRequest, _field_book: FieldKeys, db: None) -> Field:
    """The module's book as built, loaded afresh (each test in its own savepoint): a module
    whose every test can share it overrides ``field`` with this."""
    sharing.refuse_transactional(request, "field")
    return _field_book.load()
