"""A page the user can act on when a view answers 404, in both DEBUG modes.

With ``DEBUG`` off Django renders ``404.html`` for an ``Http404``; with it on (as in the demo)
it shows its technical page, which lists the view that raised it and reads like a crash. A
case or loan the user may not open is a 404 on purpose (its existence is not revealed), so
that answer must look the same in both modes: this middleware renders the friendly,
translated ``404.html`` for every ``Http404`` a view raises. A URL that matches no route is
left to Django (with ``DEBUG`` on, its page of routes is a developer's tool).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse
from django.views.defaults import page_not_found


class FriendlyNotFoundMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, Http404):
            return page_not_found(request, exception)
        return None
