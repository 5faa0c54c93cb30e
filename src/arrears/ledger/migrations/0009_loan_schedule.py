"""A loan's schedule becomes one row (``ledger_schedule``: the loan's id and the text of
:mod:`arrears.ledger.schedules`) instead of one ``ledger_instalment`` row an instalment.

The schedule is written once, when the loan is created, and always read whole; as rows it was
twelve rows, twelve index entries and twelve foreign-key checks a loan, two thirds of what a
PostgreSQL import cost the server (``docs/architecture.md``, "The stored schedule"). The rows
are filled from the instalments, the new table gets the update and delete revision triggers the
instalments had (migration 0004's, with the same functions on PostgreSQL), and the instalment
table is dropped with its own.

No insert trigger: a schedule is inserted with its loan, and a loan without one cannot be
computed, so there is no stored state its insert could outdate (a failing loan is recomputed by
every rerun). On PostgreSQL an insert trigger's transition table held every inserted row, the
whole text included: a million-loan import spilled ~600 MB of it to disk for nothing.
"""

from importlib import import_module
from typing import Any

from django.db import migrations, models

#: Loans filled per batch.
BATCH = 2000
OLD, NEW = "ledger_instalment", "ledger_schedule"


def _line(row: tuple[Any, ...]) -> str:
    due, principal, interest, start, end = row
    return f"{due.isoformat()} {principal} {interest} {start.isoformat()} {end.isoformat()}"


def fill_schedules(apps: Any, schema_editor: Any) -> None:
    """Each loan's schedule text from its instalment rows (the format of ``ledger.schedules``,
    written out here: a migration must not change with later code)."""
    Loan = apps.get_model("ledger", "Loan")
    Instalment = apps.get_model("ledger", "Instalment")
    Schedule = apps.get_model("ledger", "Schedule")
    ids = list(Loan.objects.order_by("id").values_list("id", flat=True))
    for at in range(0, len(ids), BATCH):
        lines: dict[int, list[str]] = {}
        rows = (
            Instalment.objects.filter(loan_id__in=ids[at : at + BATCH])
            .order_by("loan_id", "seq")
            .values_list("loan_id", "due_date", "principal_minor", "interest_minor",
                         "period_start", "period_end")
        )  # fmt: skip
        for loan_id, *values in rows:
            lines.setdefault(loan_id, []).append(_line(tuple(values)))
        Schedule.objects.bulk_create(
            Schedule(loan_id=loan_id, text=";".join(parts)) for loan_id, parts in lines.items()
        )


def fill_instalments(apps: Any, schema_editor: Any) -> None:
    """Back: each loan's instalment rows from its schedule text."""
    from datetime import date

    Instalment = apps.get_model("ledger", "Instalment")
    Schedule = apps.get_model("ledger", "Schedule")
    rows = []
    for loan_id, text in Schedule.objects.values_list("loan_id", "text"):
        for seq, part in enumerate(text.split(";"), start=1):
            due, principal, interest, start, end = part.split(" ")
            rows.append(
                Instalment(
                    loan_id=loan_id,
                    seq=seq,
                    due_date=date.fromisoformat(due),
                    principal_minor=int(principal),
                    interest_minor=int(interest),
                    period_start=date.fromisoformat(start),
                    period_end=date.fromisoformat(end),
                )
            )
    Instalment.objects.bulk_create(rows, batch_size=BATCH)


def _triggers(schema_editor: Any, table: str) -> list[str]:
    """Migration 0004's revision triggers of the instalment table, for ``table`` (a table
    whose rows carry ``loan_id``, as the instalments' did); the schedules' without the insert
    trigger (above)."""
    revision = import_module("arrears.ledger.migrations.0004_loan_revision")
    vendor = schema_editor.connection.vendor
    create = {"sqlite": revision._sqlite, "postgresql": revision._postgresql}[vendor]
    made = [s.replace(OLD, table) for s in create() if f"TRIGGER {OLD}_" in s]
    if table == NEW:
        made = [s for s in made if f"TRIGGER {NEW}_rev_ins " not in s]
    return made


def _drops(schema_editor: Any, table: str) -> list[str]:
    names = [s.split()[2] for s in _triggers(schema_editor, table)]
    on = f" ON {table}" if schema_editor.connection.vendor == "postgresql" else ""
    return [f"DROP TRIGGER IF EXISTS {name}{on}" for name in names]


def schedule_triggers(apps: Any, schema_editor: Any) -> None:
    for statement in _triggers(schema_editor, NEW):
        schema_editor.execute(statement, params=None)


def drop_schedule_triggers(apps: Any, schema_editor: Any) -> None:
    for statement in _drops(schema_editor, NEW):
        schema_editor.execute(statement, params=None)


def instalment_triggers(apps: Any, schema_editor: Any) -> None:
    """Back: the instalment table's triggers, made again once the table is (forward,
    ``DROP TABLE`` drops them with it)."""
    for statement in _triggers(schema_editor, OLD):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0008_drop_instalment_loan_due"),
    ]

    operations = [
        migrations.CreateModel(
            name="Schedule",
            fields=[
                (
                    "loan",
                    models.OneToOneField(
                        on_delete=models.deletion.CASCADE,
                        primary_key=True,
                        related_name="schedule",
                        serialize=False,
                        to="ledger.loan",
                    ),
                ),
                ("text", models.TextField()),
            ],
        ),
        migrations.RunPython(fill_schedules, fill_instalments, elidable=False),
        migrations.RunPython(schedule_triggers, drop_schedule_triggers, elidable=False),
        migrations.RunPython(migrations.RunPython.noop, instalment_triggers, elidable=False),
        migrations.DeleteModel(name="Instalment"),
    ]
