"""A reviewer's decision through Didit: Approve, Decline or Resubmit, serialised per session.

The order is what keeps the console and Didit in agreement (SECURITY.md, "Consistency with
Didit"): claim the session and record the intent, ask Didit, then apply Didit's own resulting
decision. A page that no longer shows the session as it is gets ``StaleDecision``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import DatabaseError, transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from . import audit
from .didit.client import DiditClient
from .didit.errors import DiditError
from .models import AuditAction, AuditEntry, Review, ReviewSource, VerificationSession
from .services import didit_client
from .sync import DecisionError, apply_decision
from .sync.runs import fetch_decision

# How long a reviewer's claim on a session (held across the Didit call) may last before it
# counts as abandoned: well above the client's interactive budget.
DECISION_CLAIM_TTL = timedelta(minutes=2)


@dataclass(frozen=True)
class Decision:
    """What a reviewer asks Didit for: a status, a comment, and for a Resubmit the steps to
    redo (``[{"node_id", "feature"}]``); the warnings acknowledged before an Approve."""

    new_status: str
    comment: str = ""
    nodes_to_resubmit: list[dict] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)
    send_email: bool | None = None


class StaleDecision(Exception):
    """The session changed since the reviewer's page showed it (or another reviewer is
    deciding it): nothing was sent to Didit, nothing written. ``str()`` says what changed."""


class SavedAtDiditOnly(Exception):
    """Didit accepted the decision; saving it here failed. The intent (audit entry and
    pending review) names the reviewer; the next webhook or sync reconciles."""


def page_state(session: VerificationSession) -> dict[str, str]:
    """The state a page shows, carried by its decision form: a later change makes it stale."""
    return {"status": session.status, "version": session.decision_hash}


def check_page_state(session: VerificationSession, seen: dict | None) -> None:
    """Raise ``StaleDecision`` if ``session`` is no longer what the page (``seen``) showed."""
    if seen is not None and page_state(session) != seen:
        raise StaleDecision(_what_changed(session, seen))


def update_session_status(
    *,
    session: VerificationSession,
    new_status: str,
    comment: str,
    actor: Any,
    request: HttpRequest | None,
    client: DiditClient | None = None,
) -> Review:
    """Approve or decline without a page state (admin, scripts): see ``decide_session``."""
    return decide_session(
        session=session,
        decision=Decision(new_status=new_status, comment=comment),
        seen=None,
        actor=actor,
        request=request,
        client=client,
    )


def decide_session(
    *,
    session: VerificationSession,
    decision: Decision,
    seen: dict | None,
    actor: Any,
    request: HttpRequest | None,
    client: DiditClient | None = None,
) -> Review:
    """One reviewer's decision, through Didit, serialised per session.

    1. Claim the session, only if no one else holds it and it is still as ``seen`` (the page
       state, ``None`` to skip that check); in the same transaction record the intent: a
       pending review and a "requested" audit entry naming the reviewer. Else
       ``StaleDecision``: nothing sent, nothing written.
    2. Ask Didit. Refused or unreachable: the pending review is removed, the refusal
       audited, the claim released, and ``DiditError`` raised.
    3. Accepted: fetch Didit's decision again and apply it (the status is Didit's, not
       assumed), confirm the review, audit the completion, release the claim. If the
       database fails here, ``SavedAtDiditOnly``: the intent stays and the next webhook or
       sync links Didit's review to it.
    """
    client = client or didit_client()
    review, requested = _claim(session, decision, seen=seen, actor=actor, request=request)
    try:
        client.update_status(
            session.session_id,
            new_status=decision.new_status,
            comment=decision.comment or None,
            send_email=decision.send_email,
            nodes_to_resubmit=decision.nodes_to_resubmit or None,
        )
    except DiditError as error:
        _refused(session, review, requested, error=error, actor=actor, request=request)
        raise
    try:
        return _confirmed(session, review, requested, client=client, actor=actor, request=request)
    except DatabaseError as error:
        _release_quietly(session, actor)
        raise SavedAtDiditOnly(
            "Didit accepted the decision; saving it here failed — it will be reconciled."
        ) from error


def _claim(
    session: VerificationSession,
    decision: Decision,
    *,
    seen: dict | None,
    actor: Any,
    request: HttpRequest | None,
) -> tuple[Review, AuditEntry]:
    now = timezone.now()
    free = Q(decision_claimed_at__isnull=True) | Q(decision_claimed_at__lt=now - DECISION_CLAIM_TTL)
    claimable = VerificationSession.objects.filter(free, pk=session.pk)
    if seen is not None:
        claimable = claimable.filter(status=seen["status"], decision_hash=seen["version"])
    with transaction.atomic():
        # One UPDATE decides who gets the session: a second reviewer finds 0 rows.
        if not claimable.update(decision_claimed_at=now, decision_claimed_by=actor):
            current = VerificationSession.objects.get(pk=session.pk)
            raise StaleDecision(_what_changed(current, seen))
        review = Review.objects.create(
            session=session,
            source=ReviewSource.CONSOLE,
            new_status=decision.new_status,
            comment=decision.comment,
            created_at=now,
            staff_user=actor,
            pending=True,
            acknowledged_warnings=decision.acknowledged,
            resubmit_nodes=decision.nodes_to_resubmit,
        )
        requested = audit.record(
            request,
            actor=actor,
            action=AuditAction.STATUS_REQUEST,
            object_type="session",
            object_id=session.session_id,
            detail={
                "previous_status": session.status,
                "new_status": decision.new_status,
                "comment": decision.comment,
                "acknowledged_warnings": decision.acknowledged,
                "nodes_to_resubmit": decision.nodes_to_resubmit,
                "review": review.pk,
            },
        )
    return review, requested


def _refused(
    session: VerificationSession,
    review: Review,
    requested: AuditEntry,
    *,
    error: DiditError,
    actor: Any,
    request: HttpRequest | None,
) -> None:
    with transaction.atomic():
        Review.objects.filter(pk=review.pk).delete()
        audit.record(
            request,
            actor=actor,
            action=AuditAction.STATUS_REFUSED,
            object_type="session",
            object_id=session.session_id,
            detail={"request": requested.pk, "didit_status_code": error.status},
        )
        _release(session, actor)


def _confirmed(
    session: VerificationSession,
    review: Review,
    requested: AuditEntry,
    *,
    client: DiditClient,
    actor: Any,
    request: HttpRequest | None,
) -> Review:
    previous = session.status
    try:
        fetched, fetched_between = fetch_decision(client, session.session_id)
    except DiditError:
        fetched = None
    with transaction.atomic():
        applied = False
        if isinstance(fetched, dict) and str(fetched.get("session_id")) == session.session_id:
            try:
                with transaction.atomic():
                    apply_decision(fetched, fetched_between=fetched_between)
                applied = True
            except DecisionError:
                applied = False
        if not applied:
            # Didit confirmed the change but its decision could not be read back: keep what
            # it confirmed, and force the next webhook or sync to apply its decision whole.
            VerificationSession.objects.filter(pk=session.pk).update(
                status=review.new_status, decision_hash="", decision_requested_at=review.created_at
            )
        Review.objects.filter(pk=review.pk).update(pending=False)
        locked = VerificationSession.objects.select_related("user").get(pk=session.pk)
        audit.record(
            request,
            actor=actor,
            action=AuditAction.STATUS_UPDATE,
            object_type="session",
            object_id=session.session_id,
            detail={
                "request": requested.pk,
                "previous_status": previous,
                "new_status": review.new_status,
                "didit_status": locked.status,
                "comment": review.comment,
                "acknowledged_warnings": review.acknowledged_warnings,
                "nodes_to_resubmit": review.resubmit_nodes,
            },
        )
        _release(session, actor)
        if locked.user_id is not None and not applied:
            locked.user.recompute()
    session.refresh_from_db()
    review.refresh_from_db()
    return review


def _release(session: VerificationSession, actor: Any) -> None:
    VerificationSession.objects.filter(pk=session.pk, decision_claimed_by=actor).update(
        decision_claimed_at=None, decision_claimed_by=None
    )


def _release_quietly(session: VerificationSession, actor: Any) -> None:
    # The database just failed; if it still does, the claim lapses after its TTL.
    with contextlib.suppress(DatabaseError):
        _release(session, actor)


def _what_changed(current: VerificationSession, seen: dict | None) -> str:
    """One line for a reviewer whose page is out of date, e.g. "Declined by B at 14:02"."""
    now = timezone.now()
    if (
        current.decision_claimed_at is not None
        and current.decision_claimed_at >= now - DECISION_CLAIM_TTL
        and (seen is None or page_state(current) == seen)
    ):
        who = getattr(current.decision_claimed_by, "username", None) or "Another reviewer"
        return (
            f"{who} is deciding this session right now (since "
            f"{_clock(current.decision_claimed_at)}); nothing was sent — reload to review again."
        )
    last = (
        current.reviews.filter(pending=False, new_status=current.status)
        .select_related("staff_user")
        .order_by("-created_at", "-id")
        .first()
    )
    if seen is not None and current.status != seen.get("status"):
        if last is not None:
            when = last.created_at or last.didit_created_at
            at = f" at {_clock(when)}" if when else ""
            return f"{current.status} by {last.reviewer}{at} — reload to review again."
        return f"Now {current.status} at Didit — reload to review again."
    return (
        f"This session was updated from Didit at {_clock(current.synced_at)} since you opened "
        "it — reload to review again."
    )


def _clock(moment) -> str:
    local = timezone.localtime(moment)
    return f"{local:%H:%M} {local.tzname()}"
