# The benchmark-only marker leaves the production schema: seeding (devtools) now treats its
# database as a scratch database instead of marking the rows it wrote.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("verifications", "0010_webhook_delivery_durable"),
    ]

    operations = [
        migrations.RemoveField(model_name="verificationsession", name="synthetic"),
    ]
