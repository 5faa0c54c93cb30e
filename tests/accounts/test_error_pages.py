"""Error pages in the app's style and the reader's language, never Django's debug pages when
``ARREARS_DEBUG=0`` (``DEBUG=False``)."""

from __future__ import annotations

import pytest
from django.template.loader import get_template
from django.test import Client, override_settings
from django.utils import translation

from tests.roles import Role, client_for, make_user

CRASHING = override_settings(DEBUG=False, ROOT_URLCONF="tests.accounts.crash_urls")


def test_the_500_page_renders_alone_with_no_request_and_no_database() -> None:
    """Django renders it with no context at all; this test may not touch the database."""
    with translation.override("zh-hans"):
        page = get_template("500.html").render()
    assert 'id="server-error"' in page and "出错了" in page
    with translation.override("en"):
        assert "Something went wrong" in get_template("500.html").render()


@pytest.mark.django_db
@CRASHING
@pytest.mark.parametrize(
    ("language", "text"), [("en", "Something went wrong"), ("zh-hans", "出错了")]
)
def test_a_crash_shows_the_500_page_and_no_detail(language: str, text: str) -> None:
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE=language)
    response = client.get("/test-crash/")
    assert response.status_code == 500
    page = response.content.decode()
    assert 'id="server-error"' in page and text in page
    assert "SECRET-DETAIL-42" not in page and "Traceback" not in page


@pytest.mark.django_db
@CRASHING
def test_with_debug_on_the_crash_would_show_the_technical_page() -> None:
    """The control: the same crash with DEBUG on is Django's page (so the test above is not
    passing because the view never ran)."""
    with override_settings(DEBUG=True):
        response = Client(raise_request_exception=False).get("/test-crash/")
    assert response.status_code == 500 and "SECRET-DETAIL-42" in response.content.decode()


@pytest.mark.django_db
@CRASHING
@pytest.mark.parametrize(
    ("language", "not_found", "forbidden"),
    [("en", "Not found", "Not allowed"), ("zh-hans", "未找到", "无权访问")],
)
def test_403_and_404_are_the_app_pages_in_both_languages(
    language: str, not_found: str, forbidden: str
) -> None:
    client = client_for(make_user(Role.COLLECTOR), language=language)
    missing = client.get("/no-such-page/")
    assert missing.status_code == 404 and 'id="not-found"' in missing.content.decode()
    assert not_found in missing.content.decode()
    refused = client.get("/loans/")
    assert refused.status_code == 403 and 'id="forbidden"' in refused.content.decode()
    assert forbidden in refused.content.decode()
