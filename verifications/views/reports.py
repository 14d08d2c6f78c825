"""PDF downloads of a session: Didit's own report (streamed through) and our compliance report."""

from __future__ import annotations

import logging
import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from users.roles import VIEW_SESSIONS
from verifications import audit
from verifications.didit.errors import DiditError
from verifications.models import AuditAction, VerificationSession
from verifications.pdf import render_session_report, report_sessions
from verifications.services import (
    PdfDownload,
    didit_error_message,
    open_didit_pdf,
    refresh_expiring_media,
)

logger = logging.getLogger(__name__)


@require_GET
@login_required
@permission_required(VIEW_SESSIONS, raise_exception=True)
def session_didit_pdf(request: HttpRequest, session_id: str) -> HttpResponse:
    """Didit's PDF report, streamed chunk by chunk: never held whole in memory."""
    session = get_object_or_404(
        VerificationSession.objects.only("session_id"), session_id=session_id
    )
    try:
        download = open_didit_pdf(session_id=session.session_id, request=request)
    except DiditError as error:
        return didit_pdf_refused(request, session, error)
    return streamed_pdf(download, filename=download.filename)


@require_GET
@login_required
@permission_required(VIEW_SESSIONS, raise_exception=True)
def session_report(request: HttpRequest, session_id: str) -> HttpResponse:
    """Our compliance report of one session (WeasyPrint), stamped with who and when."""
    session = get_object_or_404(report_sessions(), session_id=session_id)
    if refresh_expiring_media([session]).refreshed:
        session = report_sessions().get(pk=session.pk)
    data = render_session_report(session, generated_by=request.user)
    audit.record(
        request,
        action=AuditAction.REPORT_PDF,
        object_type="session",
        object_id=session.session_id,
        detail={"report": "session"},
    )
    return pdf_attachment(data, filename=f"didit-console-session-{session.session_id}.pdf")


def streamed_pdf(download: PdfDownload, *, filename: str) -> StreamingHttpResponse:
    """Didit's PDF passed through chunk by chunk, as a download named ``filename``."""
    response = StreamingHttpResponse(download.iter_bytes(), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    if download.content_length is not None:
        response["Content-Length"] = str(download.content_length)
    return response


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
    message = didit_error_message(error, doing="produce its PDF report")
    if "text/html" not in request.headers.get("Accept", ""):
        return HttpResponse(message, status=502, content_type="text/plain; charset=utf-8")
    messages.error(request, message)
    return redirect("verifications:session-detail", session_id=session.session_id)
