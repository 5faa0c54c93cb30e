"""Counting lookups per key in a window, so a "is this genuine?" page cannot walk the code space.

The count lives in the Django cache (shared by every process when the cache is Redis or the
database; per process with the default local-memory cache, which bounds each process alone).
"""

from __future__ import annotations

from django.core.cache import cache


def over_limit(key: str, limit: int, window_seconds: int) -> bool:
    """Count one lookup under ``key``; true once more than ``limit`` were made in the window."""
    cache.add(key, 0, window_seconds)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window_seconds)
        count = 1
    return bool(count > limit)
