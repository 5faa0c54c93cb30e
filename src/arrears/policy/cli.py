"""``arrears policy …``: ask the gate about a case from the command line, or check a pack.

Commands (``run(argv)`` receives what follows ``arrears policy``)::

    policy check --pack NAME|FILE --request FILE.json [--history FILE.json] --now ISO
    policy packs                       # the shipped packs: name, version, effective date, title
    policy validate FILE.yaml          # load a pack strictly; errors name the line

``check`` prints the decision as JSON and exits 0 whatever the outcome (allow, deny and defer are
all normal answers); it exits 1 when an input is malformed — listing every missing or invalid
field at once, each named — and 2 on a usage error. ``--now`` is required and must carry an
offset (``2026-03-08T20:59:00-04:00`` or ``…Z``), so a check is reproducible.
``arrears policy check --help`` prints the formats below (``REQUEST_FORMAT``).
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
from arrears.policy.model import ContactRequest, PolicyError

REQUEST_FORMAT = """\
Request file: one JSON object, or a list of them (decided in order as one batch, each allowed
request counting against the caps of the ones after it). Required: debt_id, person_id, party,
channel, action; everything else is optional (defaults in brackets). A full example:

  {
    "request_id": "r-1",                 echoed in the decision [""]
    "case_id": "C-1",                    [""]
    "debt_id": "L-1",                    REQUIRED: the loan the contact is about
    "person_id": "P-1",                  REQUIRED: who is contacted
    "party": "borrower",                 REQUIRED: borrower | guarantor | emergency_contact
                                           | third_party
    "channel": "voice",                  REQUIRED: voice | sms | email | letter | in_app | visit
    "action": "call",                    REQUIRED: call|voicemail|robocall (voice), else channel
    "purpose": "collect",                collect | locate | notice [collect]
    "address": "+86 138 0000 0001",      number / mailbox / address used (per-number caps) [null]
    "timezone": "Asia/Shanghai",         stored on the borrower; null when unknown [null]
    "possible_timezones": [],            when timezone is null: zones they may be in [[]]
    "country": "CN",                     when both are empty: every zone of the country; with
                                           no country either, every offset UTC-12..UTC+14 [null]
    "opt_outs": ["sms"],                 channels the person asked us not to use [[]]
    "cease": false,                      the person asked us to stop all communication [false]
    "not_at_work": false,                no contact at work (asked, or employer forbids) [false]
    "to_workplace": false,               this contact goes to their workplace [false]
    "unreachable": false,                the borrower is unreachable (失联) [false]
    "holds": [{"kind": "complaint",      complaint | dispute | hardship | deceased | legal |
                                           plan_request (a plan request awaits a decision)
               "scope": "loan",          borrower (every debt) | loan (only debt_id) [borrower]
               "debt_id": "L-1",         required when scope is loan
               "channels": [], "actions": [],   stopped in addition to the pack's [[]]
               "until": "2026-12-31"}],  the hold's last day, shown in the message [null]
    "holidays": ["2026-10-01"],          local holiday dates; the pack decides if they count [[]]
    "consents": [{"by": "P-1",           prior consent: who agreed (honoured only for them),
                  "given_at": "2026-11-27T10:05:00+08:00",   when they said so,
                  "starts": "2026-11-30T21:30:00+08:00",     the window they agreed to
                  "ends": "2026-11-30T22:30:00+08:00",       [starts, ends),
                  "channels": ["voice"],                     which media [["voice"]],
                  "debt_id": null}],                         which debt (null: any) [null]
    "visitors": ["ann", "bob"],          for a visit: the collectors going [[]]
    "text": "...",                       the rendered message, when there is one [null]
    "facts": {"lender_name": "...", "amount_due": "1,234.56", "penalty": "12.34",
              "repayment_channel": "...", "complaint_channel": "...",
              "verification_code": "K7Q2M9", "official_accounts": "6222..."}   [{}]
  }

History file (--history): a JSON list of past contacts:

  [{"at": "2026-11-30T10:00:00+08:00",   REQUIRED, with an offset
    "channel": "voice", "action": "call", "person_id": "P-1", "debt_id": "L-1",   REQUIRED
    "address": "+86 138 0000 0001",      [null]
    "reached": true,                     connected to the number or mailbox [true]
    "answered": true,                    the person picked up; null = unknown, read as
                                           "reached" [null]
    "conversation": false,               a telephone conversation took place [false]
    "consented": false}]                 made with the person's prior consent [false]

Output: {"request_id", "outcome": "allow" | "deny" | "defer", "next_allowed": ISO or null,
"decided_at", "pack": {"name", "version"}, "fired": [{"rule", "kind", "effect", "message",
"citation", "confidence", "description": {"en", "zh"}}]}; a list of those for a list.
Malformed input exits 1 and lists every problem, each naming its field.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="arrears policy", description="Compliance policy packs and the contact gate."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser(
        "check",
        help="decide one request (or a list) and print JSON",
        description="Decide one contact request (or a batch) at --now and print the decision.",
        epilog=REQUEST_FORMAT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
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
        requests: list[ContactRequest] = []
        problems: list[str] = []
        for i, item in enumerate(raw):  # every request's problems, not only the first one's
            try:
                requests.append(request_from_json(item, f"request[{i}]"))
            except PolicyError as exc:
                found = exc.params.get("problems")
                listed = found if isinstance(found, list) else [exc.message]
                problems.extend(f"request[{i}]: {p}" for p in listed)
        if problems:
            raise PolicyError(
                f"{len(problems)} problems: " + "; ".join(problems),
                params={"problems": problems},
            )
        return [decision_to_json(d) for d in decide_many(requests, history, now, pack=pack)]
    decision = decide_many([request_from_json(raw)], history, now, pack=pack)[0]
    return decision_to_json(decision)


def _report(exc: PolicyError) -> str:
    """The error for stderr: one line, or a header and one problem per line."""
    problems = exc.params.get("problems")
    if not isinstance(problems, list) or len(problems) < 2:
        return f"arrears policy: error: {exc.message}"
    where = exc.params.get("where")
    head = f"{where}: " if where else ""
    lines = [f"arrears policy: error: {head}{len(problems)} problems:"]
    lines += [f"  - {p}" for p in problems]
    return "\n".join(lines)


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
        print(_report(exc), file=sys.stderr)
        return 1
    print(json.dumps(output, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(run(sys.argv[1:]))
