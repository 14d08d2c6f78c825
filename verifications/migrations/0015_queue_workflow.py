"""Issue 14: claims, decisions pending a second review, and a name search in any script.

``search_name`` is the name casefolded and without accents (``verifications.search.normalise``),
written with every row; this migration fills it for the rows already there. Its indexes
replace the name's: on PostgreSQL a trigram index on ``search_name`` (instead of 0006's on
``UPPER(full_name)``), on SQLite the FTS5 trigram table of 0007 rebuilt over ``search_name``
(adding the column rebuilds the session table, which drops 0007's triggers anyway).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from verifications.search import normalise

TABLE = "verifications_verificationsession"
SEARCH = "verifications_session_name_search"
BATCH = 2000

SQLITE_OLD = [
    f"DROP TRIGGER IF EXISTS {SEARCH}_insert",
    f"DROP TRIGGER IF EXISTS {SEARCH}_delete",
    f"DROP TRIGGER IF EXISTS {SEARCH}_update",
    f"DROP TABLE IF EXISTS {SEARCH}",
]
SQLITE_NEW = [
    f"CREATE VIRTUAL TABLE {SEARCH} USING fts5("
    f"search_name, content='{TABLE}', content_rowid='id', tokenize='trigram')",
    f"CREATE TRIGGER {SEARCH}_insert AFTER INSERT ON {TABLE} BEGIN "
    f"INSERT INTO {SEARCH}(rowid, search_name) VALUES (new.id, new.search_name); END",
    f"CREATE TRIGGER {SEARCH}_delete AFTER DELETE ON {TABLE} BEGIN "
    f"INSERT INTO {SEARCH}({SEARCH}, rowid, search_name) "
    "VALUES ('delete', old.id, old.search_name); END",
    f"CREATE TRIGGER {SEARCH}_update AFTER UPDATE OF id, search_name ON {TABLE} BEGIN "
    f"INSERT INTO {SEARCH}({SEARCH}, rowid, search_name) "
    "VALUES ('delete', old.id, old.search_name); "
    f"INSERT INTO {SEARCH}(rowid, search_name) VALUES (new.id, new.search_name); END",
    f"INSERT INTO {SEARCH}({SEARCH}) VALUES ('rebuild')",
]
POSTGRES_OLD = "session_full_name_trgm"
POSTGRES_NEW = "session_search_name_trgm"


def drop_name_search(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for statement in SQLITE_OLD:
            schema_editor.execute(statement)
    elif vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {POSTGRES_OLD}")


def fill_search_name(apps, schema_editor):
    Session = apps.get_model("verifications", "VerificationSession")
    rows = Session.objects.exclude(full_name="").order_by("pk").values_list("pk", "full_name")
    last = 0
    while batch := list(rows.filter(pk__gt=last)[:BATCH]):
        Session.objects.bulk_update(
            [Session(pk=pk, search_name=normalise(name)[:255]) for pk, name in batch],
            ["search_name"],
        )
        last = batch[-1][0]


def create_name_search(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for statement in SQLITE_NEW:
            schema_editor.execute(statement)
    elif vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {POSTGRES_NEW} ON {TABLE} "
            "USING gin (search_name gin_trgm_ops)"
        )


def drop_name_search_new(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for statement in SQLITE_OLD:
            schema_editor.execute(statement)
    elif vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {POSTGRES_NEW}")


def restore_old_name_search(apps, schema_editor):
    """Backwards: 0007's SQLite table and triggers, 0006's PostgreSQL index."""
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        old = [
            statement.replace("search_name", "full_name") for statement in SQLITE_NEW
        ]
        for statement in old:
            schema_editor.execute(statement)
    elif vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {POSTGRES_OLD} ON {TABLE} "
            "USING gin (UPPER(full_name::text) gin_trgm_ops)"
        )


class Migration(migrations.Migration):

    dependencies = [
        ('verifications', '0017_session_identifiers_and_sharing'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(drop_name_search, restore_old_name_search),
        migrations.AlterField(
            model_name='auditentry',
            name='action',
            field=models.CharField(choices=[('status_request', "Asked Didit to change a session's status"), ('status_update', 'Approved/declined a session'), ('status_refused', 'A status change Didit refused or did not answer'), ('aml_disposition', 'Disposed an AML hit'), ('aml_whitelist_add', 'Whitelisted an AML entity for a person'), ('aml_whitelist_revoke', 'Revoked an AML whitelist entry'), ('reverification', 'Started a re-verification'), ('didit_pdf', "Downloaded Didit's PDF report"), ('report_pdf', 'Downloaded a compliance report'), ('csv_export', 'Exported the queue as CSV'), ('pii_view', 'Viewed personal data'), ('resync', 'Re-synced from Didit'), ('claim', 'Claimed a session'), ('release', 'Released a session'), ('claim_reassign', "Reassigned a session's claim"), ('second_review_request', 'Held a decision for second review'), ('second_review_confirm', 'Confirmed a decision (second review)'), ('second_review_reject', 'Rejected a decision (second review)'), ('evidence_view', 'Viewed an archived evidence file'), ('evidence_pack', 'Requested or downloaded an evidence pack'), ('retention_purge', 'Purged personal data under the retention period'), ('deleted_at_didit', 'Found deleted at Didit')], max_length=32),
        ),
        migrations.AddField(
            model_name='verificationsession',
            name='search_name',
            field=models.CharField(blank=True, editable=False, max_length=255),
        ),
        migrations.CreateModel(
            name='PendingDecision',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('new_status', models.CharField(max_length=32)),
                ('comment', models.TextField(blank=True)),
                ('rules', models.JSONField(default=list, help_text='The four-eyes rules that fired.')),
                ('requested_at', models.DateTimeField()),
                ('state', models.CharField(choices=[('pending', 'Pending second review'), ('confirming', 'Being confirmed'), ('confirmed', 'Confirmed'), ('rejected', 'Rejected')], default='pending', max_length=16)),
                ('second_comment', models.TextField(blank=True)),
                ('resolved_at', models.DateTimeField(blank=True, null=True)),
                ('requested_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('second_reviewer', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('session', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='pending_decisions', to='verifications.verificationsession')),
            ],
            options={
                'ordering': ['requested_at', 'id'],
                'indexes': [models.Index(fields=['state', 'requested_at'], name='pending_state')],
                'constraints': [models.UniqueConstraint(condition=models.Q(('state__in', ['pending', 'confirming'])), fields=('session',), name='one_open_pending_decision')],
            },
        ),
        migrations.CreateModel(
            name='SessionClaim',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('claimed_at', models.DateTimeField()),
                ('active_at', models.DateTimeField(help_text='Last activity: the claim lapses after the TTL.')),
                ('owner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='session_claims', to=settings.AUTH_USER_MODEL)),
                ('session', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='claim', to='verifications.verificationsession')),
            ],
            options={
                'permissions': [('reassign_sessionclaim', "Can reassign or release others' claims")],
                'indexes': [models.Index(fields=['owner', 'active_at'], name='claim_owner_active')],
            },
        ),
        migrations.RunPython(fill_search_name, migrations.RunPython.noop),
        migrations.RunPython(create_name_search, drop_name_search_new),
    ]
