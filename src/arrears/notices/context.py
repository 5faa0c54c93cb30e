"""The variables a message template may use, which templates need which, and building a context.

A template may only name variables documented here (``VARIABLES``): an unknown name is a
problem that blocks activation, so a typo can never reach a borrower as ``${amonut_due}``. Every
template must show the six disclosures the compliance packs require (``DISCLOSURES``) plus the
moment the amount is computed (``as_of``), and each template code adds what its purpose needs —
a placement notice names the agency, a field-visit appointment gives the time (``SPECS``).

Every value in a context is already *text*. Money is formatted by the caller with
:mod:`arrears.formatting` from the residual computed at dispatch time (never a stale figure and
never a float); :func:`build_context` does that formatting for callers who hold
:class:`~arrears.kernel.money.Money` values. Nothing here queries the ledger: the dispatcher owns
"how much is owed now", this module only says how it is shown. No Django.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from types import MappingProxyType
from typing import Final

from arrears.formatting import format_money
from arrears.kernel.money import Money

#: The template locales (BCP 47); borrower locales map onto these in ``arrears.contact.outbox``.
LOCALES: Final[tuple[str, ...]] = ("zh-CN", "en")

#: Channels a template is written for: the message channels of the outbox, plus ``call_task``
#: for the script a collector reads on a call (a work item for a person, not a message).
CHANNELS: Final[tuple[str, ...]] = ("sms", "voice", "email", "letter", "in_app", "call_task")


@dataclass(frozen=True, slots=True)
class Variable:
    """One documented variable: what it holds, in both languages, and a sample per locale."""

    name: str
    en: str
    zh: str
    sample_en: str
    sample_zh: str


def _v(name: str, en: str, zh: str, sample_en: str, sample_zh: str) -> Variable:
    return Variable(name, en, zh, sample_en, sample_zh)


_SAMPLE_DUE = Money(356_780, "CNY")
_SAMPLE_PENALTY = Money(4_560, "CNY")
_SAMPLE_PLAN = Money(360_000, "CNY")
_SAMPLE_PLAN_FIRST = Money(60_000, "CNY")
_SAMPLE_PROMISE = Money(150_000, "CNY")


def _money(value: Money, locale: str) -> str:
    return format_money(value, locale)


VARIABLES: Final[Mapping[str, Variable]] = MappingProxyType(
    {
        v.name: v
        for v in (
            _v(
                "lender_name",
                "the lender's registered name (the SMS signature)",
                "贷款机构名称（短信签名）",
                "Demo Consumer Finance",
                "演示消费金融",
            ),
            _v("borrower_name", "the borrower's name", "借款人姓名", "Alex Chen", "张伟"),
            _v(
                "amount_due",
                "everything due as of `as_of`, formatted money (the residual at dispatch time)",
                "截至 as_of 的全部应还金额（发送时实时计算，已格式化）",
                _money(_SAMPLE_DUE, "en"),
                _money(_SAMPLE_DUE, "zh-CN"),
            ),
            _v(
                "penalty",
                "penalty and compound interest included in amount_due, formatted money",
                "应还金额中所含罚息及复利（已格式化）",
                _money(_SAMPLE_PENALTY, "en"),
                _money(_SAMPLE_PENALTY, "zh-CN"),
            ),
            _v(
                "as_of",
                "the local date and time the amount was computed",
                "金额的计算时点（当地时间）",
                "2026-02-16 10:00",
                "2026-02-16 10:00",
            ),
            _v(
                "due_date",
                "the due date of the instalment concerned",
                "相关期供的应还日",
                "2026-02-18",
                "2026-02-18",
            ),
            _v(
                "verification_code",
                "a code the borrower can check in the portal to know the message is genuine",
                "借款人可在官方渠道核验消息真伪的验证码",
                "482913",
                "482913",
            ),
            _v(
                "repayment_channels",
                "the official repayment channels, and only those",
                "官方还款渠道（仅限官方渠道）",
                "the Repay page of our official app or our hotline 95000",
                "本公司官方App“还款”页面或官方客服热线95000",
            ),
            _v(
                "complaint_channel",
                "how to complain (phone line, portal page)",
                "投诉渠道（电话、官方页面）",
                "our complaints line 95000 (option 9)",
                "投诉热线95000转9",
            ),
            _v(
                "agency_name",
                "the collection agency the account is placed with",
                "受托催收机构名称",
                "Example Recovery Services Ltd.",
                "示例信息咨询服务有限公司",
            ),
            _v(
                "agency_phone",
                "the agency's phone number, as listed on the lender's published agency list",
                "受托催收机构电话（与本公司公示名单一致）",
                "400-800-1234",
                "400-800-1234",
            ),
            _v(
                "law_firm",
                "the law firm that issues the lawyer's letter",
                "出具律师函的律师事务所",
                "Example & Partners Law Firm",
                "示例律师事务所",
            ),
            _v(
                "deadline",
                "the date by which the borrower is asked to act",
                "请借款人处理的截止日期",
                "2026-03-02",
                "2026-03-02",
            ),
            _v(
                "appointment_time",
                "the agreed time of a field visit (local time)",
                "约定的上门拜访时间（当地时间）",
                "2026-02-20 14:00-16:00",
                "2026-02-20 14:00-16:00",
            ),
            _v(
                "promise_amount",
                "the amount the borrower promised, formatted money",
                "承诺还款金额（已格式化）",
                _money(_SAMPLE_PROMISE, "en"),
                _money(_SAMPLE_PROMISE, "zh-CN"),
            ),
            _v(
                "promise_date",
                "the date the borrower promised to pay by",
                "承诺还款日期",
                "2026-02-20",
                "2026-02-20",
            ),
            _v(
                "plan_total",
                "the total of the agreed repayment plan, formatted money",
                "还款计划总额（已格式化）",
                _money(_SAMPLE_PLAN, "en"),
                _money(_SAMPLE_PLAN, "zh-CN"),
            ),
            _v("plan_instalments", "how many plan instalments", "还款计划期数", "6", "6"),
            _v(
                "plan_first_amount",
                "the first plan instalment, formatted money",
                "还款计划首期金额（已格式化）",
                _money(_SAMPLE_PLAN_FIRST, "en"),
                _money(_SAMPLE_PLAN_FIRST, "zh-CN"),
            ),
            _v(
                "plan_first_due_date",
                "the due date of the first plan instalment",
                "还款计划首期应还日",
                "2026-03-01",
                "2026-03-01",
            ),
            _v(
                "complaint_ref",
                "the reference number of the borrower's complaint",
                "投诉受理编号",
                "CP-20260216-0042",
                "CP-20260216-0042",
            ),
            _v(
                "reply_by",
                "the date by which we reply to the complaint",
                "答复投诉的最迟日期",
                "2026-03-03",
                "2026-03-03",
            ),
            _v(
                "complaint_outcome",
                "the finding on a complaint: upheld or not upheld",
                "投诉处理结论（成立或不成立）",
                "upheld",
                "成立",
            ),
            _v(
                "sign_in_code",
                "the portal's one-time sign-in code (6 digits; never kept in clear)",
                "借款人服务平台一次性登录验证码（6位数字，系统不保存明文）",
                "493018",
                "493018",
            ),
            _v(
                "valid_minutes",
                "how many minutes a one-time code stays valid",
                "一次性验证码的有效分钟数",
                "5",
                "5",
            ),
        )
    }
)

#: The disclosures every collection message must carry (``cn.required-content`` and the house
#: rule of issue 5): who the lender is, how much is due now and how much of it is penalty, where
#: to pay (official channels only), where to complain, and a code to check the message is real.
DISCLOSURES: Final[tuple[str, ...]] = (
    "lender_name",
    "amount_due",
    "penalty",
    "repayment_channels",
    "complaint_channel",
    "verification_code",
)


@dataclass(frozen=True, slots=True)
class Spec:
    """What a template code is for and what its text must contain.

    ``required`` adds to ``DISCLOSURES`` and ``as_of``; ``purpose`` is the policy purpose the
    content rules are selected by (``collect``, ``notice`` or ``service``); ``channel`` is the
    channel the shipped catalogue uses for it.
    """

    code: str
    en: str
    zh: str
    channel: str
    required: frozenset[str] = frozenset()
    purpose: str = "collect"


def _spec(
    code: str, en: str, zh: str, channel: str, *required: str, purpose: str = "collect"
) -> Spec:
    return Spec(code, en, zh, channel, frozenset(required), purpose)


#: Every template code the system uses: the eight ``template:`` ids of the default strategy and
#: the notices other workflows send (promise and plan confirmations, complaint acknowledgement).
SPECS: Final[Mapping[str, Spec]] = MappingProxyType(
    {
        s.code: s
        for s in (
            _spec("overdue_notice", "overdue notice", "逾期通知", "email"),
            _spec("pre_due_reminder", "pre-due reminder", "到期还款提醒", "sms", "due_date"),
            _spec("overdue_reminder", "overdue reminder", "逾期还款提醒", "sms"),
            _spec("overdue_robocall", "robocall script", "智能语音提醒话术", "voice"),
            _spec("internal_call", "collector's call script", "电话催收话术", "call_task"),
            _spec(
                "pre_placement_notice", "pre-placement notice", "委外催收预告", "letter", "deadline"
            ),
            _spec(
                "agency_placement",
                "placement notice (names the agency)",
                "委外催收告知",
                "sms",
                "agency_name",
                "agency_phone",
            ),
            _spec(
                "agency_recall",
                "recall notice (the agency no longer acts)",
                "终止委外催收告知",
                "sms",
                "agency_name",
            ),
            _spec("lawyer_letter", "lawyer's letter", "律师函", "letter", "law_firm"),
            _spec("legal_notice", "legal notice", "法律催告通知", "letter"),
            _spec(
                "field_visit_request",
                "field-visit appointment",
                "上门拜访预约通知",
                "sms",
                "appointment_time",
            ),
            _spec(
                "promise_confirmation",
                "promise-to-pay confirmation",
                "承诺还款确认",
                "sms",
                "promise_amount",
                "promise_date",
            ),
            _spec(
                "plan_confirmation",
                "repayment plan confirmation",
                "还款计划确认",
                "sms",
                "plan_total",
                "plan_instalments",
                "plan_first_amount",
                "plan_first_due_date",
            ),
            _spec(
                "complaint_acknowledgement",
                "complaint acknowledgement",
                "投诉受理通知",
                "sms",
                "complaint_ref",
                "reply_by",
                purpose="notice",
            ),
            _spec(
                "complaint_resolution",
                "complaint resolution",
                "投诉处理结果通知",
                "sms",
                "complaint_ref",
                "complaint_outcome",
                purpose="notice",
            ),
            _spec(
                "portal_sign_in_code",
                "portal sign-in code",
                "服务平台登录验证码",
                "sms",
                "sign_in_code",
                "valid_minutes",
                purpose="service",
            ),
        )
    }
)


def required_variables(code: str) -> frozenset[str]:
    """The variables a ``code`` template must use: the disclosures, ``as_of``, the code's own.

    An unknown code (a lender's own template) needs the disclosures and ``as_of`` only. A
    *service* message (``portal_sign_in_code``) needs its own variables only: it must not carry
    the debt's figures to whoever holds the phone.
    """
    spec = SPECS.get(code)
    if spec is not None and spec.purpose == "service":
        return spec.required  # a sign-in code says nothing about a debt: no disclosures
    extra = spec.required if spec else frozenset()
    return frozenset(DISCLOSURES) | {"as_of"} | extra


def purpose_of(code: str) -> str:
    """The policy purpose of a template code (``collect`` unless the spec says otherwise)."""
    spec = SPECS.get(code)
    return spec.purpose if spec else "collect"


def sample_context(locale: str) -> dict[str, str]:
    """A full context of realistic sample values, for previews and for checking templates."""
    zh = locale.lower().startswith("zh")
    return {name: (v.sample_zh if zh else v.sample_en) for name, v in VARIABLES.items()}


Text = str | Money | date | datetime | int | None


def _text(value: Text, locale: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, Money):
        return format_money(value, locale)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        raise TypeError("a template value cannot be a bool")
    if isinstance(value, int):  # a count (plan instalments); money must come as Money
        return str(value)
    if isinstance(value, str):
        return value
    raise TypeError(f"a template value must be text, Money, a date or a count, got {value!r}")


def build_context(
    locale: str,
    *,
    lender_name: str,
    amount_due: Money | str,
    penalty: Money | str,
    as_of: datetime | str,
    verification_code: str,
    repayment_channels: str,
    complaint_channel: str,
    borrower_name: str | None = None,
    **extra: Text,
) -> dict[str, str]:
    """The context for one message, every value as text.

    ``Money`` is formatted for ``locale`` with :func:`arrears.formatting.format_money` (pass the
    residual computed *now*); datetimes become ``YYYY-MM-DD HH:MM`` (give them in the borrower's
    local time), dates ``YYYY-MM-DD``. ``extra`` takes the code-specific variables
    (``agency_name``, ``appointment_time``, ``due_date``, ``promise_amount``, …); a name that is
    not documented in ``VARIABLES`` is refused here, so a caller's typo fails loudly instead of
    leaving the template's variable missing. ``None`` values are left out.
    """
    unknown = sorted(set(extra) - set(VARIABLES))
    if unknown:
        raise TypeError(f"not documented template variable(s): {', '.join(unknown)}")
    values: dict[str, Text] = {
        "lender_name": lender_name,
        "borrower_name": borrower_name,
        "amount_due": amount_due,
        "penalty": penalty,
        "as_of": as_of,
        "verification_code": verification_code,
        "repayment_channels": repayment_channels,
        "complaint_channel": complaint_channel,
        **extra,
    }
    context: dict[str, str] = {}
    for name, value in values.items():
        text = _text(value, locale)
        if text is not None:
            context[name] = text
    return context


def gate_facts(context: Mapping[str, str]) -> dict[str, str]:
    """The facts the policy pack's content rules check the rendered text against.

    The required-content rule looks for each fact's value in the text (so a stale amount fails);
    the names follow the pack (``repayment_channel``), the values come from the context.
    """
    pairs = {
        "lender_name": "lender_name",
        "amount_due": "amount_due",
        "penalty": "penalty",
        "repayment_channel": "repayment_channels",
        "complaint_channel": "complaint_channel",
        "verification_code": "verification_code",
    }
    return {fact: context[name] for fact, name in pairs.items() if name in context}
