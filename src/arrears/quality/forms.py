"""The compliance pages' filter and review forms (labels through gettext: both languages)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from arrears import formfields
from arrears.collections.models import ContactAttempt
from arrears.quality import scorecard

OUTCOMES = (
    ("", _("All")),
    ("allow", _("Allowed")),
    ("deny", _("Denied")),
    ("defer", _("Deferred")),
)
OVERRIDES = (("", _("All")), ("yes", _("Overridden")), ("no", _("Not overridden")))
#: Channels of logged contacts and of messages (a message's robocall is ``voice``).
CHANNELS = (("", _("All")), *ContactAttempt.Channel.choices, ("voice", _("Robocall")))
#: What a contact came to: a logged contact's outcome, or a message that was sent/delivered.
CONTACT_RESULTS = (
    ("", _("All")),
    *ContactAttempt.Outcome.choices,
    ("sent", _("Message sent")),
    ("delivered", _("Message delivered")),
)


class _Dates(forms.Form):
    date_from = formfields.BoundedDateField(label=_("From"), required=False)
    date_to = formfields.BoundedDateField(label=_("To"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("date_from"), data.get("date_to")
        if since and until and until < since:
            self.add_error("date_to", _("The end date is before the start date."))
        return data


class DecisionFilter(_Dates):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=OUTCOMES, required=False)
    override = forms.ChoiceField(label=_("Override"), choices=OVERRIDES, required=False)
    rule = formfields.BoundedTextField(label=_("Rule"), max_length=80, required=False)
    collector = formfields.BoundedTextField(label=_("Collector"), max_length=150, required=False)
    channel = forms.ChoiceField(label=_("Channel"), choices=CHANNELS, required=False)


class ContactFilter(_Dates):
    loan = formfields.BoundedTextField(label=_("Loan ref"), max_length=64, required=False)
    borrower = formfields.BoundedTextField(
        label=_("Borrower (ref or name)"), max_length=200, required=False
    )
    collector = formfields.BoundedTextField(label=_("Collector"), max_length=150, required=False)
    channel = forms.ChoiceField(label=_("Channel"), choices=CHANNELS, required=False)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=CONTACT_RESULTS, required=False)


class SampleForm(forms.Form):
    date_from = formfields.BoundedDateField(label=_("Contacts from"))
    date_to = formfields.BoundedDateField(label=_("Contacts to"))
    per_collector = formfields.BoundedIntegerField(
        label=_("Contacts per collector"), min_value=1, max_value=500, required=False
    )
    percent = formfields.BoundedIntegerField(
        label=_("or percent per collector"), min_value=1, max_value=100, required=False
    )


class ScorecardRange(_Dates):
    pass


ANSWER_CHOICES = (
    (scorecard.PASS, _("Pass")),
    (scorecard.FAIL, _("Fail")),
    (scorecard.NA, _("N/A")),
)


class ReviewForm(forms.Form):
    """One radio choice per criterion of the scorecard, and the finding."""

    finding = formfields.BoundedTextField(
        label=_("Finding"),
        max_length=formfields.NOTE_MAX_LENGTH,
        multiline=True,
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for criterion in scorecard.CRITERIA:
            self.fields[f"c_{criterion.key}"] = forms.ChoiceField(
                label=criterion.label, choices=ANSWER_CHOICES, widget=forms.RadioSelect
            )

    def answers(self) -> dict[str, str]:
        return {c.key: self.cleaned_data[f"c_{c.key}"] for c in scorecard.CRITERIA}
