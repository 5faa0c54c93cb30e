"""`arrears strategy list` shows when each version was published on the lender's clock."""

from __future__ import annotations

from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command

from arrears.collections import strategies


@pytest.mark.django_db
def test_strategy_list_prints_local_time_like_the_pages() -> None:
    zone = ZoneInfo(settings.TIME_ZONE)
    # 23:30 UTC is already the next morning in Shanghai: the two clocks disagree on the date
    with time_machine.travel(datetime(2026, 12, 1, 23, 30, tzinfo=ZoneInfo("UTC")), tick=False):
        strategies.publish(strategies.default_source(), source_name="default.yaml")
    out = StringIO()
    call_command("strategy", "list", stdout=out)
    local = datetime(2026, 12, 1, 23, 30, tzinfo=ZoneInfo("UTC")).astimezone(zone)
    assert f"published {local:%Y-%m-%d %H:%M} {settings.TIME_ZONE}" in out.getvalue()
    assert "2026-12-01 23:30" not in out.getvalue()
