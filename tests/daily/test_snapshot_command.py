"""``arrears snapshot export DIR``: writes a readable snapshot, never over someone's files."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from arrears.engine.snapshot import read_snapshot
from tests import factories


@pytest.fixture
def two_loans(db: None) -> None:
    product = factories.product()
    owner = factories.borrower()
    factories.loan("L1", owner, product)
    factories.loan("L2", owner, product, term=6)


def export(*args: str) -> str:
    out = StringIO()
    call_command("snapshot", "export", *args, stdout=out)
    return out.getvalue()


@pytest.mark.usefixtures("two_loans")
def test_export_writes_a_snapshot_and_prints_its_counts(tmp_path: Path) -> None:
    target = tmp_path / "snap"
    output = export(str(target))
    assert output == (
        "exported 1 products, 2 loans, 18 instalments, 0 payments, 0 waivers, 0 plans, "
        f"0 plan_instalments to {target}\n"
    )
    assert read_snapshot(target).loans["ref"].to_list() == ["L1", "L2"]


@pytest.mark.usefixtures("two_loans")
def test_export_refuses_a_non_empty_directory_unless_forced(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(CommandError, match=f"{tmp_path} is not empty; .* pass --force"):
        export(str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    export(str(tmp_path), "--force")
    assert read_snapshot(tmp_path).loans.height == 2
    assert (tmp_path / "notes.txt").read_text() == "keep me"


@pytest.mark.usefixtures("two_loans")
def test_a_second_forced_export_replaces_the_first(tmp_path: Path) -> None:
    export(str(tmp_path))
    factories.loan("L3", factories.borrower("B2", phone=None), factories.product("OTHER"))
    output = export(str(tmp_path), "--force", "--batch-size", "1")
    assert "2 products, 3 loans" in output
    assert read_snapshot(tmp_path).loans["ref"].to_list() == ["L1", "L2", "L3"]


@pytest.mark.django_db
def test_export_refuses_a_file_and_a_missing_action(tmp_path: Path) -> None:
    target = tmp_path / "file.parquet"
    target.write_text("")
    with pytest.raises(CommandError, match="is a file, not a directory"):
        export(str(target))
    with pytest.raises(CommandError, match="ACTION"):
        call_command("snapshot")


@pytest.mark.usefixtures("two_loans")
def test_loans_with_waivers_are_exported_with_them(tmp_path: Path) -> None:
    from datetime import date

    from django.contrib.auth.models import User

    from arrears.ledger import models

    models.Waiver.objects.create(
        ref="L2-W1",
        loan=models.Loan.objects.get(ref="L2"),
        component="penalty",
        amount_minor=100,
        effective_on=date(2026, 3, 1),
        reason="hardship",
        status="approved",
        requested_by=User.objects.create_user("maker"),
    )
    assert "1 waivers" in export(str(tmp_path / "all"))
    read = read_snapshot(tmp_path / "all")
    assert read.loans["ref"].to_list() == ["L1", "L2"]
    assert read.waivers["ref"].to_list() == ["L2-W1"]
    # the old flag is a no-op for one release: nothing is left out any more
    assert "2 loans" in export(str(tmp_path / "flag"), "--exclude-adjusted")
