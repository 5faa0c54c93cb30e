"""check(): what blocks activation — variables, required disclosures and forbidden content."""

from __future__ import annotations

import dataclasses

import pytest

from arrears.notices import catalogue
from arrears.notices.render import Template, check

BY_KEY = {(t.code, t.locale): t for t in catalogue.load()}
ZH = BY_KEY[("overdue_reminder", "zh-CN")]
EN = BY_KEY[("overdue_reminder", "en")]


def kinds(template: Template, **kw: object) -> set[str]:
    return {p.kind for p in check(template, **kw)}  # type: ignore[arg-type]


def with_body(template: Template, body: str) -> Template:
    return dataclasses.replace(template, body=body)


@pytest.mark.parametrize("template", [ZH, EN], ids=["zh", "en"])
def test_unknown_variable_is_named(template: Template) -> None:
    found = check(with_body(template, template.body + " ${amonut_due}"))
    unknown = [p for p in found if p.kind == "unknown_variable"]
    assert [p.variable for p in unknown] == ["amonut_due"]
    assert "${amonut_due}" in str(unknown[0])


@pytest.mark.parametrize("template", [ZH, EN], ids=["zh", "en"])
def test_missing_complaint_channel_is_a_problem(template: Template) -> None:
    body = template.body.replace("${complaint_channel}", "")
    body = body.replace("投诉", "").replace("complain", "")
    found = check(with_body(template, body))
    assert any(p.kind == "missing_variable" and p.variable == "complaint_channel" for p in found)
    assert any(p.rule_id == "cn.required-content" and "complaint" in str(p) for p in found)


def test_a_placement_notice_must_name_the_agency() -> None:
    notice = BY_KEY[("agency_placement", "zh-CN")]
    body = notice.body.replace("${agency_name}", "受托机构")
    found = check(with_body(notice, body))
    assert [p.variable for p in found if p.kind == "missing_variable"] == ["agency_name"]


def test_required_disclosure_caught_by_the_pack_even_when_variables_are_there() -> None:
    """The text must *say* what the value is: a bare amount with no 应还 wording fails."""
    body = (
        "【${lender_name}】${borrower_name}：${amount_due} ${penalty} ${as_of} "
        "${repayment_channels} ${complaint_channel} ${verification_code}"
    )
    found = check(with_body(ZH, body))
    messages = " ".join(str(p) for p in found if p.kind == "missing_disclosure")
    assert "amount due" in messages and "penalty" in messages and "verification code" in messages


FORBIDDEN_ZH = [
    ("不还钱就告诉你的家人和单位", "tell_others"),
    ("再不还款我们就打给你的领导和同事", "tell_others"),
    ("三天内不还，公安机关将上门抓人", "false_criminal_claim"),
    ("你已涉嫌诈骗罪，将被追究刑事责任", "false_criminal_claim"),
    ("老赖，你等着", "insult"),
    ("请直接转到我的银行卡6222 0200 1234 5678 901", "private_account"),
    ("不还钱后果自负", "threat"),
    ("我们会爆通讯录", "tell_others"),
]
FORBIDDEN_EN = [
    ("we will have you arrested", "false_criminal_claim"),
    ("Pay today or we will call your employer", "tell_others"),
    ("a warrant will be issued", "false_criminal_claim"),
    ("You are a deadbeat", "insult"),
    ("pay by gift card to settle", "private_account"),
    ("You'll regret ignoring us", "threat"),
]


@pytest.mark.parametrize(("phrase", "category"), FORBIDDEN_ZH)
def test_forbidden_chinese_phrases_are_caught(phrase: str, category: str) -> None:
    found = check(with_body(ZH, ZH.body + phrase))
    hits = [p for p in found if p.kind == "forbidden_content"]
    assert hits and category in str(hits[0]), found


@pytest.mark.parametrize(("phrase", "category"), FORBIDDEN_EN)
def test_forbidden_english_phrases_are_caught(phrase: str, category: str) -> None:
    found = check(with_body(EN, EN.body + " " + phrase))
    hits = [p for p in found if p.kind == "forbidden_content"]
    assert hits and category in str(hits[0]), found


def test_forbidden_content_in_the_subject_is_caught() -> None:
    letter = BY_KEY[("legal_notice", "en")]
    found = check(dataclasses.replace(letter, subject="Final warning: we will have you arrested"))
    assert "forbidden_content" in {p.kind for p in found}


def test_forbidden_content_is_screened_even_beside_an_unknown_variable() -> None:
    found = check(with_body(ZH, ZH.body + "${agency}不还钱就告诉你的家人"))
    assert {"unknown_variable", "forbidden_content"} <= {p.kind for p in found}


def test_disguised_phrases_are_caught() -> None:
    """Spacing, punctuation and full-width letters do not get a phrase past the screen."""
    for phrase in ("会被逮 捕", "会被逮-捕", "老 赖", "you will be ＡＲＲＥＳＴＥＤ"):
        found = check(with_body(ZH, ZH.body + phrase))
        assert "forbidden_content" in {p.kind for p in found}, phrase


def test_the_safe_warning_about_personal_accounts_is_not_flagged() -> None:
    assert "我司不会要求您向个人账户转账" in ZH.body
    assert check(ZH) == []


def test_syntax_errors_stop_before_rendering() -> None:
    found = check(with_body(EN, EN.body + " pay $5"))
    assert [p.kind for p in found] == ["syntax"]


def test_unknown_locale_and_channel_are_problems() -> None:
    found = check(dataclasses.replace(EN, locale="fr", channel="fax"))
    assert [p.kind for p in found][:2] == ["invalid", "invalid"]


def test_a_context_lacking_a_variable_is_reported_not_raised() -> None:
    found = check(EN, context={"lender_name": "X"})
    assert {p.kind for p in found} == {"missing_variable"}
    assert "amount_due" in {p.variable for p in found}


def test_voice_and_notice_templates_still_need_the_disclosure_variables() -> None:
    """The packs' required-content rule covers written collection messages only; the house rule
    (every template shows the six disclosures) still applies to scripts and notices."""
    for code in ("overdue_robocall", "complaint_acknowledgement", "internal_call"):
        template = BY_KEY[(code, "en")]
        body = template.body.replace("${verification_code}", "the code")
        found = check(with_body(template, body))
        assert [p.variable for p in found] == ["verification_code"], code
