"""Once created the console's roles. They are defined in one place now, ``users/roles.py``,
whose ``post_migrate`` receiver makes the groups and grants their permissions after every
``migrate``; this migration stays so that the migrations after it keep their history."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("users", "0001_initial"),
        ("verifications", "0004_used_form_token"),
    ]

    operations = []
