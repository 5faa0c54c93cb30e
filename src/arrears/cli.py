"""The ``arrears`` console script: Django's management commands under one name.

``arrears schedule …``, ``arrears import loans FILE``, ``arrears explain REF`` and the usual
Django commands (``migrate``, ``runserver``) all go through here, so operators need one tool.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arrears.project.settings")
    from django.conf import settings
    from django.core.management import execute_from_command_line

    data_dir = settings.DATA_DIR
    data_dir.mkdir(parents=True, exist_ok=True)
    execute_from_command_line(["arrears", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
