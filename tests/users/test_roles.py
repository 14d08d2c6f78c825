"""The three roles the migration creates, and what each may do."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

pytestmark = pytest.mark.django_db


def perms(group_name: str) -> set[str]:
    group = Group.objects.get(name=group_name)
    return {
        f"{app}.{codename}"
        for app, codename in group.permissions.values_list("content_type__app_label", "codename")
    }


def test_the_migration_creates_the_three_roles():
    assert set(Group.objects.values_list("name", flat=True)) >= {"viewer", "reviewer", "admin"}


def test_a_viewer_reads_and_never_writes():
    viewer = perms("viewer")
    assert {"verifications.view_verificationsession", "verifications.view_amlhit"} <= viewer
    assert "users.view_didituser" in viewer
    assert all(".view_" in perm for perm in viewer)


def test_a_reviewer_reads_reviews_disposes_and_reverifies():
    reviewer = perms("reviewer")
    assert perms("viewer") < reviewer
    assert reviewer - perms("viewer") == {
        "verifications.review_session",
        "verifications.dispose_aml_hit",
        "users.start_reverification",
    }


def test_an_admin_has_every_permission_of_our_apps():
    admin = perms("admin")
    assert perms("reviewer") < admin
    assert {"verifications.change_verificationsession", "users.delete_didituser"} <= admin


def test_personas_get_their_roles_permissions(viewer, reviewer, outsider):
    assert viewer.has_perm("verifications.view_verificationsession")
    assert not viewer.has_perm("verifications.review_session")
    assert reviewer.has_perm("verifications.review_session")
    assert reviewer.has_perm("verifications.dispose_aml_hit")
    assert not outsider.has_perm("verifications.view_verificationsession")
