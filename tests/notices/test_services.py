"""Stored templates: the shipped catalogue is active, drafts are checked, activation refuses."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from arrears.kernel.money import Money
from arrears.notices import context as ctx
from arrears.notices import services
from arrears.notices.models import MessageTemplate
from arrears.notices.render import TemplateError
from arrears.policy import ContactRequest, decide, load_pack

pytestmark = pytest.mark.django_db

#: The keys arrears.contact.render passes to render_active at dispatch time.
DISPATCH_KEYS = (
    "lender_name",
    "borrower_name",
    "amount_due",
    "penalty",
    "as_of",
    "due_date",
    "verification_code",
    "repayment_channels",
    "complaint_channel",
)


def good_body() -> str:
    return services.active_template("overdue_reminder", "zh-CN", "sms").body


def test_the_catalogue_is_active_version_1() -> None:
    for code, spec in ctx.SPECS.items():
        for locale in ctx.LOCALES:
            template = services.active_template(code, locale, spec.channel)
            assert template.version == 1
            assert template.status == MessageTemplate.Status.ACTIVE
            assert template.activated_at is not None
            assert services.problems(template) == []
    assert services.install_catalogue() == []  # already there: nothing added, nothing replaced


def test_render_active_with_the_dispatchers_context() -> None:
    sample = services.sample_context("zh-CN")
    context = {k: sample[k] for k in DISPATCH_KEYS}
    subject, body = services.render_active("overdue_reminder", "zh-CN", "sms", context)
    assert subject == ""
    assert sample["amount_due"] in body and sample["verification_code"] in body
    for code, channel in (
        ("pre_due_reminder", "sms"),
        ("overdue_robocall", "voice"),
        ("legal_notice", "letter"),
    ):
        services.render_active(code, "en", channel, {k: sample[k] for k in DISPATCH_KEYS})


def test_a_missing_variable_fails_at_render_naming_it() -> None:
    sample = services.sample_context("en")
    context = {k: sample[k] for k in DISPATCH_KEYS}
    with pytest.raises(TemplateError, match="law_firm") as err:
        services.render_active("lawyer_letter", "en", "letter", context)
    assert err.value.variables == ("law_firm",)


def test_no_active_template() -> None:
    with pytest.raises(services.NoActiveTemplate, match="overdue_reminder"):
        services.active_template("overdue_reminder", "en", "email")


def test_save_draft_numbers_versions_and_reports_problems() -> None:
    user = User.objects.create_user("editor")
    draft, found = services.save_draft(
        "overdue_reminder", "zh-CN", "sms", good_body() + "${agency}", created_by=user
    )
    assert (draft.version, draft.status, draft.created_by) == (2, "draft", user)
    assert [p.variable for p in found if p.kind == "unknown_variable"] == ["agency"]
    again, found = services.save_draft("overdue_reminder", "zh-CN", "sms", good_body())
    assert again.version == 3 and found == []


@pytest.mark.parametrize(
    ("code", "locale", "channel"),
    [("Bad code", "en", "sms"), ("x", "fr", "sms"), ("x", "en", "fax")],
)
def test_save_draft_refuses_nonsense(code: str, locale: str, channel: str) -> None:
    with pytest.raises(services.NoticeError):
        services.save_draft(code, locale, channel, "body")


def test_activation_refuses_an_unknown_variable_naming_it() -> None:
    draft, _ = services.save_draft("overdue_reminder", "zh-CN", "sms", good_body() + "${agency}")
    with pytest.raises(services.ActivationRefused, match=r"\$\{agency\}") as refused:
        services.activate(draft)
    assert [p.variable for p in refused.value.problems] == ["agency"]
    draft.refresh_from_db()
    assert draft.status == "draft"
    assert services.active_template("overdue_reminder", "zh-CN", "sms").version == 1


def test_activation_refuses_a_missing_required_variable_naming_it() -> None:
    notice = services.active_template("agency_placement", "en", "sms")
    draft, _ = services.save_draft(
        "agency_placement", "en", "sms", notice.body.replace("${agency_name}", "an agency")
    )
    with pytest.raises(services.ActivationRefused, match=r"\$\{agency_name\}"):
        services.activate(draft)


def test_a_template_without_the_complaint_channel_cannot_be_activated() -> None:
    body = good_body().replace("如有异议或投诉请致电${complaint_channel}。", "")
    assert "complaint_channel" not in body and "投诉" not in body
    draft, found = services.save_draft("overdue_reminder", "zh-CN", "sms", body)
    assert found
    with pytest.raises(services.ActivationRefused) as refused:
        services.activate(draft)
    text = str(refused.value)
    assert "complaint_channel" in text and "cn.required-content" in text


def test_forbidden_content_cannot_be_activated() -> None:
    draft, _ = services.save_draft(
        "overdue_reminder", "zh-CN", "sms", good_body() + "不还钱就告诉你的家人和单位。"
    )
    with pytest.raises(services.ActivationRefused, match="tell_others"):
        services.activate(draft)
    en = services.active_template("overdue_reminder", "en", "sms").body
    draft, _ = services.save_draft(
        "overdue_reminder", "en", "sms", en + " We will have you arrested."
    )
    with pytest.raises(services.ActivationRefused, match="arrested"):
        services.activate(draft)


def test_activation_retires_the_previous_version_and_allows_rollback() -> None:
    boss = User.objects.create_user("boss")
    v1 = services.active_template("overdue_reminder", "zh-CN", "sms")
    v2, found = services.save_draft(
        "overdue_reminder", "zh-CN", "sms", good_body().replace("感谢", "谢谢")
    )
    assert found == []
    services.activate(v2, by=boss)
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert (v1.status, v2.status, v2.activated_by) == ("retired", "active", boss)
    assert v1.retired_at is not None
    assert services.active_template("overdue_reminder", "zh-CN", "sms") == v2
    services.activate(v1)  # rollback: checked again, then active again
    v2.refresh_from_db()
    assert v2.status == "retired"
    assert services.active_template("overdue_reminder", "zh-CN", "sms").pk == v1.pk


def test_retire_leaves_nothing_active() -> None:
    services.retire(services.active_template("overdue_notice", "en", "email"))
    with pytest.raises(services.NoActiveTemplate):
        services.active_template("overdue_notice", "en", "email")


def test_the_database_allows_one_active_version_only() -> None:
    v1 = services.active_template("overdue_reminder", "en", "sms")
    with pytest.raises(IntegrityError), transaction.atomic():
        MessageTemplate.objects.create(
            code=v1.code, locale=v1.locale, channel=v1.channel, version=9, body="x", status="active"
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        MessageTemplate.objects.create(
            code=v1.code, locale=v1.locale, channel=v1.channel, version=1, body="x"
        )


def test_rendered_message_passes_the_gate_at_dispatch() -> None:
    """build_context + render_active + gate_facts: the real gate allows the shipped wording."""
    context = ctx.build_context(
        "zh-CN",
        lender_name="演示消费金融",
        borrower_name="李娜",
        amount_due=Money(123_456, "CNY"),
        penalty=Money(789, "CNY"),
        as_of=datetime(2026, 2, 16, 10, 0),
        verification_code="552211",
        repayment_channels="本公司官方App“还款”页面或官方客服热线95000",
        complaint_channel="投诉热线95000转9",
    )
    subject, body = services.render_active("overdue_reminder", "zh-CN", "sms", context)
    assert "¥1,234.56" in body and "¥7.89" in body
    request = ContactRequest(
        debt_id="L1",
        person_id="B1",
        party="borrower",
        channel="sms",
        action="sms",
        timezone="Asia/Shanghai",
        text=f"{subject}\n{body}".strip(),
        facts=ctx.gate_facts(context),
    )
    decision = decide(request, (), datetime(2026, 2, 16, 2, 0, tzinfo=UTC), pack=load_pack("cn"))
    assert decision.outcome == "allow", decision.fired
    stale = dict(ctx.gate_facts(context), amount_due="¥1,300.00")  # yesterday's figure
    decision = decide(
        dataclasses.replace(request, facts=stale),
        (),
        datetime(2026, 2, 16, 2, 0, tzinfo=UTC),
        pack=load_pack("cn"),
    )
    assert decision.outcome == "deny"
    assert any(f.rule_id == "cn.required-content" for f in decision.fired)
