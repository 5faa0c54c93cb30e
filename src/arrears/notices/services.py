"""Use cases for message templates: save a draft, check it, activate it, render the active one.

Activation is the gate for wording: it runs :func:`arrears.notices.render.check` under the
project's compliance pack (``settings.ARREARS_POLICY_PACK``) and refuses with every problem
listed, so a template without the complaint channel, with an unknown variable or with a
threatening phrase can be saved as a draft and previewed, but never sent. The dispatcher renders
with :func:`render_active` at send time; the gate then screens the rendered text once more.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from arrears.kernel.errors import ArrearsError
from arrears.notices import catalogue
from arrears.notices import context as ctx
from arrears.notices.models import MessageTemplate
from arrears.notices.render import Problem, TemplateError, check, render_template
from arrears.policy import Pack, load_pack


class NoticeError(ArrearsError):
    code = "notices-error"


class ActivationRefused(NoticeError):
    """The template has problems; ``problems`` lists every one of them."""

    code = "notices-activation-refused"

    def __init__(self, template: MessageTemplate, problems: list[Problem]) -> None:
        lines = "; ".join(str(p) for p in problems)
        super().__init__(f"{template} cannot be activated: {lines}")
        self.problems = problems


class NoActiveTemplate(TemplateError):
    code = "notices-no-active-template"


def policy_pack() -> Pack:
    """The compliance pack templates are checked against (the one the gate uses)."""
    return load_pack(getattr(settings, "ARREARS_POLICY_PACK", "cn"))


def sample_context(locale: str) -> dict[str, str]:
    """The documented sample values, with the lender's configured name and channels.

    Previews then show what borrowers will actually read, and the checks run on the house
    wording of the repayment and complaint channels, not on placeholders.
    """
    sample = ctx.sample_context(locale)
    for name, setting in (
        ("lender_name", "ARREARS_LENDER_NAME"),
        ("repayment_channels", "ARREARS_REPAYMENT_CHANNELS"),
        ("complaint_channel", "ARREARS_COMPLAINT_CHANNEL"),
    ):
        configured: Mapping[str, str] = getattr(settings, setting, {})
        if configured.get(locale):
            sample[name] = configured[locale]
    return sample


def problems(template: MessageTemplate) -> list[Problem]:
    """Every reason ``template`` cannot be activated now (empty: it can)."""
    return check(
        template.as_template(), pack=policy_pack(), context=sample_context(template.locale)
    )


def _validate(code: str, locale: str, channel: str, body: str) -> None:
    if not code or not code.replace("_", "").isalnum() or not code.islower():
        raise NoticeError(f"template code {code!r}: use lower-case letters, digits and _")
    if locale not in ctx.LOCALES:
        raise NoticeError(f"locale {locale!r}: expected one of {', '.join(ctx.LOCALES)}")
    if channel not in ctx.CHANNELS:
        raise NoticeError(f"channel {channel!r}: expected one of {', '.join(ctx.CHANNELS)}")
    if not body.strip():
        raise NoticeError("a template needs a body")


@transaction.atomic
def save_draft(
    code: str,
    locale: str,
    channel: str,
    body: str,
    *,
    subject: str = "",
    created_by: Any = None,
) -> tuple[MessageTemplate, list[Problem]]:
    """Store a new draft version (the next number) and return it with its problems.

    A draft may have problems — it is work in progress and the admin shows them next to the
    preview — but :func:`activate` will refuse it until they are fixed.
    """
    _validate(code, locale, channel, body)
    latest = (
        MessageTemplate.objects.select_for_update()
        .filter(code=code, locale=locale, channel=channel)
        .aggregate(v=Max("version"))["v"]
    )
    template = MessageTemplate.objects.create(
        code=code,
        locale=locale,
        channel=channel,
        version=(latest or 0) + 1,
        subject=subject,
        body=body,
        created_by=created_by,
    )
    return template, problems(template)


@transaction.atomic
def activate(template: MessageTemplate, *, by: Any = None) -> MessageTemplate:
    """Make ``template`` the active version of its (code, locale, channel).

    Refused with :class:`ActivationRefused` (every problem listed) when :func:`problems` finds
    any. The previously active version is retired in the same transaction. A retired version
    may be activated again (a rollback); it is checked again, since the pack may have changed.
    """
    row = MessageTemplate.objects.select_for_update().get(pk=template.pk)
    if row.status == MessageTemplate.Status.ACTIVE:
        return row
    found = problems(row)
    if found:
        raise ActivationRefused(row, found)
    now = timezone.now()
    MessageTemplate.objects.filter(
        code=row.code,
        locale=row.locale,
        channel=row.channel,
        status=MessageTemplate.Status.ACTIVE,
    ).update(status=MessageTemplate.Status.RETIRED, retired_at=now)
    row.status = MessageTemplate.Status.ACTIVE
    row.activated_at = now
    row.activated_by = by
    row.retired_at = None
    row.save(update_fields=["status", "activated_at", "activated_by", "retired_at"])
    template.refresh_from_db()
    return row


@transaction.atomic
def retire(template: MessageTemplate) -> MessageTemplate:
    """Stop using ``template`` (nothing of its code, locale and channel is active afterwards)."""
    MessageTemplate.objects.filter(pk=template.pk).exclude(
        status=MessageTemplate.Status.RETIRED
    ).update(status=MessageTemplate.Status.RETIRED, retired_at=timezone.now())
    template.refresh_from_db()
    return template


def active_template(code: str, locale: str, channel: str) -> MessageTemplate:
    """The active version for (code, locale, channel); :class:`NoActiveTemplate` if none."""
    found = MessageTemplate.objects.filter(
        code=code, locale=locale, channel=channel, status=MessageTemplate.Status.ACTIVE
    ).first()
    if found is None:
        raise NoActiveTemplate(f"no active template {code!r} for {locale}/{channel}")
    return found


def render_active(
    code: str, locale: str, channel: str, context: Mapping[str, str]
) -> tuple[str, str]:
    """``(subject, body)`` of the active template rendered strictly with ``context``.

    Raises :class:`~arrears.notices.render.TemplateError` naming any variable the context lacks
    (or :class:`NoActiveTemplate`): a message is never sent with a gap where a value belongs.
    """
    return render_template(active_template(code, locale, channel).as_template(), context)


def install_catalogue(*, by: Any = None) -> list[MessageTemplate]:
    """Add every shipped template that has no version yet as an active version 1.

    Never touches a (code, locale, channel) that already has any version, so a lender's own
    wording is not replaced. The data migration does the same with historical models.
    """
    added = []
    for shipped in catalogue.load():
        if MessageTemplate.objects.filter(
            code=shipped.code, locale=shipped.locale, channel=shipped.channel
        ).exists():
            continue
        added.append(
            MessageTemplate.objects.create(
                code=shipped.code,
                locale=shipped.locale,
                channel=shipped.channel,
                version=1,
                subject=shipped.subject,
                body=shipped.body,
                status=MessageTemplate.Status.ACTIVE,
                created_by=by,
                activated_at=timezone.now(),
                activated_by=by,
            )
        )
    return added
