from io import StringIO

import pytest
from django.core.management import CommandError, call_command


@pytest.mark.django_db
def test_run_day_prints_a_one_line_summary():
    out = StringIO()
    call_command("run-day", "--as-of", "2026-03-01", stdout=out)
    assert out.getvalue().startswith("2026-03-01: 0 loans, 0 delinquent")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "2026-02-30"], "--as-of: '2026-02-30' is not a valid date"),
        ([], "give --as-of DATE, or --from DATE --to DATE"),
        (
            ["--from", "2026-03-02", "--to", "2026-03-01"],
            "--to 2026-03-01 is before --from 2026-03-02",
        ),
    ],
)
@pytest.mark.django_db
def test_bad_dates_are_refused_with_the_option_named(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("run-day", *args)
