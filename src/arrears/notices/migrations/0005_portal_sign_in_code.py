"""Activate the shipped ``portal_sign_in_code`` template (issue 11) on databases loaded before it.

It re-runs 0002's loader, which leaves every (code, locale, channel) that already has a version
alone, so only the new template is added; a fresh database gets it from 0002 already.
"""

from django.db import migrations


def load(apps, schema_editor):
    from importlib import import_module

    import_module("arrears.notices.migrations.0002_shipped_catalogue").load(apps, schema_editor)


def unload(apps, schema_editor):
    template = apps.get_model("notices", "MessageTemplate")
    template.objects.filter(code="portal_sign_in_code", version=1, created_by__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("notices", "0004_complaint_resolution")]
    operations = [migrations.RunPython(load, unload)]
