"""The console's three roles as groups: viewer reads, reviewer also writes, admin has all.

Permissions are normally created by ``post_migrate``, after every migration has run; this
migration creates the ones it needs first, so it works on a fresh database too.
"""

from __future__ import annotations

from django.contrib.auth.management import create_permissions
from django.db import migrations

OUR_APPS = ("verifications", "users")
# What a reviewer may do besides reading: approve/decline, dispose AML hits, re-verify.
REVIEWER_PERMISSIONS = (
    ("verifications", "review_session"),
    ("verifications", "dispose_aml_hit"),
    ("users", "start_reverification"),
)


def create_roles(apps, schema_editor):
    for app_label in OUR_APPS:
        app_config = apps.get_app_config(app_label)
        # create_permissions skips an app whose models module is unset (the migration state's
        # app configs have none); it only reads the models through ``apps``.
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = models_module

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ours = Permission.objects.filter(content_type__app_label__in=OUR_APPS)
    view = list(ours.filter(codename__startswith="view_"))
    extra = [
        ours.get(content_type__app_label=app_label, codename=codename)
        for app_label, codename in REVIEWER_PERMISSIONS
    ]

    roles = {"viewer": view, "reviewer": view + extra, "admin": list(ours)}
    for name, permissions in roles.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*permissions)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(
        name__in=["viewer", "reviewer", "admin"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("users", "0001_initial"),
        ("verifications", "0004_used_form_token"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
