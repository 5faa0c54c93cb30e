"""Drop the single-column indexes of ``Instalment.loan`` and ``Payment.loan``.

Each is the prefix of a composite index the table already has — ``instalment_loan_seq``
(unique ``(loan, seq)``) and ``instalment_loan_due``, ``payment_loan_value_date`` — which serve
every lookup by loan, the foreign keys' cascade and protect checks included. The third index
on every instalment was about a sixth of the database's work in an import.

Only the index is dropped: Django's own ``AlterField`` would drop and re-add the foreign key
on PostgreSQL (checking every row again) and rebuild the table on SQLite (losing the revision
triggers of ``0004_loan_revision``), so the database side is the ``DROP INDEX`` alone.
"""

import django.db.models.deletion
from django.db import migrations, models

#: Django's names for the dropped indexes (from the table and column, the same on SQLite and
#: PostgreSQL).
INDEXES = (
    ("ledger_instalment", "ledger_instalment_loan_id_632267ee"),
    ("ledger_payment", "ledger_payment_loan_id_928b3eb6"),
)


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0006_reversal_recorded_at"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{index}"',
                    reverse_sql=f'CREATE INDEX IF NOT EXISTS "{index}" ON "{table}" ("loan_id")',
                )
                for table, index in INDEXES
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="instalment",
                    name="loan",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="instalments",
                        to="ledger.loan",
                    ),
                ),
                migrations.AlterField(
                    model_name="payment",
                    name="loan",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="payments",
                        to="ledger.loan",
                    ),
                ),
            ],
        ),
    ]
