"""A verified person's page: their history, reports and re-verification."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from verifications import audit
from verifications.didit.errors import DiditError
from verifications.linking import linked_identities
from verifications.models import AuditAction, VerificationSession
from verifications.packs import request_user_report
from verifications.pdf import render_user_report, report_sessions
from verifications.services import (
    FormTokenError,
    consume_form_token,
    didit_error_message,
    issue_form_token,
    refresh_expiring_media,
)
from verifications.views.reports import pdf_attachment

from .forms import ReverificationForm
from .history import attempt_diff, flags_of, pick_attempts
from .models import DiditUser
from .roles import START_REVERIFICATION, VIEW_SESSIONS, VIEW_USERS
from .services import ReverificationRefused, reverification_initial, start_reverification

# A person's page shows their sessions too.
VIEW_USER_PAGE = (VIEW_USERS, VIEW_SESSIONS)


@require_GET
@login_required
@permission_required(VIEW_USER_PAGE, raise_exception=True)
def user_detail(request: HttpRequest, vendor_data: str) -> HttpResponse:
    didit_user = get_object_or_404(DiditUser, vendor_data=vendor_data)
    context = user_page_context(request, didit_user)
    audit.record(request, action=AuditAction.PII_VIEW, object_type="user", object_id=vendor_data)
    return render(request, "users/user_detail.html", context)


@require_GET
@login_required
@permission_required(VIEW_USER_PAGE, raise_exception=True)
def user_report(request: HttpRequest, vendor_data: str) -> HttpResponse:
    """A person's compliance report: inline for a few sessions; for more, rendered in the
    background (an evidence pack of kind user report) with a progress page to download it."""
    didit_user = get_object_or_404(DiditUser, vendor_data=vendor_data)
    history = report_sessions().filter(user=didit_user).order_by("created_at", "id")
    session_ids = list(history.values_list("session_id", flat=True))
    if len(session_ids) > settings.USER_REPORT_INLINE_MAX_SESSIONS:
        pack = request_user_report(
            user=request.user, didit_user=didit_user, session_ids=session_ids, request=request
        )
        return redirect("evidence-pack-detail", pack_id=pack.pack_id)
    sessions = list(history)
    if refresh_expiring_media(sessions).refreshed:
        sessions = list(history.all())
    data = render_user_report(didit_user, generated_by=request.user, sessions=sessions)
    audit.record(
        request,
        action=AuditAction.REPORT_PDF,
        object_type="user",
        object_id=vendor_data,
        detail={"report": "user"},
    )
    return pdf_attachment(data, filename=f"didit-console-user-{vendor_data}.pdf")


@require_POST
@login_required
@permission_required(START_REVERIFICATION, raise_exception=True)
def user_reverify(request: HttpRequest, vendor_data: str) -> HttpResponse:
    """Post/Redirect/Get: the created session's link is kept in the login session and shown
    by the page the browser is sent back to, so a reload asks Didit for nothing."""
    didit_user = get_object_or_404(DiditUser, vendor_data=vendor_data)
    form = ReverificationForm(request.POST, api_version=settings.DIDIT_API_VERSION)
    didit_error = ""
    if form.is_valid():
        try:
            consume_form_token(
                form.cleaned_data["form_token"], user=request.user, purpose=_purpose(didit_user)
            )
            created = start_reverification(
                didit_user=didit_user,
                workflow_id=form.cleaned_data["workflow_id"],
                features=form.cleaned_data["features"],
                expected_details=form.expected_details(),
                contact_details=form.contact_details(),
                actor=request.user,
                request=request,
            )
        except (FormTokenError, ReverificationRefused) as error:
            didit_error = str(error)
        except DiditError as error:
            didit_error = didit_error_message(
                error, doing="create the session", unchanged="no session was created"
            )
        else:
            remember_reverification(request, didit_user, created)
            if request.htmx:
                context = user_page_context(request, didit_user)
                return render(request, "users/user_detail.html#reverification", context)
            return redirect(detail_url(didit_user) + "#reverification", permanent=False)
    if not request.htmx and didit_error:
        messages.error(request, didit_error)
        return redirect(detail_url(didit_user))
    context = user_page_context(request, didit_user, form=form)
    context["didit_error"] = didit_error
    if request.htmx:
        # htmx swaps 200 responses only: form errors come back in the fragment.
        return render(request, "users/user_detail.html#reverification", context)
    return render(request, "users/user_detail.html", context, status=400)


REVERIFICATIONS_KEY = "users:reverifications"


def remember_reverification(request: HttpRequest, didit_user: DiditUser, created) -> None:
    """Keep the latest created session per person in the login session, for the page."""
    kept = dict(request.session.get(REVERIFICATIONS_KEY, {}))
    kept[didit_user.vendor_data] = {
        "session_id": created.session_id,
        "url": created.url,
        "status": created.status,
    }
    request.session[REVERIFICATIONS_KEY] = kept


def detail_url(didit_user: DiditUser) -> str:
    return reverse("users:user-detail", args=[didit_user.vendor_data])


def _purpose(didit_user: DiditUser) -> str:
    return "reverify:" + hashlib.sha256(didit_user.vendor_data.encode()).hexdigest()[:32]


def user_page_context(
    request: HttpRequest,
    didit_user: DiditUser,
    *,
    form: ReverificationForm | None = None,
) -> dict:
    """Everything the user page shows, in a constant number of queries whatever the number
    of sessions, hits or linked people."""
    sessions = list(
        VerificationSession.objects.filter(user=didit_user)
        .select_related("document", "ip_analysis")
        .prefetch_related("aml_hits")
        .order_by("-created_at", "-id")
    )
    workflows_seen = _distinct(session.workflow_id for session in sessions)
    features_seen = _distinct(_v1_features(session.features) for session in sessions)
    if form is None:
        initial = reverification_initial(sessions)
        initial["features"] = next(iter(features_seen), "")
        initial["form_token"] = issue_form_token(user=request.user, purpose=_purpose(didit_user))
        form = ReverificationForm(initial=initial, api_version=settings.DIDIT_API_VERSION)
    elif form.is_bound:
        # A refused form gets a fresh token: the one it carried may have been used.
        form.data = form.data.copy()
        form.data["form_token"] = issue_form_token(user=request.user, purpose=_purpose(didit_user))
    attempts = pick_attempts(sessions, request.GET.get("left", ""), request.GET.get("right", ""))
    return {
        "didit_user": didit_user,
        "sessions": sessions,
        "form": form,
        "created": request.session.get(REVERIFICATIONS_KEY, {}).get(didit_user.vendor_data),
        "api_version": settings.DIDIT_API_VERSION,
        "can_reverify": request.user.has_perm(START_REVERIFICATION),
        "workflows_seen": workflows_seen,
        "features_seen": features_seen,
        "history_flags": flags_of(didit_user),
        "attempts": attempts,
        "attempt_diff": attempt_diff(*attempts) if attempts else [],
        "linked_people": linked_identities(didit_user=didit_user),
    }


def _v1_features(features) -> str:
    return features if isinstance(features, str) else ""


def _distinct(values) -> list[str]:
    return list(dict.fromkeys(value for value in values if value))
