"""The session's PDF downloads: Didit's report streamed through, and our compliance report."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from verifications.models import AuditAction, AuditEntry, VerificationSession

pytestmark = pytest.mark.django_db

REPORTABLE = ["Approved", "Declined", "In Review", "Kyc Expired"]


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def in_pdf(value: str, text: str) -> bool:
    """Whether ``value`` was read back. Didit's PDF stores right-to-left names (Arabic,
    Hebrew) in logical order, and pypdf turns them around as if they were in visual order."""
    return value in text or value[::-1] in text


def session_with_hits_and_reviews() -> VerificationSession:
    session = (
        VerificationSession.objects.filter(
            status__in=REPORTABLE, aml_total_hits__gt=0, reviews__isnull=False
        )
        .exclude(document_number="")
        .first()
    )
    assert session is not None, "the sandbox should hold a reviewed session with AML hits"
    return session


def didit_pdf_url(session) -> str:
    return reverse("verifications:session-didit-pdf", args=[session.session_id])


def report_url(session) -> str:
    return reverse("verifications:session-report", args=[session.session_id])


# --- Didit's PDF ------------------------------------------------------------------------------


def test_didit_pdf_is_streamed_with_didits_filename(sandbox, viewer_client):
    session = session_with_hits_and_reviews()

    response = viewer_client.get(didit_pdf_url(session))

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="session_{session.session_id}.pdf"'
    )
    data = b"".join(response.streaming_content)
    assert data.startswith(b"%PDF-")
    assert sandbox.calls["pdf"] == 1


def test_didit_pdf_holds_the_name_document_hits_and_reviews(sandbox, viewer_client):
    session = session_with_hits_and_reviews()

    response = viewer_client.get(didit_pdf_url(session))
    text = pdf_text(b"".join(response.streaming_content))

    assert in_pdf(session.full_name, text)
    assert session.document_number in text
    for hit in session.aml_hits.all():
        assert in_pdf(hit.caption, text)
    for review in session.reviews.all():
        assert in_pdf(review.comment, text)


def test_didit_pdf_download_is_audited(sandbox, viewer_client, viewer):
    session = session_with_hits_and_reviews()

    viewer_client.get(didit_pdf_url(session))

    entry = AuditEntry.objects.get()
    assert (entry.action, entry.object_type, entry.object_id) == (
        AuditAction.DIDIT_PDF,
        "session",
        session.session_id,
    )
    assert entry.actor == viewer
    assert entry.ip_address == "127.0.0.1"


def test_didit_refusing_the_pdf_sends_the_browser_back_with_a_message(sandbox, viewer_client):
    session = VerificationSession.objects.filter(status="In Progress").first()

    response = viewer_client.get(didit_pdf_url(session), headers={"accept": "text/html"})

    assert response.status_code == 302
    assert response["Location"] == reverse(
        "verifications:session-detail", args=[session.session_id]
    )
    assert not AuditEntry.objects.filter(action=AuditAction.DIDIT_PDF).exists()
    page = viewer_client.get(response["Location"])
    assert "only available once the session is Approved" in page.content.decode()


def test_didit_down_gives_a_502_to_non_browsers_and_records_nothing(sandbox, viewer_client):
    session = session_with_hits_and_reviews()
    sandbox.set_faults(1.0, kinds=["503"])

    response = viewer_client.get(didit_pdf_url(session), headers={"accept": "application/pdf"})

    assert response.status_code == 502
    assert b"could not be reached" in response.content
    assert not AuditEntry.objects.exists()


def test_didit_pdf_of_an_unknown_session_is_404(sandbox, viewer_client):
    response = viewer_client.get(
        reverse("verifications:session-didit-pdf", args=["no-such-session"])
    )

    assert response.status_code == 404
    assert sandbox.calls["pdf"] == 0


# --- Our compliance report --------------------------------------------------------------------


def test_compliance_report_is_a_pdf_with_the_decision(sandbox, viewer_client, viewer):
    session = session_with_hits_and_reviews()

    response = viewer_client.get(report_url(session))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="didit-console-session-{session.session_id}.pdf"'
    )
    text = pdf_text(response.content)
    assert session.full_name in text
    assert session.document_number in text
    for hit in session.aml_hits.all():
        assert hit.caption in text
    for review in session.reviews.all():
        assert review.comment in text
    assert "Generated by viewer" in text
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.object_id, entry.actor) == (
        AuditAction.REPORT_PDF,
        session.session_id,
        viewer,
    )


def test_compliance_report_runs_a_constant_number_of_queries(
    sandbox, viewer_client, django_assert_max_num_queries
):
    session = session_with_hits_and_reviews()

    # Session and user lookups for the login, the permission check, the report's 5 queries
    # (second reviews included; one is its archived evidence), the audit insert (and its
    # savepoint on some backends).
    with django_assert_max_num_queries(14):
        viewer_client.get(report_url(session))


# --- Access rules, for both views ------------------------------------------------------------


@pytest.mark.parametrize("url_of", [didit_pdf_url, report_url])
def test_report_views_send_anonymous_visitors_to_log_in(sandbox, client, url_of):
    url = url_of(session_with_hits_and_reviews())

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("url_of", [didit_pdf_url, report_url])
def test_report_views_reject_post(sandbox, reviewer_client, url_of):
    response = reviewer_client.post(url_of(session_with_hits_and_reviews()))

    assert response.status_code == 405
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("url_of", [didit_pdf_url, report_url])
def test_report_views_forbid_users_without_a_role(sandbox, outsider_client, url_of):
    response = outsider_client.get(url_of(session_with_hits_and_reviews()))

    assert response.status_code == 403
    assert sandbox.calls["pdf"] == 0
    # Only the refusal itself is audited (tests/test_privacy.py).
    assert list(AuditEntry.objects.values_list("action", flat=True)) == [AuditAction.ACCESS_DENIED]


# --- Expired image URLs -----------------------------------------------------------------------


def pdf_image_count(data: bytes) -> int:
    return sum(len(page.images) for page in PdfReader(io.BytesIO(data)).pages)


def test_compliance_report_refreshes_expired_image_urls_first(sandbox, viewer_client, time_machine):
    session = session_with_hits_and_reviews()
    decisions = sandbox.calls["decision"]
    # Didit's presigned URLs live an hour; two hours later they no longer load.
    time_machine.move_to(timezone.now() + timedelta(hours=2))

    response = viewer_client.get(report_url(session))

    assert response.status_code == 200
    assert sandbox.calls["decision"] == decisions + 1
    assert pdf_image_count(response.content) >= 3


def test_compliance_report_still_renders_when_didit_cannot_refresh_images(
    sandbox, viewer_client, time_machine
):
    session = session_with_hits_and_reviews()
    time_machine.move_to(timezone.now() + timedelta(hours=2))
    sandbox.set_faults(1.0, kinds=["503"])

    response = viewer_client.get(report_url(session))

    assert response.status_code == 200
    text = pdf_text(response.content)
    assert session.document_number in text
    assert AuditEntry.objects.filter(action=AuditAction.REPORT_PDF).count() == 1
