"""Reviewer writes: Approve/Decline through Didit, one-time form tokens (AML hits:
services_aml.py).

Each write is atomic and audited. A status change goes to Didit first; our database changes
only once Didit has confirmed it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.core import signing
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from . import audit
from .didit.client import DiditClient
from .models import (
    AuditAction,
    Review,
    ReviewSource,
    UsedFormToken,
    VerificationSession,
)

FORM_TOKEN_SALT = "verifications.form-token"  # noqa: S105 - a signing namespace
# Long enough for a reviewer who leaves a page open over lunch.
FORM_TOKEN_MAX_AGE = 12 * 60 * 60


class FormTokenError(Exception):
    """The form's one-time token is invalid, expired or already used; ``str()`` says which."""


class FormAlreadySubmitted(FormTokenError):
    pass


def issue_form_token(*, user: Any, purpose: str) -> str:
    """A signed one-time token for one form, bound to the user and what the form does."""
    return signing.dumps(
        {"u": user.pk, "p": purpose, "n": secrets.token_urlsafe(12)}, salt=FORM_TOKEN_SALT
    )


def consume_form_token(token: str, *, user: Any, purpose: str) -> None:
    """Use a token once: raises ``FormAlreadySubmitted`` the second time, whatever the timing.

    The insert commits on its own, before the caller talks to Didit, so a concurrent second
    submission waits on (PostgreSQL) or fails at (SQLite) the unique constraint.
    """
    try:
        data = signing.loads(token, salt=FORM_TOKEN_SALT, max_age=FORM_TOKEN_MAX_AGE)
    except signing.BadSignature:
        raise FormTokenError("This form has expired. Reload the page and try again.") from None
    if not isinstance(data, dict) or data.get("u") != user.pk or data.get("p") != purpose:
        raise FormTokenError("This form does not belong here. Reload the page and try again.")
    digest = hashlib.sha256(token.encode()).hexdigest()
    try:
        with transaction.atomic():
            UsedFormToken.objects.create(token=digest)
    except IntegrityError:
        raise FormAlreadySubmitted(
            "This form was already submitted; it was not sent again."
        ) from None
    purge_used_form_tokens()


def purge_used_form_tokens() -> int:
    """Forget tokens used longer ago than a token lives: their signature has expired, so
    they can no longer be submitted, once or twice. An index range; usually deletes 0 rows."""
    cutoff = timezone.now() - timedelta(seconds=FORM_TOKEN_MAX_AGE)
    deleted, _ = UsedFormToken.objects.filter(used_at__lt=cutoff).delete()
    return deleted


def update_session_status(
    *,
    session: VerificationSession,
    new_status: str,
    comment: str,
    actor: Any,
    request: HttpRequest | None,
    client: DiditClient | None = None,
) -> Review:
    """Approve or decline at Didit, then record it here: status, console review, audit entry.

    Raises ``DiditError`` (nothing local changed) when Didit refuses or cannot be reached.
    """
    client = client or DiditClient.from_settings()
    asked_at = timezone.now()
    client.update_status(session.session_id, new_status=new_status, comment=comment or None)
    previous = session.status
    with transaction.atomic():
        locked = VerificationSession.objects.select_for_update().get(pk=session.pk)
        locked.status = new_status
        # A decision Didit sent before we asked for this change still has the old status.
        locked.decision_requested_at = asked_at
        locked.save(update_fields=["status", "decision_requested_at"])
        review = Review.objects.create(
            session=locked,
            source=ReviewSource.CONSOLE,
            new_status=new_status,
            comment=comment,
            created_at=timezone.now(),
            staff_user=actor,
        )
        audit.record(
            request,
            actor=actor,
            action=AuditAction.STATUS_UPDATE,
            object_type="session",
            object_id=session.session_id,
            detail={"previous_status": previous, "new_status": new_status, "comment": comment},
        )
        if locked.user_id is not None:
            locked.user.recompute()
    session.status = new_status
    return review
