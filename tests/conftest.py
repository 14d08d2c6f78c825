"""Shared fixtures: personas, the sandbox Didit server (from its pytest plugin), the synced
world, and cheap rows.

Personas are the people who use the console. ``viewer``, ``reviewer`` and ``admin`` belong to
the Django groups of the same names (their permissions come from a migration); ``admin`` is
also staff and superuser; ``outsider`` can log in but belongs to no group. Each has a client
already logged in: ``viewer_client``, ``reviewer_client``, ``admin_client``, ``outsider_client``.

``admin_user`` and ``admin_client`` replace pytest-django's fixtures of the same names, so
code written against either convention gets the same admin persona.

``synced_sandbox`` is the default sandbox (30 sessions, seed 1) synced into the test database,
settings pointed at it; ``sandbox`` and ``synced`` are the names test modules gave it before.
A test that needs a row or two builds them instead (``tests.factories``): no sync at all.
"""

from __future__ import annotations

from functools import cache

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.test import Client, override_settings

from tests.sandbox import SyncedWorld

pytest_plugins = ["verifications.didit.sandbox.pytest_plugin"]

# Every persona's password, for tests that log in through the real login form.
PERSONA_PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(scope="session", autouse=True)
def fast_password_hasher(django_test_environment):
    """MD5 for the test run: production's slow hasher is the point there, a cost here."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@cache
def _persona_password_hash() -> str:
    # Hashing is deliberately slow; hash once per test run rather than once per user.
    return make_password(PERSONA_PASSWORD)


def _create_persona(django_user_model, *, username: str, group: str | None, **flags):
    user = django_user_model.objects.create(
        username=username,
        email=f"{username}@example.com",
        password=_persona_password_hash(),
        **flags,
    )
    if group is not None:
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def persona_password() -> str:
    return PERSONA_PASSWORD


@pytest.fixture
def viewer(db, django_user_model):
    return _create_persona(django_user_model, username="viewer", group="viewer")


@pytest.fixture
def reviewer(db, django_user_model):
    return _create_persona(django_user_model, username="reviewer", group="reviewer")


@pytest.fixture
def admin(db, django_user_model):
    return _create_persona(
        django_user_model, username="admin", group="admin", is_staff=True, is_superuser=True
    )


@pytest.fixture
def outsider(db, django_user_model):
    return _create_persona(django_user_model, username="outsider", group=None)


@pytest.fixture
def admin_user(admin):
    """pytest-django's ``admin_user``, replaced by the admin persona."""
    return admin


@pytest.fixture
def viewer_client(viewer) -> Client:
    return _client_for(viewer)


@pytest.fixture
def reviewer_client(reviewer) -> Client:
    return _client_for(reviewer)


@pytest.fixture
def admin_client(admin) -> Client:
    """pytest-django's ``admin_client``, replaced by a client logged in as the admin persona."""
    return _client_for(admin)


@pytest.fixture
def outsider_client(outsider) -> Client:
    return _client_for(outsider)


@pytest.fixture(scope="session")
def synced_world() -> SyncedWorld:
    """One sync of the default sandbox for the whole run (see ``tests.sandbox.SyncedWorld``)."""
    return SyncedWorld()


@pytest.fixture
def synced_sandbox(db, settings, synced_world):
    """The default sandbox (30 sessions, seed 1), synced: the test database equals Didit's,
    and the console's settings point at it. A fresh server per test: call counts, faults and
    status changes never leak from one test to the next."""
    server = synced_world.start()
    try:
        synced_world.fill(server, settings)
        yield server
    finally:
        server.stop()


@pytest.fixture
def sandbox(synced_sandbox):
    """``synced_sandbox``, by the name the view tests know it."""
    return synced_sandbox


@pytest.fixture
def synced(synced_sandbox):
    """``synced_sandbox``, by the name the admin, PDF and webhook tests know it."""
    return synced_sandbox


@pytest.fixture(autouse=True)
def _evidence_archive_in_tmp(tmp_path_factory, settings):
    """Archived evidence goes to a per-test directory, never to the worktree's media/."""
    location = tmp_path_factory.mktemp("evidence")
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(location)},
        },
    }
