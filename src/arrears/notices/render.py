"""Strict template rendering and checking. Pure: no Django, no database.

Syntax: ``${name}`` inserts a variable, ``$$`` is a literal ``$``; any other ``$`` is an error
(a bare ``$name`` is refused rather than guessed at). Rendering is a single pass: a value that
itself contains ``${...}`` is inserted literally, never expanded, so borrower-supplied text
cannot inject variables. jinja2 is not installed in this project, and a message needs nothing
beyond substitution, so this is ``string.Template``'s syntax with stricter rules.

Strictness is the point: a variable missing from the context raises :class:`TemplateError`
naming it (a borrower never receives an empty gap where the amount should be), and every value
must already be text (money is formatted by the caller with :mod:`arrears.formatting`; a float
or a ``Decimal`` cannot slip in unformatted).

:func:`check` is what stands between a draft and activation: malformed placeholders, variables
that are not documented, variables the template's code requires but the text does not use, and
then — on the text rendered with the sample context — the policy pack's content rules (required
disclosures and forbidden phrases in Chinese and English), run through the same
:func:`arrears.policy.decide` the dispatcher's gate uses, so the check and the gate can never
disagree about what a phrase means.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from arrears.kernel.errors import ArrearsError
from arrears.notices import context as ctx
from arrears.policy import ContactRequest, Pack, decide, load_pack

#: The pack a template is checked against when the caller names none (the project default).
DEFAULT_PACK = "cn"

_PLACEHOLDER = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)\}|(?P<invalid>))",
)


class TemplateError(ArrearsError):
    """A template that cannot be rendered: bad syntax or variables missing from the context.

    ``variables`` names the missing variables (sorted), so callers can report them precisely.
    """

    code = "template-error"

    def __init__(self, message: str, *, variables: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.variables = variables


class TemplateLike(Protocol):
    """What :func:`check` needs: a pure :class:`Template` or a stored ``MessageTemplate``."""

    @property
    def code(self) -> str: ...
    @property
    def locale(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def body(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Template:
    """A template as plain data (a catalogue file, or a stored row detached from the ORM)."""

    code: str
    locale: str
    channel: str
    subject: str
    body: str


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason a template cannot be activated.

    ``kind`` is one of ``syntax``, ``unknown_variable``, ``missing_variable``,
    ``missing_disclosure``, ``forbidden_content``, ``invalid``; ``variable`` names the variable
    concerned and ``rule_id`` the policy rule that fired, when there is one.
    """

    kind: str
    message: str
    variable: str | None = None
    rule_id: str | None = None

    def __str__(self) -> str:
        return self.message


def _line_col(text: str, index: int) -> str:
    line = text.count("\n", 0, index) + 1
    col = index - (text.rfind("\n", 0, index) + 1) + 1
    return f"line {line}, column {col}"


def syntax_errors(text: str) -> list[str]:
    """Where ``text`` uses ``$`` in a way the renderer refuses (empty when it is well formed)."""
    errors = []
    for match in _PLACEHOLDER.finditer(text):
        if match.group("invalid") is not None:
            snippet = text[match.start() : match.start() + 12].split("\n")[0]
            errors.append(
                f"bad placeholder {snippet!r} at {_line_col(text, match.start())}: "
                "write ${name} for a variable or $$ for a dollar sign"
            )
    return errors


def variables(template_text: str) -> set[str]:
    """The variable names ``template_text`` uses (``${name}``; ``$$`` is not a variable)."""
    return {m.group("name") for m in _PLACEHOLDER.finditer(template_text) if m.group("name")}


def render(text: str, context: Mapping[str, str]) -> str:
    """``text`` with every ``${name}`` replaced by ``context[name]``.

    Raises :class:`TemplateError` for bad syntax, for variables missing from ``context`` (all of
    them named, sorted) and for values that are not ``str``.
    """
    errors = syntax_errors(text)
    if errors:
        raise TemplateError("; ".join(errors))
    names = variables(text)
    absent = tuple(sorted(n for n in names if n not in context))
    if absent:
        raise TemplateError(
            f"missing template variable{'s' if len(absent) > 1 else ''}: {', '.join(absent)}",
            variables=absent,
        )
    for name in sorted(names):
        if not isinstance(context[name], str):
            raise TemplateError(
                f"template variable {name!r} must be text, got {type(context[name]).__name__} "
                "(format money with arrears.formatting before rendering)",
                variables=(name,),
            )

    def substitute(match: re.Match[str]) -> str:
        if match.group("escaped") is not None:
            return "$"
        return context[match.group("name")]

    return _PLACEHOLDER.sub(substitute, text)


def render_template(template: TemplateLike, context: Mapping[str, str]) -> tuple[str, str]:
    """``(subject, body)`` of ``template`` rendered with ``context`` (strict, as :func:`render`)."""
    return render(template.subject, context), render(template.body, context)


def gate_text(subject: str, body: str) -> str:
    """The text the gate's content rules read: subject and body, as the dispatcher sends them."""
    return f"{subject}\n{body}".strip()


#: Template channels as the policy knows them: a collector's call script is a voice call, a
#: robocall script an automated one (as ``contact.gate`` asks at send time).
_POLICY_CHANNEL = {"call_task": "voice"}
_POLICY_ACTION = {"call_task": "call", "voice": "robocall"}


def _pack(pack: Pack | str) -> Pack:
    return pack if isinstance(pack, Pack) else load_pack(pack)


def _variable_problems(template: TemplateLike) -> list[Problem]:
    problems: list[Problem] = []
    for part, text in (("subject", template.subject), ("body", template.body)):
        problems.extend(Problem("syntax", f"{part}: {e}") for e in syntax_errors(text))
    used = variables(template.subject) | variables(template.body)
    for name in sorted(used - set(ctx.VARIABLES)):
        problems.append(
            Problem(
                "unknown_variable",
                f"unknown variable ${{{name}}}: not in the documented variables "
                "(arrears.notices.context.VARIABLES)",
                variable=name,
            )
        )
    for name in sorted(ctx.required_variables(template.code) - used):
        meaning = ctx.VARIABLES[name].en
        problems.append(
            Problem(
                "missing_variable",
                f"missing required variable ${{{name}}} ({meaning})",
                variable=name,
            )
        )
    return problems


def _content_problems(
    template: TemplateLike, pack: Pack, context: Mapping[str, str]
) -> list[Problem]:
    try:
        subject, body = render_template(template, context)
    except TemplateError as error:  # a caller's context without a variable the text uses
        return [
            Problem("missing_variable", f"the context has no ${{{name}}}: {error}", name)
            for name in error.variables or ("?",)
        ]
    channel = _POLICY_CHANNEL.get(template.channel, template.channel)
    request = ContactRequest(
        debt_id="template-check",
        person_id="template-check",
        party="borrower",
        channel=channel,
        action=_POLICY_ACTION.get(template.channel, channel),
        purpose=ctx.purpose_of(template.code),
        timezone="Asia/Shanghai",
        text=gate_text(subject, body),
        facts=ctx.gate_facts(context),
    )
    decision = decide(request, (), datetime(2026, 1, 5, 4, 0, tzinfo=UTC), pack=pack)
    problems = []
    for fired in decision.fired:
        if fired.kind == "required_content":
            problems.append(
                Problem(
                    "missing_disclosure", f"{fired.rule_id}: {fired.message}", None, fired.rule_id
                )
            )
        elif fired.kind == "forbidden_content":
            problems.append(
                Problem(
                    "forbidden_content", f"{fired.rule_id}: {fired.message}", None, fired.rule_id
                )
            )
    return problems


def check(
    template: TemplateLike,
    *,
    pack: Pack | str = DEFAULT_PACK,
    context: Mapping[str, str] | None = None,
) -> list[Problem]:
    """Every reason ``template`` cannot be activated (empty: it may be).

    Variables are checked first; the content rules then run on the text rendered with
    ``context`` (default: :func:`arrears.notices.context.sample_context` for the template's
    locale) under ``pack`` — the rules whose selectors match the template's channel and purpose,
    exactly as the gate would apply them at dispatch.
    """
    problems: list[Problem] = []
    if template.locale not in ctx.LOCALES:
        problems.append(Problem("invalid", f"unknown locale {template.locale!r}"))
    if template.channel not in ctx.CHANNELS:
        problems.append(Problem("invalid", f"unknown channel {template.channel!r}"))
    if not template.body.strip():
        problems.append(Problem("invalid", "the body is empty"))
    invalid = bool(problems)
    variable_problems = _variable_problems(template)
    problems.extend(variable_problems)
    if invalid or any(p.kind == "syntax" for p in variable_problems):
        return problems  # the content check needs a well-formed text on a known channel
    sample = dict(ctx.sample_context(template.locale) if context is None else context)
    for p in variable_problems:  # screen the rest of the text even around an unknown variable
        if p.kind == "unknown_variable" and p.variable is not None:
            sample.setdefault(p.variable, f"[{p.variable}]")
    return problems + _content_problems(template, _pack(pack), sample)
