"""The report pages and downloads: who sees them, what they show, what they refuse."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile

import pytest
from django.test import Client

from arrears.reports.base import ReportSpec
from tests.reports.conftest import NAME, SPEC
from tests.roles import Role, client_for, make_user

URL = f"/reports/{NAME}/"
pytestmark = pytest.mark.django_db

ALLOWED = (Role.TEAM_LEAD, Role.MANAGER, Role.COMPLIANCE_OFFICER, Role.ADMIN)
REFUSED = (Role.COLLECTOR, Role.AGENCY_USER, Role.FIELD_AGENT)


def _client(role: Role, language: str = "en") -> Client:
    return client_for(make_user(role), language)


@pytest.mark.parametrize("role", ALLOWED)
def test_leads_managers_compliance_and_admins_see_the_index_and_the_page(
    sample_report: ReportSpec, role: Role
) -> None:
    client = _client(role)
    index = client.get("/reports/")
    assert index.status_code == 200
    assert f'href="{URL}"' in index.content.decode()
    assert client.get(URL + "?as_of=2026-11-30").status_code == 200
    assert client.get(f"/reports/{NAME}/download.csv?as_of=2026-11-30").status_code == 200


@pytest.mark.parametrize("role", REFUSED)
def test_collectors_agencies_and_field_agents_see_no_report(
    sample_report: ReportSpec, role: Role
) -> None:
    client = _client(role)
    assert client.get("/reports/").status_code == 403
    assert client.get(URL).status_code == 403
    assert client.get(f"/reports/{NAME}/download.xlsx").status_code == 403
    assert 'id="nav-reports"' not in client.get("/visits/").content.decode()


def test_anonymous_visitors_are_sent_to_sign_in(sample_report: ReportSpec) -> None:
    response = Client().get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_an_audience_narrows_a_report_and_the_refused_roles_never_join_it(
    sample_report: ReportSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    from arrears.reports.base import REGISTRY

    narrow = ReportSpec(
        name="compliance-only",
        title="x",
        compute=SPEC.compute,
        audience=frozenset({"compliance_officer", "collector"}),
    )
    monkeypatch.setitem(REGISTRY, narrow.name, narrow)
    assert _client(Role.COMPLIANCE_OFFICER).get("/reports/compliance-only/").status_code == 200
    assert _client(Role.MANAGER).get("/reports/compliance-only/").status_code == 403
    assert _client(Role.COLLECTOR).get("/reports/compliance-only/").status_code == 403
    manager_index = _client(Role.MANAGER).get("/reports/").content.decode()
    assert "compliance-only" not in manager_index and NAME in manager_index


def test_an_unknown_report_is_not_found() -> None:
    assert _client(Role.MANAGER).get("/reports/no-such-report/").status_code == 404


def test_the_page_shows_tables_charts_with_their_figures_and_downloads(
    sample_report: ReportSpec,
) -> None:
    page = _client(Role.MANAGER).get(URL + "?as_of=2026-11-30&from=2026-11-01&to=2026-11-30")
    html = page.content.decode()
    assert page.status_code == 200
    assert "CN¥12,345.67" in html and "$5.00" in html and "¥1,500" in html
    assert "33.33%" in html and "50.00%" in html and "–" in html  # a rate without denominator
    # the money chart is drawn once per currency; each has its canvas and figures' table
    for chart in ("balance-CNY", "balance-USD", "balance-JPY", "share"):
        assert f'id="canvas-{chart}"' in html and f'id="chart-table-{chart}"' in html
    assert 'id="canvas-roll"' not in html and 'id="chart-table-roll"' in html
    assert "heat-10" in html and "heat-2" in html  # 8 of 8; 2 of 8 → 2.5 → level 2
    data = json.loads(re.search(r'id="chart-data"[^>]*>(.*?)</script>', html, re.S).group(1))
    assert data["balance-CNY"]["datasets"][0]["data"] == ["12345.67", "999.99"]
    assert data["share"]["datasets"][0]["data"] == ["50.00", "33.33", None, "12.50"]
    assert data["share"]["percent"] is True and "roll" not in data
    assert "start=2026-11-01 end=2026-11-30" in html
    assert "chart.umd.min.js" in html and "cdn" not in html.lower()
    assert f"/reports/{NAME}/download.xlsx?as_of=2026-11-30&amp;from=2026-11-01" in html


def test_a_page_in_chinese_reads_in_chinese(sample_report: ReportSpec) -> None:
    html = _client(Role.MANAGER, "zh-hans").get(URL + "?as_of=2026-11-30").content.decode()
    assert "¥12,345.67" in html and "CN¥" not in html
    assert "下载" in html and "报表" in html


def test_the_period_defaults_to_the_month_of_as_of(sample_report: ReportSpec) -> None:
    html = _client(Role.MANAGER).get(URL + "?as_of=2026-11-20").content.decode()
    assert "start=2026-11-01 end=2026-11-20" in html


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("as_of=2026-13-01", "2026-13-01 is not a date"),
        ("as_of=2099-01-01", "is outside 1970-01-01 to"),
        ("as_of=2026-11-30&from=2026-11-20&to=2026-11-10", "after it ends"),
        ("as_of=2026-11-10&from=2026-11-01&to=2026-11-20", "after the report"),
        ("as_of=2026-11-30&from=2010-01-01&to=2026-11-30", "at most 1830"),
    ],
)
def test_dates_a_report_cannot_be_computed_for_are_said_on_the_page(
    sample_report: ReportSpec, query: str, words: str
) -> None:
    client = _client(Role.MANAGER)
    page = client.get(f"{URL}?{query}")
    assert page.status_code == 400
    assert words in page.content.decode()
    download = client.get(f"/reports/{NAME}/download.csv?{query}")
    assert download.status_code == 400 and words in download.content.decode()


def test_the_csv_holds_one_table_exactly_and_runs_no_formula(sample_report: ReportSpec) -> None:
    response = _client(Role.MANAGER).get(f"/reports/{NAME}/download.csv?as_of=2026-11-30")
    assert response["Content-Disposition"] == (
        f'attachment; filename="{NAME}-2026-11-30-balances.csv"'
    )
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert rows[0] == ["Bucket", "Currency", "Loans", "Balance", "Share"]
    assert rows[1] == ["M0", "CNY", "10", "12345.67", "0.5"]
    assert rows[2][4] == str(__import__("decimal").Decimal(1) / 3)
    assert rows[3] == ["'=HYPERLINK(1)", "USD", "1", "5.00", ""]
    assert rows[4][3] == "1500"  # JPY has no minor unit
    roll = _client(Role.MANAGER).get(f"/reports/{NAME}/download.csv?as_of=2026-11-30&table=roll")
    assert roll.content.decode().lstrip("\ufeff").splitlines()[1] == "M0,8,2"
    missing = _client(Role.MANAGER).get(f"/reports/{NAME}/download.csv?table=nope")
    assert missing.status_code == 404
    assert _client(Role.MANAGER).get(f"/reports/{NAME}/download.pdf").status_code == 404


def test_the_xlsx_has_one_sheet_per_table(sample_report: ReportSpec) -> None:
    response = _client(Role.MANAGER).get(f"/reports/{NAME}/download.xlsx?as_of=2026-11-30")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{NAME}-2026-11-30.xlsx"'
    book = zipfile.ZipFile(io.BytesIO(response.content))
    workbook = book.read("xl/workbook.xml").decode()
    assert re.findall(r'<sheet name="([^"]+)"', workbook) == ["Bucket", "Roll rates"]
    sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<v>12345.67</v>" in sheet and "<v>1500</v>" in sheet
    assert "<f>" not in sheet  # the =HYPERLINK text stays text
    assert "=HYPERLINK(1)" in book.read("xl/sharedStrings.xml").decode()


def test_the_header_links_the_reports_for_those_who_may_open_them(
    sample_report: ReportSpec,
) -> None:
    assert 'id="nav-reports"' in _client(Role.MANAGER).get("/reports/").content.decode()
    assert 'id="nav-reports"' in _client(Role.COMPLIANCE_OFFICER).get("/reports/").content.decode()


def test_a_long_table_is_cut_on_the_page_and_its_chart_not_drawn(
    sample_report: ReportSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    from arrears.reports.base import REGISTRY, Chart, Column, ReportResult, Table

    def many(params):
        rows = tuple((f"c{n}", n) for n in range(700))
        table = Table("t", "T", (Column("c", "C"), Column("n", "N", "count")), rows)
        return ReportResult(
            "many", "Many", params, (table,), (Chart("k", "K", "bar", "t", "c", ("n",)),)
        )

    monkeypatch.setitem(REGISTRY, "many", ReportSpec(name="many", title="Many", compute=many))
    html = _client(Role.MANAGER).get("/reports/many/").content.decode()
    assert 'id="canvas-k"' not in html and 'id="chart-table-k"' in html
    assert html.count("The first 500 of 700 rows") == 2  # the chart's table and the table
    assert ">c499<" in html and ">c500<" not in html
    csv_rows = _client(Role.MANAGER).get("/reports/many/download.csv").content.decode()
    assert len(csv_rows.splitlines()) == 701
