"""Reusable KYC pages: share a session (token shown once), import one shared with us."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods

from ..didit.errors import DiditError
from ..forms import ImportSharedForm, ShareForm
from ..models import VerificationSession
from ..sharing import import_shared_session, refusal_message, share_session

REVIEW = "verifications.review_session"
# Didit shares finished sessions only (SPEC.md); the page says so before Didit has to.
SHAREABLE = ("Approved", "Declined", "In Review", "Kyc Expired")


@require_http_methods(["GET", "POST"])
@login_required
@permission_required(REVIEW, raise_exception=True)
def session_share(request: HttpRequest, session_id: str) -> HttpResponse:
    session = get_object_or_404(VerificationSession, session_id=session_id)
    form = ShareForm(request.POST or None)
    token, error, status = "", "", 200
    if request.method == "POST":
        if session.status not in SHAREABLE:
            error, status = "Only finished sessions can be shared.", 400
        elif not form.is_valid():
            status = 400
        else:
            try:
                token = share_session(
                    session=session,
                    ttl_in_seconds=form.cleaned_data["ttl_in_seconds"],
                    for_application_id=form.cleaned_data["for_application_id"],
                    actor=request.user,
                    request=request,
                )
            except DiditError as refused:
                error, status = refusal_message(refused, action="share"), _status(refused)
    context = {"session": session, "form": form, "token": token, "error": error}
    response = render(request, "verifications/session_share.html", context, status=status)
    add_never_cache_headers(response)  # The token is shown once: no cache keeps a copy.
    return response


@require_http_methods(["GET", "POST"])
@login_required
@permission_required(REVIEW, raise_exception=True)
def session_import(request: HttpRequest) -> HttpResponse:
    form = ImportSharedForm(request.POST or None)
    error, status = "", 200
    if request.method == "POST":
        if form.is_valid():
            try:
                session_id, synced = import_shared_session(
                    actor=request.user, request=request, **form.cleaned_data
                )
            except DiditError as refused:
                error, status = refusal_message(refused, action="import"), _status(refused)
            else:
                if synced:
                    messages.success(request, "Imported: this is the session Didit created.")
                    return redirect("verifications:session-detail", session_id=session_id)
                messages.warning(
                    request,
                    f"Didit imported the session as {session_id}, but it could not be fetched "
                    "yet; it will appear with the next sync.",
                )
                return redirect("verifications:session-import")
        else:
            status = 400
    context = {"form": form, "error": error}
    return render(request, "verifications/session_import.html", context, status=status)


def _status(error: DiditError) -> int:
    """400 when Didit refused what we asked, 502 when Didit failed or was not reached."""
    return 400 if error.status is not None and 400 <= error.status < 500 else 502
