"""PostgreSQL indexes for the queue's search, so it stays an index lookup at 100k+ sessions.

The search matches session_id, document_number and vendor_data by prefix and the name
anywhere in it (``UPPER(full_name) LIKE '%...%'``). A trigram index serves the name; the
``varchar_pattern_ops`` indexes serve the prefixes whatever the database's collation. SQLite
has neither: there the search scans the table.
"""

from django.db import migrations

INDEXES = {
    "session_full_name_trgm": "USING gin (UPPER(full_name::text) gin_trgm_ops)",
    "session_document_number_like": "(document_number varchar_pattern_ops)",
    "session_vendor_data_like": "(vendor_data varchar_pattern_ops)",
}
TABLE = "verifications_verificationsession"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, definition in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {TABLE} {definition}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("verifications", "0005_session_synthetic"),
    ]

    operations = [migrations.RunPython(create, drop)]
