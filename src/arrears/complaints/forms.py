"""The complaint forms: log one received by phone (case page), acknowledge, resolve."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from arrears import formfields
from arrears.complaints.models import DESCRIPTION_MAX, RESOLUTION_MAX, Complaint


class FileForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=Complaint.Kind.choices)
    category = forms.ChoiceField(label=gettext_lazy("Category"), choices=Complaint.Category.choices)
    channel = forms.ChoiceField(
        label=gettext_lazy("Received by"),
        choices=Complaint.Channel.choices,
        initial=Complaint.Channel.PHONE,
    )
    description = formfields.BoundedTextField(
        label=gettext_lazy("What the borrower said"),
        multiline=True,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=DESCRIPTION_MAX,
    )


class AcknowledgeForm(forms.Form):
    pass


class ResolveForm(forms.Form):
    root_cause = forms.ChoiceField(
        label=gettext_lazy("Root cause"), choices=Complaint.RootCause.choices
    )
    upheld = forms.TypedChoiceField(
        label=gettext_lazy("Finding"),
        choices=(("yes", gettext_lazy("Upheld")), ("no", gettext_lazy("Not upheld"))),
        coerce=lambda v: v == "yes",
    )
    resolution = formfields.BoundedTextField(
        label=gettext_lazy("Resolution"),
        multiline=True,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=RESOLUTION_MAX,
    )
