"""What the web app stores of its own: a collector's saved queue views.

Everything else the pages show belongs to the ledger and collections apps; a saved view is
only a named query string of the queue page, so it is re-validated by the same parser every
time it is opened (a view saved before a filter changed cannot smuggle a bad value in).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SavedView(models.Model):
    """A named queue view (filters and sort) of one user; nobody else sees or opens it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    name = models.CharField(max_length=80)
    #: The queue page's query string, as the parser normalised it (never a page number).
    query = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("name", "id")
        constraints = (
            models.UniqueConstraint(fields=["user", "name"], name="saved_view_user_name"),
        )

    def __str__(self) -> str:
        return self.name
