"""``arrears check`` loads the configured policy pack, so a broken pack is found before
``dispatch`` meets it (as a traceback, mid-batch).

The check reports the file and the line the pack loader names (``/etc/arrears/pack.yaml:55:
rule 'x': params: max: expected an integer``); a name that is neither a shipped pack nor a
file is an error too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import checks

from arrears.policy import PolicyError, load_pack

POLICY_PACK_INVALID = "arrears.E001"


def check_policy_pack(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """One error when ``settings.ARREARS_POLICY_PACK`` cannot be loaded, else nothing."""
    configured = str(getattr(settings, "ARREARS_POLICY_PACK", "cn"))
    try:
        load_pack(configured)
    except PolicyError as error:
        message = str(error)
        path = Path(configured)
        if path.is_file() and message.startswith(f"{path.name}:"):
            message = f"{path.resolve()}{message[len(path.name) :]}"  # the full path, not the name
        return [_error(configured, message)]
    except (OSError, UnicodeDecodeError) as error:
        return [_error(configured, f"{configured}: cannot be read ({error})")]
    return []


def _error(configured: str, message: str) -> checks.Error:
    return checks.Error(
        f"the policy pack ARREARS_POLICY_PACK={configured!r} cannot be used: {message}",
        hint="fix the file (`arrears policy validate FILE` checks it), or set "
        "ARREARS_POLICY_PACK to a shipped pack: cn, us-regf, default",
        id=POLICY_PACK_INVALID,
    )
