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
"""

from __future__ import annotations

from typing import Any

from django.forms.renderers import BaseRenderer, DjangoTemplates, Jinja2
from django.template import TemplateDoesNotExist


class FormRenderer(BaseRenderer):
    """Jinja2 first, the Django template language for what Jinja2 does not have
    (``settings.FORM_RENDERER``)."""

    def __init__(self) -> None:
        self._jinja2 = Jinja2()
        self._django = DjangoTemplates()
        self._django_only: set[str] = set()

    def get_template(self, template_name: str) -> Any:
        if template_name not in self._django_only:
            try:
                return self._jinja2.get_template(template_name)
            except TemplateDoesNotExist:
                self._django_only.add(template_name)
        return self._django.get_template(template_name)
