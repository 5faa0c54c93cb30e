"""The project's URLs plus a view that crashes, mounted only by the error-page tests."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from arrears.project.urls import urlpatterns as project_urls


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom: SECRET-DETAIL-42")


urlpatterns = [path("test-crash/", boom), *project_urls]
