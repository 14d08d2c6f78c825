"""Four-eyes: risky decisions wait for a second, different reviewer before Didit is told.

The rules (``FOUR_EYES_RULES``) look at the session as stored. When one fires, the first
reviewer's decision is kept as a ``PendingDecision`` and nothing is sent; a different
reviewer then confirms it (one update-status to Didit, naming both reviewers) or rejects it
(nothing sent). Every step is audited.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from . import audit
from .decisions import update_session_status
from .didit.client import DiditClient
from .didit.errors import DiditError
from .models import (
    AmlHit,
    AuditAction,
    Disposition,
    PendingDecision,
    SecondReviewState,
    SessionStatus,
    VerificationSession,
)

RULE_LABELS = {
    "approve_confirmed_match": "approving a session with a confirmed AML match",
    "approve_pep": "approving a session with a PEP hit",
    "approve_declined": "approving a session Didit declined",
    "aml_score": "a decision on a session with a high AML score",
}


class SecondReviewError(Exception):
    """The second review cannot happen; ``str()`` says why."""


class SameReviewer(SecondReviewError):
    """The first reviewer tried to confirm or reject their own decision."""


class AlreadyPending(SecondReviewError):
    pass


def rules_fired(session: VerificationSession, new_status: str) -> list[str]:
    """The four-eyes rules that hold back ``new_status`` on ``session`` (empty: none)."""
    enabled = {rule for rule in settings.FOUR_EYES_RULES if rule}
    approving = new_status == SessionStatus.APPROVED
    fired = []
    if approving and enabled & {"approve_confirmed_match", "approve_pep"}:
        hits = list(session.aml_hits.filter(removed_at__isnull=True))
        if "approve_confirmed_match" in enabled and any(map(_is_confirmed_match, hits)):
            fired.append("approve_confirmed_match")
        if "approve_pep" in enabled and any(map(_is_pep, hits)):
            fired.append("approve_pep")
    if approving and "approve_declined" in enabled and _didit_declined(session):
        fired.append("approve_declined")
    score = session.aml_score
    if "aml_score" in enabled and score is not None and score >= settings.FOUR_EYES_AML_SCORE:
        fired.append("aml_score")
    return fired


def _is_confirmed_match(hit: AmlHit) -> bool:
    return hit.review_status == "Confirmed Match" or hit.disposition == Disposition.CONFIRMED_MATCH


def _is_pep(hit: AmlHit) -> bool:
    if hit.review_status == "False Positive" or hit.disposition == Disposition.FALSE_POSITIVE:
        return False
    topics = [str(topic).lower() for topic in [*(hit.topics or []), *_topics(hit.properties)]]
    return any("pep" in topic for topic in topics) or bool((hit.details or {}).get("pep_matches"))


def _topics(properties: object) -> list:
    topics = properties.get("topics") if isinstance(properties, dict) else None
    return topics if isinstance(topics, list) else []


def _didit_declined(session: VerificationSession) -> bool:
    decision = session.decision if isinstance(session.decision, dict) else {}
    return SessionStatus.DECLINED in (session.status, decision.get("status"))


def hold_for_second_review(
    *,
    session: VerificationSession,
    new_status: str,
    comment: str,
    rules: list[str],
    actor: Any,
    request: HttpRequest | None,
) -> PendingDecision:
    """Store the first decision, unsent. Raises ``AlreadyPending`` if one is waiting."""
    try:
        with transaction.atomic():
            pending = PendingDecision.objects.create(
                session=session,
                new_status=new_status,
                comment=comment,
                rules=rules,
                requested_by=actor,
                requested_at=timezone.now(),
            )
            audit.record(
                request,
                actor=actor,
                action=AuditAction.SECOND_REVIEW_REQUEST,
                object_type="session",
                object_id=session.session_id,
                detail={"new_status": new_status, "comment": comment, "rules": rules},
            )
    except IntegrityError:
        raise AlreadyPending(
            "A decision on this session is already waiting for a second review."
        ) from None
    return pending


def open_decision(session: VerificationSession) -> PendingDecision | None:
    return (
        PendingDecision.objects.select_related("requested_by")
        .filter(session=session, state=SecondReviewState.PENDING)
        .first()
    )


def confirm(
    *,
    pending: PendingDecision,
    comment: str,
    actor: Any,
    request: HttpRequest | None,
    client: DiditClient | None = None,
) -> PendingDecision:
    """Send the held decision to Didit, naming both reviewers; raises ``SameReviewer``,
    ``SecondReviewError`` (no longer pending) or ``DiditError`` (it stays pending)."""
    _check_other_reviewer(pending, actor)
    # Taken in one conditional UPDATE: of two confirmations at once only one sends.
    taken = PendingDecision.objects.filter(pk=pending.pk, state=SecondReviewState.PENDING).update(
        state=SecondReviewState.CONFIRMING, second_reviewer=actor
    )
    if not taken:
        raise SecondReviewError("This decision is no longer waiting for a second review.")
    first = pending.requested_by.get_username()
    note = f" Note: {comment}" if comment else ""
    sent_comment = (
        f"{pending.comment}\n[Four-eyes: decided by {first}, confirmed by "
        f"{actor.get_username()}.{note}]"
    ).strip()
    try:
        update_session_status(
            session=pending.session,
            new_status=pending.new_status,
            comment=sent_comment,
            actor=actor,
            request=request,
            client=client,
        )
    except DiditError:
        # Nothing changed at Didit: the decision waits again for a second review.
        PendingDecision.objects.filter(pk=pending.pk).update(
            state=SecondReviewState.PENDING, second_reviewer=None
        )
        raise
    return _resolve(pending, SecondReviewState.CONFIRMED, comment, actor, request)


def reject(
    *, pending: PendingDecision, comment: str, actor: Any, request: HttpRequest | None
) -> PendingDecision:
    """Refuse the held decision: nothing goes to Didit. The note is required."""
    _check_other_reviewer(pending, actor)
    if not comment:
        raise SecondReviewError("Say why you reject it: the comment is required.")
    taken = PendingDecision.objects.filter(pk=pending.pk, state=SecondReviewState.PENDING).update(
        state=SecondReviewState.REJECTED, second_reviewer=actor
    )
    if not taken:
        raise SecondReviewError("This decision is no longer waiting for a second review.")
    return _resolve(pending, SecondReviewState.REJECTED, comment, actor, request)


def _check_other_reviewer(pending: PendingDecision, actor: Any) -> None:
    if pending.requested_by_id == actor.pk:
        raise SameReviewer("A second review must be made by someone else.")


def _resolve(
    pending: PendingDecision, state: str, comment: str, actor: Any, request: HttpRequest | None
) -> PendingDecision:
    with transaction.atomic():
        PendingDecision.objects.filter(pk=pending.pk).update(
            state=state, second_comment=comment, resolved_at=timezone.now()
        )
        confirmed = state == SecondReviewState.CONFIRMED
        audit.record(
            request,
            actor=actor,
            action=(
                AuditAction.SECOND_REVIEW_CONFIRM if confirmed else AuditAction.SECOND_REVIEW_REJECT
            ),
            object_type="session",
            object_id=pending.session.session_id,
            detail={
                "new_status": pending.new_status,
                "first_reviewer": pending.requested_by.get_username(),
                "comment": comment,
            },
        )
    pending.refresh_from_db()
    return pending
