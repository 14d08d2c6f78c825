"""Django admin for claims and pending second reviews: admins release claims (audited, like
the console's Release button); nobody adds, edits or deletes either by hand."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from tests.sandbox import session_row
from verifications.models import AuditEntry, SessionClaim, VerificationSession

CHANGELIST = "admin:verifications_sessionclaim_changelist"


@pytest.fixture
def claims(db, admin):
    reviewer = get_user_model().objects.create_user("reviewer-x", password="x")
    now = timezone.now()
    sessions = VerificationSession.objects.bulk_create(
        [session_row(f"claim-{n}", created_at=now, status="In Review") for n in range(3)]
    )
    return [
        SessionClaim.objects.create(session=session, owner=reviewer, claimed_at=now, active_at=now)
        for session in sessions
    ]


def release(client, claims):
    return client.post(
        reverse(CHANGELIST),
        {"action": "release", "_selected_action": [claim.pk for claim in claims]},
        follow=True,
    )


def test_an_admin_releases_selected_claims_and_each_release_is_audited(admin_client, claims):
    response = release(admin_client, claims[:2])
    assert response.status_code == 200
    assert "Released 2 claims." in response.content.decode()
    assert list(SessionClaim.objects.values_list("pk", flat=True)) == [claims[2].pk]
    entries = AuditEntry.objects.filter(action="release").order_by("object_id")
    assert [(e.object_id, e.actor_username, e.detail["owner"]) for e in entries] == [
        ("claim-0", "admin", "reviewer-x"),
        ("claim-1", "admin", "reviewer-x"),
    ]


def test_staff_without_the_reassign_permission_cannot_release(client, claims):
    staff = get_user_model().objects.create_user("staff", password="x", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_sessionclaim"))
    client.force_login(staff)
    page = client.get(reverse(CHANGELIST))
    assert page.status_code == 200
    assert b"Release the selected claims" not in page.content
    release(client, claims)
    assert SessionClaim.objects.count() == 3
    assert not AuditEntry.objects.filter(action="release").exists()


def test_a_claim_shows_whether_it_is_live_or_lapsed(admin_client, claims, settings):
    SessionClaim.objects.filter(pk=claims[0].pk).update(
        active_at=timezone.now() - timezone.timedelta(minutes=settings.CLAIM_TTL_MINUTES + 1)
    )
    lapsed = admin_client.get(reverse(CHANGELIST), {"state": "lapsed"}).content.decode()
    live = admin_client.get(reverse(CHANGELIST), {"state": "live"}).content.decode()
    assert "claim-0" in lapsed and "claim-1" not in lapsed
    assert "claim-0" not in live and "claim-1" in live and "claim-2" in live
