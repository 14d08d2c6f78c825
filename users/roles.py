"""The console's roles (Django groups), kept in step with the models after every migrate.

Migration ``users.0002_roles`` created the groups with the permissions of that day. A model
added later gets its permissions from Django's ``post_migrate``; ``grant_role_permissions``
(run right after it, see ``UsersConfig.ready``) adds them to the roles: every permission of
our apps to ``admin``, their ``view_*`` to ``viewer`` and ``reviewer``, and the reviewer's
write permissions to ``reviewer``. Each ``migrate`` restores these; permissions added to a
group by hand are left alone.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

OUR_APPS = ("verifications", "users")
ROLES = ("viewer", "reviewer", "admin")
# What a reviewer may do besides reading: approve/decline, dispose AML hits, re-verify,
# build evidence packs.
REVIEWER_PERMISSIONS = (
    ("verifications", "review_session"),
    ("verifications", "dispose_aml_hit"),
    ("users", "start_reverification"),
    ("verifications", "add_evidencepack"),
)


def role_permissions(using: str = "default") -> dict[str, list[Permission]]:
    ours = (
        Permission.objects.using(using)
        .filter(content_type__app_label__in=OUR_APPS)
        .select_related("content_type")
    )
    everything = list(ours)
    view = [permission for permission in everything if permission.codename.startswith("view_")]
    extra = [
        permission
        for permission in everything
        if (permission.content_type.app_label, permission.codename) in REVIEWER_PERMISSIONS
    ]
    return {"viewer": view, "reviewer": view + extra, "admin": everything}


def grant_role_permissions(sender=None, using: str = "default", **kwargs) -> None:
    """``post_migrate`` receiver: give the roles that exist the permissions they stand for."""
    if sender is not None and sender.label not in OUR_APPS:
        return
    groups = {group.name: group for group in Group.objects.using(using).filter(name__in=ROLES)}
    if not groups:
        return  # Migrated backwards past the roles, or not yet forwards.
    for name, permissions in role_permissions(using).items():
        if name in groups:
            groups[name].permissions.add(*permissions)
