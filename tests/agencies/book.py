"""The agencies book of ``conftest.agencies``, built once for a module (tests/sharing.py):
:func:`build_agencies` writes it, :class:`AgenciesKeys` loads it afresh for each test."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth.models import User

from arrears.agencies.models import Agency, AgencyMember, Placement
from arrears.collections.models import Case, Collector
from tests.agencies.conftest import Agencies, Book, make_agency, make_book, place


def build_agencies() -> Agencies:
    """The same book as ``conftest.agencies``: acme has cases 0 and 1 placed two days ago,
    bolt case 2; amy works at acme, ben at bolt; ann is an internal collector with case 0."""
    book = make_book()
    acme = make_agency("acme")
    bolt = make_agency("bolt")
    members = {
        "amy": AgencyMember.objects.create(user=User.objects.create_user("amy"), agency=acme),
        "ben": AgencyMember.objects.create(user=User.objects.create_user("ben"), agency=bolt),
    }
    on = book.today - timedelta(days=2)
    placements = [
        place(book.cases[0], acme, on),
        place(book.cases[1], acme, on),
        place(book.cases[2], bolt, on),
    ]
    return Agencies(book, acme, bolt, members, placements)


@dataclass(frozen=True)
class AgenciesKeys:
    """What a test needs to load the book afresh: ids, never the build's objects."""

    today: date
    cases: tuple[int, ...]
    staff: tuple[tuple[str, int], ...]
    acme: int
    bolt: int
    members: tuple[tuple[str, int], ...]
    placements: tuple[int, ...]

    @classmethod
    def of(cls, built: Agencies) -> AgenciesKeys:
        return cls(
            today=built.book.today,
            cases=tuple(case.pk for case in built.book.cases),
            staff=tuple((who, c.pk) for who, c in built.book.staff.items()),
            acme=built.acme.pk,
            bolt=built.bolt.pk,
            members=tuple((who, m.pk) for who, m in built.members.items()),
            placements=tuple(p.pk for p in built.placements),
        )

    def load(self) -> Agencies:
        cases = Case.objects.in_bulk(self.cases)
        staff = Collector.objects.select_related("user").in_bulk([pk for _, pk in self.staff])
        members = AgencyMember.objects.select_related("user").in_bulk(
            [pk for _, pk in self.members]
        )
        placements = Placement.objects.in_bulk(self.placements)
        agencies = Agency.objects.in_bulk([self.acme, self.bolt])
        book = Book(
            today=self.today,
            cases=[cases[pk] for pk in self.cases],
            staff={who: staff[pk] for who, pk in self.staff},
        )
        return Agencies(
            book=book,
            acme=agencies[self.acme],
            bolt=agencies[self.bolt],
            members={who: members[pk] for who, pk in self.members},
            placements=[placements[pk] for pk in self.placements],
        )
