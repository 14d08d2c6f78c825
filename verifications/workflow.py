"""The review workflow: claims (who works on which session) and the queue's "next session".

A claim is one ``SessionClaim`` row per session (a unique constraint): of two reviewers
claiming at once exactly one inserts it; the other's insert fails and its conditional
takeover (only of a lapsed claim) updates nothing. Claims and releases are audited.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest, QueryDict
from django.utils import timezone

from . import audit
from .models import (
    AuditAction,
    PendingDecision,
    SecondReviewState,
    SessionClaim,
    VerificationSession,
)

# The Django session key holding when this reviewer last changed a session's status, so
# the queue's cached counts are never older than the reviewer's own action.
ACTED_AT_KEY = "queue:acted-at"
# Sessions a reviewer passed (decided or skipped) in this run through a queue.
PASSED_KEY = "queue:passed"
MAX_PASSED = 500
OPEN_STATES = (SecondReviewState.PENDING, SecondReviewState.CONFIRMING)


class ClaimedByAnother(Exception):
    """The session is claimed by someone else; ``claim`` says who and since when."""

    def __init__(self, claim: SessionClaim) -> None:
        self.claim = claim
        super().__init__(
            f"Claimed by {claim.owner.get_username()} since "
            f"{timezone.localtime(claim.claimed_at):%Y-%m-%d %H:%M}."
        )


@dataclass(frozen=True)
class ClaimInfo:
    """What the session page's claim bar shows."""

    claim: SessionClaim | None
    mine: bool
    pending: PendingDecision | None


def claim_cutoff(now: datetime | None = None) -> datetime:
    """Claims last active before this have lapsed."""
    return (now or timezone.now()) - timedelta(minutes=settings.CLAIM_TTL_MINUTES)


def live_claims() -> QuerySet[SessionClaim]:
    return SessionClaim.objects.filter(active_at__gte=claim_cutoff())


def current_claim(session: VerificationSession) -> SessionClaim | None:
    """The session's live claim, with its owner, or None."""
    return live_claims().select_related("owner").filter(session=session).first()


def claim_session(
    *,
    session: VerificationSession,
    user: Any,
    request: HttpRequest | None,
    take_over: bool = False,
) -> SessionClaim:
    """Make ``user`` the session's owner; raises ``ClaimedByAnother`` when someone else
    holds a live claim (``take_over``: an admin's reassignment, whoever holds it)."""
    now = timezone.now()
    with transaction.atomic():
        if SessionClaim.objects.filter(session=session, owner=user).update(active_at=now):
            return SessionClaim.objects.get(session=session)  # Already mine: renewed.
        previous = None
        try:
            with transaction.atomic():
                SessionClaim.objects.create(
                    session=session, owner=user, claimed_at=now, active_at=now
                )
        except IntegrityError:
            # The row exists: take it over only if it lapsed (or an admin says so), in one
            # conditional UPDATE, so a racing claimant's fresh claim is never overwritten.
            held = SessionClaim.objects.filter(session=session)
            if not take_over:
                held = held.filter(active_at__lt=claim_cutoff(now))
            previous = held.values_list("owner__username", flat=True).first()
            if not held.update(owner=user, claimed_at=now, active_at=now):
                raise ClaimedByAnother(
                    SessionClaim.objects.select_related("owner").get(session=session)
                ) from None
        audit.record(
            request,
            actor=None if request is not None else user,
            action=AuditAction.CLAIM_REASSIGN if take_over else AuditAction.CLAIM,
            object_type="session",
            object_id=session.session_id,
            detail={"owner": user.get_username(), "previous_owner": previous},
        )
    return SessionClaim.objects.select_related("owner").get(session=session)


def release_session(
    *, session: VerificationSession, user: Any, request: HttpRequest | None, force: bool = False
) -> bool:
    """End ``user``'s claim (``force``: anyone's). False when there was none to end."""
    with transaction.atomic():
        claims = SessionClaim.objects.filter(session=session)
        if not force:
            claims = claims.filter(owner=user)
        owner = claims.values_list("owner__username", flat=True).first()
        if owner is None or not claims.delete()[0]:
            return False
        audit.record(
            request,
            actor=user,
            action=AuditAction.RELEASE,
            object_type="session",
            object_id=session.session_id,
            detail={"owner": owner},
        )
    return True


def touch_claim(*, session: VerificationSession, user: Any) -> None:
    """Activity on a session keeps its owner's live claim alive (one UPDATE, maybe 0 rows)."""
    now = timezone.now()
    SessionClaim.objects.filter(
        session=session, owner=user, active_at__gte=claim_cutoff(now)
    ).update(active_at=now)


def check_can_decide(session: VerificationSession, user: Any) -> None:
    """Raises ``ClaimedByAnother`` when another reviewer's live claim holds the session."""
    claim = current_claim(session)
    if claim is not None and claim.owner_id != user.pk:
        raise ClaimedByAnother(claim)


def after_decision(request: HttpRequest, session: VerificationSession) -> None:
    """The decision is made: the claim is done, and the reviewer's counts must show it."""
    SessionClaim.objects.filter(session=session, owner=request.user).delete()
    note_own_action(request)


def note_own_action(request: HttpRequest) -> None:
    request.session[ACTED_AT_KEY] = time.time()


def acted_at(request: HttpRequest) -> float:
    return float(request.session.get(ACTED_AT_KEY, 0))


def claim_info(session: VerificationSession, user: Any) -> ClaimInfo:
    claim = current_claim(session)
    pending = (
        PendingDecision.objects.select_related("requested_by")
        .filter(session=session, state__in=OPEN_STATES)
        .first()
    )
    return ClaimInfo(
        claim=claim, mine=claim is not None and claim.owner_id == user.pk, pending=pending
    )


# --- The queue's workflow filters and "next" ---------------------------------------------------


def claimed_by(user: Any) -> Q:
    """Sessions ``user`` holds a live claim on."""
    mine = live_claims().filter(owner=user).values("session_id")
    return Q(pk__in=mine)


def unclaimed() -> Q:
    """Sessions nobody holds a live claim on."""
    return ~Exists(live_claims().filter(session_id=OuterRef("pk")))


def claimed_by_others(user: Any) -> Q:
    return Exists(live_claims().filter(session_id=OuterRef("pk")).exclude(owner=user))


def pending_second_review() -> Q:
    return Exists(PendingDecision.objects.filter(session_id=OuterRef("pk"), state__in=OPEN_STATES))


def next_session(
    *,
    sessions: QuerySet,
    ordering: list[str],
    user: Any,
    request: HttpRequest,
    after: str = "",
    pending_queue: bool = False,
) -> VerificationSession | None:
    """Claim and return the first session of ``sessions`` (the queue, filtered, in
    ``ordering``) that no one else holds and that this run has not passed yet; None when the
    queue has none left. ``after``: the session just decided or skipped (it is passed)."""
    passed = _passed(request, after)
    candidates = sessions.exclude(claimed_by_others(user)).exclude(pk__in=passed)
    if pending_queue:
        # A second reviewer is never served their own decision.
        candidates = candidates.exclude(
            pending_decisions__state__in=OPEN_STATES, pending_decisions__requested_by=user
        )
    else:
        # A decision held for a second review is not for the next first reviewer.
        candidates = candidates.exclude(pending_second_review())
    tried: list[int] = []
    for _ in range(5):  # Another reviewer may claim our candidate first: take the next one.
        session = candidates.exclude(pk__in=tried).order_by(*ordering).first()
        if session is None:
            return None
        try:
            claim_session(session=session, user=user, request=request)
        except ClaimedByAnother:
            tried.append(session.pk)
            continue
        return session
    return None


def _passed(request: HttpRequest, after: str) -> list[int]:
    if not after:
        request.session[PASSED_KEY] = []  # A new run through the queue.
        return []
    passed = list(request.session.get(PASSED_KEY, []))
    session = VerificationSession.objects.filter(session_id=after).only("pk").first()
    if session is not None:
        release_session(session=session, user=request.user, request=request)
        if session.pk not in passed:
            passed = [*passed, session.pk][-MAX_PASSED:]
    request.session[PASSED_KEY] = passed
    return passed


def queue_query(data: QueryDict) -> str:
    """The queue's own query string (filters, sort), without its page or our markers."""
    query = data.copy()
    for name in ("page", "after", "queue"):
        query.pop(name, None)
    return query.urlencode()
