"""Masking of personal identifiers for lists and logs (privacy by default).

Full national IDs and phone numbers are shown only on a borrower's own detail page to roles that
need them; everywhere else, and in every log line, they are masked.
"""

from __future__ import annotations

import logging
import re

# 18-character PRC resident ID (17 digits + digit or X) and 11-digit mainland mobiles, plus
# international numbers in E.164 form: the patterns a log line might leak.
_ID_RE = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?![\dXx])")
_PHONE_RE = re.compile(r"(?<![\d+])(\+?\d{0,3}1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask_national_id(value: str) -> str:
    """``110101199003074518`` → ``110101********4518``: region and check digits stay visible."""
    value = value.strip()
    if len(value) <= 8:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    """``+8613812345678`` → ``+86138****5678``: enough to recognise, not enough to dial."""
    value = value.strip()
    if len(value) <= 7:
        return "*" * len(value)
    return value[:-8] + "****" + value[-4:]


def mask_address(channel: str, address: str) -> str:
    """An address as lists show it: a phone masked, an e-mail as ``z***@example.cn``, anything
    else (a postal address) as ``***``."""
    if channel in ("sms", "voice"):
        return mask_phone(address)
    if "@" in address:
        name, domain = address.split("@", 1)
        return f"{name[:1]}***@{domain}"
    return "***" if address else ""


def mask_text(text: str) -> str:
    """Mask every ID number and mobile number found in free text."""
    text = _ID_RE.sub(lambda m: m.group(1) + "********" + m.group(2), text)
    return _PHONE_RE.sub(lambda m: m.group(1) + "****" + m.group(2), text)


class MaskPIIFilter(logging.Filter):
    """Logging filter that masks identifiers in every record before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True
