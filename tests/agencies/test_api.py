"""The agency JSON API: key auth with scopes, minimised placements, results in one error
format, all-or-nothing and idempotent by reference."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from arrears.agencies import access
from arrears.agencies.models import ResultBatch
from arrears.collections.models import ContactAttempt, Promise
from tests.agencies.conftest import Agencies, local
from tests.factories import valid_ric

pytestmark = pytest.mark.usefixtures("office_hours")

BASE = "/api/v1/agency/"


def _client(key: str | None) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}") if key else Client()


def _post(client: Client, body: Any) -> Any:
    text = body if isinstance(body, str) else json.dumps(body)
    return client.post(BASE + "results", text, content_type="application/json")


def _row(agencies: Agencies, case: int = 0, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "case_id": agencies.book.cases[case].pk,
        "at": local(agencies.book.today, 10, 0).isoformat(),
        "channel": "call",
        "party": "borrower",
        "outcome": "rpc",
    }
    row.update(extra)
    return row


@pytest.fixture
def keys(agencies: Agencies) -> dict[str, str]:
    return {
        "read": access.create_token(agencies.acme, "read", ["placements:read"]),
        "write": access.create_token(agencies.acme, "write", ["results:write"]),
        "bolt": access.create_token(agencies.bolt, "all", ["placements:read", "results:write"]),
    }


def test_no_key_or_a_wrong_one_is_401_in_the_one_error_format(
    agencies: Agencies, keys: dict[str, str]
) -> None:
    for client in (_client(None), _client("agk_nope"), Client(HTTP_AUTHORIZATION="Basic x")):
        response = client.get(BASE + "placements")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "api-unauthenticated"


def test_a_revoked_key_no_longer_works(agencies: Agencies, keys: dict[str, str]) -> None:
    token = access.token_for(keys["read"])
    assert token is not None
    access.revoke_token(token)
    assert _client(keys["read"]).get(BASE + "placements").status_code == 401


def test_scopes_are_enforced(agencies: Agencies, keys: dict[str, str]) -> None:
    refused = _client(keys["write"]).get(BASE + "placements")
    assert refused.status_code == 403
    assert refused.json()["error"] == {
        "code": "api-scope",
        "message": "this key does not have the scope placements:read",
        "errors": [],
    }
    assert _post(_client(keys["read"]), {"reference": "r", "results": []}).status_code == 403


def test_placements_are_the_keys_agencys_live_ones_minimised(
    agencies: Agencies, keys: dict[str, str]
) -> None:
    response = _client(keys["read"]).get(BASE + "placements")
    assert response.status_code == 200
    body = response.json()
    cases = agencies.book.cases
    assert [p["case_id"] for p in body["placements"]] == [cases[0].pk, cases[1].pk]
    text = response.content.decode()
    assert valid_ric() not in text and "+8613800000001" not in text
    assert body["placements"][0]["phones_masked"] == "+86138****0001"
    other = _client(keys["bolt"]).get(BASE + "placements").json()
    assert [p["case_id"] for p in other["placements"]] == [cases[2].pk]


def test_results_are_applied_and_a_resend_is_a_no_op(
    agencies: Agencies, keys: dict[str, str]
) -> None:
    writer = _client(keys["write"])
    due = (agencies.book.today + timedelta(days=7)).isoformat()
    body = {
        "reference": "acme-0001",
        "results": [
            _row(agencies),
            _row(
                agencies,
                case=1,
                outcome="promise",
                promise_amount_minor=30000,
                promise_due_date=due,
            ),
        ],
    }
    first = _post(writer, body)
    assert first.status_code == 201, first.content
    assert first.json()["contacts"] == 2 and first.json()["replayed"] is False
    assert ContactAttempt.objects.filter(agency=agencies.acme).count() == 2
    assert Promise.objects.get().agency == agencies.acme
    again = _post(writer, body)
    assert again.status_code == 200 and again.json()["replayed"] is True
    assert again.json()["digest"] == first.json()["digest"]
    assert ContactAttempt.objects.count() == 2 and ResultBatch.objects.count() == 1


def test_other_content_under_a_used_reference_is_409(
    agencies: Agencies, keys: dict[str, str]
) -> None:
    writer = _client(keys["write"])
    assert _post(writer, {"reference": "R", "results": [_row(agencies)]}).status_code == 201
    changed = _post(writer, {"reference": "R", "results": [_row(agencies, outcome="hung_up")]})
    assert changed.status_code == 409
    assert changed.json()["error"]["code"] == "results-reference-conflict"
    assert ContactAttempt.objects.count() == 1


def test_a_bad_batch_lists_every_row_error_and_applies_nothing(
    agencies: Agencies, keys: dict[str, str]
) -> None:
    body = {
        "reference": "bad",
        "results": [
            _row(agencies),
            _row(agencies, case=2),  # another agency's case
            _row(agencies, collected=15000),
            _row(agencies, promise_amount_minor=1.5, outcome="promise", promise_due_date="x"),
        ],
    }
    response = _post(_client(keys["write"]), body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "results-invalid"
    rows = {(e["row"], e["field"], e["code"]) for e in error["errors"]}
    assert rows == {
        (2, "case_id", "results-case-not-placed"),
        (3, "collected", "results-collected-refused"),
        (4, "promise_amount_minor", "results-not-integer"),
        (4, "promise_due_date", "results-not-date"),
    }
    assert all(e["message"] for e in error["errors"])
    assert not ContactAttempt.objects.exists() and not ResultBatch.objects.exists()


def test_a_collected_total_beside_the_results_is_refused(
    agencies: Agencies, keys: dict[str, str]
) -> None:
    body = {"reference": "x", "results": [_row(agencies)], "collected_total": 100}
    response = _post(_client(keys["write"]), body)
    assert response.status_code == 400
    assert response.json()["error"]["errors"][0]["code"] == "results-collected-refused"
    assert not ContactAttempt.objects.exists()


def test_a_contact_the_gate_refuses_is_a_row_error(
    agencies: Agencies, keys: dict[str, str]
) -> None:
    night = local(agencies.book.today - timedelta(days=1), 23, 0).isoformat()
    body = {"reference": "n", "results": [_row(agencies), _row(agencies, at=night)]}
    response = _post(_client(keys["write"]), body)
    assert response.status_code == 400
    [error] = response.json()["error"]["errors"]
    assert (error["row"], error["field"]) == (2, "at") and "cn.hours" in error["message"]
    assert not ContactAttempt.objects.exists()


@pytest.mark.parametrize("body", ["not json", "[]", '{"results": []}', '{"reference": 5}'])
def test_a_malformed_body_is_400(agencies: Agencies, keys: dict[str, str], body: str) -> None:
    response = _post(_client(keys["write"]), body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "api-body"


def test_the_openapi_document_describes_both_operations(agencies: Agencies) -> None:
    response = Client().get(BASE + "openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert set(paths) == {BASE + "placements", BASE + "results"}
    schema = paths[BASE + "results"]["post"]["requestBody"]["content"]["application/json"]
    assert schema["schema"]["required"] == ["reference", "results"]


def test_a_body_above_the_bound_is_413(agencies: Agencies, keys: dict[str, str]) -> None:
    from arrears.agencies import api

    full = {"reference": "full", "results": [_row(agencies, note="x" * 1000)] * 1000}
    assert len(json.dumps(full)) < api.MAX_BODY_BYTES  # the largest valid batch fits
    text = json.dumps({"reference": "big", "results": [_row(agencies, note="x" * 3_000_000)]})
    assert len(text) > api.MAX_BODY_BYTES
    response = _post(_client(keys["write"]), text)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "api-body-too-large"
