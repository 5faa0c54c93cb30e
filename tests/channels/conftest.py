"""Shared fixtures for the channel tests: a message factory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from arrears.channels import OutboundMessage

BODY_ZH = (
    "【演示消费金融】张三您好，截至2026年2月16日您的应还金额为人民币1,234.56元（含罚息12.34元），"
    "请通过官方App或对公账户还款。如有疑问请拨打400-000-0000投诉。验证码 K7Q2。"
)


@pytest.fixture
def make_message() -> Callable[..., OutboundMessage]:
    def make(**overrides: Any) -> OutboundMessage:
        fields: dict[str, Any] = {
            "idempotency_key": "wi:case12:reminder:sms:2026-02-16:default:v1",
            "channel": "sms",
            "to": "+8613800138000",
            "subject": "逾期还款提醒",
            "body": BODY_ZH,
            "locale": "zh-CN",
            "sender_name": "演示消费金融",
            "metadata": {"template": "overdue_reminder", "verification_code": "K7Q2"},
        }
        fields.update(overrides)
        return OutboundMessage(**fields)

    return make
