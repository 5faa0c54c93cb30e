"""Checks on what people type about a field agent (bounded, and a Chinese ID must be one)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumError

ID_MAX = 32


def looks_chinese(value: str) -> bool:
    """18 characters, 17 digits then a digit or X: the shape of a resident identity number."""
    return len(value) == 18 and value[:17].isdigit() and (value[17].isdigit() or value[17] in "Xx")


def clean_id_number(value: str) -> str:
    """The ID number stripped and upper-cased; a Chinese one must pass ``stdnum.cn.ric``."""
    text = "".join((value or "").split()).upper()
    if not text or len(text) > ID_MAX:
        raise ValidationError(gettext("Give an ID number of at most 32 characters."))
    if looks_chinese(text):
        try:
            ric.validate(text)
        except StdnumError:
            raise ValidationError(
                gettext("This is not a valid resident identity number.")
            ) from None
    return text
