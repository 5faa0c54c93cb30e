"""The shipped catalogue: complete, renderable in both locales, compliant by the packs' rules."""

from __future__ import annotations

import dataclasses

import pytest

from arrears.notices import catalogue
from arrears.notices import context as ctx
from arrears.notices.catalogue import CatalogueError
from arrears.notices.render import Template, check, render_template, variables
from arrears.strategy.loader import load_default

SHIPPED = catalogue.load()
BY_KEY = {(t.code, t.locale): t for t in SHIPPED}
IDS = [f"{t.code}.{t.locale}" for t in SHIPPED]
#: Work-item channels the outbox turns into messages (arrears.contact.outbox.MESSAGE_CHANNELS).
MESSAGE_CHANNELS = {"sms", "voice", "email", "letter", "in_app"}


def test_one_template_per_code_and_locale() -> None:
    assert len(BY_KEY) == len(SHIPPED)
    assert set(BY_KEY) == {(code, locale) for code in ctx.SPECS for locale in ctx.LOCALES}


def test_every_strategy_template_id_has_both_locales_on_its_channel() -> None:
    for stage in load_default().stages:
        for treatment in stage.treatments:
            for locale in ctx.LOCALES:
                shipped = BY_KEY.get((treatment.template, locale))
                assert shipped is not None, (treatment.template, locale)
                if treatment.channel in MESSAGE_CHANNELS:  # the dispatcher looks it up by channel
                    assert shipped.channel == treatment.channel, treatment.template


@pytest.mark.parametrize("template", SHIPPED, ids=IDS)
def test_channel_follows_the_spec(template: Template) -> None:
    assert template.channel == ctx.SPECS[template.code].channel
    assert bool(template.subject) == (template.channel in ("email", "letter", "call_task"))


@pytest.mark.parametrize("template", SHIPPED, ids=IDS)
def test_renders_with_the_sample_context(template: Template) -> None:
    sample = ctx.sample_context(template.locale)
    subject, body = render_template(template, sample)
    text = subject + body
    assert "$" not in text.replace("CN¥", "")  # nothing left unrendered
    for name in ctx.required_variables(template.code):
        assert sample[name] in text, name


def test_only_service_messages_go_without_the_disclosures() -> None:
    """A sign-in code must not carry the debt to whoever holds the phone; every other
    template must carry every disclosure."""
    for code, spec in ctx.SPECS.items():
        needed = ctx.required_variables(code)
        if spec.purpose == "service":
            assert not needed & set(ctx.DISCLOSURES), code
        else:
            assert set(ctx.DISCLOSURES) | {"as_of"} <= needed, code


@pytest.mark.parametrize("pack", ["cn", "default"])
@pytest.mark.parametrize("template", SHIPPED, ids=IDS)
def test_passes_check(template: Template, pack: str) -> None:
    assert check(template, pack=pack) == []


@pytest.mark.parametrize("template", SHIPPED, ids=IDS)
def test_uses_only_documented_variables(template: Template) -> None:
    used = variables(template.subject) | variables(template.body)
    assert used <= set(ctx.VARIABLES)
    assert ctx.required_variables(template.code) <= used


def test_chinese_is_written_for_chinese_readers() -> None:
    """A zh-CN template is Chinese text: no stray English sentences from a translation."""
    for (_code, locale), template in BY_KEY.items():
        if locale != "zh-CN":
            continue
        text = template.subject + template.body
        for name in ctx.VARIABLES:
            text = text.replace("${" + name + "}", "")
        latin_words = [w for w in text.replace("App", "").split() if w.isascii() and w.isalpha()]
        assert sum(ch > "\u2e80" for ch in text) > 60, template.code
        assert latin_words in ([], ["TD"]) or all(len(w) <= 3 for w in latin_words), latin_words


def test_a_file_whose_name_disagrees_is_refused() -> None:
    text = "code: overdue_notice\nlocale: en\nchannel: email\nsubject: s\nbody: b\n"
    with pytest.raises(CatalogueError, match=r"should be overdue_notice\.en\.yaml"):
        catalogue._parse("overdue_notice.zh-CN.yaml", text)


def test_a_file_with_unknown_fields_is_refused() -> None:
    text = "code: x\nlocale: en\nchannel: sms\nsubject: ''\nbody: b\nextra: 1\n"
    with pytest.raises(CatalogueError, match="unknown fields"):
        catalogue._parse("x.en.yaml", text)


def test_catalogue_templates_are_data_not_code() -> None:
    """Every field is plain text the loader returns unchanged apart from surrounding space."""
    for template in SHIPPED:
        assert dataclasses.asdict(template).keys() == {
            "code",
            "locale",
            "channel",
            "subject",
            "body",
        }
        assert template.body == template.body.strip()
