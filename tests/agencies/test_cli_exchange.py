"""``arrears agency export|import|token``: the file exchange and API keys on the command line,
through the same services as the pages and the API."""

from __future__ import annotations

import csv
import io
from io import StringIO
from pathlib import Path

import polars as pl
import pytest
from django.core.management import CommandError, call_command

from arrears.agencies import access
from arrears.agencies.models import AgencyToken, ResultBatch
from arrears.collections.models import ContactAttempt
from tests.agencies.conftest import Agencies
from tests.agencies.test_exchange import _csv, _row


def agency(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("agency", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_export_writes_the_live_placements_as_csv_and_parquet(
    agencies: Agencies, tmp_path: Path
) -> None:
    day = agencies.book.today.isoformat()
    agency("export", "acme", "--out", str(tmp_path / "p.csv"), "--as-of", day)
    rows = list(csv.DictReader(io.StringIO((tmp_path / "p.csv").read_text())))
    assert sorted(int(r["case_id"]) for r in rows) == sorted(c.pk for c in agencies.book.cases[:2])
    agency("export", "acme", "--format", "parquet", "--out", str(tmp_path / "p.parquet"))
    assert pl.read_parquet(tmp_path / "p.parquet").height == 2


@pytest.mark.usefixtures("office_hours")
def test_import_applies_a_good_file_once_and_refuses_a_bad_one_naming_rows(
    agencies: Agencies, tmp_path: Path
) -> None:
    good = tmp_path / "results.csv"
    good.write_bytes(_csv([_row(agencies), _row(agencies, case=1)]))
    out, _ = agency("import", "acme", str(good), "--reference", "r1")
    assert "applied: 2 row(s)" in out and ContactAttempt.objects.count() == 2
    again, _ = agency("import", "acme", str(good), "--reference", "r1")
    assert "already applied" in again and ContactAttempt.objects.count() == 2
    bad = tmp_path / "bad.csv"
    bad.write_bytes(_csv([_row(agencies), _row(agencies, channel="fax", case=1)]))
    err = StringIO()
    with pytest.raises(CommandError, match="nothing applied"):
        call_command("agency", "import", "acme", str(bad), "--reference", "r2", stderr=err)
    assert "row 2, field channel:" in err.getvalue()
    assert ContactAttempt.objects.count() == 2 and ResultBatch.objects.count() == 1
    with pytest.raises(CommandError, match="no such file"):
        agency("import", "acme", str(tmp_path / "missing.csv"), "--reference", "r3")


def test_token_prints_a_key_once_and_stores_only_its_hash(agencies: Agencies) -> None:
    out, _ = agency("token", "acme", "--name", "core", "--scope", "placements:read")
    key = out.strip().rsplit(" ", 1)[-1]
    stored = AgencyToken.objects.get()
    assert key not in stored.key_hash and stored.scopes == ["placements:read"]
    assert access.token_for(key) == stored
