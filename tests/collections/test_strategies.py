"""Publishing strategies: validated first, a bad one refused with its line, the active one kept."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from arrears.collections import strategies
from arrears.collections.models import StrategyVersion
from arrears.strategy.model import StrategyError


@pytest.mark.django_db
def test_the_shipped_default_is_published_on_first_use() -> None:
    record, strategy = strategies.active()
    assert (record.name, record.version, record.active) == ("default", 1, True)
    assert strategy.stage("reminder").owner == "reminders"
    assert StrategyVersion.objects.count() == 1


@pytest.mark.django_db
def test_an_invalid_strategy_is_refused_with_its_line_and_the_active_one_stays(
    tmp_path: Path,
) -> None:
    strategies.active()
    bad = strategies.default_source().replace("version: 1", "version: 2", 1)
    bad = bad.replace("entry: dpd >= 1 AND dpd <= 15", "entry: dpdd >= 1")
    path = tmp_path / "bad.yaml"
    path.write_text(bad, "utf-8")
    line = next(n for n, text in enumerate(bad.splitlines(), 1) if "dpdd" in text)
    with pytest.raises(CommandError) as refused:
        call_command("strategy", "publish", str(path))
    message = str(refused.value)
    assert f"bad.yaml:{line}:" in message and "dpdd" in message
    assert "the active strategy stays default v1" in message
    assert list(StrategyVersion.objects.values_list("version", "active")) == [(1, True)]


@pytest.mark.django_db
def test_a_new_version_becomes_active_and_the_old_one_is_kept(tmp_path: Path) -> None:
    strategies.active()
    path = tmp_path / "v2.yaml"
    path.write_text(strategies.default_source().replace("version: 1", "version: 2", 1), "utf-8")
    out = StringIO()
    call_command("strategy", "publish", str(path), "--note", "tuning", stdout=out)
    assert "active: default v2" in out.getvalue()
    assert dict(StrategyVersion.objects.values_list("version", "active")) == {1: False, 2: True}
    listing = StringIO()
    call_command("strategy", "list", stdout=listing)
    assert "* default v2" in listing.getvalue() and "  default v1" in listing.getvalue()


@pytest.mark.django_db
def test_a_published_version_is_immutable() -> None:
    strategies.active()
    changed = strategies.default_source().replace("every: 3", "every: 2", 1)
    with pytest.raises(StrategyError, match="already published with different content"):
        strategies.publish(changed)
    # republishing the same text re-activates it rather than duplicating it
    assert strategies.publish(strategies.default_source()).version == 1
    assert StrategyVersion.objects.count() == 1


@pytest.mark.django_db
def test_two_first_uses_at_once_both_get_the_shipped_default(monkeypatch) -> None:
    """Two requests on a fresh database both find no active strategy and both publish the
    shipped default; the second insert breaks the unique name/version. It then uses the row
    the first committed instead of failing the request (seen as a 500 under the API's load)."""
    from django.db import IntegrityError

    real_publish = strategies.publish

    def publish_losing_the_race(source: str, **kwargs: object) -> StrategyVersion:
        real_publish(source, **kwargs)  # the other request commits first
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(strategies, "publish", publish_losing_the_race)
    record, strategy = strategies.active()
    assert (record.name, record.version, record.active) == (strategy.name, strategy.version, True)
    assert StrategyVersion.objects.count() == 1
