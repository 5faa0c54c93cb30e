"""Every test runs on a frozen clock, never the wall clock.

The instant is ``ARREARS_TEST_NOW`` (an ISO date-time with an offset) or, by default, a
weekday afternoon in Shanghai. CI runs the suite again at 03:00 Shanghai time, so a test that
only passes in office hours fails there and not at random. The clock ticks from the instant
(``tick=True``): leases, timeouts and Hypothesis deadlines still see time pass, but every run
starts from the same instant. Child processes (``tests.processes``) are not frozen; tests that
start one pass ``--as-of`` / ``--now`` explicitly.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime

import pytest
import time_machine

#: The default instant: Wednesday 2 December 2026, 15:00 in Shanghai (a working day).
DAYTIME = "2026-12-02T15:00:00+08:00"
#: The instant of CI's night pass: the same day at 03:00 in Shanghai (Chinese quiet hours).
NIGHT = "2026-12-02T03:00:00+08:00"


def frozen_instant() -> datetime:
    """The instant this run's clock starts at (``ARREARS_TEST_NOW`` or :data:`DAYTIME`)."""
    text = os.environ.get("ARREARS_TEST_NOW") or DAYTIME
    instant = datetime.fromisoformat(text)
    if instant.tzinfo is None:
        raise pytest.UsageError(f"ARREARS_TEST_NOW={text!r}: give an offset, e.g. {DAYTIME}")
    return instant


@pytest.fixture(autouse=True)
def _frozen_clock() -> Iterator[time_machine.Traveller]:
    """Start every test at :func:`frozen_instant`, ticking from there."""
    with time_machine.travel(frozen_instant(), tick=True) as traveller:
        yield traveller


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing() -> None:
    """Tests create many users; the production hasher's deliberate slowness (hundreds of
    milliseconds a password) is not what they test, so they hash with MD5. Tests of the
    hashing itself override ``PASSWORD_HASHERS`` with the ``settings`` fixture."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_report_header() -> str:
    return f"clock frozen at {frozen_instant().isoformat()} (ARREARS_TEST_NOW)"
