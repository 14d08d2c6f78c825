"""The console's roles (Django groups) and the permission names views check: defined here once.

``grant_role_permissions`` runs after every ``migrate`` (``post_migrate``, see
``UsersConfig.ready``), once Django has created the permissions of any new model: it makes the
three groups if they are missing and gives each the permissions it stands for: every
permission of our apps to ``admin``, their ``view_*`` to ``viewer`` and ``reviewer``, and the
reviewer's write permissions to ``reviewer``. Each ``migrate`` (and each flush of a test
database) restores these; permissions added to a group by hand are left alone.

Views and tests import the permission names below rather than spelling them.
"""

from __future__ import annotations

from django.apps import apps as global_apps
from django.db import DEFAULT_DB_ALIAS

# Permission names, as ``permission_required`` and ``has_perm`` take them.
VIEW_SESSIONS = "verifications.view_verificationsession"
REVIEW_SESSION = "verifications.review_session"
DISPOSE_AML_HIT = "verifications.dispose_aml_hit"
VIEW_USERS = "users.view_didituser"
START_REVERIFICATION = "users.start_reverification"
BUILD_EVIDENCE_PACKS = "verifications.add_evidencepack"

OUR_APPS = ("verifications", "users")
VIEWER, REVIEWER, ADMIN = "viewer", "reviewer", "admin"
ROLES = (VIEWER, REVIEWER, ADMIN)
# What a reviewer may do besides reading: approve/decline, dispose AML hits, re-verify,
# build evidence packs.
REVIEWER_PERMISSIONS = (REVIEW_SESSION, DISPOSE_AML_HIT, START_REVERIFICATION, BUILD_EVIDENCE_PACKS)


def role_permissions(using: str = DEFAULT_DB_ALIAS, *, apps=global_apps) -> dict[str, list]:
    """Each role's permissions, from the permissions of our apps that exist now."""
    permission_model = apps.get_model("auth", "Permission")
    ours = list(
        permission_model.objects.using(using)
        .filter(content_type__app_label__in=OUR_APPS)
        .select_related("content_type")
    )
    view = [permission for permission in ours if permission.codename.startswith("view_")]
    extra = [
        permission
        for permission in ours
        if f"{permission.content_type.app_label}.{permission.codename}" in REVIEWER_PERMISSIONS
    ]
    return {VIEWER: view, REVIEWER: view + extra, ADMIN: ours}


def grant_role_permissions(
    sender=None, using: str = DEFAULT_DB_ALIAS, apps=global_apps, **kwargs
) -> None:
    """``post_migrate`` receiver: make the roles, and give them the permissions they stand for."""
    if sender is not None and sender.label not in OUR_APPS:
        return
    try:
        group_model = apps.get_model("auth", "Group")
        apps.get_model("auth", "Permission")
    except LookupError:
        return  # Migrated backwards past django.contrib.auth: nothing to grant.
    for name, permissions in role_permissions(using, apps=apps).items():
        group, _ = group_model.objects.using(using).get_or_create(name=name)
        group.permissions.add(*permissions)
