"""The JSON twin of the verify, preferences, history, complaints and notices pages
(``/api/v1/my/…``), for the mobile app: the same parsing (``pages``), the same services and
the same scoping by the token's borrower — another borrower's complaint or contact is 404.
Errors have the API's one shape (``api.error_response``).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.datastructures import MultiValueDict
from ninja import Field, Router, Schema

from arrears.contact.models import ContactPreference
from arrears.kernel.errors import ArrearsError
from arrears.portal import pages, records
from arrears.portal.api import borrower_of, error_response

router = Router(tags=["borrower pages"])


def _json(body: object, status: int = 200) -> JsonResponse:
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False}, safe=False)


@router.get("verify", summary="Is this caller's number or this code really ours?")
def verify(request: HttpRequest, number: str = "", code: str = "") -> HttpResponse:
    borrower = borrower_of(request)
    try:
        answers = pages.verify_answers(borrower, number[:40], code[:64])
    except ArrearsError as refused:
        return error_response(refused, 429)
    zh = pages.chinese()
    body: dict[str, object] = {"repayment_channels": pages.repayment_channels()}
    if "number" in answers:
        body["number"] = answers["number"].as_dict(zh)
    if "code" in answers:
        body["code"] = answers["code"].as_dict()
    return _json(body)


class PreferencesBody(Schema):
    preferred_channel: str = ""
    preferred_from: str = ""
    preferred_until: str = ""
    opt_outs: list[str] = Field(default_factory=list)
    not_at_work: bool = False
    no_emergency_contacts: bool = False


@router.get("preferences", summary="How and when we may contact me")
def preferences(request: HttpRequest) -> HttpResponse:
    found = ContactPreference.objects.filter(borrower=borrower_of(request)).first()
    return _json(pages.preferences_dict(found))


@router.put("preferences", summary="Change how and when we may contact me")
def set_preferences(request: HttpRequest, body: PreferencesBody) -> HttpResponse:
    data = MultiValueDict(
        {
            "preferred_channel": [body.preferred_channel],
            "preferred_from": [body.preferred_from],
            "preferred_until": [body.preferred_until],
            "opt_outs": [str(c) for c in body.opt_outs[:10]],
            "not_at_work": ["1" if body.not_at_work else ""],
            "no_emergency_contacts": ["1" if body.no_emergency_contacts else ""],
        }
    )
    try:
        saved = pages.save_preferences(borrower_of(request), pages.parse_preferences(data))
    except ArrearsError as refused:
        return error_response(refused, 400)
    return _json(pages.preferences_dict(saved))


@router.get("history", summary="Every contact by the lender and its agencies, newest first")
def history(request: HttpRequest, page: str = "1") -> HttpResponse:
    found = records.history(borrower_of(request), records.page_number(page), pages.chinese())
    return _json(
        {
            "page": found.number,
            "pages": found.pages,
            "total": found.total,
            "rows": [row.as_dict() for row in found.rows],
        }
    )


class ComplaintBody(Schema):
    category: str
    description: str
    contact: int | None = None


@router.get("complaints", summary="My complaints and disputes")
def complaints(request: HttpRequest) -> HttpResponse:
    found = records.complaints_of(borrower_of(request))
    return _json({"complaints": [pages.complaint_dict(c) for c in found]})


@router.post("complaints", summary="Complain or dispute (collection pauses at once)")
def file_complaint(request: HttpRequest, body: ComplaintBody) -> HttpResponse:
    contact = str(body.contact) if body.contact is not None else ""
    try:
        filed = pages.file_for(
            borrower_of(request), body.category[:30], body.description[:8000], contact
        )
    except ArrearsError as refused:
        return error_response(refused, 400)
    return _json(pages.complaint_dict(filed), status=201)


@router.get("complaints/{reference}", summary="One of my complaints")
def complaint(request: HttpRequest, reference: str) -> HttpResponse:
    return _json(pages.complaint_dict(records.complaint_of(borrower_of(request), reference)))


@router.get("notices", summary="Agencies on my loan, credit reporting, in-app messages")
def notices(request: HttpRequest) -> HttpResponse:
    data = pages.notices_data(borrower_of(request), pages.chinese())
    for row in data["placements"]:
        row["since"], row["until"] = row["since"].isoformat(), row["until"].isoformat()
    for message in data["messages"]:
        message["at"] = message["at"].isoformat()
    return _json(data)
