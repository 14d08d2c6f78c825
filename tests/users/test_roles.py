"""The three roles ``migrate`` makes (users/roles.py), and what each may do."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from users.roles import (
    BUILD_EVIDENCE_PACKS,
    DISPOSE_AML_HIT,
    REVIEW_SESSION,
    REVIEWER_PERMISSIONS,
    START_REVERIFICATION,
    VIEW_SESSIONS,
    VIEW_USERS,
)

pytestmark = pytest.mark.django_db


def perms(group_name: str) -> set[str]:
    group = Group.objects.get(name=group_name)
    return {
        f"{app}.{codename}"
        for app, codename in group.permissions.values_list("content_type__app_label", "codename")
    }


def test_migrate_creates_the_three_roles():
    assert set(Group.objects.values_list("name", flat=True)) >= {"viewer", "reviewer", "admin"}


def test_a_viewer_reads_and_never_writes():
    viewer = perms("viewer")
    assert {VIEW_SESSIONS, "verifications.view_amlhit"} <= viewer
    assert VIEW_USERS in viewer
    assert all(".view_" in perm for perm in viewer)


def test_a_reviewer_reads_reviews_disposes_and_reverifies():
    reviewer = perms("reviewer")
    assert perms("viewer") < reviewer
    assert reviewer - perms("viewer") == {
        REVIEW_SESSION,
        DISPOSE_AML_HIT,
        START_REVERIFICATION,
        BUILD_EVIDENCE_PACKS,
    }
    assert set(REVIEWER_PERMISSIONS) == {
        REVIEW_SESSION,
        DISPOSE_AML_HIT,
        START_REVERIFICATION,
        BUILD_EVIDENCE_PACKS,
    }


def test_an_admin_has_every_permission_of_our_apps():
    admin = perms("admin")
    assert perms("reviewer") < admin
    assert {"verifications.change_verificationsession", "users.delete_didituser"} <= admin


def test_personas_get_their_roles_permissions(viewer, reviewer, outsider):
    assert viewer.has_perm(VIEW_SESSIONS)
    assert not viewer.has_perm(REVIEW_SESSION)
    assert reviewer.has_perm(REVIEW_SESSION)
    assert reviewer.has_perm(DISPOSE_AML_HIT)
    assert not outsider.has_perm(VIEW_SESSIONS)


def test_models_added_after_the_roles_migration_are_in_every_role():
    # The models of migrations after users.0002 (the webhook log, form tokens' app...) and
    # any model added tomorrow: its permissions reach the roles in the same migrate.
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType
    from django.core.management.sql import emit_post_migrate_signal

    later = ContentType.objects.create(app_label="verifications", model="addedlater")
    for action in ("view", "change"):
        Permission.objects.create(
            content_type=later, codename=f"{action}_addedlater", name=f"Can {action}"
        )
    other_app = ContentType.objects.create(app_label="elsewhere", model="thing")
    Permission.objects.create(content_type=other_app, codename="view_thing", name="Can view")

    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")

    assert "verifications.view_addedlater" in perms("viewer")
    assert "verifications.view_addedlater" in perms("reviewer")
    assert "verifications.change_addedlater" not in perms("reviewer")
    assert {"verifications.view_addedlater", "verifications.change_addedlater"} <= perms("admin")
    assert not any(perm.startswith("elsewhere.") for perm in perms("admin"))
    test_a_viewer_reads_and_never_writes()
    test_a_reviewer_reads_reviews_disposes_and_reverifies()


def test_roles_come_back_with_their_permissions_after_the_groups_are_lost():
    from django.core.management.sql import emit_post_migrate_signal

    Group.objects.filter(name__in=["viewer", "reviewer", "admin"]).delete()

    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")

    assert REVIEW_SESSION in perms("reviewer")
    assert VIEW_SESSIONS in perms("viewer") and REVIEW_SESSION not in perms("viewer")
    assert perms("reviewer") < perms("admin")


def test_the_roles_migration_no_longer_defines_the_roles():
    from importlib import import_module

    migration = import_module("users.migrations.0002_roles").Migration
    assert migration.operations == []
