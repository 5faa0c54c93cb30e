"""Entries are written unsealed and sealed after the commit (``services.seal``).

``seq``, ``prev_hash`` and ``hash`` may be empty until then, and the PostgreSQL trigger lets
exactly one UPDATE through per row: unsealed to sealed, nothing but those three columns changed.
An INSERT must come unsealed (only the sealer places entries in the chain); DELETE is refused;
TRUNCATE is refused except in ``test_*`` databases (see ``docs/audit.md``).
"""

from django.db import migrations, models

SEAL_ONLY = """
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.seq IS NULL AND NEW.hash IS NULL AND NEW.prev_hash = '' THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'audit entries are append-only: insert them unsealed';
    END IF;
    IF TG_OP = 'UPDATE'
        AND OLD.seq IS NULL AND OLD.hash IS NULL
        AND NEW.seq IS NOT NULL AND NEW.hash IS NOT NULL
        AND (to_jsonb(NEW) - 'seq' - 'prev_hash' - 'hash')
            = (to_jsonb(OLD) - 'seq' - 'prev_hash' - 'hash')
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit entries are append-only';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_auditentry_append_only ON audit_auditentry;
CREATE TRIGGER audit_auditentry_append_only BEFORE INSERT OR UPDATE OR DELETE ON audit_auditentry
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
-- every entry is updated exactly once (its seal) and leaves one dead row: vacuum by count, not
-- by a fifth of a table that only grows
ALTER TABLE audit_auditentry SET (
    autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000
);
"""
APPEND_ONLY = """
ALTER TABLE audit_auditentry RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold);
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit entries are append-only';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_auditentry_append_only ON audit_auditentry;
CREATE TRIGGER audit_auditentry_append_only BEFORE UPDATE OR DELETE ON audit_auditentry
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();
"""


def seal_trigger(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SEAL_ONLY)


def append_only_trigger(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        migrations.DeleteModel(name="AuditHead"),
        migrations.AlterModelOptions(
            name="auditentry",
            options={"ordering": ["id"], "verbose_name_plural": "audit entries"},
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="seq",
            field=models.PositiveBigIntegerField(blank=True, null=True, unique=True),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="prev_hash",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="hash",
            field=models.CharField(blank=True, max_length=64, null=True, unique=True),
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(
                condition=models.Q(("seq__isnull", True)), fields=["id"], name="audit_unsealed"
            ),
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(fields=["subject_type", "subject_id"], name="audit_subject"),
        ),
        migrations.AddIndex(
            model_name="auditentry",
            index=models.Index(fields=["actor"], name="audit_actor"),
        ),
        migrations.RunPython(seal_trigger, append_only_trigger),
    ]
