"""The integrators' REST API: keys and scopes, one error format, idempotent payments and
reversals (twice is once, other content is 409), loan state equal to ``arrears explain``,
cursor pagination, the rate limit, and the endpoints on cases, plans, holds and the gate."""

from __future__ import annotations

import json
from datetime import date, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from arrears.api import access
from arrears.api.models import IdempotentRequest, IntegrationToken
from arrears.collections.models import Case, ContactAttempt, Hold, Promise
from arrears.ledger.models import Payment, RepaymentPlan
from tests import factories
from tests.api.conftest import BASE, Book, key_with, post


def payment(reference: str = "BANK-1", amount: int = 50_000, **extra: Any) -> dict[str, Any]:
    body = {
        "reference": reference,
        "loan": "L1",
        "value_date": "2026-11-20",
        "amount_minor": amount,
        "currency": "CNY",
    }
    body.update(extra)
    return body


# --- auth, scopes, errors ------------------------------------------------------------------


def test_no_key_a_wrong_one_or_a_revoked_one_is_401_in_the_error_format(book: Book) -> None:
    token = IntegrationToken.objects.get()
    access.revoke_token(token)
    for client in (Client(HTTP_ACCEPT_LANGUAGE="en"), book.client("ark_nope"), book.client()):
        response = client.get(BASE + "loans/L1")
        assert response.status_code == 401
        assert response.json() == {
            "error": {
                "code": "api-unauthenticated",
                "message": "a valid API key is needed: Authorization: Bearer <key>",
                "errors": [],
            }
        }


def test_an_inactive_integration_s_keys_are_refused(book: Book) -> None:
    IntegrationToken.objects.get().integration.__class__.objects.update(active=False)
    assert book.client().get(BASE + "loans/L1").status_code == 401


def test_each_endpoint_needs_its_scope(book: Book) -> None:
    reader = book.client(key_with("loans:read"))
    assert reader.get(BASE + "loans/L1").status_code == 200
    refused = post(reader, "payments", payment())
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "api-scope"
    assert "payments:write" in refused.json()["error"]["message"]
    assert not Payment.objects.exists()
    assert post(reader, "payments", {}).status_code == 403  # the scope before the body
    for path in ("cases", "holds", f"cases/{book.case.pk}/contacts", "gate/check?borrower=B1"):
        assert reader.get(BASE + path).status_code == 403, path
    assert book.client(key_with("cases:read")).get(BASE + "cases").status_code == 200


def test_a_key_is_stored_hashed_and_shown_once(book: Book) -> None:
    out = StringIO()
    call_command(
        "api",
        "token",
        "create",
        "--integration",
        "gateway",
        "--scopes",
        "payments:write",
        stdout=out,
    )
    key = out.getvalue().strip().rsplit(" ", 1)[-1]
    assert key.startswith("ark_")
    stored = IntegrationToken.objects.get(integration__name="gateway")
    assert stored.key_hash != key and key not in json.dumps(stored.scopes)
    assert stored.key_hint == key[-4:] and stored.scopes == ["payments:write"]
    assert post(book.client(key), "payments", payment()).status_code == 201
    stored.refresh_from_db()
    assert stored.last_used is not None
    listing = StringIO()
    call_command("api", "token", "list", stdout=listing)
    line = next(row for row in listing.getvalue().splitlines() if "gateway" in row)
    assert f"…{key[-4:]}" in line and "active" in line and key not in listing.getvalue()
    call_command("api", "token", "revoke", str(stored.pk), stdout=StringIO())
    assert post(book.client(key), "payments", payment("BANK-2")).status_code == 401


def test_the_command_refuses_an_unknown_scope(db: None) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="payments:delete"):
        call_command("api", "token", "create", "--integration", "x", "--scopes", "payments:delete")


def test_body_validation_is_422_with_one_entry_per_field(book: Book) -> None:
    response = post(book.client(), "payments", payment(amount=0, currency="cny", loan=""))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "api-invalid"
    fields = {e["field"] for e in error["errors"]}
    assert {"amount_minor", "currency", "loan"} <= fields
    assert error["field"] in fields


def test_bounds_hold_on_amounts_dates_and_text(book: Book) -> None:
    client = book.client()
    too_big = post(client, "payments", payment(amount=10**13))
    assert too_big.status_code == 422
    far = post(client, "payments", payment(value_date="2150-01-01"))
    assert far.json()["error"]["errors"][0]["field"] == "value_date"
    long_ref = post(client, "payments", payment(reference="R" * 65))
    assert long_ref.status_code == 422
    nul = post(
        client,
        f"cases/{book.case.pk}/contacts",
        {
            "channel": "call",
            "direction": "inbound",
            "party": "borrower",
            "outcome": "rpc",
            "note": "a\x00b",
        },
    )
    assert nul.status_code == 422
    assert not Payment.objects.exists()


def test_a_body_that_is_not_json_is_refused_in_the_error_format(book: Book) -> None:
    response = book.client().post(BASE + "payments", "{nope", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "api-malformed",
        "message": "the body is not valid JSON",
        "errors": [],
    }


def test_an_unknown_object_is_404_in_the_error_format(book: Book) -> None:
    client = book.client()
    for path in ("loans/NOPE", "cases/999999", "payments/NOPE", "loans/NOPE/state"):
        response = client.get(BASE + path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "api-not-found"
    unknown_loan = post(client, "payments", payment(loan="NOPE"))
    assert unknown_loan.status_code == 404


def test_a_service_refusal_keeps_its_code_and_field(book: Book) -> None:
    response = post(book.client(), "payments", payment(currency="USD"))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "ledger-payment-currency"
    assert error["field"] == "currency"


# --- loans ---------------------------------------------------------------------------------


def test_a_loan_is_created_with_the_schedule_the_ledger_makes(book: Book) -> None:
    body = {
        "ref": "L2",
        "borrower": "B1",
        "product": "PL",
        "currency": "CNY",
        "principal_minor": 1_200_000,
        "rate_value": "0.0005",
        "rate_basis": "daily",
        "term": 6,
        "method": "equal-principal",
        "start_date": "2026-10-01",
    }
    client = book.client()
    created = post(client, "loans", body)
    assert created.status_code == 201, created.json()
    data = created.json()
    ledger_rows = factories.models.Loan.objects.get(ref="L2").instalments
    assert [(i["seq"], i["principal_minor"], i["interest_minor"]) for i in data["schedule"]] == [
        (i.seq, i.principal, i.interest) for i in ledger_rows
    ]
    assert sum(i["principal_minor"] for i in data["schedule"]) == 1_200_000
    assert data["product_version"] == 1 and data["day_count"] == book.product.day_count
    again = post(client, "loans", body)
    assert (again.status_code, again.json()) == (201, data)
    assert again["Idempotent-Replayed"] == "true"
    assert client.get(BASE + "loans/L2").json() == data
    product = post(client, "loans", {**body, "ref": "L4", "product": "CAR"})
    assert product.json()["error"]["code"] == "api-unknown-product"
    assert product.json()["error"]["field"] == "product"
    unknown = post(client, "loans", {**body, "ref": "L3", "borrower": "NOBODY"})
    assert unknown.status_code == 422
    assert unknown.json()["error"] | {"message": ""} == {
        "code": "api-unknown-borrower",
        "message": "",
        "field": "borrower",
        "errors": [],
    }


# --- payments: idempotent by the caller's reference ----------------------------------------


def test_posting_the_same_payment_twice_records_it_once(book: Book) -> None:
    client = book.client()
    first = post(client, "payments", payment())
    second = post(client, "payments", payment())
    assert first.status_code == 201
    assert (second.status_code, second.json()) == (first.status_code, first.json())
    assert second["Idempotent-Replayed"] == "true" and not first.has_header("Idempotent-Replayed")
    assert Payment.objects.filter(ref="BANK-1").count() == 1
    record = IdempotentRequest.objects.get()
    assert (record.kind, record.reference, len(record.digest)) == ("payment", "BANK-1", 64)


def test_the_same_reference_with_other_content_is_409(book: Book) -> None:
    client = book.client()
    assert post(client, "payments", payment()).status_code == 201
    conflict = post(client, "payments", payment(amount=60_000))
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "api-idempotency-conflict"
    assert conflict.json()["error"]["field"] == "reference"
    assert Payment.objects.get().amount_minor == 50_000


def test_a_refusal_is_replayed_too(book: Book) -> None:
    client = book.client()
    first = post(client, "payments", payment(value_date="2026-01-01"))  # before the loan
    assert first.status_code == 422
    assert first.json()["error"]["code"] == "ledger-payment-before-start"
    again = post(client, "payments", payment(value_date="2026-01-01"))
    assert (again.status_code, again.json()) == (422, first.json())
    assert not Payment.objects.exists()


def test_references_are_per_integration(book: Book) -> None:
    other = book.client(key_with("payments:write", name="gateway"))
    assert post(book.client(), "payments", payment()).status_code == 201
    taken = post(other, "payments", payment())  # the ledger's ref is taken by the first
    assert taken.status_code == 409
    assert taken.json()["error"]["code"] == "ledger-reference-taken"
    assert IdempotentRequest.objects.count() == 2
    assert Payment.objects.count() == 1


def test_a_reversal_is_idempotent_by_its_reference(book: Book) -> None:
    client = book.client()
    post(client, "payments", payment())
    body = {"reversal_ref": "BOUNCE-1", "reversed_on": "2026-11-25", "reason": "bounced"}
    first = post(client, "payments/BANK-1/reversal", body)
    assert first.status_code == 201
    assert first.json()["reversed_on"] == "2026-11-25"
    again = post(client, "payments/BANK-1/reversal", body)
    assert (again.status_code, again.json()) == (201, first.json())
    other = post(client, "payments/BANK-1/reversal", {**body, "reason": "chargeback"})
    assert other.status_code == 409
    fresh = post(client, "payments/BANK-1/reversal", {**body, "reversal_ref": "BOUNCE-2"})
    assert fresh.status_code == 422
    assert fresh.json()["error"]["code"] == "ledger-already-reversed"
    assert client.get(BASE + "payments/BANK-1").json()["reversal_ref"] == "BOUNCE-1"


# --- state == explain ----------------------------------------------------------------------


def test_the_loan_state_is_the_explain_document(book: Book) -> None:
    client = book.client()
    post(client, "payments", payment())
    for day in ("2026-09-30", "2026-12-02"):
        out = StringIO()
        call_command("explain", "L1", "--as-of", day, "--json", stdout=out)
        response = client.get(BASE + f"loans/L1/state?as_of={day}")
        assert response.status_code == 200
        assert response.json() == json.loads(out.getvalue())
    assert client.get(BASE + "loans/L1/state?as_of=1999-12-31").status_code == 422


# --- pagination ----------------------------------------------------------------------------


def test_lists_page_by_an_opaque_cursor_in_id_order(book: Book) -> None:
    for n in range(2, 8):
        Case.objects.create(
            borrower=factories.borrower(f"B{n}", phone=None),
            currency="CNY",
            opened_on=date(2026, 8, 1),
        )
    client = book.client()
    seen: list[int] = []
    cursor = ""
    pages = 0
    while True:
        query = f"cases?limit=3&cursor={cursor}" if cursor else "cases?limit=3"
        page = client.get(BASE + query).json()
        seen += [c["id"] for c in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert not cursor.isdigit()
    assert seen == sorted(Case.objects.values_list("pk", flat=True)) and pages == 3
    assert client.get(BASE + "cases?limit=201").status_code == 422
    bad = client.get(BASE + "cases?cursor=garbage")
    assert (bad.status_code, bad.json()["error"]["code"]) == (422, "api-cursor")


# --- rate limit ----------------------------------------------------------------------------


def test_the_rate_limit_is_429_with_retry_after(book: Book) -> None:
    client = book.client(key_with("loans:read", rate_limit=3))
    answers = [client.get(BASE + "loans/L1") for _ in range(3)]
    assert [a.status_code for a in answers] == [200] * 3
    assert [a["X-RateLimit-Remaining"] for a in answers] == ["2", "1", "0"]
    assert answers[0]["X-RateLimit-Limit"] == "3"
    limited = client.get(BASE + "loans/L1")
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "api-rate-limited"
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert book.client().get(BASE + "loans/L1").status_code == 200  # another key: its own count


def test_the_rate_window_resets_after_the_minute(book: Book, _frozen_clock: Any) -> None:
    client = book.client(key_with("loans:read", rate_limit=1))
    assert client.get(BASE + "loans/L1").status_code == 200
    assert client.get(BASE + "loans/L1").status_code == 429
    _frozen_clock.shift(timedelta(seconds=61))
    assert client.get(BASE + "loans/L1").status_code == 200


# --- cases, contacts, promises, plans, holds, the gate -------------------------------------


def test_cases_are_listed_and_read(book: Book) -> None:
    data = book.client().get(BASE + f"cases/{book.case.pk}").json()
    assert data["borrower"] == "B1" and data["loans"] == ["L1"] and data["status"] == "open"
    assert book.client().get(BASE + "cases?borrower=B9").json()["items"] == []


def test_a_contact_is_logged_through_the_gate(book: Book) -> None:
    client = book.client()
    body = {
        "channel": "call",
        "direction": "outbound",
        "party": "borrower",
        "outcome": "no_answer",
        "note": "called 13812345678",
    }
    logged = post(client, f"cases/{book.case.pk}/contacts", body)
    assert logged.status_code == 201, logged.json()
    assert logged.json()["gate_outcome"] == "allow"
    assert "13812345678" not in logged.json()["note"]
    listed = client.get(BASE + f"cases/{book.case.pk}/contacts").json()["items"]
    assert [c["id"] for c in listed] == [logged.json()["id"]]
    assert ContactAttempt.objects.get().collector is None
    old = post(
        client, f"cases/{book.case.pk}/contacts", {**body, "at": "2026-01-01T10:00:00+08:00"}
    )
    assert (old.status_code, old.json()["error"]["field"]) == (422, "at")


def test_the_gate_is_asked_and_nothing_is_recorded(book: Book) -> None:
    from arrears.contact.models import GateDecision

    answer = book.client().get(BASE + "gate/check?borrower=B1&channel=call")
    assert answer.status_code == 200
    data = answer.json()
    assert data["allowed"] is True and data["outcome"] == "allow"
    Hold.objects.create(
        borrower=book.borrower,
        reason="complaint",
        starts_on=date(2026, 12, 1),
        ends_on=date(2026, 12, 20),
    )
    held = book.client().get(BASE + "gate/check?borrower=B1&channel=call").json()
    assert held["allowed"] is False and held["rules"]
    assert not GateDecision.objects.exists()
    assert book.client().get(BASE + "gate/check?borrower=B1&channel=fax").status_code == 422


def test_promises_plans_and_holds_go_through_their_services(book: Book) -> None:
    client = book.client()
    promised = post(
        client,
        f"cases/{book.case.pk}/promises",
        {"amount_minor": 100_000, "due_date": "2026-12-10"},
    )
    assert promised.status_code == 201, promised.json()
    too_long = post(
        client,
        f"cases/{book.case.pk}/promises",
        {"amount_minor": 100_000, "due_date": "2027-03-10"},
    )
    assert too_long.json()["error"]["code"] == "promise-too-long"
    assert Promise.objects.get().made_by.username == "api:core"
    listed = client.get(BASE + f"cases/{book.case.pk}/promises").json()["items"]
    assert [p["id"] for p in listed] == [promised.json()["id"]]

    plan = post(
        client,
        "loans/L1/plans",
        {
            "instalments": [
                {"due_date": "2026-12-20", "amount_minor": 100_000},
                {"due_date": "2027-01-20", "amount_minor": 100_000},
            ],
        },
    )
    assert plan.status_code == 201, plan.json()
    assert plan.json()["status"] == RepaymentPlan.objects.get().status
    assert client.get(BASE + "loans/L1/plans").json()["items"][0]["ref"] == plan.json()["ref"]

    hold = post(
        client,
        "holds",
        {
            "borrower": "B1",
            "reason": "hardship",
            "starts_on": "2026-12-02",
            "ends_on": "2026-12-30",
        },
    )
    assert hold.status_code == 201, hold.json()
    backwards = post(
        client,
        "holds",
        {
            "borrower": "B1",
            "reason": "hardship",
            "starts_on": "2026-12-10",
            "ends_on": "2026-12-01",
        },
    )
    assert backwards.json()["error"]["code"] == "hold-ends-before-start"
    assert [h["id"] for h in client.get(BASE + "holds?borrower=B1").json()["items"]] == [
        hold.json()["id"]
    ]


def test_the_openapi_document_and_docs_are_served(book: Book) -> None:
    schema = Client().get(BASE + "openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/payments" in paths and "/api/v1/gate/check" in paths
    assert Client().get(BASE + "docs").status_code == 200
    assert (
        Client().get("/api/v1/agency/openapi.json").json()["info"]["title"]
        != schema.json()["info"]["title"]
    )


#: Every operation with the scope it needs (checked against the OpenAPI document below).
OPERATIONS = (
    ("post", "loans", "loans:write"),
    ("get", "loans/L1", "loans:read"),
    ("get", "loans/L1/state", "loans:read"),
    ("post", "payments", "payments:write"),
    ("get", "payments/BANK-1", "payments:read"),
    ("post", "payments/BANK-1/reversal", "payments:write"),
    ("get", "cases", "cases:read"),
    ("get", "cases/{case}", "cases:read"),
    ("get", "cases/{case}/contacts", "contacts:read"),
    ("post", "cases/{case}/contacts", "contacts:write"),
    ("get", "cases/{case}/promises", "promises:read"),
    ("post", "cases/{case}/promises", "promises:write"),
    ("get", "loans/L1/plans", "plans:read"),
    ("post", "loans/L1/plans", "plans:write"),
    ("get", "holds", "holds:read"),
    ("post", "holds", "holds:write"),
    ("get", "gate/check?borrower=B1", "gate:read"),
)


def test_the_scope_matrix_covers_every_operation(book: Book) -> None:
    """Each operation refuses a key with every scope but its own (403, nothing written) and
    accepts its own scope alone (anything but 401/403)."""
    documented = {
        (method, path)
        for path, item in Client().get(BASE + "openapi.json").json()["paths"].items()
        for method in item
    }
    assert len(documented) == len(OPERATIONS)
    for method, path, scope in OPERATIONS:
        others = book.client(key_with(*(s for s in access.SCOPES if s != scope), name="others"))
        only = book.client(key_with(scope, name="only"))
        url = BASE + path.format(case=book.case.pk)
        for client, refused in ((others, True), (only, False)):
            if method == "get":
                response = client.get(url)
            else:
                response = client.post(url, "{}", content_type="application/json")
            if refused:
                assert response.status_code == 403, (method, path)
                assert response.json()["error"]["code"] == "api-scope"
            else:
                assert response.status_code not in (401, 403), (method, path, response.json())
    assert not Payment.objects.exists() and not Promise.objects.exists()


def _unbounded(schema: dict[str, Any], components: dict[str, Any], where: str) -> list[str]:
    """Inputs in ``schema`` without an upper bound (strings without ``maxLength`` or a fixed
    set of values, integers without ``maximum``, arrays without ``maxItems``). Dates are
    bounded by the server (FIRST_DAY … LAST_DAY): JSON Schema cannot say so."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _unbounded(components[name], components, f"{where}({name})")
    found: list[str] = []
    for option in schema.get("anyOf", []):
        found += _unbounded(option, components, where)
    kind = schema.get("type")
    if kind == "string" and "enum" not in schema and "const" not in schema:
        if schema.get("format") not in ("date", "date-time") and "maxLength" not in schema:
            found.append(where)
    elif kind == "integer" and "maximum" not in schema:
        found.append(where)
    elif kind == "array":
        if "maxItems" not in schema:
            found.append(where)
        found += _unbounded(schema.get("items", {}), components, f"{where}[]")
    for name, sub in schema.get("properties", {}).items():
        found += _unbounded(sub, components, f"{where}.{name}")
    return found


def test_every_input_in_the_openapi_document_is_bounded(db: None) -> None:
    document = Client().get(BASE + "openapi.json").json()
    components = document["components"]["schemas"]
    unbounded: list[str] = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                unbounded += _unbounded(
                    parameter["schema"], components, f"{where} {parameter['name']}"
                )
            body = operation.get("requestBody", {}).get("content", {})
            for media in body.values():
                unbounded += _unbounded(media["schema"], components, f"{where} body")
    assert unbounded == []
