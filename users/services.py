"""Writes about a verified person: starting a re-verification through Didit."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from users.models import DiditUser
from verifications import audit
from verifications.didit.client import CreatedSession, DiditClient
from verifications.models import AuditAction


def start_reverification(
    *,
    didit_user: DiditUser,
    workflow_id: str,
    actor: Any,
    request: HttpRequest | None,
    features: str = "",
    client: DiditClient | None = None,
) -> CreatedSession:
    """Create a new Didit session for this person; audit it once Didit has answered.

    ``workflow_id`` on API v2/v3, ``features`` on v1. Raises ``DiditError`` (nothing recorded)
    when Didit refuses or cannot be reached. The new session reaches our database with the
    next sync or webhook, like any other.
    """
    client = client or DiditClient.from_settings()
    created = client.create_session(
        vendor_data=didit_user.vendor_data,
        workflow_id=workflow_id or None,
        features=features or None,
    )
    audit.record(
        request,
        actor=actor,
        action=AuditAction.REVERIFICATION,
        object_type="user",
        object_id=didit_user.vendor_data,
        detail={
            "session_id": created.session_id,
            "workflow_id": created.workflow_id or workflow_id,
            "features": features,
        },
    )
    return created
