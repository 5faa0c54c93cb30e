"""Panels other apps add to the case page (a lawyer's letters, field visits, placements).

The case page belongs to ``arrears.web``; what an agency, a law firm or the field team did with
the case belongs to their apps. Rather than the case view importing each of them, an app
registers a panel from its ``AppConfig.ready()``: a template and a function that returns the
template's context for a case and the reader. The view renders every panel in ``order``; a
panel whose function returns ``None`` is left out (nothing to show, or not for this reader).
The function may be given by its dotted path, imported when a case page is first rendered, so
registering one costs start-up nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string
from django.utils.module_loading import import_string
from django.utils.safestring import SafeString

PanelContext = Callable[[Any, Any], dict[str, Any] | None]


@dataclass(frozen=True, slots=True)
class Panel:
    name: str
    template: str
    target: PanelContext | str
    order: int

    @property
    def context(self) -> PanelContext:
        """The context function (imported now when it was registered by its dotted path)."""
        if isinstance(self.target, str):
            context: PanelContext = import_string(self.target)
            return context
        return self.target


_PANELS: dict[str, Panel] = {}


def register(name: str, template: str, context: PanelContext | str, order: int = 50) -> None:
    """Add (or replace, by name) a case-page panel; ``context`` may be the function's dotted
    path (``"arrears.complaints.panel.case_panel"``)."""
    _PANELS[name] = Panel(name, template, context, order)


def render(case: Any, request: Any) -> list[SafeString]:
    """Every panel with something to show for ``case`` and ``request.user``, rendered."""
    out: list[SafeString] = []
    for panel in sorted(_PANELS.values(), key=lambda p: (p.order, p.name)):
        context = panel.context(case, request.user)
        if context is None:
            continue
        out.append(SafeString(render_to_string(panel.template, context, request=request)))
    return out
