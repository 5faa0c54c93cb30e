"""Signal receivers: money- and state-affecting saves and deletes, logins, and day runs.

Before images are read from the database in ``pre_save`` (the row as it was), after images
from the instance in ``post_save``; both are masked and bounded by ``services.record``.

The automation's case events (the ones with a ``key``: the daily workflow's stage and status
moves, allocations, placements, field-visit steps) are not recorded one by one: a day run writes
thousands, and ``daysummary`` records one entry per day with their counts by kind instead. The
events people cause (a contact, a hold, a complaint) carry no key and are recorded each.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import models
from django.db.models.signals import post_delete, post_save, pre_save

from arrears.audit import services

#: Models whose every save and delete is recorded ("app_label.Model").
WATCHED = (
    "ledger.Payment",
    "ledger.Waiver",
    "ledger.RepaymentPlan",
    "ledger.Loan",
    "collections.Case",
    "collections.CaseEvent",
    "collections.Hold",
    "collections.Promise",
    "collections.ContactAttempt",
    "collections.ApprovalLimit",
    "collections.Team",
    "collections.Collector",
    "collections.StrategyVersion",
    "contact.GateDecision",
    "contact.ContactPreference",
    "contact.OutboxMessage",
    "agencies.Placement",
    "agencies.Agency",
    "ledger.Product",
    "legal.LegalLetter",
    "fieldwork.FieldVisit",
    "fieldwork.VisitAuthorisation",
    "verification.Credential",
    "daily.DayRun",
    "complaints.Complaint",
    "notices.MessageTemplate",
)
#: Models recorded only when their ``status`` changes (not every lease or retry update).
STATUS_ONLY = {"contact.OutboxMessage", "daily.DayRun"}
#: Large free-text fields left out of images (the document itself is versioned elsewhere);
#: the image carries their SHA-256 instead, so the text a version had can still be proved.
DIGEST_FIELDS = {"source", "body"}
#: Never in an image, not even digested.
SECRET_FIELDS = {"password"}

_BEFORE = "_audit_before"


def image(instance: models.Model) -> dict[str, Any]:
    """The concrete field values of a row (foreign keys as ids)."""
    out: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if field.name in SECRET_FIELDS:
            continue
        value = field.value_from_object(instance)
        if field.name in DIGEST_FIELDS:
            text = str(value or "").encode("utf-8")
            out[f"{field.attname}_sha256"] = hashlib.sha256(text).hexdigest()
            continue
        out[field.attname] = value
    return out


def _automatic(instance: models.Model) -> bool:
    """A keyed case event: the automation's, counted per day instead (see the module doc)."""
    return _label(instance) == "collections.CaseEvent" and bool(getattr(instance, "key", None))


def _label(instance: models.Model) -> str:
    return f"{instance._meta.app_label}.{instance._meta.object_name}"


def _case_id(instance: models.Model) -> int | None:
    label = _label(instance)
    if label == "collections.Case":
        return instance.pk  # type: ignore[no-any-return]
    if label == "contact.GateDecision":  # the gate names the debt it decided on: "case<id>"
        debt = str((getattr(instance, "request", None) or {}).get("debt", ""))
        return int(debt[4:]) if debt.startswith("case") and debt[4:].isdigit() else None
    value = getattr(instance, "case_id", None)
    return value if isinstance(value, int) else None


def _pre_save(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    if not enabled():
        return
    if kwargs.get("raw") or instance.pk is None or _automatic(instance):
        return
    old = sender._default_manager.filter(pk=instance.pk).first()
    setattr(instance, _BEFORE, image(old) if old is not None else None)


def _post_save(
    sender: type[models.Model], instance: models.Model, created: bool, **kwargs: Any
) -> None:
    if not enabled() or kwargs.get("raw") or _automatic(instance):
        return
    label = _label(instance)
    before = None if created else getattr(instance, _BEFORE, None)
    after = image(instance)
    unchanged_status = before is not None and before.get("status") == after.get("status")
    if label in STATUS_ONLY and not created and unchanged_status:
        return
    if before is not None and before == after:
        return
    verb = "created" if created or before is None else "changed"
    services.record(
        f"{label.split('.')[1].lower()}.{verb}",
        subject_type=label,
        subject_id=instance.pk,
        case_id=_case_id(instance),
        before=before,
        after=after,
    )


def _post_delete(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    if not enabled():
        return
    label = _label(instance)
    services.record(
        f"{label.split('.')[1].lower()}.deleted",
        subject_type=label,
        subject_id=instance.pk,
        case_id=_case_id(instance),
        before=image(instance),
    )


def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if not enabled():
        return
    name = user.get_username()
    services.record(
        "login", subject_type="auth.User", subject_id=user.pk, actor=name, after=_where(request)
    )


def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if not enabled():
        return
    if user is None:
        return
    name = user.get_username()
    services.record(
        "logout", subject_type="auth.User", subject_id=user.pk, actor=name, after=_where(request)
    )


def _login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    """Only the username and the address are kept: never the password."""
    if not enabled():
        return
    name = str(credentials.get("username", ""))[:150]
    services.record(
        "login.failed",
        subject_type="auth.User",
        subject_id=name,
        actor=name,
        after=_where(request),
    )


def _where(request: Any) -> dict[str, Any] | None:
    """The sign-in's client address (``accounts.network.client_ip``: the same address the
    lockout counts against), or nothing for a sign-in made in the process (no request)."""
    if request is None:
        return None
    from arrears.accounts.network import client_ip

    return {"ip": client_ip(request)}


def enabled() -> bool:
    """Whether changes are being recorded (``ARREARS_AUDIT``, on unless set to ``0``)."""
    return bool(getattr(settings, "ARREARS_AUDIT", True))


def connect() -> None:
    """Connect every receiver (called once from ``AuditConfig.ready``)."""
    for label in WATCHED:
        try:
            model = apps.get_model(label)
        except LookupError:  # an app not installed in this deployment
            continue
        uid = f"audit:{label}"
        pre_save.connect(_pre_save, sender=model, dispatch_uid=uid + ":pre")
        post_save.connect(_post_save, sender=model, dispatch_uid=uid + ":post")
        post_delete.connect(_post_delete, sender=model, dispatch_uid=uid + ":del")
    user_logged_in.connect(_logged_in, dispatch_uid="audit:login")
    user_logged_out.connect(_logged_out, dispatch_uid="audit:logout")
    user_login_failed.connect(_login_failed, dispatch_uid="audit:login-failed")
