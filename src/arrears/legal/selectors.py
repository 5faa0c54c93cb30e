"""Reading letters for pages (the case page's panel, the PDF download)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from arrears.legal.models import LegalLetter


def letters_for_case(case: Any) -> QuerySet[LegalLetter]:
    """The case's letters, newest first, with the firm, the credential (its code hint and
    revocation) and the message that carried each (its status says whether it went out)."""
    return LegalLetter.objects.filter(case=case).select_related("firm", "credential", "message")


def visible_letter(user: Any, letter_id: int) -> LegalLetter | None:
    """The letter if ``user`` may see its case (``collections.selectors.visible_cases``),
    else None."""
    from arrears.collections.selectors import visible_cases

    return (
        LegalLetter.objects.filter(pk=letter_id, case__in=visible_cases(user))
        .select_related("firm")
        .first()
    )


def case_panel(case: Any, user: Any) -> dict[str, Any] | None:
    """The case page's letters panel (only shown once a letter exists: most cases never get
    one)."""
    letters = list(letters_for_case(case))
    return {"letters": letters} if letters else None
