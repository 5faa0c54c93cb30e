"""Sets the audit actor for the length of each request."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from arrears.audit.context import acting_as


class AuditActorMiddleware:
    """Put after AuthenticationMiddleware: the signed-in username becomes the audit actor."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        name = user.get_username() if user is not None and user.is_authenticated else "anonymous"
        with acting_as(name):
            return self.get_response(request)
