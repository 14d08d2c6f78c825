"""Retention: sessions inactive for longer than ``RETENTION_DAYS`` lose their personal data.

A purged session stays as a tombstone: its id, dates, final status, who decided (its
reviews) and its audit trail; the decision JSON, document, face, AML, IP data, the person
(when none of their sessions remain) and the archived evidence files are deleted. Each
purge is an audit entry. With ``delete_at_didit`` Didit is asked to delete the session
first, and a session Didit did not confirm deleting is left for the next run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from . import audit
from .didit.errors import DiditError, DiditNotFound
from .evidence import delete_unreferenced
from .models import (
    AmlScreening,
    AuditAction,
    DocumentData,
    Evidence,
    FaceCheck,
    IpAnalysis,
    VerificationSession,
)

logger = logging.getLogger(__name__)

PURGED_FIELDS = {
    "full_name": "",
    "document_number": "",
    "vendor_data": "",
    "metadata": None,
    "callback": "",
    "session_url": "",
    "aml_score": None,
    "aml_total_hits": None,
}
CHILDREN = (DocumentData, FaceCheck, AmlScreening, IpAnalysis)


@dataclass
class RetentionResult:
    cutoff: datetime | None
    due: list[str] = field(default_factory=list)
    purged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    files_deleted: int = 0


def retention_cutoff(*, now: datetime | None = None) -> datetime | None:
    """Sessions whose last activity is before this are due; None when kept forever."""
    days = settings.RETENTION_DAYS
    if days is None:
        return None
    return (now or timezone.now()) - timedelta(days=days)


def sessions_due(cutoff: datetime) -> QuerySet[VerificationSession]:
    """Not yet purged, and created, synced and last reviewed before ``cutoff``."""
    return (
        VerificationSession.objects.filter(
            purged_at__isnull=True, created_at__lt=cutoff, synced_at__lt=cutoff
        )
        .annotate(last_review=Max("reviews__created_at"))
        .filter(Q(last_review__isnull=True) | Q(last_review__lt=cutoff))
        .order_by("created_at", "id")
    )


def apply_retention(
    *,
    dry_run: bool = False,
    delete_at_didit: bool = False,
    client: Any = None,
    now: datetime | None = None,
) -> RetentionResult:
    cutoff = retention_cutoff(now=now)
    result = RetentionResult(cutoff=cutoff)
    if cutoff is None:
        return result
    due = list(sessions_due(cutoff).values_list("pk", "session_id"))
    result.due = [session_id for _, session_id in due]
    if dry_run:
        return result
    if delete_at_didit and client is None:
        from .didit.client import DiditClient

        client = DiditClient.from_settings()
    for pk, session_id in due:
        if delete_at_didit:
            try:
                client.delete_session(session_id)
            except DiditNotFound:
                pass  # Already gone at Didit: nothing to wait for.
            except DiditError as error:
                result.failed.append((session_id, f"Didit did not delete it: {error}"[:300]))
                continue
        result.files_deleted += purge_session(pk, deleted_at_didit=delete_at_didit)
        result.purged.append(session_id)
    return result


def purge_session(session_pk: int, *, deleted_at_didit: bool = False, actor=None) -> int:
    """Turn one session into a tombstone; returns the number of evidence files deleted."""
    with transaction.atomic():
        session = VerificationSession.objects.select_for_update().get(pk=session_pk)
        if session.purged_at is not None:
            return 0
        evidence = list(Evidence.objects.filter(session=session).values_list("sha256", "kind"))
        Evidence.objects.filter(session=session).delete()
        for model in CHILDREN:
            model.objects.filter(session=session).delete()
        session.aml_hits.all().delete()
        session.warnings.all().delete()
        person = session.user
        for name, value in PURGED_FIELDS.items():
            setattr(session, name, value)
        session.decision = {"session_id": session.session_id, "status": session.status}
        session.user = None
        session.purged_at = timezone.now()
        if deleted_at_didit:
            session.deleted_at_didit = session.deleted_at_didit or session.purged_at
        session.save()
        if person is not None:
            if person.sessions.exists():
                person.recompute()
            else:
                person.delete()
        audit.record(
            None,
            actor=actor,
            action=AuditAction.RETENTION_PURGE,
            object_type="session",
            object_id=session.session_id,
            detail={
                "retention_days": settings.RETENTION_DAYS,
                "evidence_files": len(evidence),
                "deleted_at_didit": deleted_at_didit,
            },
        )
    digests = {digest for digest, _ in evidence if digest}
    return delete_unreferenced(digests)
