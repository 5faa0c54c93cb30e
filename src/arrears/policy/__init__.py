"""Compliance policy as data, and the gate every contact passes through. No Django.

``loader.load_pack`` reads a versioned YAML pack (``packs/cn.yaml``, ``us-regf.yaml``,
``default.yaml``, or any file) and validates it strictly; ``gate.decide`` answers allow, deny or
defer for one proposed contact given the contact history and the time, with the rules that fired
and their citations; ``gate.decide_many`` does a day's batch in one linear pass; ``cli.run`` is
``arrears policy check``. See docs/policy.md.
"""

from arrears.policy.gate import decide, decide_many
from arrears.policy.loader import available_packs, load_pack, load_pack_text
from arrears.policy.model import (
    ContactRecord,
    ContactRequest,
    Decision,
    FiredRule,
    Hold,
    Pack,
    PolicyError,
    Rule,
)

__all__ = [
    "ContactRecord",
    "ContactRequest",
    "Decision",
    "FiredRule",
    "Hold",
    "Pack",
    "PolicyError",
    "Rule",
    "available_packs",
    "decide",
    "decide_many",
    "load_pack",
    "load_pack_text",
]
