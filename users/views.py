"""A verified person's page: their history, reports and re-verification."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from verifications import audit
from verifications.didit.errors import DiditError
from verifications.models import AuditAction, VerificationSession
from verifications.pdf import render_user_report, report_sessions
from verifications.services import didit_error_message, refresh_expiring_media
from verifications.views.reports import pdf_attachment

from .forms import ReverificationForm
from .models import DiditUser
from .roles import START_REVERIFICATION, VIEW_SESSIONS, VIEW_USERS
from .services import start_reverification

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
    didit_user = get_object_or_404(DiditUser, vendor_data=vendor_data)
    history = report_sessions().filter(user=didit_user).order_by("created_at", "id")
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
    didit_user = get_object_or_404(DiditUser, vendor_data=vendor_data)
    form = ReverificationForm(request.POST, api_version=settings.DIDIT_API_VERSION)
    created, didit_error = None, ""
    if form.is_valid():
        try:
            created = start_reverification(
                didit_user=didit_user,
                workflow_id=form.cleaned_data["workflow_id"],
                features=form.cleaned_data["features"],
                actor=request.user,
                request=request,
            )
        except DiditError as error:
            didit_error = didit_error_message(
                error, doing="create the session", unchanged="no session was created"
            )
        else:
            form = None  # a fresh form for the next one
    if not request.htmx and didit_error:
        messages.error(request, didit_error)
        return redirect("users:user-detail", vendor_data=vendor_data)
    context = user_page_context(request, didit_user, form=form, created=created)
    context["didit_error"] = didit_error
    if request.htmx:
        # htmx swaps 200 responses only: form errors come back in the fragment.
        return render(request, "users/user_detail.html#reverification", context)
    return render(request, "users/user_detail.html", context, status=200 if created else 400)


def user_page_context(
    request: HttpRequest,
    didit_user: DiditUser,
    *,
    form: ReverificationForm | None = None,
    created=None,
) -> dict:
    """Everything the user page shows: three queries whatever the number of sessions or hits."""
    sessions = list(
        VerificationSession.objects.filter(user=didit_user)
        .select_related("document")
        .prefetch_related("aml_hits")
        .order_by("-created_at", "-id")
    )
    workflows_seen = _distinct(session.workflow_id for session in sessions)
    features_seen = _distinct(_v1_features(session.features) for session in sessions)
    if form is None:
        # Suggest what the latest session ran; the datalist offers the others.
        initial = {"workflow_id": next(iter(workflows_seen), ""), "features": ""}
        initial["features"] = next(iter(features_seen), "")
        form = ReverificationForm(initial=initial, api_version=settings.DIDIT_API_VERSION)
    return {
        "didit_user": didit_user,
        "sessions": sessions,
        "form": form,
        "created": created,
        "api_version": settings.DIDIT_API_VERSION,
        "can_reverify": request.user.has_perm(START_REVERIFICATION),
        "workflows_seen": workflows_seen,
        "features_seen": features_seen,
    }


def _v1_features(features) -> str:
    return features if isinstance(features, str) else ""


def _distinct(values) -> list[str]:
    return list(dict.fromkeys(value for value in values if value))
