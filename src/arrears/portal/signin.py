"""Signing in to the portal: a loan number, then a one-time code sent by SMS through the outbox.

Why these rules:

* **The code goes through the outbox and the gate** like every message (purpose ``service``:
  the packs' contact rules do not stop a code the borrower is waiting for, and a hold does not
  lock a complaining borrower out). It is sent at once (``dispatch.send_now``), and the outbox
  keeps the message with the code blanked.
* **Nothing tells a stranger whether a loan number exists**: an unknown number gets the same
  answer and a challenge no code can satisfy.
* **Brute force is bounded** (all counted in the database, so every web process shares them):
  a code lives ``code_minutes`` and takes ``tries_per_code`` wrong tries; a loan number gets at
  most ``sends_per_window`` codes in ``send_window_minutes`` and ``sends_per_day`` a day; a
  client address at most ``sends_per_client_hour`` codes an hour and ``wrong_per_client_hour``
  wrong codes; ``lock_after`` wrong codes for one loan number within a day lock it for
  ``lock_minutes``. With 5 tries per code and 10 codes a day, a guesser's chance of a 6-digit
  code is at most 50 in a million a day per loan, and far less once the lock falls.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from arrears import errorcodes
from arrears.contact.models import OutboxMessage
from arrears.contact.outbox import LOCALES
from arrears.kernel.errors import ArrearsError
from arrears.ledger.models import Loan
from arrears.portal.config import numbers
from arrears.portal.models import SignInChallenge, SignInEvent

TEMPLATE = "portal_sign_in_code"

#: The defaults; ``ARREARS_PORTAL_SIGN_IN`` overrides any of them.
DEFAULT_LIMITS: dict[str, int] = {
    "code_minutes": 5,
    "tries_per_code": 5,
    "sends_per_window": 3,
    "send_window_minutes": 15,
    "sends_per_day": 10,
    "sends_per_client_hour": 20,
    "wrong_per_client_hour": 30,
    "lock_after": 10,
    "lock_minutes": 60,
}

#: Longest loan number read from the form (``Loan.ref`` is at most 64 characters).
MAX_REF = 64

errorcodes.define(
    {
        "portal-ref": "type the loan or contract number shown on your contract or statement",
        "portal-too-many-codes": "too many codes were asked for; try again after %(after)s",
        "portal-locked": "sign-in is locked after too many wrong codes; try again after %(after)s",
        "portal-code-format": "the code is the 6 digits in the text message",
        "portal-code-wrong": "that code is not right; %(left)s tries left",
        "portal-code-expired": "that code has expired or was used; ask for a new one",
        "portal-not-sent": "we could not send a code just now (%(reason)s); try again later",
    }
)


class SignInRefused(ArrearsError):
    code = "portal-refused"


def limits() -> dict[str, int]:
    """``ARREARS_PORTAL_SIGN_IN`` over :data:`DEFAULT_LIMITS`; an unknown key or a value that
    is not a whole number of at least 1 is a configuration error, never a silent default."""
    return numbers("ARREARS_PORTAL_SIGN_IN", DEFAULT_LIMITS, minimum=1)


def normalise_ref(text: str) -> str:
    """The loan number as we look it up: trimmed, at most ``MAX_REF`` characters, no NUL."""
    return text.replace("\x00", "").strip()[:MAX_REF]


def client_key(address: str) -> str:
    """A client address as kept: hashed, so the table holds no addresses."""
    return hashlib.sha256(f"portal-client:{address}".encode()).hexdigest()[:64]


def _hmac(salt: str, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{salt}:{code}".encode(), hashlib.sha256).hexdigest()


def _event(
    kind: str, ref: str, loan: Loan | None, client: str, at: datetime, detail: str = ""
) -> None:
    SignInEvent.objects.create(
        kind=kind, typed_ref=ref, loan=loan, client=client, at=at, detail=detail[:200]
    )


def _count(at: datetime, minutes: int, **filters: Any) -> int:
    return SignInEvent.objects.filter(at__gt=at - timedelta(minutes=minutes), **filters).count()


def locked_until(ref: str, at: datetime) -> datetime | None:
    """When sign-in for ``ref`` unlocks, if it is locked at ``at``: ``lock_after`` wrong codes
    within a day lock it for ``lock_minutes`` after the last of them."""
    rules = limits()
    wrong = SignInEvent.objects.filter(
        typed_ref=ref, kind=SignInEvent.Kind.CODE_WRONG, at__gt=at - timedelta(days=1)
    ).order_by("-at")
    if wrong.count() < rules["lock_after"]:
        return None
    last = wrong.first()
    assert last is not None
    until = last.at + timedelta(minutes=rules["lock_minutes"])
    return until if until > at else None


def _local(at: datetime) -> str:
    return f"{timezone.localtime(at):%H:%M}"


@dataclass(frozen=True)
class Started:
    """A challenge the next page asks the code for (the same for a loan we do not know)."""

    challenge: SignInChallenge
    sent: bool


def start(typed: str, client_address: str, *, now: datetime | None = None) -> Started:
    """Ask for a code for the loan number ``typed`` from ``client_address``.

    Refuses (``SignInRefused``) an empty number, a locked one, or one over a send limit,
    naming when to try again; otherwise returns the challenge whose code the borrower will
    type. For a number we know, the code is sent now; for one we do not, nothing is sent and
    the answer looks the same.
    """
    at = now or timezone.now()
    rules = limits()
    ref = normalise_ref(typed)
    client = client_key(client_address)
    if not ref:
        raise errorcodes.refuse(SignInRefused, "portal-ref", field="loan")
    until = locked_until(ref, at)
    if until is not None:
        raise errorcodes.refuse(SignInRefused, "portal-locked", field="loan", after=_local(until))
    sent = SignInEvent.Kind.CODE_SENT
    window = rules["send_window_minutes"]
    over = (
        (
            _count(at, window, typed_ref=ref, kind=sent) >= rules["sends_per_window"]
            and at + timedelta(minutes=window)
        )
        or (
            _count(at, 24 * 60, typed_ref=ref, kind=sent) >= rules["sends_per_day"]
            and at + timedelta(days=1)
        )
        or (
            _count(at, 60, client=client, kind=sent) >= rules["sends_per_client_hour"]
            and at + timedelta(hours=1)
        )
    )
    if over:
        _event(SignInEvent.Kind.LIMITED, ref, None, client, at, "code requests")
        raise errorcodes.refuse(
            SignInRefused, "portal-too-many-codes", field="loan", after=_local(over)
        )
    loan = Loan.objects.select_related("borrower").filter(ref=ref).first()
    code = f"{secrets.randbelow(10**6):06d}"
    salt = secrets.token_hex(16)
    with transaction.atomic():
        challenge = SignInChallenge.objects.create(
            typed_ref=ref,
            loan=loan,
            salt=salt,
            code_hmac=_hmac(salt, code),
            client=client,
            created_at=at,
            expires_at=at + timedelta(minutes=rules["code_minutes"]),
        )
        _event(sent, ref, loan, client, at)
    if loan is None:
        return Started(challenge, sent=False)
    status = _send(challenge, loan, code, at)
    if status not in (OutboxMessage.Status.SENT, OutboxMessage.Status.DELIVERED):
        challenge.status = SignInChallenge.Status.NOT_SENT
        challenge.save(update_fields=["status"])
        reason = OutboxMessage.objects.get(pk=challenge.message_id).status_reason or status
        raise errorcodes.refuse(SignInRefused, "portal-not-sent", field="loan", reason=reason[:120])
    return Started(challenge, sent=True)


#: Codes waiting to be rendered, by outbox message key: held only for the instant between
#: queueing the message and sending it in the same request (see ``sign_in_variables``).
_CODES: dict[int, str] = {}


def channels() -> Any:
    """The channels a code is sent with (the configured providers; the log channel in the demo
    and in tests, which write to ``ARREARS_CHANNEL_LOG``)."""
    from arrears.channels.registry import from_env

    return from_env(os.environ)


def _send(challenge: SignInChallenge, loan: Loan, code: str, at: datetime) -> str:
    from arrears.contact.dispatch import send_now

    borrower = loan.borrower
    message = OutboxMessage(
        key=f"portal:sign-in:{challenge.salt}",
        borrower=borrower,
        channel="sms",
        template=TEMPLATE,
        locale=LOCALES.get(borrower.locale, "zh-CN"),
        not_before=at,
        due_on=timezone.localdate(at),
        expires_at=challenge.expires_at,
    )
    _CODES[message.key] = code
    try:
        status = send_now(message, channels(), now=at)
    finally:
        _CODES.pop(message.key, None)
    challenge.message = message
    challenge.save(update_fields=["message"])
    return status


class CodeUnavailable(ArrearsError):
    code = "portal-code-unavailable"


def sign_in_variables(message: OutboxMessage) -> dict[str, str]:
    """The sign-in message's own variables (``contact.render.register_extra``). The code is
    only in memory, for the request that sends it; a sign-in message found later (a
    dispatcher's recovery after a crash) cannot be rendered and fails, which is right: its
    code has expired by then."""
    if message.template != TEMPLATE:
        return {}
    code = _CODES.get(message.key)
    if code is None:
        raise CodeUnavailable("the sign-in code is no longer available; ask for a new one")
    return {"sign_in_code": code, "valid_minutes": str(limits()["code_minutes"])}


def confirm(
    challenge_id: int, typed_code: str, client_address: str, *, now: datetime | None = None
) -> Loan:
    """Check the code typed for a challenge; the loan signed in to, or ``SignInRefused``
    saying why (wrong with tries left, expired, locked). A wrong code counts against the
    challenge, the loan number and the client address whether or not the loan exists."""
    at = now or timezone.now()
    rules = limits()
    client = client_key(client_address)
    code = "".join(ch for ch in typed_code if not ch.isspace())[:12]
    with transaction.atomic():
        challenge = SignInChallenge.objects.select_for_update().filter(pk=challenge_id).first()
        if (
            challenge is None
            or challenge.status != SignInChallenge.Status.SENT
            or (challenge.expires_at <= at)
        ):
            raise errorcodes.refuse(SignInRefused, "portal-code-expired", field="code")
        ref = challenge.typed_ref
        until = locked_until(ref, at)
        if until is not None:
            raise errorcodes.refuse(
                SignInRefused, "portal-locked", field="code", after=_local(until)
            )
        if (
            _count(at, 60, client=client, kind=SignInEvent.Kind.CODE_WRONG)
            >= rules["wrong_per_client_hour"]
        ):
            raise errorcodes.refuse(
                SignInRefused, "portal-locked", field="code", after=_local(at + timedelta(hours=1))
            )
        if not (len(code) == 6 and code.isascii() and code.isdigit()):
            raise errorcodes.refuse(SignInRefused, "portal-code-format", field="code")
        right = challenge.loan_id is not None and hmac.compare_digest(
            challenge.code_hmac, _hmac(challenge.salt, code)
        )
        if right:
            challenge.status = SignInChallenge.Status.USED
            challenge.save(update_fields=["status"])
            _event(SignInEvent.Kind.SIGNED_IN, ref, challenge.loan, client, at)
            loan = Loan.objects.select_related("borrower").get(pk=challenge.loan_id)
            return loan
        challenge.tries += 1
        left = rules["tries_per_code"] - challenge.tries
        if left <= 0:
            challenge.status = SignInChallenge.Status.EXHAUSTED
        challenge.save(update_fields=["tries", "status"])
        _event(SignInEvent.Kind.CODE_WRONG, ref, challenge.loan, client, at)
        if locked_until(ref, at) is not None:
            _event(SignInEvent.Kind.LOCKED, ref, challenge.loan, client, at)
    if left <= 0:
        raise errorcodes.refuse(SignInRefused, "portal-code-expired", field="code")
    raise errorcodes.refuse(SignInRefused, "portal-code-wrong", field="code", left=left)
