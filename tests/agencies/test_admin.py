"""The admin shows agencies with their tiers and members; placements are read-only."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.test import Client

from arrears.agencies.models import Agency, Placement
from tests.agencies.daystep import DAY, run


def test_agency_admin_pages_and_read_only_placements(
    pair: tuple[Agency, Agency], book: object, client: Client
) -> None:
    book(1)  # type: ignore[operator]
    run(DAY)
    client.force_login(User.objects.create_superuser("root"))
    alpha = pair[0]
    page = client.get(f"/admin/agencies/agency/{alpha.pk}/change/")
    assert page.status_code == 200
    assert b"Commission tier" in page.content and b"Agency member" in page.content
    placed = Placement.objects.get()
    assert client.get("/admin/agencies/placement/").status_code == 200
    assert client.get("/admin/agencies/placement/add/").status_code == 403
    view = client.get(f"/admin/agencies/placement/{placed.pk}/change/")
    assert view.status_code == 200 and b"Save" not in view.content
