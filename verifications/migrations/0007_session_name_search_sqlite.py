"""SQLite: a trigram full-text index on the session's name, so the queue's search stays fast.

PostgreSQL has its trigram index since 0006. On SQLite a name search (``LIKE '%...%'``) read
every row of the session table, decision JSON included: 0.4 s at 100k sessions. An FTS5
table with the trigram tokenizer (SQLite 3.34+) answers the same ``LIKE`` from its index. It
is an external-content table: it stores only the index, and triggers keep it in step with
every insert, update and delete, whatever code (or tool) writes the table.
"""

from django.db import migrations

TABLE = "verifications_verificationsession"
SEARCH = "verifications_session_name_search"

CREATE = [
    f"CREATE VIRTUAL TABLE {SEARCH} USING fts5("
    f"full_name, content='{TABLE}', content_rowid='id', tokenize='trigram')",
    f"CREATE TRIGGER {SEARCH}_insert AFTER INSERT ON {TABLE} BEGIN "
    f"INSERT INTO {SEARCH}(rowid, full_name) VALUES (new.id, new.full_name); END",
    f"CREATE TRIGGER {SEARCH}_delete AFTER DELETE ON {TABLE} BEGIN "
    f"INSERT INTO {SEARCH}({SEARCH}, rowid, full_name) VALUES ('delete', old.id, old.full_name); "
    "END",
    f"CREATE TRIGGER {SEARCH}_update AFTER UPDATE OF id, full_name ON {TABLE} BEGIN "
    f"INSERT INTO {SEARCH}({SEARCH}, rowid, full_name) VALUES ('delete', old.id, old.full_name); "
    f"INSERT INTO {SEARCH}(rowid, full_name) VALUES (new.id, new.full_name); END",
    # Index the rows already there.
    f"INSERT INTO {SEARCH}({SEARCH}) VALUES ('rebuild')",
]
DROP = [
    f"DROP TRIGGER IF EXISTS {SEARCH}_insert",
    f"DROP TRIGGER IF EXISTS {SEARCH}_delete",
    f"DROP TRIGGER IF EXISTS {SEARCH}_update",
    f"DROP TABLE IF EXISTS {SEARCH}",
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    from django.db import OperationalError

    try:
        schema_editor.execute(CREATE[0])
    except OperationalError as exc:
        raise RuntimeError(
            "Didit Console needs SQLite 3.34 or newer with FTS5 (for the queue's search); "
            f"this Python's SQLite says: {exc}"
        ) from exc
    for statement in CREATE[1:]:
        schema_editor.execute(statement)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for statement in DROP:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("verifications", "0006_session_search_indexes"),
    ]

    operations = [migrations.RunPython(create, drop)]
