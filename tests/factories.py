"""Database factories shared by app tests (ledger rows made through the real services)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from stdnum.cn import ric

from arrears.ledger import models, schedules, services


def valid_ric(body: str = "11010119900307451") -> str:
    return body + ric.calc_check_digit(body + "0")  # the library ignores the last character


def product(code: str = "PL", **kwargs: object) -> models.Product:
    return services.create_product(
        code=code, version=1, name="Personal loan", effective_from=date(2026, 1, 1), **kwargs
    )


def borrower(ref: str = "B1", phone: str | None = "+8613812345678") -> models.Borrower:
    made = services.create_borrower(
        ref=ref, name="张三", id_type="cn_ric", national_id=valid_ric(), time_zone="Asia/Shanghai"
    )
    if phone:
        services.add_phone(borrower=made, number=phone)
    return made


def loan(
    ref: str,
    owner: models.Borrower,
    of: models.Product,
    *,
    principal_minor: int = 1_000_000,
    start: date = date(2026, 1, 15),
    term: int = 12,
    method: str = "equal-principal",
) -> models.Loan:
    return services.create_loan(
        ref=ref,
        borrower=owner,
        product=of,
        currency="CNY",
        principal_minor=principal_minor,
        rate_value=Decimal("0.0005"),
        rate_basis="daily",
        term=term,
        method=method,
        start_date=start,
    )


def alter_instalment(loan: models.Loan, seq: int, **values: int) -> None:
    """Change one instalment of a stored schedule past every validation (as raw SQL or the
    database's own tools could): ``values`` are kernel ``Instalment`` fields."""
    rows = list(models.Loan.objects.get(pk=loan.pk).instalments)
    rows[seq - 1] = replace(rows[seq - 1], **values)
    models.Schedule.objects.filter(loan=loan).update(text=schedules.encode(rows))


def team_staff(team: object) -> dict[str, object]:
    """ann (collector), lead (team lead) and boss (manager) on ``team``, and olga, a user with
    no role: the staff of a one-case book. Users have no password (tests log in directly)."""
    from django.contrib.auth.models import User

    from arrears.collections.models import Collector

    staff: dict[str, object] = {}
    for name, role in (("ann", "collector"), ("lead", "team_lead"), ("boss", "manager")):
        staff[name] = user = User.objects.create_user(username=name)
        Collector.objects.create(user=user, team=team, role=role)
    staff["olga"] = User.objects.create_user(username="olga")
    return staff
