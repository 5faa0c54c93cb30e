"""Admin for message templates: write drafts, see the rendered sample and the problems, activate.

Active and retired versions are read-only (they are what borrowers were sent); editing means a
new draft ("New draft from selected"). Every change page shows the template rendered with the
sample context and the problems that would block activation; ``<id>/preview/`` shows the same
on a page of its own. Activation goes through :func:`arrears.notices.services.activate`, so the
admin cannot activate what the service would refuse.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from arrears.notices import context as ctx
from arrears.notices import services
from arrears.notices.models import MessageTemplate
from arrears.notices.render import Problem, TemplateError, render_template

_EDITABLE = ("subject", "body")
_IDENTITY = ("code", "locale", "channel")
_SHOWN = ("version", "status", "created_by", "created_at", "activated_at", "retired_at")
_COMPUTED = ("problems_display", "preview_display", "variables_display")


def preview_of(template: MessageTemplate) -> tuple[str, str, str]:
    """``(subject, body, error)`` of ``template`` rendered with the sample context."""
    try:
        subject, body = render_template(
            template.as_template(), services.sample_context(template.locale)
        )
    except TemplateError as error:
        return "", "", str(error)
    return subject, body, ""


def _problems_html(found: list[Problem]) -> SafeString:
    if not found:
        return format_html('<span style="color:#2a7d2a">{}</span>', "no problems: can be activated")
    return format_html(
        '<ul style="color:#ba2121;margin-left:0">{}</ul>',
        format_html_join("", "<li>{}</li>", ((str(p),) for p in found)),
    )


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = (
        "code",
        "locale",
        "channel",
        "version",
        "status",
        "activated_at",
        "preview_link",
    )
    list_filter = ("status", "locale", "channel", "code")
    search_fields = ("code", "subject", "body")
    actions = ("activate_selected", "new_draft_from_selected")

    # --- forms ----------------------------------------------------------------------------
    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return [*_IDENTITY, *_EDITABLE, "variables_display"]
        return [*_IDENTITY, *_SHOWN, *_EDITABLE, *_COMPUTED]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if obj is None:
            return ("variables_display",)
        if obj.status == MessageTemplate.Status.DRAFT:
            return (*_IDENTITY, *_SHOWN, *_COMPUTED)
        return (*_IDENTITY, *_SHOWN, *_EDITABLE, *_COMPUTED)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or obj.status == MessageTemplate.Status.DRAFT)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            if obj.status != MessageTemplate.Status.DRAFT:  # pragma: no cover - fields read-only
                raise services.NoticeError("only drafts can be edited")
            obj.save(update_fields=list(_EDITABLE))
            found = services.problems(obj)
        else:
            saved, found = services.save_draft(
                obj.code,
                obj.locale,
                obj.channel,
                obj.body,
                subject=obj.subject,
                created_by=request.user,
            )
            obj.pk = saved.pk
            obj.refresh_from_db()
        if found:
            self.message_user(
                request,
                f"Saved as a draft with {len(found)} problem(s) that block activation: "
                + "; ".join(str(p) for p in found),
                messages.WARNING,
            )

    # --- computed fields ------------------------------------------------------------------
    @admin.display(description="problems")
    def problems_display(self, obj: MessageTemplate) -> SafeString:
        return _problems_html(services.problems(obj))

    @admin.display(description="preview (sample context)")
    def preview_display(self, obj: MessageTemplate) -> SafeString:
        subject, body, error = preview_of(obj)
        if error:
            return format_html('<span style="color:#ba2121">{}</span>', error)
        return format_html(
            '<div style="max-width:48em">{}<pre style="white-space:pre-wrap;font-family:inherit;'
            'border:1px solid #ccc;padding:.75em">{}</pre></div>',
            format_html("<p><strong>{}</strong></p>", subject) if subject else "",
            body,
        )

    @admin.display(description="documented variables")
    def variables_display(self, obj: MessageTemplate | None = None) -> SafeString:
        rows = (
            (f"${{{v.name}}}", v.en, v.zh, "required" if v.name in ctx.DISCLOSURES else "")
            for v in ctx.VARIABLES.values()
        )
        return format_html(
            "<table><tr><th>variable</th><th>meaning</th><th>含义</th><th></th></tr>{}</table>",
            format_html_join(
                "", "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>", rows
            ),
        )

    @admin.display(description="preview")
    def preview_link(self, obj: MessageTemplate) -> SafeString:
        url = reverse("admin:notices_messagetemplate_preview", args=[obj.pk])
        return format_html('<a href="{}">preview</a>', url)

    # --- the preview page -------------------------------------------------------------------
    def get_urls(self) -> list[URLPattern]:
        own = [
            path(
                "<int:pk>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="notices_messagetemplate_preview",
            )
        ]
        return own + super().get_urls()

    def preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        template = get_object_or_404(MessageTemplate, pk=pk)
        if not self.has_view_permission(request, template):
            return HttpResponse(status=403)
        subject, body, error = preview_of(template)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Preview: {template}",
            "template_obj": template,
            "subject": subject,
            "body": body,
            "error": error,
            "problems": services.problems(template),
            "sample": services.sample_context(template.locale),
        }
        return TemplateResponse(request, "admin/notices/messagetemplate/preview.html", context)

    # --- actions ----------------------------------------------------------------------------
    @admin.action(description="Activate selected templates (refused if they have problems)")
    def activate_selected(self, request: HttpRequest, queryset: QuerySet[MessageTemplate]) -> None:
        for template in queryset:
            try:
                services.activate(template, by=request.user)
            except services.ActivationRefused as refused:
                self.message_user(request, str(refused), messages.ERROR)
            else:
                self.message_user(request, f"{template} is now active", messages.SUCCESS)

    @admin.action(description="New draft from selected")
    def new_draft_from_selected(
        self, request: HttpRequest, queryset: QuerySet[MessageTemplate]
    ) -> None:
        for template in queryset:
            draft, _ = services.save_draft(
                template.code,
                template.locale,
                template.channel,
                template.body,
                subject=template.subject,
                created_by=request.user,
            )
            self.message_user(request, f"created {draft}", messages.SUCCESS)
