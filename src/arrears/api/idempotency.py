"""Idempotent writes by the caller's reference: twice is once, other content is refused.

:func:`run_once` records ``(integration, kind, reference)`` with the SHA-256 of the canonical
request *before* doing the work, inside one transaction, and stores the response it gave. The
row's unique constraint is the lock: a concurrent second attempt's insert waits on PostgreSQL
until the first commits and then fails, so it reads the stored answer instead of applying the
write again (no check-then-insert window). A replay with the same digest gets the original
status and body; the same reference with another digest is refused (409,
``api-idempotency-conflict``). A refusal by the service (4xx) is an answer like any other and
is stored too; a crash inside the work (5xx) rolls everything back, so the caller may retry.
What runs after the commit (the workflow's re-evaluation on ``payment_changed``) cannot undo it:
if that fails the caller sees a 5xx, but the payment and its answer are recorded, and the retry
gets the stored answer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from arrears import errorcodes
from arrears.api.models import IdempotentRequest, Integration
from arrears.kernel.errors import ArrearsError

errorcodes.define(
    {
        "api-idempotency-conflict": (
            "reference %(reference)s was already used for a different %(kind)s request"
        ),
    }
)


class IdempotencyConflict(ArrearsError):
    code = "api-idempotency-conflict"


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: dict[str, Any]
    replayed: bool = False


def digest(payload: Mapping[str, Any]) -> str:
    """SHA-256 of the request in canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def run_once(
    owner: Integration,
    kind: str,
    reference: str,
    payload: Mapping[str, Any],
    work: Callable[[], tuple[int, dict[str, Any]]],
    refused: Callable[[ArrearsError], tuple[int, dict[str, Any]]],
) -> Answer:
    """``work()`` once per ``(owner, kind, reference)``; later calls get its stored answer.

    ``refused`` turns a service's refusal into the (status, body) to store and return."""
    wanted = digest(payload)
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotentRequest.objects.create(
                    integration=owner,
                    kind=kind,
                    reference=reference,
                    digest=wanted,
                    status=0,
                    response={},
                )
        except IntegrityError:
            first = IdempotentRequest.objects.get(integration=owner, kind=kind, reference=reference)
            if first.digest != wanted:
                raise errorcodes.refuse(
                    IdempotencyConflict,
                    "api-idempotency-conflict",
                    field="reference",
                    reference=repr(reference),
                    kind=kind,
                ) from None
            return Answer(first.status, first.response, replayed=True)
        try:
            with transaction.atomic():
                status, body = work()
        except ArrearsError as error:
            status, body = refused(error)
        record.status, record.response = status, body
        record.save(update_fields=["status", "response"])
    return Answer(status, body)
