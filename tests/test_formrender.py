"""The form renderer gives Django's HTML, faster (``arrears.formrender``).

Every form of the project that can be built without the database, and a catalogue of every
Django widget, render to the same HTML (up to whitespace) with Django's template language and
with ``FormRenderer``, unbound and bound to values that fail validation (so the error lists
render too). The admin's widgets, which exist only for the Django template language, still
render.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from typing import Any

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.template.backends.django import Template as DjangoTemplate
from django.test import Client

import arrears
from arrears.formrender import FormRenderer

#: Keyword arguments for the forms whose constructor needs them (the database's rows left
#: empty: the choices come from them, the markup does not).
NEEDS: dict[str, dict[str, Any]] = {
    "ContactForm": {"phones": [], "tasks": []},
    "PromiseForm": {"currency": "CNY"},
    "AgencyPromiseForm": {"currency": "CNY"},
    "WaiverForm": {"loans": []},
    "PlanForm": {"loans": []},
}
#: Forms built only from database rows; their widgets are in :class:`Catalogue`.
SKIPPED = {"AgencyContactForm": "needs a placement (an agency and its channels)"}


class Catalogue(forms.Form):
    """One field of every widget Django ships, with help texts and choices."""

    text = forms.CharField(help_text="help <b>escaped</b>", max_length=5)
    number = forms.IntegerField(min_value=1, max_value=9)
    decimal = forms.DecimalField(max_digits=5, decimal_places=2)
    email = forms.EmailField()
    url = forms.URLField(assume_scheme="https")
    password = forms.CharField(widget=forms.PasswordInput)
    hidden = forms.CharField(widget=forms.HiddenInput)
    multiple_hidden = forms.MultipleChoiceField(
        choices=[("a", "A")], widget=forms.MultipleHiddenInput
    )
    area = forms.CharField(widget=forms.Textarea)
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    at = forms.DateTimeField(widget=forms.DateTimeInput)
    clock = forms.TimeField(widget=forms.TimeInput)
    split = forms.SplitDateTimeField()
    select_date = forms.DateField(widget=forms.SelectDateWidget(years=[2026, 2027]))
    tick = forms.BooleanField()
    null_boolean = forms.NullBooleanField()
    select = forms.ChoiceField(choices=[("a", "A & a"), ("b", "B")])
    grouped = forms.ChoiceField(choices=[("Group", [("x", "X"), ("y", "Y")]), ("z", "Z")])
    many = forms.MultipleChoiceField(choices=[("a", "A"), ("b", "B")])
    radio = forms.ChoiceField(choices=[("a", "A"), ("b", "B")], widget=forms.RadioSelect)
    boxes = forms.MultipleChoiceField(
        choices=[("a", "A"), ("b", "B")], widget=forms.CheckboxSelectMultiple
    )
    upload = forms.FileField()
    clearable = forms.FileField(widget=forms.ClearableFileInput, required=False)

    def clean(self) -> dict[str, Any]:
        raise forms.ValidationError("a form-wide error <script>")


def project_forms() -> list[type[forms.Form]]:
    """Every ``forms.Form`` subclass defined in an ``arrears`` module."""
    found: dict[str, type[forms.Form]] = {}
    for info in pkgutil.walk_packages(arrears.__path__, "arrears."):
        if ".migrations" in info.name or info.name.endswith(("wsgi", "asgi", "__main__")):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, forms.Form)
                and value.__module__ == info.name
                and not name.startswith("_")
            ):
                found[f"{info.name}.{name}"] = value
    return [found[key] for key in sorted(found)]


def _html(form: forms.Form) -> str:
    """The form as a page renders it, fields one by one too, without whitespace."""
    parts = [form.as_p(), form.as_div(), form.as_table(), str(form.non_field_errors())]
    parts += [str(field) + field.label_tag() + str(field.errors) for field in form]
    return re.sub(r"\s+", "", "".join(parts))


#: One of each, as the project has one (``get_default_renderer`` is cached): each compiles a
#: template once.
DJANGO, OURS = DjangoTemplates(), FormRenderer()


def _both(cls: type[forms.Form], **kwargs: Any) -> tuple[str, str]:
    return _html(cls(renderer=DJANGO, **kwargs)), _html(cls(renderer=OURS, **kwargs))


def _hostile(cls: type[forms.Form], needs: dict[str, Any]) -> dict[str, str]:
    """A value every field refuses or at least shows back: not a number, not a date, too long."""
    names = cls(**needs).fields
    return {name: "x<" + "9" * 300 for name in names}


FORMS = project_forms()


def test_the_project_has_forms_to_compare() -> None:
    names = {cls.__name__ for cls in FORMS}
    assert {"ContactForm", "PromiseForm", "HoldForm", "PlanForm", "ReportForm"} <= names
    assert set(SKIPPED) <= names


@pytest.mark.django_db  # some forms read their choices from the database
@pytest.mark.parametrize("cls", FORMS, ids=lambda cls: f"{cls.__module__}.{cls.__name__}")
def test_each_project_form_renders_as_django_renders_it(cls: type[forms.Form]) -> None:
    if cls.__name__ in SKIPPED:
        pytest.skip(SKIPPED[cls.__name__])
    needs = NEEDS.get(cls.__name__, {})
    django, ours = _both(cls, **needs)
    assert ours == django
    django, ours = _both(cls, data=_hostile(cls, needs), **needs)
    assert ours == django


def test_every_django_widget_renders_as_django_renders_it() -> None:
    django, ours = _both(Catalogue)
    assert ours == django and "<selectname=" in ours and 'type="checkbox"' in ours
    bound = {"text": "toolong", "number": "1e30", "day": "2026-02-30", "radio": "c"}
    django, ours = _both(Catalogue, data=bound, files={})
    assert ours == django
    assert "aform-wideerror&lt;script&gt;" in ours  # errors render, escaped


def test_django_only_templates_come_from_the_django_engine() -> None:
    renderer = FormRenderer()
    wrapper = "admin/widgets/related_widget_wrapper.html"
    assert not isinstance(renderer.get_template("django/forms/widgets/input.html"), DjangoTemplate)
    assert isinstance(renderer.get_template(wrapper), DjangoTemplate)
    assert isinstance(renderer.get_template(wrapper), DjangoTemplate)  # asked again: remembered


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/admin/auth/user/add/", "/admin/collections/collector/add/"])
def test_admin_pages_with_related_widgets_render(admin_client: Client, url: str) -> None:
    page = admin_client.get(url)
    assert page.status_code == 200
    assert b"related-widget-wrapper" in page.content
