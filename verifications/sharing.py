"""Reusable KYC: share a finished session with a partner application, import one shared
with us. Every call is confirmed by Didit before anything is recorded here, and audited."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from . import audit
from .didit.client import DiditClient
from .didit.errors import DiditError
from .models import AuditAction, VerificationSession
from .sync import resync_session
from .sync.parse import DecisionError


def share_session(
    *,
    session: VerificationSession,
    ttl_in_seconds: int,
    for_application_id: str,
    actor: Any,
    request: HttpRequest | None,
    client: DiditClient | None = None,
) -> str:
    """A share token from Didit for this session. The token itself is not stored or
    audited: whoever holds it can import the session once. Raises ``DiditError``."""
    client = client or DiditClient.from_settings()
    token = client.share_session(
        session.session_id,
        ttl_in_seconds=ttl_in_seconds,
        for_application_id=for_application_id or None,
    )
    audit.record(
        request,
        actor=actor,
        action=AuditAction.SESSION_SHARE,
        object_type="session",
        object_id=session.session_id,
        detail={"ttl_in_seconds": ttl_in_seconds, "for_application_id": for_application_id},
    )
    return token


def import_shared_session(
    *,
    share_token: str,
    workflow_id: str,
    vendor_data: str,
    trust_review: bool,
    actor: Any,
    request: HttpRequest | None,
    client: DiditClient | None = None,
) -> tuple[str, bool]:
    """Import a session a partner shared; returns (new session id, synced here?).

    Didit creates the session first; the import is audited as soon as Didit confirms it, then
    the new session is synced. If that sync fails, the session still exists at Didit and
    arrives with the next sync or webhook (``synced`` is False). Raises ``DiditError`` when
    Didit refuses the import (nothing recorded).
    """
    client = client or DiditClient.from_settings()
    answer = client.import_shared_session(
        share_token=share_token,
        trust_review=trust_review,
        workflow_id=workflow_id or None,
        vendor_data=vendor_data or None,
    )
    session_id = str(answer["session_id"])
    audit.record(
        request,
        actor=actor,
        action=AuditAction.SESSION_IMPORT,
        object_type="session",
        object_id=session_id,
        detail={
            "workflow_id": workflow_id,
            "vendor_data": vendor_data,
            "trust_review": trust_review,
            "status": answer.get("status"),
        },
    )
    try:
        resync_session(client, session_id)
    except (DiditError, DecisionError):
        return session_id, False
    return session_id, True


def refusal_message(error: DiditError, *, action: str) -> str:
    """What a reviewer reads when Didit refuses a share or an import."""
    if action == "import" and error.status in (401, 403):
        return (
            "Didit refused the share token: it was already used, has expired, or was not "
            f"meant for this application (Didit said: {error.detail}). Ask the partner for a "
            "new one."
        )
    if error.status in (401, 403):
        return f"Didit refused to {action}: {error.detail}"
    if error.status in (400, 404, 409, 422) and error.detail:
        return f"Didit refused to {action}: {error.detail}"
    return f"Didit could not be reached, so nothing was done ({action}); try again in a minute."
