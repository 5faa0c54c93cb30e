"""Field agents: a role held through an active profile; ID numbers validated and masked."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError

from arrears.fieldwork.admin import FieldAgentForm
from arrears.fieldwork.models import FieldAgent
from arrears.fieldwork.validators import clean_id_number
from tests import factories
from tests.fieldwork.conftest import Field


def test_a_chinese_id_must_pass_its_checksum() -> None:
    good = factories.valid_ric()
    assert clean_id_number(f" {good.lower()} ") == good.upper()
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(ValidationError):
        clean_id_number(bad)
    assert clean_id_number("P1234567") == "P1234567"  # a passport: not checked as Chinese
    with pytest.raises(ValidationError):
        clean_id_number("X" * 33)


def test_the_role_is_an_active_profile(field: Field) -> None:
    fay = field.agents["fay"]
    assert FieldAgent.of(field.staff["fay"]) == fay
    assert FieldAgent.of(field.staff["ann"]) is None
    fay.active = False
    fay.save()
    assert FieldAgent.of(User.objects.get(username="fay")) is None
    assert fay.masked_id == fay.id_number[:6] + "********" + fay.id_number[-4:]
    assert fay.id_number not in str(fay)


def test_the_admin_form_refuses_a_bad_id(db: None) -> None:
    user = User.objects.create_user(username="ivy")
    form = FieldAgentForm(
        data={"user": user.pk, "full_name": "伊", "id_number": "110101199003074510",
              "employer": "lender", "active": True}
    )  # fmt: skip
    assert not form.is_valid() and "id_number" in form.errors
