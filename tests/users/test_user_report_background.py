"""A person with many sessions gets their compliance report from a background task: the
request redirects to a progress page, which offers the PDF when the task has rendered it."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from users.models import DiditUser
from verifications.models import (
    AuditAction,
    AuditEntry,
    EvidencePack,
    EvidencePackKind,
    EvidencePackStatus,
    VerificationSession,
)
from verifications.packs import build_pack, delete_expired_packs

pytestmark = pytest.mark.django_db


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def person_with(sessions: str) -> DiditUser:
    ordered = DiditUser.objects.annotate(n=Count("sessions")).filter(n__gt=0)
    return ordered.order_by("-n" if sessions == "most" else "n", "id").first()


def report_url(didit_user) -> str:
    return reverse("users:user-report", args=[didit_user.vendor_data])


@pytest.fixture
def many(sandbox, settings):
    """The person with the most sessions, above the inline limit."""
    didit_user = person_with("most")
    count = VerificationSession.objects.filter(user=didit_user).count()
    assert count >= 2
    settings.USER_REPORT_INLINE_MAX_SESSIONS = count - 1
    return didit_user


def request_report(client, didit_user, capture):
    with capture(execute=True):
        return client.get(report_url(didit_user))


def test_a_long_report_is_built_in_the_background_and_downloaded(
    many, viewer_client, viewer, django_capture_on_commit_callbacks
):
    sessions = list(VerificationSession.objects.filter(user=many))

    response = request_report(viewer_client, many, django_capture_on_commit_callbacks)

    pack = EvidencePack.objects.get()
    assert (pack.kind, pack.vendor_data, pack.created_by) == (
        EvidencePackKind.USER_REPORT,
        many.vendor_data,
        viewer,
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("evidence-pack-detail", args=[pack.pack_id])
    assert pack.status == EvidencePackStatus.READY and pack.total == len(sessions)

    page = viewer_client.get(response["Location"]).content.decode()
    link = reverse("evidence-pack-download", args=[pack.pack_id, pack.download_name])
    assert link in page and "User compliance report" in page and "hx-trigger" not in page

    download = viewer_client.get(link)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Cache-Control"] == "private, no-store"
    assert download["Content-Disposition"].startswith('attachment; filename="didit-console-user-')
    text = pdf_text(b"".join(download.streaming_content))
    assert many.vendor_data in text
    for session in sessions:
        assert session.session_id in text
    trail = list(
        AuditEntry.objects.filter(action=AuditAction.REPORT_PDF).order_by("at", "id").values()
    )
    assert [(e["object_type"], e["object_id"], e["actor_id"]) for e in trail] == [
        ("user", many.vendor_data, viewer.pk)
    ] * 2
    assert [e["detail"]["event"] for e in trail] == ["requested", "downloaded"]


def test_the_progress_page_polls_and_works_without_javascript(
    many, viewer_client, viewer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = viewer_client.get(report_url(many))
    pack = EvidencePack.objects.get()
    assert pack.status == EvidencePackStatus.QUEUED and len(callbacks) == 1

    full = viewer_client.get(response["Location"]).content.decode()
    fragment = viewer_client.get(response["Location"], headers={"HX-Request": "true"})
    assert 'hx-trigger="every 2s"' in full and "waiting for a worker" in full
    assert f'href="{response["Location"]}"' in full  # the reload link, without JavaScript
    assert fragment.content.decode().strip().startswith('<div id="pack-progress"')
    link = reverse("evidence-pack-download", args=[pack.pack_id, pack.download_name])
    assert viewer_client.get(link).status_code == 404

    callbacks[0]()  # the worker runs the task (twice: idempotent)
    assert build_pack(pack.pk) == "nothing to do"
    pack.refresh_from_db()
    assert pack.status == EvidencePackStatus.READY
    assert link in viewer_client.get(response["Location"]).content.decode()


def test_others_may_not_see_or_request_a_background_report(
    many,
    viewer_client,
    reviewer_client,
    outsider_client,
    viewer,
    django_capture_on_commit_callbacks,
):
    response = request_report(viewer_client, many, django_capture_on_commit_callbacks)
    pack = EvidencePack.objects.get()
    link = reverse("evidence-pack-download", args=[pack.pack_id, pack.download_name])

    for other in (reviewer_client, outsider_client):  # someone else's report: 403
        assert other.get(response["Location"]).status_code == 403
        assert other.get(link).status_code == 403
    assert outsider_client.get(report_url(many)).status_code == 403
    assert EvidencePack.objects.count() == 1

    # The asker who lost the user page's permissions loses the report too.
    viewer.groups.clear()
    assert viewer_client.get(response["Location"]).status_code == 403
    assert viewer_client.get(link).status_code == 403


def test_a_background_report_expires_like_a_pack(
    many, viewer_client, django_capture_on_commit_callbacks
):
    request_report(viewer_client, many, django_capture_on_commit_callbacks)
    pack = EvidencePack.objects.get()
    link = reverse("evidence-pack-download", args=[pack.pack_id, pack.download_name])
    assert timedelta(hours=23) < pack.expires_at - pack.created_at <= timedelta(hours=24)
    EvidencePack.objects.filter(pk=pack.pk).update(expires_at=timezone.now())

    assert viewer_client.get(link).status_code == 410
    assert delete_expired_packs() == 1
    pack.refresh_from_db()
    assert pack.status == EvidencePackStatus.EXPIRED


def test_a_person_with_few_sessions_gets_the_pdf_inline(
    sandbox, viewer_client, settings, django_capture_on_commit_callbacks
):
    didit_user = person_with("fewest")
    sessions = list(VerificationSession.objects.filter(user=didit_user))
    settings.USER_REPORT_INLINE_MAX_SESSIONS = len(sessions)

    response = request_report(viewer_client, didit_user, django_capture_on_commit_callbacks)

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert all(session.session_id in text for session in sessions)
    assert not EvidencePack.objects.exists()
    assert AuditEntry.objects.get().detail == {"report": "user"}
