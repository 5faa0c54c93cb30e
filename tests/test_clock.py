"""The suite never reads the wall clock: every test starts at the frozen instant."""

from __future__ import annotations

import time
from datetime import timedelta

from django.utils import timezone

from tests.conftest import DAYTIME, NIGHT, frozen_instant


def test_now_is_the_frozen_instant_not_the_wall_clock():
    assert abs(timezone.now() - frozen_instant()) < timedelta(minutes=1)


def test_the_clock_ticks_from_the_instant_so_timeouts_still_see_time_pass():
    before = timezone.now()
    time.sleep(0.01)
    assert timezone.now() > before


def test_the_two_ci_instants_are_office_hours_and_quiet_hours_in_shanghai():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    shanghai = ZoneInfo("Asia/Shanghai")
    assert datetime.fromisoformat(DAYTIME).astimezone(shanghai).hour == 15
    assert datetime.fromisoformat(NIGHT).astimezone(shanghai).hour == 3
