"""The review workflow's pages: claim and release, "next session", second review, my work.

Also the small hooks the session page's status view calls: refuse a decision on a session
someone else holds (409), and after a decision go on to the next session of the queue.
"""

from __future__ import annotations

from datetime import datetime, time
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from .. import four_eyes, workflow
from ..didit.errors import DiditError
from ..forms import QueueFilterForm, SecondReviewForm
from ..models import (
    PendingDecision,
    Review,
    ReviewSource,
    SecondReviewState,
    VerificationSession,
)

REVIEW_PERMISSION = "verifications.review_session"
REASSIGN_PERMISSION = "verifications.reassign_sessionclaim"
CONFLICT_TEMPLATE = "verifications/claim_conflict.html"


@require_GET
@login_required
@permission_required(REVIEW_PERMISSION, raise_exception=True)
def session_next(request: HttpRequest) -> HttpResponse:
    """Claim the next unclaimed session of the queue in the query string and open it."""
    form = QueueFilterForm(request.GET, user=request.user)
    query = workflow.queue_query(request.GET)
    queue_url = reverse("verifications:session-list") + (f"?{query}" if query else "")
    if not form.is_valid():
        messages.error(request, "These queue filters cannot be used.")
        return redirect(queue_url)
    session = workflow.next_session(
        sessions=form.filter(VerificationSession.objects.all()),
        ordering=form.ordering(),
        user=request.user,
        request=request,
        after=request.GET.get("after", "")[:64],
        pending_queue=form.cleaned_data.get("second_review") == "pending",
    )
    if session is None:
        messages.info(request, "No unclaimed session is left in this queue.")
        return redirect(queue_url)
    url = reverse("verifications:session-detail", kwargs={"session_id": session.session_id})
    return redirect(f"{url}?{urlencode({'queue': query})}")


@require_POST
@login_required
@permission_required(REVIEW_PERMISSION, raise_exception=True)
def session_claim(request: HttpRequest, session_id: str) -> HttpResponse:
    session = get_object_or_404(VerificationSession, session_id=session_id)
    owner, take_over = request.user, False
    assign_to = request.POST.get("assign_to", "").strip()
    if assign_to or request.POST.get("take_over"):
        # Reassigning, or taking over someone's live claim, is an admin's call.
        if not request.user.has_perm(REASSIGN_PERMISSION):
            raise PermissionDenied
        take_over = True
        if assign_to:
            owner = _reviewer_named(assign_to)
            if owner is None:
                messages.error(request, f"No reviewer is called “{assign_to}”.")
                return _back_to(session)
    try:
        workflow.claim_session(session=session, user=owner, request=request, take_over=take_over)
    except workflow.ClaimedByAnother as error:
        return claimed_response(request, session, error)
    if owner == request.user:
        messages.success(request, "You claimed this session.")
    else:
        messages.success(request, f"Assigned to {owner.get_username()}.")
    return _back_to(session, request.POST.get("queue", ""))


@require_POST
@login_required
@permission_required(REVIEW_PERMISSION, raise_exception=True)
def session_release(request: HttpRequest, session_id: str) -> HttpResponse:
    session = get_object_or_404(VerificationSession, session_id=session_id)
    force = request.user.has_perm(REASSIGN_PERMISSION)
    if workflow.release_session(session=session, user=request.user, request=request, force=force):
        messages.success(request, "Claim released.")
    else:
        messages.warning(request, "You hold no claim on this session.")
    return _back_to(session)


@require_POST
@login_required
@permission_required(REVIEW_PERMISSION, raise_exception=True)
def session_second_review(request: HttpRequest, session_id: str) -> HttpResponse:
    session = get_object_or_404(VerificationSession, session_id=session_id)
    pending = four_eyes.open_decision(session)
    form = SecondReviewForm(request.POST)
    if pending is None:
        messages.warning(request, "No decision on this session is waiting for a second review.")
        return _back_to(session)
    if pending.requested_by_id == request.user.pk:
        return HttpResponse(
            "You made this decision: a second review must be made by someone else.",
            status=403,
            content_type="text/plain; charset=utf-8",
        )
    refused = refuse_if_claimed(request, session)
    if refused is not None:
        return refused
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return _back_to(session)
    decision, comment = form.cleaned_data["decision"], form.cleaned_data["comment"]
    try:
        if decision == "confirm":
            four_eyes.confirm(pending=pending, comment=comment, actor=request.user, request=request)
            workflow.after_decision(request, session)
            messages.success(request, f"Confirmed: sent to Didit as {pending.new_status}.")
        else:
            four_eyes.reject(pending=pending, comment=comment, actor=request.user, request=request)
            messages.success(request, "Rejected: nothing was sent to Didit.")
    except four_eyes.SameReviewer as error:
        return HttpResponse(str(error), status=403, content_type="text/plain; charset=utf-8")
    except four_eyes.SecondReviewError as error:
        messages.warning(request, str(error))
    except DiditError:
        messages.error(request, "Didit could not be reached or refused; the decision still waits.")
    return _back_to(session)


@require_GET
@login_required
@permission_required("verifications.view_verificationsession", raise_exception=True)
def my_work(request: HttpRequest) -> HttpResponse:
    """My claimed sessions, my decisions pending a second review, my decisions today."""
    user = request.user
    today = timezone.make_aware(datetime.combine(timezone.localdate(), time.min))
    claims = (
        workflow.live_claims().filter(owner=user).select_related("session").order_by("claimed_at")
    )
    context = {
        "claims": list(claims),
        "my_pending": list(
            PendingDecision.objects.filter(requested_by=user, state__in=workflow.OPEN_STATES)
            .select_related("session")
            .order_by("requested_at")
        ),
        "awaiting_me": list(
            PendingDecision.objects.filter(state=SecondReviewState.PENDING)
            .exclude(requested_by=user)
            .select_related("session", "requested_by")
            .order_by("requested_at")[:50]
        ),
        "decided_today": list(
            Review.objects.filter(
                staff_user=user, source=ReviewSource.CONSOLE, created_at__gte=today
            )
            .select_related("session")
            .order_by("-created_at")
        ),
    }
    return render(request, "verifications/my_work.html", context)


# --- Hooks for the session page ----------------------------------------------------------------


def refuse_if_claimed(request: HttpRequest, session: VerificationSession) -> HttpResponse | None:
    """A 409 naming who holds the session when someone else does, else None."""
    try:
        workflow.check_can_decide(session, request.user)
    except workflow.ClaimedByAnother as error:
        return claimed_response(request, session, error)
    return None


def claimed_response(
    request: HttpRequest, session: VerificationSession, error: workflow.ClaimedByAnother
) -> HttpResponse:
    message = f"{error} Only they can work on it: nothing was changed or sent to Didit."
    if request.htmx:
        # htmx swaps no 4xx answer: the page reloads and shows the message.
        messages.error(request, message)
        response = HttpResponse(message, status=409, content_type="text/plain; charset=utf-8")
        response["HX-Refresh"] = "true"
        return response
    context = {"session": session, "claim": error.claim, "message": message}
    return render(request, CONFLICT_TEMPLATE, context, status=409)


def next_after_decision(request: HttpRequest, session: VerificationSession) -> HttpResponse | None:
    """After a successful decision from a page opened through "next": the next session."""
    workflow.after_decision(request, session)
    if "queue" not in request.POST:
        return None
    query = QueryDict(request.POST["queue"][:2000], mutable=True)
    query["after"] = session.session_id
    url = reverse("verifications:session-next") + "?" + query.urlencode()
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


def _reviewer_named(username: str):
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None or not user.has_perm(REVIEW_PERMISSION):
        return None
    return user


def _back_to(session: VerificationSession, queue: str = "") -> HttpResponse:
    url = reverse("verifications:session-detail", kwargs={"session_id": session.session_id})
    return redirect(f"{url}?{urlencode({'queue': queue})}" if queue else url)
