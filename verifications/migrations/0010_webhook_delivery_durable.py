"""Durable webhook deliveries (a re-fetch owed until a worker did it), and the table of the
"didit" cache that shares Didit's OAuth token between processes (settings.CACHES)."""

from django.core.management import call_command
from django.db import migrations, models


def settle_existing(apps, schema_editor):
    # Deliveries stored before this migration were processed within their request.
    WebhookDelivery = apps.get_model("verifications", "WebhookDelivery")
    WebhookDelivery.objects.using(schema_editor.connection.alias).update(pending=False)


def create_cache_table(apps, schema_editor):
    # Creates the table of every database cache in settings (none: nothing to do).
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):

    dependencies = [
        ('verifications', '0009_session_status_index_with_id'),
    ]

    operations = [
        migrations.AddField(
            model_name='webhookdelivery',
            name='attempts',
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='webhookdelivery',
            name='claimed_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='webhookdelivery',
            name='pending',
            field=models.BooleanField(default=True),
        ),
        migrations.RunPython(settle_existing, migrations.RunPython.noop),
        migrations.AddField(
            model_name='webhookdelivery',
            name='processed_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='webhookdelivery',
            name='repeats',
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddIndex(
            model_name='webhookdelivery',
            index=models.Index(condition=models.Q(('pending', True)), fields=['claimed_at'], name='delivery_pending'),
        ),
        migrations.RunPython(create_cache_table, migrations.RunPython.noop),
    ]
