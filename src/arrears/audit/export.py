"""Dispute bundle for one case: entries.json, bundle.pdf, manifest.json.

``entries.json`` holds ``entries`` (the case's full canonical records) and ``chain`` (the
(seq, prev_hash, hash) link of EVERY entry from the first case entry to the last), so
``chain.verify_bundle`` alone can re-hash the case's entries and check they sit, unbroken, in
the chain. ``manifest.json`` carries the SHA-256 of each other file.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from arrears.audit.models import AuditEntry
from arrears.channels.pdfparts import cjk_font


def export_case(case_id: int, out: Path) -> list[str]:
    """Write the bundle for ``case_id`` into ``out``; returns the file names written."""
    out.mkdir(parents=True, exist_ok=True)
    mine = list(AuditEntry.objects.filter(case_id=case_id, seq__isnull=False).order_by("seq"))
    links: list[dict[str, object]] = []
    if mine:
        span = AuditEntry.objects.filter(seq__gte=mine[0].seq, seq__lte=mine[-1].seq)
        links = [
            {"seq": s, "prev_hash": p, "hash": h}
            for s, p, h in span.order_by("seq").values_list("seq", "prev_hash", "hash").iterator()
        ]
    bundle = {"case_id": case_id, "entries": [e.record() for e in mine], "chain": links}
    (out / "entries.json").write_text(
        json.dumps(bundle, ensure_ascii=False, indent=1, sort_keys=True), "utf-8"
    )
    _pdf(case_id, mine, out / "bundle.pdf")
    files = ("entries.json", "bundle.pdf")
    manifest = {
        "case_id": case_id,
        "files": {n: hashlib.sha256((out / n).read_bytes()).hexdigest() for n in files},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True), "utf-8")
    return [*files, "manifest.json"]


def bundle_zip(case_id: int) -> bytes:
    """The case's bundle (what ``export_case`` writes) as one zip, for a download; pending
    entries are sealed first so the bundle holds everything committed."""
    import io
    import tempfile
    import zipfile

    from arrears.audit.services import seal

    seal()
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp:
        names = export_case(case_id, Path(tmp))
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in names:
                archive.write(Path(tmp) / name, f"case-{case_id}/{name}")
    return buffer.getvalue()


def _pdf(case_id: int, entries: list[AuditEntry], path: Path) -> None:
    font = cjk_font()
    pdf = Canvas(str(path), pagesize=A4, invariant=True)
    height = A4[1]
    y = height - 50

    def line(text: str, size: int = 9) -> None:
        nonlocal y
        if y < 50:
            pdf.showPage()
            y = height - 50
        pdf.setFont(font, size)
        pdf.drawString(40, y, text[:110])
        y -= size + 5

    line(f"审计记录 / Audit record — 案件 / case {case_id}", 14)
    line(f"条目 / entries: {len(entries)}")
    for e in entries:
        line(f"#{e.seq} {e.at.isoformat()} {e.actor} {e.action} {e.subject_type}:{e.subject_id}")
        line(f"    {_('hash')} / 哈希: {e.hash}", 7)
    pdf.save()
