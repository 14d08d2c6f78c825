"""Personal data in transit: never cached on the way, every look audited (admin included),
every refused attempt on it audited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.sandbox import session_row
from users.models import DiditUser
from verifications.models import AuditAction, AuditEntry, VerificationSession

pytestmark = pytest.mark.django_db


@pytest.fixture
def person() -> VerificationSession:
    user = DiditUser.objects.create(vendor_data="alice@example.com", full_name="Alice Example")
    session = session_row("s-private-1", full_name="Alice Example", document_number="X1234567")
    session.user = user
    session.vendor_data = user.vendor_data
    session.save()
    return session


def no_store(response) -> bool:
    directives = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    return {"private", "no-store"} <= directives


@pytest.mark.parametrize(
    "path",
    [
        "/sessions/",
        "/sessions/?q=X1234567",
        "/sessions/export.csv",
        "/sessions/s-private-1/",
        "/users/alice@example.com/",
    ],
)
def test_pages_and_files_with_personal_data_are_never_cached(reviewer_client, person, path):
    response = reviewer_client.get(path)
    assert response.status_code == 200
    assert no_store(response), response.get("Cache-Control")


def test_admin_pages_with_personal_data_are_never_cached(admin_client, person):
    url = reverse("admin:verifications_verificationsession_change", args=[person.pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    assert no_store(response)


def test_opening_a_session_in_the_admin_is_audited(admin_client, admin, person):
    url = reverse("admin:verifications_verificationsession_change", args=[person.pk])
    assert admin_client.get(url).status_code == 200
    entry = AuditEntry.objects.get(action=AuditAction.PII_VIEW)
    assert (entry.actor, entry.object_type, entry.object_id) == (admin, "session", "s-private-1")
    assert entry.detail == {"via": "admin", "model": "verificationsession"}


def test_opening_a_didit_user_in_the_admin_is_audited(admin_client, person):
    url = reverse("admin:users_didituser_change", args=[person.user.pk])
    assert admin_client.get(url).status_code == 200
    entry = AuditEntry.objects.get(action=AuditAction.PII_VIEW)
    assert (entry.object_type, entry.object_id) == ("user", "alice@example.com")


def test_admin_lists_and_non_personal_pages_are_not_audited_as_views(admin_client, person):
    assert admin_client.get(reverse("admin:verifications_syncrun_changelist")).status_code == 200
    assert not AuditEntry.objects.filter(action=AuditAction.PII_VIEW).exists()


@pytest.mark.parametrize(
    ("path", "object_type", "object_id"),
    [
        ("/sessions/s-private-1/", "session", "s-private-1"),
        ("/users/alice@example.com/", "user", "alice@example.com"),
        ("/sessions/", "page", "session-list"),
    ],
)
def test_a_refused_look_at_personal_data_is_audited(
    outsider_client, outsider, person, path, object_type, object_id
):
    response = outsider_client.get(path)
    assert response.status_code == 403
    entry = AuditEntry.objects.get(action=AuditAction.ACCESS_DENIED)
    assert (entry.actor, entry.object_type, entry.object_id) == (outsider, object_type, object_id)
    assert entry.detail == {"method": "GET", "path": path}
    assert no_store(response)


def test_a_refused_decision_is_audited(viewer_client, viewer, person):
    response = viewer_client.post(
        "/sessions/s-private-1/status/", {"new_status": "Approved", "comment": "x"}
    )
    assert response.status_code == 403
    entry = AuditEntry.objects.get(action=AuditAction.ACCESS_DENIED)
    assert (entry.actor, entry.object_id, entry.detail["method"]) == (viewer, "s-private-1", "POST")


def test_a_refused_admin_page_of_personal_data_is_audited(client, django_user_model, person):
    staff = django_user_model.objects.create(username="staff", is_staff=True)
    client.force_login(staff)
    url = reverse("admin:verifications_verificationsession_change", args=[person.pk])
    assert client.get(url).status_code == 403
    entry = AuditEntry.objects.get(action=AuditAction.ACCESS_DENIED)
    assert (entry.object_type, entry.object_id) == ("admin", str(person.pk))


@pytest.mark.parametrize(
    ("trusted", "forwarded", "expected"),
    [
        ([], "203.0.113.9", "127.0.0.1"),
        (["127.0.0.1"], "198.51.100.1, 203.0.113.9", "203.0.113.9"),
        (["127.0.0.1"], "not-an-address", "127.0.0.1"),
    ],
)
def test_the_client_address_comes_through_a_trusted_proxy_only(
    rf, settings, trusted, forwarded, expected
):
    from verifications.audit import client_ip

    settings.TRUSTED_PROXIES = trusted
    request = rf.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected
