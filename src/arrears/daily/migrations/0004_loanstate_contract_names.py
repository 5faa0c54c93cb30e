"""daily.LoanState takes the loan-state contract's names (``penalty_minor`` → ``penalty_outstanding``
and so on): one name per figure from the kernel to the database (issue 12)."""

from django.db import migrations

RENAMES = [
    ("overdue_principal_minor", "overdue_principal"),
    ("overdue_interest_minor", "overdue_interest"),
    ("penalty_minor", "penalty_outstanding"),
    ("compound_minor", "compound_outstanding"),
    ("total_due_minor", "total_due"),
    ("principal_outstanding_minor", "principal_outstanding"),
    ("payoff_minor", "payoff"),
    ("credit_minor", "credit"),
]


class Migration(migrations.Migration):
    dependencies = [("daily", "0003_dayrun_config")]

    operations = [
        migrations.RenameField(model_name="loanstate", old_name=old, new_name=new)
        for old, new in RENAMES
    ]
