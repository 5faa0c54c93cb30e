"""Verification codes: 80 random bits written as 16 Crockford base-32 characters.

Why this shape: a code must be unguessable (at least 64 bits — 80 here, from ``secrets``) yet
readable over the phone and typeable from paper. Crockford's alphabet has no I, L, O or U, and
reading normalises the look-alikes (``I``/``L`` → ``1``, ``O`` → ``0``), case, spaces and hyphens,
so ``abcd efgh-jkmn pqrs`` and ``ABCD-EFGH-JKMN-PQRS`` are the same code. No Django.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Final

ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH: Final = 16  # characters; 16 x 5 = 80 bits
BITS: Final = LENGTH * 5
_LOOKALIKES: Final = str.maketrans({"I": "1", "L": "1", "O": "0"})


def new_code() -> str:
    """A fresh code, grouped in fours: ``7K3M-Q9XD-2WPA-HF0T``."""
    value = secrets.randbits(BITS)
    chars = []
    for _ in range(LENGTH):
        value, digit = divmod(value, 32)
        chars.append(ALPHABET[digit])
    plain = "".join(reversed(chars))
    return "-".join(plain[i : i + 4] for i in range(0, LENGTH, 4))


def normalise(text: str) -> str | None:
    """The canonical 16 characters of ``text``, or ``None`` when it cannot be a code (wrong
    length, a character outside the alphabet). Bounded: anything longer than 64 characters is
    refused before it is looked at."""
    if len(text) > 64:
        return None
    cleaned = "".join(text.split()).replace("-", "").upper().translate(_LOOKALIKES)
    if len(cleaned) != LENGTH or any(c not in ALPHABET for c in cleaned):
        return None
    return cleaned


def digest(canonical: str) -> str:
    """What is stored: the SHA-256 of the canonical code (never the code itself)."""
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()
