"""The portal's numeric settings: a JSON object over documented defaults, checked when read.

A typo in a key or a value that is not a whole number would otherwise leave a limit at its
default without anyone noticing; both are configuration errors instead.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def numbers(name: str, defaults: Mapping[str, int], *, minimum: int) -> dict[str, int]:
    """``settings.<name>`` over ``defaults``: every key known, every value an integer (not a
    bool) of at least ``minimum``."""
    given = dict(getattr(settings, name, {}) or {})
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise ImproperlyConfigured(f"{name}: unknown key(s) {', '.join(unknown)}")
    values = {**defaults, **given}
    bad = sorted(k for k, v in values.items() if type(v) is not int or v < minimum)
    if bad:
        raise ImproperlyConfigured(f"{name}: {', '.join(bad)} must be whole numbers ≥ {minimum}")
    return values
