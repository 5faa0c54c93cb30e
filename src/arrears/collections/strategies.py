"""Publishing strategy versions: validate, store, switch the active one — or refuse and keep it.

A strategy is validated by ``arrears.strategy.loader`` *before* anything is written, so a bad
document never replaces the active one. Publishing is recorded (who, when, the exact text and its
SHA-256); the daily run picks up the version active when it starts, i.e. from the next run.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources
from typing import Any

from django.db import IntegrityError, transaction

from arrears.collections.models import StrategyVersion
from arrears.strategy.loader import load_strategy
from arrears.strategy.model import Strategy, StrategyError


def default_source() -> str:
    """The text of the shipped default strategy."""
    return resources.files("arrears.strategy").joinpath("default.yaml").read_text("utf-8")


def publish(
    source: str, *, source_name: str = "<string>", user: Any = None, note: str = ""
) -> StrategyVersion:
    """Validate ``source`` and make it the active strategy; raise ``StrategyError`` otherwise.

    Publishing the exact text of an existing version re-activates it; publishing different text
    under an existing name and version is refused (versions are immutable: bump ``version``).
    """
    strategy = _parsed(source, source_name)  # the shipped default is published by every new book
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()
    with transaction.atomic():
        existing = StrategyVersion.objects.filter(
            name=strategy.name, version=strategy.version
        ).first()
        if existing is not None and existing.sha256 != digest:
            raise StrategyError(
                f"{source_name}: strategy {strategy.name!r} v{strategy.version} is already "
                "published with different content; bump the version",
                code="strategy-version-exists",
            )
        StrategyVersion.objects.filter(active=True).exclude(
            pk=getattr(existing, "pk", None)
        ).update(active=False)
        if existing is None:
            existing = StrategyVersion.objects.create(
                name=strategy.name,
                version=strategy.version,
                source=source,
                sha256=digest,
                active=True,
                published_by=user,
                note=note,
            )
        elif not existing.active:
            existing.active = True
            existing.save(update_fields=["active"])
    return existing


def active() -> tuple[StrategyVersion, Strategy]:
    """The active strategy (record and parsed form); the shipped default on first use."""
    record = StrategyVersion.objects.filter(active=True).first()
    if record is None:
        try:
            record = publish(default_source(), source_name="default.yaml", note="shipped default")
        except IntegrityError:
            # Another process published the shipped default between our read and our insert
            # (two first requests at once): theirs is the same text, so use it.
            record = StrategyVersion.objects.get(active=True)
    return record, _parsed(record.source, f"{record.name} v{record.version}")


@lru_cache(maxsize=8)
def _parsed(source: str, label: str) -> Strategy:
    """A version's text parsed once per process: the workflow asks for the active strategy
    after every logged contact, and parsing the YAML costs more than evaluating one borrower.
    Keyed by the exact text (and ``label``, which names the document in a refusal; an invalid
    text is not cached: it raises), so a new version or an edited row is parsed anew; the
    parsed form is frozen dataclasses, so sharing it is safe."""
    return load_strategy(source, source=label)


def label(record: StrategyVersion) -> str:
    """How events and work items name the strategy that caused them."""
    return f"{record.name} v{record.version}"
