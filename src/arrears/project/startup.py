"""Settings the project refuses to start with, each refused in one line naming the variable.

``settings.py`` raises :class:`SettingRefused`; the ``arrears`` command (``cli.main``) and the
WSGI entry point print its message as one line and stop, never a traceback. Standard library
and Django only, so the settings module can import it before Django is set up.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

#: What Django's ``security.W009`` asks of a secret key: at least this many characters, of at
#: least this many different ones, and not a key ``startproject`` generated for development.
MIN_SECRET_KEY_LENGTH = 50
MIN_SECRET_KEY_UNIQUE = 5
DEV_KEY_PREFIXES = ("dev-only", "django-insecure-")
GENERATE = "python -c 'import secrets; print(secrets.token_urlsafe(50))'"


class SettingRefused(ImproperlyConfigured):
    """A setting the project will not run with; the message is one line for an operator."""


def weak_secret_key(key: str) -> str | None:
    """Why ``key`` is too weak to sign sessions and tokens in production, or ``None``."""
    if not key.strip():
        return "it is empty"
    if key.startswith(DEV_KEY_PREFIXES):
        return "it is a development key"
    if len(key) < MIN_SECRET_KEY_LENGTH:
        return f"it has {len(key)} characters (at least {MIN_SECRET_KEY_LENGTH} are needed)"
    if len(set(key)) < MIN_SECRET_KEY_UNIQUE:
        return (
            f"it uses {len(set(key))} different characters "
            f"(at least {MIN_SECRET_KEY_UNIQUE} are needed)"
        )
    return None


def check_secret_key(key: str) -> None:
    """Refuse a weak ``ARREARS_SECRET_KEY`` (called only with ``ARREARS_DEBUG=0``)."""
    reason = weak_secret_key(key)
    if reason is not None:
        raise SettingRefused(
            f"ARREARS_SECRET_KEY is refused with ARREARS_DEBUG=0: {reason}; "
            f"generate one with {GENERATE}"
        )
