"""The letter PDF for staff who can see its case (anyone else: 404, so nothing is revealed)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse

from arrears.legal import selectors, services
from arrears.legal.services import LegalError


@login_required
def letter_pdf(request: HttpRequest, letter_id: int) -> HttpResponse:
    letter = selectors.visible_letter(request.user, letter_id)
    if letter is None:
        raise Http404("no such letter")
    try:
        content = services.letter_pdf(letter)
    except LegalError as error:  # the file is gone or altered: say so, serve nothing else
        return HttpResponse(str(error), status=409, content_type="text/plain; charset=utf-8")
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{letter.reference}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response
