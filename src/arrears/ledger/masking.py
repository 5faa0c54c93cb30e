"""Masking of personal identifiers for lists and logs (privacy by default).

Full national IDs and phone numbers are shown only on a borrower's own detail page to roles that
need them; everywhere else, and in every log line, they are masked.

``mask_text`` finds numbers the way people actually write them, not only the canonical forms:

* PRC resident IDs (18 characters, and the old 15-digit form) and US social security numbers
  (``123-45-6789``, ``123 45 6789``) by pattern — they have fixed shapes a phone library does not
  know;
* phone numbers with ``phonenumbers.PhoneNumberMatcher`` for the CN and US regions, so
  ``+12125551234``, ``(212) 555-1234``, ``138-1234-5678`` and ``138 1234 5678`` are all found;
* any bare 11-digit mainland mobile the matcher might reject as invalid (a mistyped number is
  still personal data).

It runs on every row of several lists, so text with fewer than seven digits — most notes — is
returned at once, and the matcher only runs on what is left (measured in docs/architecture.md).
"""

from __future__ import annotations

import logging
import logging.config
import re
from typing import Any

import phonenumbers

# 18-character PRC resident ID (17 digits + digit or X), the old 15-digit one, and 11-digit
# mainland mobiles, plus international numbers in E.164 form: the patterns a log line might leak.
_ID_RE = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?![\dXx])")
_OLD_ID_RE = re.compile(r"(?<![\d*])(\d{6})\d{5}(\d{4})(?![\d*])")
_SSN_RE = re.compile(r"(?<![\d-])\d{3}([- ])\d{2}\1(\d{4})(?![\d-])")
_PHONE_RE = re.compile(r"(?<![\d+])(\+?\d{0,3}1[3-9]\d)\d{4}(\d{4})(?!\d)")
_DIGIT = re.compile(r"\d")
#: Fewer digits than this cannot be a phone or ID number: the fast path for most text.
_MIN_DIGITS = 7
_REGIONS = ("CN", "US")
#: Where a phone number could be: digits, maybe a leading ``+`` or ``(``, with spaces, hyphens
#: and brackets between them, not glued to a word (``WL260000001`` is a loan reference). The
#: matcher is slow (about a millisecond a call on a sentence), so it only reads these.
_CANDIDATE = re.compile(r"(?<![A-Za-z0-9_+])[+(]?\d[\d ()\-]{5,24}\d(?![A-Za-z0-9_])")
#: A date or a bank card is not a phone number: skipped without asking the matcher.
_NOT_PHONE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")
_MAX_PHONE_DIGITS = 15  # E.164


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


def _mask_digits(raw: str) -> str:
    """A phone number as written, with every digit but the last four and the leading ones that
    do not identify the subscriber starred; separators stay so the shape is recognisable.
    ``138-1234-5678`` → ``138-****-5678``, ``+12125551234`` → ``+121****1234``."""
    digits = sum(ch.isdigit() for ch in raw)
    keep_head = max(0, digits - 8)
    out: list[str] = []
    seen = 0
    for ch in raw:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen <= keep_head or seen > digits - 4 else "*")
        else:
            out.append(ch)
    return "".join(out)


def _mask_phones(text: str) -> str:
    """Phone numbers found by libphonenumber's matcher in either region, masked in place."""
    spans: list[tuple[int, int]] = []
    for candidate in _CANDIDATE.finditer(text):
        piece = candidate.group(0)
        digits = sum(ch.isdigit() for ch in piece)
        if not _MIN_DIGITS <= digits <= _MAX_PHONE_DIGITS or _NOT_PHONE.fullmatch(piece.strip()):
            continue
        for region in _REGIONS:
            for match in phonenumbers.PhoneNumberMatcher(
                piece, region, leniency=phonenumbers.Leniency.VALID
            ):
                if sum(ch.isdigit() for ch in match.raw_string) >= _MIN_DIGITS:
                    spans.append((candidate.start() + match.start, candidate.start() + match.end))
    if not spans:
        return text
    spans.sort()
    out: list[str] = []
    last = 0
    for start, end in spans:
        if start < last:  # the other region found the same number
            continue
        out.append(text[last:start])
        out.append(_mask_digits(text[start:end]))
        last = end
    out.append(text[last:])
    return "".join(out)


def mask_text(text: str) -> str:
    """Mask every ID number, social security number and phone number found in free text."""
    if len(_DIGIT.findall(text)) < _MIN_DIGITS:
        return text
    text = _ID_RE.sub(lambda m: m.group(1) + "********" + m.group(2), text)
    text = _OLD_ID_RE.sub(lambda m: m.group(1) + "*****" + m.group(2), text)
    text = _SSN_RE.sub(lambda m: f"***{m.group(1)}**{m.group(1)}{m.group(2)}", text)
    text = _PHONE_RE.sub(lambda m: m.group(1) + "****" + m.group(2), text)
    if len(_DIGIT.findall(text)) < _MIN_DIGITS:
        return text
    return _mask_phones(text)


class MaskPIIFilter(logging.Filter):
    """Logging filter that masks identifiers in every record before any handler sees it.

    The message is formatted and masked once, and so is the traceback text of an exception
    (exception messages quote the values that failed); ``args`` are dropped so no formatter can
    print the originals.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not getattr(record, "_arrears_masked_exc", False):
            record.exc_text = mask_text(logging.Formatter().formatException(record.exc_info))
            record._arrears_masked_exc = True
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
        return True


def mask_every_handler() -> None:
    """Put ``MaskPIIFilter`` on every handler of every configured logger.

    Django configures its own ``DEFAULT_LOGGING`` first (the ``django.server`` access-line handler,
    the debug console behind ``django.request``'s "Not Found" lines, ``mail_admins``); those
    loggers keep their handlers when the project's ``LOGGING`` is applied. A filter on a logger
    does not run for records propagated from child loggers, so the filter goes on handlers.
    """
    loggers: list[logging.Logger] = [logging.getLogger()]
    loggers += [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if not any(isinstance(f, MaskPIIFilter) for f in handler.filters):
                handler.addFilter(MaskPIIFilter())


def configure_logging(config: dict[str, Any]) -> None:
    """``LOGGING_CONFIG``: apply the project's ``LOGGING`` and then mask every handler."""
    logging.config.dictConfig(config)
    mask_every_handler()
