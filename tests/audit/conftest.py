"""The audit tests record changes: the chain is switched on for them (``ARREARS_AUDIT``)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _audit_on(settings: Any) -> None:
    settings.ARREARS_AUDIT = True
