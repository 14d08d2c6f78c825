"""One session: the whole decision, Approve/Decline, and AML-hit dispositions."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from .. import audit, four_eyes, workflow
from ..didit.client import DiditClient
from ..didit.errors import DiditError
from ..forms import DispositionForm, StatusForm
from ..media import media_expiring
from ..models import AmlHit, AuditAction, ReviewSource, VerificationSession
from ..services import (
    FormTokenError,
    consume_form_token,
    dispose_aml_hit,
    issue_form_token,
    update_session_status,
)
from ..sync import DecisionError, resync_session
from . import workflow as workflow_views

TEMPLATE = "verifications/session_detail.html"
ONE_TO_ONE = ("document", "face", "aml", "ip_analysis", "user")


@require_GET
@login_required
@permission_required("verifications.view_verificationsession", raise_exception=True)
def session_detail(request: HttpRequest, session_id: str) -> HttpResponse:
    session = _load(session_id)
    if media_expiring(session):
        # Didit's presigned image URLs have expired: fetch fresh ones rather than show
        # broken images. If Didit cannot be reached, show what we have and say so.
        try:
            resync_session(_page_client(), session.session_id, refresh_media=True)
        except (DiditError, DecisionError):
            messages.warning(
                request,
                "Didit could not be reached to refresh this session's images; "
                "they may not load. Reload the page to try again.",
            )
        else:
            session = _load(session_id)
    audit.record(
        request, action=AuditAction.PII_VIEW, object_type="session", object_id=session.session_id
    )
    workflow.touch_claim(session=session, user=request.user)
    context = _page_context(request, session)
    return render(request, TEMPLATE, context)


@require_POST
@login_required
@permission_required("verifications.review_session", raise_exception=True)
def session_status(request: HttpRequest, session_id: str) -> HttpResponse:
    session = get_object_or_404(
        VerificationSession.objects.select_related("user"), session_id=session_id
    )
    # Claimed by another reviewer: 409 naming them, nothing sent (issue 14).
    if (refused := workflow_views.refuse_if_claimed(request, session)) is not None:
        return refused
    form = StatusForm(request.POST)
    failed_status = None
    if not form.is_valid():
        _form_errors_to_messages(request, form)
        failed_status = 400
    else:
        data = form.cleaned_data
        try:
            consume_form_token(
                data["form_token"], user=request.user, purpose=_status_purpose(session)
            )
            # Four-eyes (issue 14): a risky decision is held for a second reviewer, unsent.
            if rules := four_eyes.rules_fired(session, data["new_status"]):
                four_eyes.hold_for_second_review(
                    session=session,
                    new_status=data["new_status"],
                    comment=data["comment"],
                    rules=rules,
                    actor=request.user,
                    request=request,
                )
            else:
                update_session_status(
                    session=session,
                    new_status=data["new_status"],
                    comment=data["comment"],
                    actor=request.user,
                    request=request,
                )
        except (FormTokenError, four_eyes.AlreadyPending) as error:
            messages.warning(request, str(error))
        except DiditError as error:
            messages.error(request, _didit_message(error, "change the status"))
            failed_status = 502
        else:
            if rules:
                messages.success(request, "Held for a second review: nothing sent to Didit yet.")
            else:
                messages.success(request, f"Session {data['new_status'].lower()}.")
            # From a page opened through "next": on to the next session of the queue.
            if (onward := workflow_views.next_after_decision(request, session)) is not None:
                return onward
    if not request.htmx and failed_status is None:
        return redirect("verifications:session-detail", session_id=session.session_id)
    context = _page_context(request, _load(session_id))
    if failed_status is not None:
        # Keep what the reviewer typed, with a fresh token for the next attempt.
        context["status_form"] = _with_fresh_token(form, context["status_form"])
    if request.htmx:
        # htmx swaps only 2xx answers by default: the outcome is told by the messages.
        return render(request, TEMPLATE + "#review-outcome", context)
    return render(request, TEMPLATE, context, status=failed_status)


@require_POST
@login_required
@permission_required("verifications.dispose_aml_hit", raise_exception=True)
def aml_hit_disposition(request: HttpRequest, session_id: str, hit_pk: int) -> HttpResponse:
    hit = get_object_or_404(
        AmlHit.objects.select_related("session"), pk=hit_pk, session__session_id=session_id
    )
    form = DispositionForm(request.POST)
    if not form.is_valid():
        _form_errors_to_messages(request, form)
    else:
        data = form.cleaned_data
        try:
            consume_form_token(data["form_token"], user=request.user, purpose=_hit_purpose(hit))
            dispose_aml_hit(
                hit=hit,
                disposition=data["disposition"],
                note=data["note"],
                actor=request.user,
                request=request,
            )
        except FormTokenError as error:
            messages.warning(request, str(error))
        else:
            label = hit.caption or hit.hit_id
            shown = hit.get_disposition_display().lower()
            messages.success(request, f"Hit “{label}” marked as {shown}.")
    if not request.htmx:
        url = reverse("verifications:session-detail", kwargs={"session_id": session_id})
        return redirect(f"{url}#aml-hit-{hit.pk}")
    hit = AmlHit.objects.select_related("disposed_by").get(pk=hit.pk)
    hit.form = _disposition_form(request, hit)
    context = {"hit": hit, "can_dispose": True}
    return render(request, TEMPLATE + "#aml-hit-outcome", context)


def _form_errors_to_messages(request: HttpRequest, form) -> None:
    for name, errors in form.errors.items():
        label = form.fields[name].label or name.replace("_", " ") if name in form.fields else ""
        for error in errors:
            messages.error(request, f"{label.capitalize()}: {error}" if label else error)


def _page_client() -> DiditClient:
    # Someone is waiting for the page: one retry at most, and no long Retry-After waits.
    return DiditClient.from_settings(purpose="interactive")


def _load(session_id: str) -> VerificationSession:
    return get_object_or_404(
        VerificationSession.objects.select_related(*ONE_TO_ONE), session_id=session_id
    )


def _page_context(request: HttpRequest, session: VerificationSession) -> dict:
    hits = list(session.aml_hits.select_related("disposed_by"))
    reviews = list(session.reviews.select_related("staff_user"))
    warnings = list(session.warnings.all())
    can_review = request.user.has_perm("verifications.review_session")
    can_dispose = request.user.has_perm("verifications.dispose_aml_hit")
    for hit in hits:
        hit.form = _disposition_form(request, hit) if can_dispose else None
    return {
        "session": session,
        "document": getattr(session, "document", None),
        "face": getattr(session, "face", None),
        "aml": getattr(session, "aml", None),
        "ip": getattr(session, "ip_analysis", None),
        "hits": hits,
        "reviews": reviews,
        "last_review": reviews[-1] if reviews else None,
        "warnings": warnings,
        "can_review": can_review,
        "can_dispose": can_dispose,
        "status_form": _status_form(request, session) if can_review else None,
        "ReviewSource": ReviewSource,
    }


def _status_purpose(session: VerificationSession) -> str:
    return f"status:{session.session_id}"


def _hit_purpose(hit: AmlHit) -> str:
    return f"aml-hit:{hit.pk}"


def _status_form(request: HttpRequest, session: VerificationSession) -> StatusForm:
    token = issue_form_token(user=request.user, purpose=_status_purpose(session))
    return StatusForm(initial={"form_token": token})


def _with_fresh_token(submitted: StatusForm, fresh: StatusForm) -> StatusForm:
    data = submitted.data.copy()
    data["form_token"] = fresh.initial["form_token"]
    form = StatusForm(data)
    form.is_valid()
    return form


def _disposition_form(request: HttpRequest, hit: AmlHit) -> DispositionForm:
    token = issue_form_token(user=request.user, purpose=_hit_purpose(hit))
    return DispositionForm(
        initial={
            "form_token": token,
            "disposition": hit.disposition or None,
            "note": hit.disposition_note,
        },
        auto_id=f"id_hit{hit.pk}_%s",
    )


def _didit_message(error: DiditError, doing: str) -> str:
    if error.status is not None and 400 <= error.status < 500 and error.status != 429:
        return f"Didit refused to {doing}: {error.detail} Nothing was changed here."
    return f"Didit could not be reached to {doing}; nothing was changed. Try again in a moment."
