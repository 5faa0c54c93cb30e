"""daily.LoanState records the ledger revision of the loan it was computed from, so a rerun
of the same day recomputes only the loans whose ledger rows changed since; DayRun counts the
loans a run recomputed."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("daily", "0004_loanstate_contract_names"), ("ledger", "0004_loan_revision")]

    operations = [
        migrations.AddField(
            model_name="dayrun",
            name="recomputed",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="loanstate",
            name="revision",
            field=models.BigIntegerField(blank=True, editable=False, null=True),
        ),
    ]
