"""The form renderer: Django's own form and widget templates in Jinja2, with the Django template
language for any template written only in it (the admin's widgets).

Why: Django renders every form, every field, every widget and every choice of a radio or
checkbox list through a template. The case page renders five forms (about 35 widgets), and with
the Django template language those renders were about a third of the page's CPU (profiled:
0.08 s a page on the demo book, ~400 template renders). Django ships the same form and widget
templates for Jinja2 (``django/forms/jinja2``), which render several times faster and give the
same HTML up to whitespace (``tests/test_formrender.py`` holds that for every form page).

Django's ``Jinja2`` renderer alone cannot render the admin: its widget templates
(``admin/widgets/…``) exist only for the Django template language. So a template Jinja2 does
not have is taken from the Django engine, and remembered as such.

Two shortcuts, each giving the HTML Django's own templates give (the case page's six forms
were still its largest single cost: ~14 ms a page, issue 12):

* an empty error list — every field of every unbound form has one — renders nothing: Django's
  error-list templates are ``{% if errors %}…{% endif %}``, so it is not rendered at all;
* ``templates/formrender/`` holds Django's own ``select.html``, ``multiple_input.html``,
  ``input.html`` and ``textarea.html`` with what they include written in place: each option of
  a select, radio or checkbox list and each attribute list was one ``include`` (a template
  lookup and a new context) — four deep for a checkbox. An option of any other template is
  still included.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import django.forms
from django.forms.renderers import BaseRenderer, DjangoTemplates, Jinja2
from django.template import TemplateDoesNotExist
from django.utils.functional import cached_property

#: Django's error-list templates: both render nothing for an empty list.
_ERROR_LISTS = frozenset(
    {"django/forms/errors/list/default.html", "django/forms/errors/list/ul.html"}
)


class _Jinja2(Jinja2):
    """Django's Jinja2 form renderer, with this package's faster versions of a few of its
    templates found first (``templates/formrender/``)."""

    @cached_property
    def engine(self) -> Any:
        return self.backend(
            {
                "APP_DIRS": True,
                "DIRS": [
                    Path(__file__).parent / "templates" / "formrender",
                    Path(django.forms.__file__).parent / self.backend.app_dirname,
                ],
                "NAME": "djangoforms",
                "OPTIONS": {},
            }
        )


class FormRenderer(BaseRenderer):
    """Jinja2 first, the Django template language for what Jinja2 does not have
    (``settings.FORM_RENDERER``)."""

    def __init__(self) -> None:
        self._jinja2 = _Jinja2()
        self._django = DjangoTemplates()
        self._django_only: set[str] = set()

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        if template_name in _ERROR_LISTS and not context.get("errors"):
            return ""
        rendered: str = super().render(template_name, context, request)
        return rendered

    def get_template(self, template_name: str) -> Any:
        if template_name not in self._django_only:
            try:
                return self._jinja2.get_template(template_name)
            except TemplateDoesNotExist:
                self._django_only.add(template_name)
        return self._django.get_template(template_name)
