"""No bare pages: the logo leads somewhere a collector may go, and a page one may not open is a
friendly, translated page in both DEBUG modes (issue 9, item 19)."""

from __future__ import annotations

import pytest
from django.test import override_settings

from tests.web.conftest import Book


def test_the_logo_sends_a_collector_to_their_queue_and_staff_to_the_book(book: Book) -> None:
    ann = book.client("ann")
    page = ann.get("/queue/").content.decode()
    assert 'href="/" id="home"' in page
    home = ann.get("/")
    assert home.status_code == 302 and home["Location"] == "/queue/"
    assert ann.get("/", follow=True).status_code == 200
    book.staff["lead"].user.is_staff = True
    book.staff["lead"].user.save()
    assert book.client("lead").get("/")["Location"] == "/loans/"


@pytest.mark.parametrize("debug", [True, False])
def test_another_collectors_case_is_a_friendly_404_in_both_debug_modes(
    book: Book, debug: bool
) -> None:
    bobs = book.cases[2]
    ann = book.client("ann")
    ann.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    with override_settings(DEBUG=debug):
        for url in (f"/cases/{bobs.pk}/", f"/loans/L-{bobs.borrower.ref[-1]}/", "/cases/999999/"):
            response = ann.get(url)
            page = response.content.decode()
            assert response.status_code == 404, url
            assert 'id="not-found"' in page and "未找到" in page and "前往我的队列" in page
            assert "Page not found" not in page and "Raised by" not in page  # not Django's
            assert "Not found" not in page  # translated


@pytest.mark.parametrize("debug", [True, False])
def test_a_page_a_collector_may_not_open_is_a_friendly_translated_403(
    book: Book, debug: bool
) -> None:
    ann = book.client("ann")
    with override_settings(DEBUG=debug):
        for url in ("/loans/", "/messages/"):
            chinese = ann.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
            page = chinese.content.decode()
            assert chinese.status_code == 403
            assert 'id="forbidden"' in page and "无权访问" in page and "仅供后台人员" in page
            assert 'href="/"' in page and "403 Forbidden" not in page
        english = ann.get("/loans/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "Not allowed" in english and "collectors work from their queue" in english
