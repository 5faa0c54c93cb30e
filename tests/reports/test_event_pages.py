"""The event reports on a book with figures: each page in both languages, its CSV and XLSX
downloads, and the monthly pack with all five."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date

import pytest

from arrears.reports.base import ReportParams, load_all
from arrears.reports.pack import build_pack
from tests.reports.eventbook import at, clock, make_book
from tests.roles import Role, client_for, make_user

pytestmark = pytest.mark.django_db

EVENT_REPORTS = ("promises_kept", "contact_intensity", "gate_decisions", "complaint_rates")
TITLES = {
    "promises_kept": ("Promises kept", "承诺还款兑现"),
    "contact_intensity": ("Contact intensity", "催收强度"),
    "gate_decisions": ("Gate decisions", "各渠道的决定"),
    "complaint_rates": ("Complaint rates", "投诉率"),
}


def test_pages_downloads_and_pack_with_figures() -> None:
    book = make_book()
    book.call(0, "ann", 3, "promise")
    book.promise(0, "ann", made=3, due=10, amount=50_000)
    book.pay(0, "P-0", date(2026, 11, 9), 50_000, at(9))
    book.call(2, "bob", 4, hour=23, override_reason="asked to be called late")
    with clock(30, 23, 59):
        boss = make_user(Role.MANAGER, username="boss")
        for language in ("en", "zh-hans"):
            client = client_for(boss, language)
            for name in EVENT_REPORTS:
                query = "?as_of=2026-11-30&from=2026-11-01&to=2026-11-30"
                page = client.get(f"/reports/{name}/{query}")
                assert page.status_code == 200
                title = TITLES[name][language == "zh-hans"]
                assert title in page.content.decode()
                csv = client.get(f"/reports/{name}/download.csv{query}")
                assert csv.status_code == 200 and csv.content.startswith(b"\xef\xbb\xbf")
                xlsx = client.get(f"/reports/{name}/download.xlsx{query}")
                workbook = zipfile.ZipFile(io.BytesIO(xlsx.content)).read("xl/workbook.xml")
                assert len(re.findall(r"<sheet name=", workbook.decode())) >= 3
        assert (
            "CN¥500.00"
            in client_for(boss, "en")
            .get("/reports/promises_kept/?as_of=2026-11-30")
            .content.decode()
        )
        specs = [spec for spec in load_all().values() if spec.order >= 50]
        pdf = build_pack(
            specs,
            ReportParams(date(2026, 11, 30), date(2026, 11, 1), date(2026, 11, 30)),
            "zh-hans",
        )
    assert pdf.startswith(b"%PDF") and len(specs) == 5
