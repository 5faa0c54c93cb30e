"""``arrears.policy`` never imports Django (DESIGN.md: the policy layer is part of the core)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import arrears.policy
from tests.kernel.test_purity import imported_roots

POLICY = Path(arrears.policy.__file__).parent
ALLOWED_THIRD_PARTY = {"yaml", "tzdata", "polars", "numpy", "re2"}  # re2: content patterns


def test_every_policy_module_imports_only_stdlib_kernel_policy_and_allowed_libraries() -> None:
    offenders = {}
    for path in sorted(POLICY.rglob("*.py")):
        bad = {
            name
            for name in imported_roots(path)
            if not name.startswith(("arrears.kernel", "arrears.policy", "arrears.yamldoc"))
            and name.split(".")[0] not in sys.stdlib_module_names
            and name.split(".")[0] not in ALLOWED_THIRD_PARTY
            and name != "__future__"
        }
        if bad:
            offenders[str(path.relative_to(POLICY))] = sorted(bad)
    assert offenders == {}


def test_importing_and_using_the_gate_loads_no_django() -> None:
    code = (
        "import sys\n"
        "from arrears.policy import load_pack, available_packs\n"
        "from arrears.policy.cli import run\n"
        "[load_pack(n) for n in available_packs()]\n"
        "assert not any(m == 'django' or m.startswith('django.') for m in sys.modules), "
        "sorted(m for m in sys.modules if m.startswith('django'))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
