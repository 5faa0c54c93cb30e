"""Building the channels from the environment."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from arrears.channels import (
    KINDS,
    Channel,
    ChannelConfigError,
    InAppChannel,
    LogChannel,
    OutboundMessage,
    describe,
    from_env,
)
from arrears.channels.aliyun import AliyunSms
from arrears.channels.letter import PdfLetters
from arrears.channels.smtp import SmtpEmail
from arrears.channels.tencent import TencentSms
from arrears.channels.twilio import TwilioSms
from arrears.channels.voice import VoiceGateway

from . import test_aliyun, test_tencent, test_twilio
from .servers import Handler, serve

ALIYUN = {
    "ARREARS_SMS_PROVIDER": "aliyun",
    "ALIYUN_ACCESS_KEY_ID": test_aliyun.KEY_ID,
    "ALIYUN_ACCESS_KEY_SECRET": test_aliyun.SECRET,
    "ALIYUN_SMS_SIGN_NAME": "演示消费金融",
    "ALIYUN_SMS_TEMPLATE_CODE": "SMS_1",
}
TENCENT = {
    "ARREARS_SMS_PROVIDER": "tencent",
    "TENCENT_SECRET_ID": test_tencent.SECRET_ID,
    "TENCENT_SECRET_KEY": test_tencent.SECRET_KEY,
    "TENCENT_SMS_SDK_APP_ID": test_tencent.APP_ID,
    "TENCENT_SMS_TEMPLATE_ID": "1110",
}
TWILIO = {
    "ARREARS_SMS_PROVIDER": "twilio",
    "TWILIO_ACCOUNT_SID": test_twilio.SID,
    "TWILIO_AUTH_TOKEN": test_twilio.TOKEN,
    "TWILIO_FROM": "+15017122661",
}
SMTP = {"ARREARS_SMTP_HOST": "smtp.example", "ARREARS_SMTP_FROM": "c@arrears.example"}
VOICE = {"ARREARS_VOICE_URL": "https://tts.example/v1/calls", "ARREARS_VOICE_TOKEN": "t"}
REQUIRED = [
    (ALIYUN, ["ALIYUN_ACCESS_KEY_ID", "ALIYUN_ACCESS_KEY_SECRET", "ALIYUN_SMS_SIGN_NAME"]),
    (
        TENCENT,
        ["TENCENT_SECRET_ID", "TENCENT_SECRET_KEY", "TENCENT_SMS_SDK_APP_ID"],
    ),
    (TWILIO, ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM"]),
    (SMTP, ["ARREARS_SMTP_FROM"]),
    (VOICE, ["ARREARS_VOICE_TOKEN"]),
]


def test_nothing_set_means_the_log_channel_everywhere() -> None:
    channels = from_env({})
    assert sorted(channels) == sorted(KINDS)
    assert all(isinstance(c, LogChannel) and c.name == kind for kind, c in channels.items())
    assert describe(channels) == "email=log in_app=log letter=log sms=log voice=log"


@pytest.mark.parametrize(
    ("env", "cls"), [(ALIYUN, AliyunSms), (TENCENT, TencentSms), (TWILIO, TwilioSms)]
)
def test_every_provider_from_its_variables(
    tmp_path: Path, env: dict[str, str], cls: type[object]
) -> None:
    base = {**SMTP, **VOICE, "ARREARS_LETTER_DIR": str(tmp_path / "letters")}
    channels = from_env({**base, **env}, in_app_sink=lambda m: None)
    assert isinstance(channels["sms"], cls)
    assert isinstance(channels["email"], SmtpEmail)
    assert isinstance(channels["voice"], VoiceGateway)
    assert isinstance(channels["letter"], PdfLetters)
    assert isinstance(channels["in_app"], InAppChannel)
    assert all(isinstance(c, Channel) for c in channels.values())
    assert (tmp_path / "letters").is_dir()
    provider = env["ARREARS_SMS_PROVIDER"]
    assert describe(channels) == (f"email=smtp in_app=sink letter=pdf sms={provider} voice=gateway")


@pytest.mark.parametrize(
    ("env", "variable"),
    [(env, variable) for env, variables in REQUIRED for variable in variables],
)
def test_a_missing_credential_names_its_variable(env: dict[str, str], variable: str) -> None:
    incomplete = {k: v for k, v in env.items() if k != variable}
    with pytest.raises(ChannelConfigError, match=variable) as caught:
        from_env(incomplete)
    assert caught.value.variable == variable


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"ARREARS_SMS_PROVIDER": "carrier-pigeon"}, "ARREARS_SMS_PROVIDER"),
        ({**ALIYUN, "ALIYUN_SMS_TEMPLATE_CODE": ""}, "ALIYUN_SMS_TEMPLATE_CODE"),
        ({**ALIYUN, "ALIYUN_SMS_TEMPLATES": "{not json"}, "ALIYUN_SMS_TEMPLATES"),
        ({**TENCENT, "TENCENT_SMS_TEMPLATES": '{"a": 1}'}, "TENCENT_SMS_TEMPLATES"),
        ({**SMTP, "ARREARS_SMTP_PORT": "smtp"}, "ARREARS_SMTP_PORT"),
        ({**SMTP, "ARREARS_SMTP_STARTTLS": "maybe"}, "ARREARS_SMTP_STARTTLS"),
        ({**SMTP, "ARREARS_SMTP_USER": "u"}, "ARREARS_SMTP_PASSWORD"),
        ({**SMTP, "ARREARS_SMTP_CA_FILE": "/nonexistent/ca.pem"}, "ARREARS_SMTP_CA_FILE"),
        ({"ARREARS_CHANNEL_TIMEOUT": "-1"}, "ARREARS_CHANNEL_TIMEOUT"),
    ],
)
def test_bad_settings_name_their_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ChannelConfigError, match=variable):
        from_env(env)


def test_smtp_settings_are_read() -> None:
    env = {**SMTP, "ARREARS_SMTP_PORT": "2525", "ARREARS_SMTP_STARTTLS": "false"}
    email = from_env({**env, "ARREARS_SMTP_USER": "u", "ARREARS_SMTP_PASSWORD": "p"})["email"]
    assert isinstance(email, SmtpEmail)
    assert (email.host, email.port, email.starttls, email.username) == (
        "smtp.example",
        2525,
        False,
        "u",
    )
    default = from_env(SMTP)["email"]
    assert isinstance(default, SmtpEmail)
    assert default.starttls is True


def test_log_file_from_the_environment(
    tmp_path: Path, make_message: Callable[..., OutboundMessage]
) -> None:
    path = tmp_path / "channel.jsonl"
    channels = from_env({"ARREARS_CHANNEL_LOG": str(path)})
    channels["sms"].send(make_message())
    channels["email"].send(make_message(channel="email", idempotency_key="e1"))
    assert [json.loads(line)["channel"] for line in path.read_text().splitlines()] == [
        "sms",
        "email",
    ]


@pytest.mark.parametrize(
    ("env", "variable", "handler", "suffix", "to"),
    [
        (ALIYUN, "ALIYUN_SMS_ENDPOINT", test_aliyun.fake_aliyun, "/", "+8613800138000"),
        (TENCENT, "TENCENT_SMS_ENDPOINT", test_tencent.fake_tencent, "/", "+8613800138000"),
        (TWILIO, "TWILIO_BASE_URL", test_twilio.fake_twilio, "", "+14155552671"),
    ],
)
def test_the_endpoint_variable_points_a_provider_elsewhere(
    env: dict[str, str],
    variable: str,
    handler: Handler,
    suffix: str,
    to: str,
    make_message: Callable[..., OutboundMessage],
) -> None:
    with serve(handler) as server:
        sms = from_env({**env, variable: server.url + suffix})["sms"]
        result = sms.send(make_message(to=to))
    assert result.status == "sent", result.detail
    assert len(server.requests) == 1


def test_the_package_never_imports_django() -> None:
    code = (
        "import sys, arrears.channels, arrears.channels.registry, arrears.channels.letter;"
        "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'));"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
