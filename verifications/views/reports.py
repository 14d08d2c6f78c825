"""PDF downloads of a session: Didit's own report (streamed through) and our compliance report."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from verifications import audit
from verifications.didit.client import DiditClient
from verifications.didit.errors import (
    DiditError,
    DiditForbidden,
    DiditNotFound,
    DiditRateLimited,
    DiditUnavailable,
)
from verifications.media import media_expiring
from verifications.models import AuditAction, VerificationSession
from verifications.pdf import render_session_report, report_sessions
from verifications.sync import DecisionError, resync_session

logger = logging.getLogger(__name__)

VIEW_SESSIONS = "verifications.view_verificationsession"


@require_GET
@login_required
@permission_required(VIEW_SESSIONS, raise_exception=True)
def session_didit_pdf(request: HttpRequest, session_id: str) -> HttpResponse:
    """Didit's PDF report, streamed chunk by chunk: never held whole in memory."""
    session = get_object_or_404(
        VerificationSession.objects.only("session_id"), session_id=session_id
    )
    try:
        download = DiditClient.from_settings().download_pdf(session.session_id)
    except DiditError as error:
        return didit_pdf_refused(request, session, error)
    audit.record(
        request,
        action=AuditAction.DIDIT_PDF,
        object_type="session",
        object_id=session.session_id,
        detail={"filename": download.filename},
    )
    response = StreamingHttpResponse(download.iter_bytes(), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, download.filename)
    if download.content_length is not None:
        response["Content-Length"] = str(download.content_length)
    return response


@require_GET
@login_required
@permission_required(VIEW_SESSIONS, raise_exception=True)
def session_report(request: HttpRequest, session_id: str) -> HttpResponse:
    """Our compliance report of one session (WeasyPrint), stamped with who and when."""
    session = get_object_or_404(report_sessions(), session_id=session_id)
    if refresh_expiring_media([session]):
        session = report_sessions().get(pk=session.pk)
    data = render_session_report(
        session, generated_by=request.user, console_url=request.build_absolute_uri("/")[:-1]
    )
    audit.record(
        request,
        action=AuditAction.REPORT_PDF,
        object_type="session",
        object_id=session.session_id,
        detail={"report": "session"},
    )
    return pdf_attachment(data, filename=f"didit-console-session-{session.session_id}.pdf")


def refresh_expiring_media(sessions: Iterable[VerificationSession]) -> list[str]:
    """Re-sync the sessions whose presigned image URLs have expired, so the report can embed
    the images; returns the ids refreshed. If Didit cannot be reached, the report is rendered
    with what we have (WeasyPrint leaves out the images it cannot fetch)."""
    expiring = [session for session in sessions if media_expiring(session)]
    if not expiring:
        return []
    client = DiditClient.from_settings()
    refreshed = []
    for session in expiring:
        try:
            resync_session(client, session.session_id, refresh_media=True)
        except (DiditError, DecisionError) as error:
            logger.warning("Could not refresh a session's media: %s", type(error).__name__)
        else:
            refreshed.append(session.session_id)
    return refreshed


def pdf_attachment(data: bytes, *, filename: str) -> HttpResponse:
    """A rendered PDF as a download; the filename keeps only characters safe in a header."""
    response = HttpResponse(data, content_type="application/pdf")
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", filename)
    response["Content-Disposition"] = content_disposition_header(True, safe)
    return response


def didit_pdf_refused(
    request: HttpRequest, session: VerificationSession, error: DiditError
) -> HttpResponse:
    """A browser goes back to the session page with a message; anything else gets a 502."""
    logger.warning("Didit's PDF for a session was not available: %s", type(error).__name__)
    message = refusal_message(error)
    if "text/html" not in request.headers.get("Accept", ""):
        return HttpResponse(message, status=502, content_type="text/plain; charset=utf-8")
    messages.error(request, message)
    return redirect("verifications:session-detail", session_id=session.session_id)


def refusal_message(error: DiditError) -> str:
    if isinstance(error, DiditForbidden):
        return (
            "Didit has no PDF report for this session: it is only available once the session "
            "is Approved, Declined, In Review or Kyc Expired."
        )
    if isinstance(error, DiditNotFound):
        return "Didit no longer has this session, so it cannot produce its PDF report."
    if isinstance(error, DiditRateLimited):
        return "Didit is rate-limiting requests; try the PDF again in a minute."
    if isinstance(error, DiditUnavailable):
        return "Didit could not be reached for its PDF report; try again in a minute."
    return "Didit could not produce its PDF report for this session; try again later."
