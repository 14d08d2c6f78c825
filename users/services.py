"""Writes about a verified person: starting a re-verification through Didit, and what the
re-verification form starts from."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.http import HttpRequest

from users.models import DiditUser
from verifications import audit
from verifications.didit.client import CreatedSession, DiditClient
from verifications.models import AuditAction


class ReverificationRefused(Exception):
    """The console refuses to ask Didit (``str()`` says why); nothing was sent or recorded."""


def start_reverification(
    *,
    didit_user: DiditUser,
    workflow_id: str,
    actor: Any,
    request: HttpRequest | None,
    features: str = "",
    expected_details: Mapping[str, Any] | None = None,
    contact_details: Mapping[str, Any] | None = None,
    client: DiditClient | None = None,
) -> CreatedSession:
    """Create a new Didit session for this person; audit it once Didit has answered.

    ``workflow_id`` on API v2/v3, ``features`` on v1. The callback is ``DIDIT_CALLBACK_URL``
    when set. ``vendor_data`` goes as stored, whatever its length or characters. Raises
    ``DiditError`` (nothing recorded) when Didit refuses or cannot be reached. The new session
    reaches our database with the next sync or webhook, like any other.
    """
    if _stored_shortened(didit_user):
        raise ReverificationRefused(
            "This person's vendor data was stored shortened, so it cannot be sent to Didit as "
            "Didit knows it: no session was created. Start the re-verification in Didit's console."
        )
    client = client or DiditClient.from_settings()
    callback = settings.DIDIT_CALLBACK_URL or None
    created = client.create_session(
        vendor_data=didit_user.vendor_data,
        workflow_id=workflow_id or None,
        features=features or None,
        callback=callback,
        expected_details=expected_details or None,
        contact_details=contact_details or None,
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
            "callback": callback or "",
            "expected_details": sorted(expected_details or {}),
            "contact_details": sorted(contact_details or {}),
        },
    )
    return created


def _stored_shortened(didit_user: DiditUser) -> bool:
    """Whether Didit's vendor_data (in the latest decision) differs from ours: a column cut
    it. Sending ours would start a session for somebody else."""
    decision = (
        didit_user.sessions.order_by("-created_at", "-id")
        .values_list("decision", flat=True)
        .first()
    )
    sent = decision.get("vendor_data") if isinstance(decision, dict) else None
    return isinstance(sent, str) and sent != didit_user.vendor_data


def reverification_initial(sessions: Sequence[Any]) -> dict[str, Any]:
    """The form's starting values, from the person's sessions (newest first, loaded with
    ``document``): expected details from the latest approved session, contact details from
    the latest session that had them, the latest workflow."""
    initial: dict[str, Any] = {}
    workflow = next((s.workflow_id for s in sessions if s.workflow_id), "")
    initial["workflow_id"] = workflow
    approved = next((s for s in sessions if s.status == "Approved" and _document(s)), None)
    if approved is not None:
        document = _document(approved)
        initial.update(
            first_name=document.first_name,
            last_name=document.last_name,
            date_of_birth=document.date_of_birth,
            identification_number=document.document_number or document.personal_number,
            nationality=document.nationality,
            id_country=document.issuing_state,
        )
    for session in sessions:
        email, phone = _contact(session.decision if isinstance(session.decision, dict) else {})
        if email:
            initial.setdefault("email", email)
        if phone:
            initial.setdefault("phone", phone)
        if "email" in initial and "phone" in initial:
            break
    return {name: value for name, value in initial.items() if value}


def _document(session: Any) -> Any:
    try:
        return session.document
    except ObjectDoesNotExist:  # That decision had no document.
        return None


def _contact(decision: Mapping[str, Any]) -> tuple[str, str]:
    contact = decision.get("contact_details")
    contact = contact if isinstance(contact, dict) else {}
    email = contact.get("email")
    phone = contact.get("phone")
    top_email, top_phone = decision.get("email_address"), decision.get("phone_number")
    if not email and isinstance(top_email, dict):
        email = top_email.get("email")
    if not phone and isinstance(top_phone, dict):
        phone = top_phone.get("number")
    return (email if isinstance(email, str) else ""), (phone if isinstance(phone, str) else "")
