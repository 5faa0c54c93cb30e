"""``arrears policy …``: ask the gate about a case from the command line, or check a pack.

Commands (``run(argv)`` receives what follows ``arrears policy``)::

    policy check --pack NAME|FILE --request FILE.json [--history FILE.json] --now ISO
    policy packs                       # the shipped packs: name, version, effective date, title
    policy validate FILE.yaml          # load a pack strictly; errors name the line

``check`` prints the decision as JSON and exits 0 whatever the outcome (allow, deny and defer are
all normal answers); it exits 1 when an input is malformed (the message names the field), 2 on a
usage error. ``--now`` is required and must carry an offset (``2026-03-08T20:59:00-04:00`` or
``…Z``), so a check is reproducible.

Request file — one JSON object, or a list of them (then decided in order as one batch, each
allowed request counting against the caps of the ones after it)::

    {
      "request_id": "r-1",                  optional, echoed in the decision
      "case_id": "C-1",                     optional
      "debt_id": "L-1",                     required: the loan the contact is about
      "person_id": "P-1",                   required: who is contacted
      "party": "borrower",                  borrower | guarantor | emergency_contact | third_party
      "channel": "voice",                   voice | sms | email | letter | in_app | visit
      "action": "call",                     call | voicemail | robocall (voice); else the channel
      "purpose": "collect",                 collect (default) | locate | notice
      "address": "+1 212 555 0100",         the number / mailbox / address used (per-number caps)
      "timezone": "America/New_York",       stored on the borrower; null when unknown
      "possible_timezones": [],             when timezone is null: zones they may be in
      "country": "US",                      when both are empty: every zone of the country;
                                            with no country either: every offset UTC-12..UTC+14
      "opt_outs": ["sms"],                  channels the person asked us not to use
      "cease": false,                       the person asked us to stop all communication
      "not_at_work": false,                 no contact at work (asked, or employer prohibits)
      "to_workplace": false,                this contact goes to their workplace
      "unreachable": false,                 the borrower is unreachable (失联)
      "holds": [{"kind": "complaint",       complaint | dispute | hardship | deceased | legal
                 "scope": "loan",           borrower (every debt) | loan (only debt_id)
                 "debt_id": "L-1",
                 "channels": [], "actions": []}],   stops in addition to the pack's
      "holidays": ["2026-10-01"],           local holiday dates (the pack decides if they count)
      "text": "…",                          the rendered message, when there is one
      "facts": {"lender_name": "…", "amount_due": "1,234.56", "penalty": "12.34",
                "repayment_channel": "…", "complaint_channel": "…",
                "verification_code": "K7Q2M9", "official_accounts": "6222…"}
    }

History file — a JSON list of past contact attempts::

    [{"at": "2026-03-02T10:00:00-05:00", "channel": "voice", "action": "call",
      "person_id": "P-1", "debt_id": "L-1", "address": "+1 212 555 0100",
      "reached": true, "conversation": false, "consented": false}]

Output — ``{"request_id", "outcome": "allow|deny|defer", "next_allowed": ISO or null,
"decided_at", "pack": {"name", "version"}, "fired": [{"rule", "kind", "effect", "message",
"citation", "confidence", "description": {"en", "zh"}}]}``; a list of those for a list of requests.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from arrears.policy.codec import (
    decision_to_json,
    history_from_json,
    parse_instant,
    request_from_json,
)
from arrears.policy.gate import decide_many
from arrears.policy.loader import available_packs, load_pack
from arrears.policy.model import PolicyError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="arrears policy", description="Compliance policy packs and the contact gate."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="decide one request (or a list) and print JSON")
    check.add_argument("--pack", required=True, help="shipped pack name or path to a pack file")
    check.add_argument("--request", required=True, type=Path, help="request JSON file")
    check.add_argument("--history", type=Path, help="history JSON file (a list of records)")
    check.add_argument("--now", required=True, help="decision time, ISO 8601 with offset")
    commands.add_parser("packs", help="list the shipped packs")
    validate = commands.add_parser("validate", help="load a pack file strictly")
    validate.add_argument("file", type=Path)
    return parser


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyError(f"{what}: cannot read {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise PolicyError(f"{what}: {path.name}:{exc.lineno}: not valid JSON: {exc.msg}") from exc


def _check(args: argparse.Namespace) -> Any:
    pack = load_pack(args.pack)
    now = parse_instant(args.now, "--now")
    raw = _read_json(args.request, "--request")
    history = history_from_json(_read_json(args.history, "--history")) if args.history else []
    if isinstance(raw, list):
        requests = [request_from_json(item, f"request[{i}]") for i, item in enumerate(raw)]
        return [decision_to_json(d) for d in decide_many(requests, history, now, pack=pack)]
    decision = decide_many([request_from_json(raw)], history, now, pack=pack)[0]
    return decision_to_json(decision)


def run(argv: list[str]) -> int:
    """Run one ``policy`` command; print to stdout, errors to stderr; return the exit code."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help and on usage errors
        return int(exc.code or 0)
    try:
        if args.command == "check":
            output: Any = _check(args)
        elif args.command == "packs":
            output = []
            for name in available_packs():
                pack = load_pack(name)
                output.append(
                    {
                        "name": pack.name,
                        "version": pack.version,
                        "effective": pack.effective.isoformat(),
                        "title": {"en": pack.title_en, "zh": pack.title_zh},
                        "rules": len(pack.rules),
                    }
                )
        else:
            pack = load_pack(args.file)
            output = {"valid": True, "name": pack.name, "version": pack.version}
    except PolicyError as exc:
        print(f"arrears policy: error: {exc.message}", file=sys.stderr)
        return 1
    print(json.dumps(output, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(run(sys.argv[1:]))
