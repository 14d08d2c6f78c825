"""Share a session and import a shared one, through the sandbox over real HTTP."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.sandbox import sync_all
from verifications.models import AuditAction, AuditEntry, VerificationSession

pytestmark = pytest.mark.django_db

FINISHED = ["Approved", "Declined", "In Review", "Kyc Expired"]
IMPORT_URL = reverse("verifications:session-import")


@pytest.fixture
def sandbox(didit_sandbox, settings):
    sync_all(didit_sandbox, settings)
    return didit_sandbox


def finished_session() -> VerificationSession:
    return VerificationSession.objects.filter(status="Approved").order_by("id").first()


def share_url(session: VerificationSession) -> str:
    return reverse("verifications:session-share", args=[session.session_id])


def share(client, session, **fields) -> str:
    data = {"ttl_in_seconds": "600", "for_application_id": "", **fields}
    response = client.post(share_url(session), data)
    assert response.status_code == 200, response.content[:500]
    return response.context["token"]


def test_share_sends_the_ttl_and_target_application_and_shows_the_token_once(
    sandbox, reviewer_client, reviewer
):
    session = finished_session()

    response = reviewer_client.post(
        share_url(session), {"ttl_in_seconds": "600", "for_application_id": "partner-app-7"}
    )

    assert response.status_code == 200
    assert sandbox.received("share") == [
        {"ttl_in_seconds": 600, "for_application_id": "partner-app-7"}
    ]
    token = response.context["token"]
    html = response.content.decode()
    assert token and token in html
    assert 'data-copy="share-token"' in html
    assert "no-store" in response["Cache-Control"]
    entry = AuditEntry.objects.get(action=AuditAction.SESSION_SHARE)
    assert (entry.object_id, entry.actor) == (session.session_id, reviewer)
    assert entry.detail == {"ttl_in_seconds": 600, "for_application_id": "partner-app-7"}
    assert token not in str(entry.detail)
    # Shown once: the session page does not show it again.
    page = reviewer_client.get(reverse("verifications:session-detail", args=[session.session_id]))
    assert token not in page.content.decode()


def test_share_without_a_target_application_sends_only_the_ttl(sandbox, reviewer_client):
    share(reviewer_client, finished_session())

    assert sandbox.received("share") == [{"ttl_in_seconds": 600}]


def test_the_session_page_offers_sharing_to_reviewers_only(sandbox, reviewer_client, viewer_client):
    session = finished_session()
    url = reverse("verifications:session-detail", args=[session.session_id])

    assert share_url(session) in reviewer_client.get(url).content.decode()
    assert share_url(session) not in viewer_client.get(url).content.decode()
    assert viewer_client.post(share_url(session), {"ttl_in_seconds": "600"}).status_code == 403


def test_an_unfinished_session_is_not_shared(sandbox, reviewer_client):
    session = VerificationSession.objects.exclude(status__in=FINISHED).first()

    response = reviewer_client.post(share_url(session), {"ttl_in_seconds": "600"})

    assert response.status_code == 400
    assert "Only finished sessions can be shared." in response.content.decode()
    assert sandbox.calls["share"] == 0
    assert not AuditEntry.objects.filter(action=AuditAction.SESSION_SHARE).exists()


@pytest.mark.parametrize("ttl", ["0", "-5", "abc", str(31 * 24 * 3600)])
def test_a_bad_ttl_is_a_clear_error_and_nothing_is_sent(sandbox, reviewer_client, ttl):
    response = reviewer_client.post(share_url(finished_session()), {"ttl_in_seconds": ttl})

    assert response.status_code == 400
    assert 'class="errorlist' in response.content.decode()
    assert sandbox.calls["share"] == 0


def test_import_sends_the_form_syncs_the_new_session_and_opens_it(
    sandbox, reviewer_client, reviewer
):
    token = share(reviewer_client, finished_session())
    workflow = next(iter(sandbox.workflows.values()))
    vendor_data = "partner/Ünï +42"

    response = reviewer_client.post(
        IMPORT_URL,
        {
            "share_token": token,
            "workflow_id": workflow,
            "vendor_data": vendor_data,
            "trust_review": "on",
        },
    )

    assert sandbox.received("import_shared") == [
        {
            "share_token": token,
            "trust_review": True,
            "workflow_id": workflow,
            "vendor_data": vendor_data,
        }
    ]
    entry = AuditEntry.objects.get(action=AuditAction.SESSION_IMPORT)
    imported = VerificationSession.objects.get(session_id=entry.object_id)
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "verifications:session-detail", args=[imported.session_id]
    )
    assert imported.vendor_data == vendor_data
    assert imported.status == "Approved"  # the partner's review, trusted
    assert entry.actor == reviewer
    assert entry.detail["trust_review"] is True
    assert token not in str(entry.detail)


def test_import_without_trusting_the_review_lands_in_review(sandbox, reviewer_client):
    token = share(reviewer_client, finished_session())

    reviewer_client.post(IMPORT_URL, {"share_token": token})

    assert sandbox.received("import_shared") == [{"share_token": token, "trust_review": False}]
    entry = AuditEntry.objects.get(action=AuditAction.SESSION_IMPORT)
    assert VerificationSession.objects.get(session_id=entry.object_id).status == "In Review"


def test_a_reused_token_gives_a_clear_message_and_records_nothing(sandbox, reviewer_client):
    token = share(reviewer_client, finished_session())
    reviewer_client.post(IMPORT_URL, {"share_token": token})
    sessions = VerificationSession.objects.count()

    response = reviewer_client.post(IMPORT_URL, {"share_token": token})

    assert response.status_code == 400
    html = response.content.decode()
    assert "already used, has expired" in html
    assert "This share token has already been used." in html  # Didit's own words
    assert AuditEntry.objects.filter(action=AuditAction.SESSION_IMPORT).count() == 1
    assert VerificationSession.objects.count() == sessions


def test_an_invalid_token_gives_a_clear_message(sandbox, reviewer_client):
    response = reviewer_client.post(IMPORT_URL, {"share_token": "not.a.token"})

    assert response.status_code == 400
    assert "Didit refused the share token" in response.content.decode()
    assert not AuditEntry.objects.filter(action=AuditAction.SESSION_IMPORT).exists()


def test_didit_down_on_import_records_nothing(sandbox, reviewer_client):
    token = share(reviewer_client, finished_session())
    sandbox.set_faults(1.0, kinds=["500"])

    response = reviewer_client.post(IMPORT_URL, {"share_token": token})

    assert response.status_code == 502
    assert "could not be reached" in response.content.decode()
    assert not AuditEntry.objects.filter(action=AuditAction.SESSION_IMPORT).exists()


def test_import_vendor_data_over_the_limit_is_a_clear_error(sandbox, reviewer_client):
    response = reviewer_client.post(IMPORT_URL, {"share_token": "t", "vendor_data": "v" * 256})

    assert response.status_code == 400
    assert "at most 255 characters" in response.content.decode()
    assert sandbox.calls["import_shared"] == 0


def test_the_import_page_is_for_reviewers(sandbox, reviewer_client, viewer_client):
    page = reviewer_client.get(IMPORT_URL)

    assert page.status_code == 200
    assert 'name="share_token"' in page.content.decode()
    assert viewer_client.get(IMPORT_URL).status_code == 403
