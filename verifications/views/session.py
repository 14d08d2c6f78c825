"""One session: the whole decision and Approve/Decline (AML hits: views/aml.py)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from .. import audit, casefile, four_eyes, workflow
from ..decisions import (
    Decision,
    SavedAtDiditOnly,
    StaleDecision,
    check_page_state,
    decide_session,
    page_state,
)
from ..didit.errors import DiditError
from ..forms import StatusForm
from ..models import AuditAction, ReviewSource, SessionStatus, VerificationSession
from ..services import (
    FormTokenError,
    consume_form_token,
    didit_error_message,
    issue_form_token,
    read_form_token,
    refresh_expiring_media,
)
from . import workflow as workflow_views
from .aml import aml_section_context

TEMPLATE = "verifications/session_detail.html"
# The outcome of a decision, carried across the redirect to the panel (no JavaScript).
OUTCOME_KEY = "decision_outcome"
DONE = {
    SessionStatus.APPROVED: "approved",
    SessionStatus.DECLINED: "declined",
    SessionStatus.RESUBMITTED: "sent back for resubmission",
}
# Statuses Didit reaches on its own: with no review, nobody decided them by hand.
AUTOMATIC = {SessionStatus.APPROVED, SessionStatus.DECLINED}
ONE_TO_ONE = ("document", "face", "aml", "ip_analysis", "user")


@require_GET
@login_required
@permission_required("verifications.view_verificationsession", raise_exception=True)
def session_detail(request: HttpRequest, session_id: str) -> HttpResponse:
    session = _load(session_id)
    # Didit's presigned image URLs expire: fetch fresh ones rather than show broken images.
    # If Didit cannot be reached, show what we have and say so.
    media = refresh_expiring_media([session])
    if media.failed:
        messages.warning(
            request,
            "Didit could not be reached to refresh this session's images; "
            "they may not load. Reload the page to try again.",
        )
    elif media.refreshed:
        session = _load(session_id)
    audit.record(
        request, action=AuditAction.PII_VIEW, object_type="session", object_id=session.session_id
    )
    workflow.touch_claim(session=session, user=request.user)
    context = _page_context(request, session)
    context["outcome"] = request.session.pop(OUTCOME_KEY, None)
    return render(request, TEMPLATE, context)


@require_POST
@login_required
@permission_required("verifications.review_session", raise_exception=True)
def session_status(request: HttpRequest, session_id: str) -> HttpResponse:
    """A decision sent to Didit. The outcome is told inside the decision panel: htmx swaps
    the panel; without JavaScript a success redirects to the panel's anchor and a failure
    renders the page (the comment kept) with its status code."""
    session = _load(session_id)
    # Claimed by another reviewer: 409 naming them, nothing sent (issue 14).
    if (refused := workflow_views.refuse_if_claimed(request, session)) is not None:
        return refused
    form = _status_form(request, session, data=request.POST)
    code, outcome = 200, None
    if not form.is_valid():
        code, outcome = 400, ("error", _form_errors(form))
    else:
        code, outcome = _decide(request, session, form)
    # From a page opened through "next": on to the next session of the queue (issue 14).
    if code == 200 and (onward := workflow_views.next_after_decision(request, session)):
        return onward
    if code == 200 and not request.htmx:
        request.session[OUTCOME_KEY] = outcome
        url = reverse("verifications:session-detail", kwargs={"session_id": session_id})
        return redirect(f"{url}#decision-panel")
    try:
        context = _page_context(request, _load(session_id))
    except DatabaseError:
        # Saving failed after Didit accepted; the page itself cannot be read either.
        return render(
            request, "verifications/_decision_outcome.html", {"outcome": outcome}, status=code
        )
    context["outcome"] = outcome
    if code != 200 and context["status_form"] is not None:
        # Keep what the reviewer typed, with a fresh token for the next attempt.
        context["status_form"] = _with_fresh_token(form, context["status_form"])
    if request.htmx:
        return render(request, TEMPLATE + "#decision-outcome", context, status=code)
    return render(request, TEMPLATE, context, status=code)


def _decide(request: HttpRequest, session: VerificationSession, form: StatusForm) -> tuple:
    data = form.cleaned_data
    decision = Decision(
        new_status=data["new_status"],
        comment=data["comment"],
        nodes_to_resubmit=form.nodes_for_didit(),
        acknowledged=data["ack"] if data["new_status"] == SessionStatus.APPROVED else [],
        send_email=True if data["send_email"] else None,
    )
    purpose = _status_purpose(session)
    try:
        seen = read_form_token(data["form_token"], user=request.user, purpose=purpose)
        # A stale page is refused before anything is written (the token stays unused).
        check_page_state(session, seen)
        consume_form_token(data["form_token"], user=request.user, purpose=purpose)
        # Four-eyes (issue 14): a risky decision is held for a second reviewer, unsent.
        if rules := four_eyes.rules_fired(session, decision.new_status):
            four_eyes.hold_for_second_review(
                session=session,
                new_status=decision.new_status,
                comment=decision.comment,
                rules=rules,
                actor=request.user,
                request=request,
            )
            return 200, ("success", "Held for a second review: nothing sent to Didit yet.")
        review = decide_session(
            session=session, decision=decision, seen=seen, actor=request.user, request=request
        )
    except (StaleDecision, four_eyes.AlreadyPending) as error:
        return 409, ("warning", str(error))
    except FormTokenError as error:
        return 400, ("warning", str(error))
    except DiditError as error:
        return 502, ("error", didit_error_message(error, doing="change the status"))
    except SavedAtDiditOnly as error:
        return 202, ("warning", str(error))
    done = DONE.get(review.new_status, f"set to {review.new_status}")
    text = f"Session {done} at Didit."
    if review.session.status != review.new_status:
        text += f" Didit now reports it as {review.session.status}."
    return 200, ("success", text)


def _load(session_id: str) -> VerificationSession:
    return get_object_or_404(
        VerificationSession.objects.select_related(*ONE_TO_ONE), session_id=session_id
    )


def _page_context(request: HttpRequest, session: VerificationSession) -> dict:
    reviews = list(session.reviews.select_related("staff_user"))
    confirmed = [review for review in reviews if not review.pending]
    warnings = list(session.warnings.all())
    can_review = request.user.has_perm("verifications.review_session")
    status_form = _status_form(request, session, warnings=warnings) if can_review else None
    if status_form is not None and not status_form.fields["new_status"].choices:
        status_form = None  # Didit accepts no decision in this status.
    aml = aml_section_context(request, session)
    return {
        **aml,
        "session": session,
        "name": casefile.display_name(session),
        "document": getattr(session, "document", None),
        "face": getattr(session, "face", None),
        "aml": getattr(session, "aml", None),
        "ip": getattr(session, "ip_analysis", None),
        "reviews": reviews,
        "last_review": confirmed[-1] if confirmed else None,
        "warnings": warnings,
        "reasons": casefile.reasons(session, warnings=warnings, hits=aml["aml_all_hits"]),
        "sections": casefile.sections(session),
        "expected": casefile.expected_vs_extracted(session),
        "can_review": can_review,
        "status_form": status_form,
        "not_decidable": casefile.why_not_decidable(session),
        "decided_automatically": not confirmed and session.status in AUTOMATIC,
        "ReviewSource": ReviewSource,
        "today": timezone.localdate(),
        "soon": timezone.localdate() + casefile.SOON,
    }


def _status_purpose(session: VerificationSession) -> str:
    return f"status:{session.session_id}"


def _status_form(
    request: HttpRequest, session: VerificationSession, data=None, warnings=None
) -> StatusForm:
    """The decision form for what Didit accepts on this session (no choices: none)."""
    nodes = casefile.decision_nodes(session.decision if isinstance(session.decision, dict) else {})
    if warnings is None:
        warnings = list(session.warnings.all())
    options = {
        "statuses": casefile.decision_choices(session, nodes),
        "nodes": nodes,
        "warnings": list(
            dict.fromkeys(
                w.risk for w in (session.warnings.all() if warnings is None else warnings) if w.risk
            )
        ),
    }
    if data is not None:
        return StatusForm(data, **options)
    token = issue_form_token(
        user=request.user, purpose=_status_purpose(session), state=page_state(session)
    )
    return StatusForm(initial={"form_token": token}, **options)


def _with_fresh_token(submitted: StatusForm, fresh: StatusForm) -> StatusForm:
    data = submitted.data.copy()
    data["form_token"] = fresh.initial["form_token"]
    form = StatusForm(
        data,
        statuses=fresh.fields["new_status"].choices,
        nodes=fresh.nodes,
        warnings=fresh.warnings,
    )
    form.is_valid()
    return form


def _form_errors(form) -> str:
    parts = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        label = (field.label or name.replace("_", " ")) if field is not None else ""
        parts += [f"{label.capitalize()}: {error}" if label else str(error) for error in errors]
    return " ".join(parts) + " Nothing was sent to Didit."
