"""Background work, through Django's tasks API (django-tasks now, ``django.tasks`` on 6.0).

Tasks take ids, not objects, are enqueued with ``transaction.on_commit``, and are idempotent:
running one twice costs a Didit call, never a wrong row. Run them with ``manage.py
db_worker``; the backend is the ``TASKS`` setting. Webhook re-fetches; the evidence archive
(archive, retried with back-off), evidence packs and retention.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial

from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone
from django_tasks import task

from . import evidence, packs, retention
from .deliveries import RETRY, process_delivery
from .didit.client import DiditClient
from .models import Evidence, EvidenceStatus, WebhookDelivery
from .signals import decision_stored

# When Didit could not be reached, the re-fetch is tried again this much later, this many
# times; after that the next sync_didit run picks the delivery up.
RETRY_DELAY = timedelta(seconds=30)
MAX_ATTEMPTS = 5


def didit_client() -> DiditClient:
    """The client webhook re-fetches use (a seam for tests): Didit's webhook waits on it."""
    return DiditClient.from_settings(purpose="interactive")


@task()
def refetch_delivered_session(delivery_id: int) -> str:
    """Bring a webhook delivery's session up to date from Didit (see deliveries.py)."""
    outcome = process_delivery(delivery_id, client=didit_client())
    if outcome == RETRY:
        attempts = WebhookDelivery.objects.filter(pk=delivery_id).values_list("attempts", flat=True)
        backend = refetch_delivered_session.get_backend()
        if backend.supports_defer and (attempts.first() or 0) < MAX_ATTEMPTS:
            later = refetch_delivered_session.using(run_after=timezone.now() + RETRY_DELAY)
            later.enqueue(delivery_id)
    return outcome


logger = logging.getLogger(__name__)

# Failed archive attempts wait 30 s, 1 min, 2 min, ... at most an hour before the next.
ARCHIVE_RETRY_BASE = timedelta(seconds=30)
ARCHIVE_RETRY_MAX = timedelta(hours=1)


@task()
def archive_evidence(session_pk: int) -> str:
    """Copy the session's media into the evidence archive; retried with back-off."""
    progress = evidence.archive_session(session_pk)
    if progress is None:
        return "gone"
    if progress.failed:
        _retry_later(session_pk)
    return str(progress)


def _retry_later(session_pk: int) -> None:
    attempts = (
        Evidence.objects.filter(session_id=session_pk, status=EvidenceStatus.FAILED)
        .order_by("attempts")
        .values_list("attempts", flat=True)
        .first()
    )
    if attempts is None or attempts >= evidence.MAX_ATTEMPTS:
        return
    if not archive_evidence.get_backend().supports_defer:
        return  # The immediate backend (tests) cannot wait: the next decision retries.
    delay = min(ARCHIVE_RETRY_BASE * 2 ** max(attempts - 1, 0), ARCHIVE_RETRY_MAX)
    archive_evidence.using(run_after=timezone.now() + delay).enqueue(session_pk)


@receiver(decision_stored, dispatch_uid="verifications.tasks.archive_on_decision")
def _archive_on_decision(sender, *, session_pk: int, **kwargs) -> None:
    # Sent from transaction.on_commit: the decision is visible to the worker.
    try:
        archive_evidence.enqueue(session_pk)
    except Exception:
        # Never let the archive break a sync or a webhook; verify_evidence and the next
        # decision catch up.
        logger.exception("Could not enqueue the evidence archive of a session")


def enqueue_archive(session_pk: int) -> None:
    """Archive a session's media once the current transaction commits."""
    transaction.on_commit(partial(archive_evidence.enqueue, session_pk))


@task()
def build_evidence_pack(pack_pk: int) -> str:
    """Build an evidence pack's ZIP (see verifications/packs.py)."""
    return packs.build_pack(pack_pk)


@task()
def delete_expired_packs() -> int:
    return packs.delete_expired_packs()


@task()
def apply_retention() -> int:
    """The periodic form of ``manage.py apply_retention`` (schedule it daily)."""
    return len(retention.apply_retention().purged)
