"""Load the shipped catalogue (``arrears/notices/catalogue``) as active version 1 of each template.

A (code, locale, channel) that already has any version is left alone, so re-running this on a
database where a lender has written its own wording changes nothing. The catalogue loader is
pure (YAML files, no models), so the historical model is all this migration touches.
"""

from django.db import migrations
from django.utils import timezone


def load(apps, schema_editor):
    from arrears.notices import catalogue

    template = apps.get_model("notices", "MessageTemplate")
    now = timezone.now()
    for shipped in catalogue.load():
        if template.objects.filter(
            code=shipped.code, locale=shipped.locale, channel=shipped.channel
        ).exists():
            continue
        template.objects.create(
            code=shipped.code,
            locale=shipped.locale,
            channel=shipped.channel,
            version=1,
            subject=shipped.subject,
            body=shipped.body,
            status="active",
            created_at=now,
            activated_at=now,
        )


def unload(apps, schema_editor):
    template = apps.get_model("notices", "MessageTemplate")
    template.objects.filter(version=1, created_by__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("notices", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
