"""On PostgreSQL the problem track refuses UPDATE and DELETE from any client, like the audit log."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION problems_problemevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = 'problems_problemevent is append-only: ' || TG_OP || ' refused',
        ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER problems_problemevent_no_update_delete
    BEFORE UPDATE OR DELETE ON problems_problemevent
    FOR EACH ROW EXECUTE FUNCTION problems_problemevent_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS problems_problemevent_no_update_delete ON problems_problemevent;
DROP FUNCTION IF EXISTS problems_problemevent_append_only();
"""


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("problems", "0002_shipped_categories")]
    operations = [migrations.RunPython(forwards, backwards)]
