"""Sessions Didit no longer has: found by a full listing, confirmed one by one.

A session missing from a complete listing is asked for by id; only Didit's 404 marks it
"deleted at Didit" (with an audit entry). Its row, decision and archived evidence stay,
kept under our own retention period, not Didit's.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, TextIO

from django.utils import timezone

from verifications import audit
from verifications.didit.errors import DiditError, DiditNotFound
from verifications.models import AuditAction, VerificationSession

# Confirmations (one decision fetch each) per run: a listing that suddenly lacks thousands
# of sessions is more likely a fault than a purge; the next full run continues.
MAX_CONFIRMATIONS = 500


def mark_deleted_at_didit(
    client: Any,
    listed: Iterable[str],
    *,
    listed_since: datetime,
    stdout: TextIO | None = None,
) -> list[str]:
    """Mark ours that a full listing (started at ``listed_since``) lacked and Didit 404s."""
    seen = set(listed)
    ours = VerificationSession.objects.filter(
        deleted_at_didit__isnull=True, first_synced_at__lt=listed_since
    ).values_list("session_id", flat=True)
    missing = [session_id for session_id in ours.iterator() if session_id not in seen]
    marked = []
    for session_id in missing[:MAX_CONFIRMATIONS]:
        try:
            client.get_decision(session_id)
        except DiditNotFound:
            pass
        except DiditError:
            continue  # Not confirmed: ask again next run.
        else:
            continue  # Didit still has it; the listing just did not show it.
        VerificationSession.objects.filter(session_id=session_id).update(
            deleted_at_didit=timezone.now()
        )
        audit.record(
            None,
            action=AuditAction.DELETED_AT_DIDIT,
            object_type="session",
            object_id=session_id,
            detail={"found_by": "sync_didit --full"},
        )
        marked.append(session_id)
    if stdout is not None and marked:
        stdout.write(f"sync_didit: {len(marked)} session(s) deleted at Didit, marked as such\n")
    return marked
