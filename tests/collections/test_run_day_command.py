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


def test_run_day_on_a_snapshot_writes_parquet_without_the_database(tmp_path):
    import polars as pl

    from arrears.kernel.terms import Payment
    from tests.engine.test_runner import write_snapshot
    from tests.kernel.factories import make_loan

    loan = make_loan()
    write_snapshot(tmp_path / "snap", [(loan, [Payment("P", loan.schedule[0].due_date, 5)])])
    out = StringIO()
    call_command(
        "run-day",
        "--as-of",
        "2026-02-25",
        "--snapshot",
        str(tmp_path / "snap"),
        "--out",
        str(tmp_path / "out"),
        stdout=out,
    )
    assert out.getvalue().startswith("2026-02-25: 1 loans, 1 delinquent, 0 errors [M1=1]")
    [row] = pl.read_parquet(tmp_path / "out" / "loan_state.parquet").iter_rows(named=True)
    assert (row["dpd"], row["paid_total"]) == (10, 5)


def test_run_day_on_a_snapshot_needs_both_directories(tmp_path):
    with pytest.raises(CommandError, match="--snapshot and --out go together"):
        call_command("run-day", "--as-of", "2026-02-25", "--snapshot", str(tmp_path))
    with pytest.raises(CommandError, match="is not a directory"):
        call_command(
            "run-day",
            "--as-of",
            "2026-02-25",
            "--snapshot",
            str(tmp_path / "x"),
            "--out",
            str(tmp_path / "o"),
        )
    with pytest.raises(CommandError, match=r"has no products\.parquet"):
        call_command(
            "run-day",
            "--as-of",
            "2026-02-25",
            "--snapshot",
            str(tmp_path),
            "--out",
            str(tmp_path / "o"),
        )


@pytest.mark.django_db
def test_the_old_polars_engine_name_runs_compiled_and_says_it_is_deprecated():
    from arrears.daily.models import DayRun

    out, err = StringIO(), StringIO()
    call_command("run-day", "--as-of", "2026-03-01", "--engine", "polars", stdout=out, stderr=err)
    assert "--engine polars is deprecated" in err.getvalue()
    assert "use --engine compiled" in err.getvalue()
    assert out.getvalue().startswith("2026-03-01: 0 loans")
    assert list(DayRun.objects.values_list("engine", flat=True)) == ["compiled"]


@pytest.mark.django_db
def test_the_compiled_engine_is_the_default_and_prints_no_notice():
    from arrears.daily.models import DayRun

    err = StringIO()
    call_command("run-day", "--as-of", "2026-03-01", stdout=StringIO(), stderr=err)
    assert err.getvalue() == ""
    assert list(DayRun.objects.values_list("engine", flat=True)) == ["compiled"]
