"""Content screening in Chinese and English, with realistic messages good and bad."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from arrears.policy import Pack, decide
from arrears.policy.content import compact, normalise

from .factories import CN, DEFAULT, NY, PACKS, REGF, SH, at, req

NOW_SH = at(SH, 2026, 3, 10, 10, 0)
NOW_NY = at(NY, 2026, 3, 10, 10, 0)

CN_FACTS = MappingProxyType(
    {
        "lender_name": "微众银行",
        "amount_due": "1,234.56",
        "penalty": "12.34",
        "repayment_channel": "微众银行App",
        "complaint_channel": "95384",
        "verification_code": "K7Q2M9",
        "official_accounts": "6214 8301 0000 0001 234",
    }
)
CN_GOOD = (
    "【微众银行】张先生您好，您尾号1234的借款已逾期5天，截至2026年3月10日应还金额1,234.56元"
    "（含罚息12.34元）。请通过微众银行App或官方网点还款，切勿向任何个人账户转账。"
    "如有疑问或投诉，请致电95384。本短信验证码K7Q2M9，可在App“核验催收”中核对。回复TD退订"
)
EN_FACTS = MappingProxyType(
    {
        "lender_name": "Example Bank",
        "amount_due": "$1,234.56",
        "penalty": "$12.34",
        "repayment_channel": "example.com/pay",
        "complaint_channel": "example.com/complaints",
        "verification_code": "K7Q2M9",
    }
)
EN_GOOD = (
    "Acme Recovery: This is a communication from a debt collector. As of 03/10/2026 you owe "
    "$1,234.56 to Example Bank, including $12.34 in late fees (penalty). Pay only through the "
    "official portal example.com/pay or call 1-800-555-0100. To complain, visit "
    "example.com/complaints. Verification code K7Q2M9. Reply STOP to opt out of texts."
)


def sms(text: str, facts: MappingProxyType[str, str], zone: str = "Asia/Shanghai") -> object:
    return req(channel="sms", action="sms", timezone=zone, text=text, facts=facts)


def test_realistic_good_messages_pass_in_both_languages() -> None:
    assert decide(sms(CN_GOOD, CN_FACTS), [], NOW_SH, pack=CN).allowed
    assert decide(sms(CN_GOOD, CN_FACTS), [], NOW_SH, pack=DEFAULT).allowed
    en = sms(EN_GOOD, EN_FACTS, "America/New_York")
    assert decide(en, [], NOW_NY, pack=REGF).allowed
    assert decide(en, [], NOW_NY, pack=DEFAULT).allowed


BAD = [
    # (message, category) — phrases of the kind borrowers report in complaints
    ("老赖，再不还钱就让你好看！", {"insult", "threat"}),
    ("你等着，我们知道你住哪，出门小心点。", {"threat"}),
    ("再不还钱我们就通知你单位和你全家，爆你通讯录。", {"tell_others"}),
    ("今天不还，明天就打给你老婆和你领导，让你同事都知道你欠钱不还。", {"tell_others"}),
    ("你已涉嫌信用卡诈骗罪，公安机关已立案，48小时内不还款将被拘留。", {"false_criminal_claim"}),
    ("逾期将被列入黑名单，影响子女上学和政审。", {"false_criminal_claim"}),
    ("法务部通知：再不处理，警察会上门抓你。", {"false_criminal_claim"}),
    ("请立即转账至本人账户 6222 0212 3456 7890 123，户名李某。", {"private_account"}),
    ("加我私人微信，微信转账给我就给你销账。", {"private_account"}),
    ("Pay today or you will be arrested and go to jail.", {"false_criminal_claim"}),
    ("We will file criminal charges against you for fraud.", {"false_criminal_claim"}),
    ("You deadbeat. Nobody likes a loser who doesn't pay.", {"insult"}),
    (
        "If we don't hear from you we'll tell your employer and your wife about this.",
        {"tell_others"},
    ),
    ("Pay now or else. We know where you live.", {"threat"}),
    ("Send the payment with Zelle to my personal account today.", {"private_account"}),
    ("Buy gift cards and read us the numbers to settle the balance.", {"private_account"}),
]


@pytest.mark.parametrize(("text", "categories"), BAD)
@pytest.mark.parametrize("name", sorted(PACKS))
def test_forbidden_content_is_caught_in_both_languages(
    name: str, text: str, categories: set[str]
) -> None:
    pack: Pack = PACKS[name]
    decision = decide(sms(text, CN_FACTS), [], NOW_SH, pack=pack)
    assert decision.outcome == "deny"
    forbidden = [f for f in decision.fired if f.kind == "forbidden_content"]
    assert forbidden, decision.fired
    for category in categories:
        assert f"{category}:" in forbidden[0].message, forbidden[0].message


@pytest.mark.parametrize(
    "text",
    [
        "逮 捕",  # spaced
        "逮-捕",  # hyphenated
        "ＡＲＲＥＳＴ",  # full-width
        "ArReSt",
        "老\u3000赖",  # ideographic space
        "不还就告 诉-你的家人",  # a pattern (not a keyword) split by separators
    ],
)
def test_simple_evasions_are_normalised_away(text: str) -> None:
    decision = decide(sms(f"请注意：{text}", CN_FACTS), [], NOW_SH, pack=CN)
    assert any(f.kind == "forbidden_content" for f in decision.fired)


def test_safe_wordings_and_official_accounts_are_not_flagged() -> None:
    text = "请通过官方渠道还款，切勿向任何个人账户转账。对公还款账户：6214 8301 0000 0001 234。"
    decision = decide(sms(text, CN_FACTS), [], NOW_SH, pack=CN)
    assert not any(f.kind == "forbidden_content" for f in decision.fired)
    # the same sentence with another account number is a private account
    other = text.replace("6214 8301 0000 0001 234", "6222 0212 3456 7890 123")
    decision = decide(sms(other, CN_FACTS), [], NOW_SH, pack=CN)
    assert any("private_account" in f.message for f in decision.fired)


def test_word_boundaries_keep_english_screening_precise() -> None:
    # "arrest" must not fire inside another word; "stupidity" is not "stupid" used as an insult
    text = "Our arrestor cable supplier is Example Bank."
    fired = decide(sms(text, CN_FACTS), [], NOW_SH, pack=CN).fired
    assert not any(f.kind == "forbidden_content" for f in fired)


def test_required_content_names_what_is_missing() -> None:
    stale = CN_GOOD.replace("1,234.56", "1,100.00")  # yesterday's amount
    decision = decide(sms(stale, CN_FACTS), [], NOW_SH, pack=CN)
    assert decision.outcome == "deny"
    assert decision.rule_ids() == ("cn.required-content",)
    assert "amount_due: '1,234.56' does not appear" in decision.fired[0].message
    bare = "您的借款已逾期，请尽快还款。"
    message = decide(sms(bare, CN_FACTS), [], NOW_SH, pack=CN).fired[0].message
    for element in ("lender_name", "penalty", "complaint", "verification"):
        assert element in message.replace(" ", "_") or element in message


def test_a_required_fact_must_be_given_to_be_checked() -> None:
    facts = MappingProxyType({k: v for k, v in CN_FACTS.items() if k != "verification_code"})
    decision = decide(sms(CN_GOOD, facts), [], NOW_SH, pack=CN)
    assert decision.outcome == "deny"
    assert "no 'verification_code'" in decision.fired[0].message


def test_reg_f_requires_the_collector_disclosure_and_an_opt_out() -> None:
    no_mini_miranda = EN_GOOD.replace("This is a communication from a debt collector. ", "")
    decision = decide(sms(no_mini_miranda, EN_FACTS, "America/New_York"), [], NOW_NY, pack=REGF)
    assert decision.rule_ids() == ("regf.collector-disclosure",)
    no_opt_out = EN_GOOD.replace(" Reply STOP to opt out of texts.", "")
    decision = decide(sms(no_opt_out, EN_FACTS, "America/New_York"), [], NOW_NY, pack=REGF)
    assert decision.rule_ids() == ("regf.opt-out-notice",)
    # a letter needs no opt-out line
    letter = req(channel="letter", action="letter", text=no_opt_out, facts=EN_FACTS)
    assert decide(letter, [], NOW_NY, pack=REGF).allowed


def test_a_voicemail_must_be_a_limited_content_message() -> None:
    ok = "Hi, this is Jane from ACME Services. Please call us at 1-800-555-0100, reference 48213."
    vm = req(action="voicemail", text=ok)
    assert decide(vm, [], NOW_NY, pack=REGF).allowed
    bad = req(action="voicemail", text="This is ACME Collections about your overdue debt.")
    decision = decide(bad, [], NOW_NY, pack=REGF)
    assert decision.outcome == "deny" and "regf.limited-content" in decision.rule_ids()


def test_without_text_content_rules_wait_for_the_rendered_message() -> None:
    assert decide(
        req(channel="sms", action="sms", timezone="Asia/Shanghai"), [], NOW_SH, pack=CN
    ).allowed


def test_normalisation() -> None:
    assert normalise("  ＡＢＣ\u3000 Def\n") == "abc def"
    assert compact(normalise("逮 - 捕。")) == "逮捕"
