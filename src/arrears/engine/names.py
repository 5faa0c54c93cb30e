"""The names of the replay engines, and the old names they still answer to.

``compiled`` is the Numba-compiled transcription of the kernel's day contract
(``engine.replay``) over flat arrays; ``reference`` is the kernel's own replay, loan by loan.
Until session 5 ``compiled`` was called ``polars``, after the library that reads the frames
rather than the one that computes; the old name is accepted for one release with a notice.
"""

from __future__ import annotations

#: The compiled (Numba) replay: the default of every runner.
COMPILED = "compiled"
#: The kernel's replay, loan by loan: the semantics, for checking.
REFERENCE = "reference"
ENGINES: tuple[str, ...] = (COMPILED, REFERENCE)
#: Old name → current name, accepted with a deprecation notice.
ALIASES: dict[str, str] = {"polars": COMPILED}


def deprecation(name: str) -> str | None:
    """The notice to print when ``name`` is an old engine name, else ``None``."""
    current = ALIASES.get(name)
    if current is None:
        return None
    return (
        f"--engine {name} is deprecated: the engine is Numba-compiled, not Polars; "
        f"use --engine {current} (the old name goes in the next release)"
    )


def canonical(name: str) -> str:
    """The current name of engine ``name`` (an old name maps to its new one); a name that is
    neither is a ``ValueError`` listing the engines."""
    name = ALIASES.get(name, name)
    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}: expected one of {', '.join(ENGINES)}")
    return name
