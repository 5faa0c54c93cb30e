"""A loan's schedule becomes one value of its row (``Loan.schedule``, the text of
:mod:`arrears.ledger.schedules`) instead of one ``ledger_instalment`` row an instalment.

The schedule is written once, when the loan is created, and always read whole; as rows it was
twelve rows, twelve index entries and twelve foreign-key checks a loan, two thirds of what a
PostgreSQL import cost the server (``docs/architecture.md``, "Import"). The column is added by
``ALTER TABLE … ADD COLUMN`` on both databases (Django's ``AddField`` would rebuild the table on
SQLite, and with it drop the loan's revision trigger), filled from the instalment rows, and the
instalment table dropped with its revision triggers: a change to the schedule is now an update
of the loan itself, which its own trigger counts.
"""

from typing import Any

from django.db import migrations, models

#: Loans filled per statement batch.
BATCH = 2000


def _line(row: tuple[Any, ...]) -> str:
    due, principal, interest, start, end = row
    return f"{due.isoformat()} {principal} {interest} {start.isoformat()} {end.isoformat()}"


def fill_schedules(apps: Any, schema_editor: Any) -> None:
    """Each loan's schedule text from its instalment rows (the format of ``ledger.schedules``,
    kept here as it is today: a migration must not change with later code)."""
    Loan = apps.get_model("ledger", "Loan")
    Instalment = apps.get_model("ledger", "Instalment")
    ids = list(Loan.objects.order_by("id").values_list("id", flat=True))
    for at in range(0, len(ids), BATCH):
        part = ids[at : at + BATCH]
        lines: dict[int, list[str]] = {}
        rows = (
            Instalment.objects.filter(loan_id__in=part)
            .order_by("loan_id", "seq")
            .values_list("loan_id", "due_date", "principal_minor", "interest_minor",
                         "period_start", "period_end")
        )  # fmt: skip
        for loan_id, *values in rows:
            lines.setdefault(loan_id, []).append(_line(tuple(values)))
        loans = [Loan(id=loan_id, schedule=";".join(parts)) for loan_id, parts in lines.items()]
        Loan.objects.bulk_update(loans, ["schedule"])


def fill_instalments(apps: Any, schema_editor: Any) -> None:
    """Back: each loan's instalment rows from its schedule text."""
    from datetime import date

    Loan = apps.get_model("ledger", "Loan")
    Instalment = apps.get_model("ledger", "Instalment")
    rows = []
    for loan_id, text in Loan.objects.exclude(schedule="").values_list("id", "schedule"):
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


def instalment_triggers(apps: Any, schema_editor: Any) -> None:
    """Back: the instalment table's revision triggers of migration 0004, made again once the
    table is (forward, ``DROP TABLE`` drops them with it)."""
    from importlib import import_module

    revision = import_module("arrears.ledger.migrations.0004_loan_revision")
    vendor = schema_editor.connection.vendor
    create = {"sqlite": revision._sqlite, "postgresql": revision._postgresql}[vendor]
    for statement in create():
        if "TRIGGER ledger_instalment_" in statement:
            schema_editor.execute(statement, params=None)


ADD = "ALTER TABLE ledger_loan ADD COLUMN schedule text DEFAULT '' NOT NULL"
DROP = "ALTER TABLE ledger_loan DROP COLUMN schedule"


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0008_drop_instalment_loan_due"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunSQL(ADD, DROP, elidable=False)],
            state_operations=[
                migrations.AddField(
                    model_name="loan",
                    name="schedule",
                    field=models.TextField(db_default="", editable=False),
                )
            ],
        ),
        migrations.RunPython(fill_schedules, fill_instalments, elidable=False),
        migrations.RunPython(migrations.RunPython.noop, instalment_triggers, elidable=False),
        migrations.DeleteModel(name="Instalment"),
    ]
