"""The public "is this genuine?" page that a document's QR code opens (``/verify/?code=…``).

No login: the person checking is a borrower holding a letter or facing a visitor. What the page
shows is exactly what ``services.verify`` returns — never the borrower, amounts or case. Lookups
are throttled per client address so the page cannot be used to walk the code space.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language

from arrears.verification.services import verify
from arrears.verification.throttle import over_limit

#: Lookups one client address may make in ``WINDOW_SECONDS``.
LOOKUPS_PER_WINDOW = 30
WINDOW_SECONDS = 600


def _throttled(request: HttpRequest) -> bool:
    address = request.META.get("REMOTE_ADDR", "")
    return over_limit(f"verify:{address}", LOOKUPS_PER_WINDOW, WINDOW_SECONDS)


def check(request: HttpRequest) -> HttpResponse:
    code = request.GET.get("code", "")[:64]
    answer = None
    status = 200
    if code:
        if _throttled(request):
            return render(
                request, "verification/check.html", {"code": code, "throttled": True}, status=429
            )
        answer = verify(code, timezone.now())
    channels = dict(getattr(settings, "ARREARS_REPAYMENT_CHANNELS", {}))
    locale = "zh-CN" if get_language().lower().startswith("zh") else "en"
    context = {"code": code, "answer": answer, "pay_with": channels.get(locale, "")}
    return render(request, "verification/check.html", context, status=status)
