"""What the project's management commands share: the system checks they run before starting.

Django runs every system check before a command unless the command narrows them. The URL
checks import the whole URLconf — every view, the REST API's schemas, the providers behind the
channels — which was about a third of the CPU a short command such as ``arrears strategy
publish`` or ``arrears dispatch --once`` took, for pages a command never serves. The project's
commands run every other check (the models, the database, the templates, the policy pack…);
``arrears check``, ``runserver`` and Django's own commands (``migrate``) still run all of them.
"""

from __future__ import annotations

from django.core.checks import Tags

#: Every tag of Django's checks but ``urls``, and the project's own (``arrears``: the policy
#: pack). A check registered without a tag runs only in a full check (``arrears check``).
OFFLINE_CHECKS: list[str] = [
    *sorted(
        value
        for name, value in vars(Tags).items()
        if not name.startswith("_") and isinstance(value, str) and value != Tags.urls
    ),
    "arrears",
]
