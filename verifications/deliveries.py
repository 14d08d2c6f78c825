"""Acting on a verified webhook delivery: store it durably, then re-sync its session.

The event only says *that* a session changed; what it changed to comes from Didit's API
(``resync_session``), never from the delivery's body. So every re-fetch applies Didit's
latest decision, and repeating one is harmless.

1. ``record_delivery`` writes the ``WebhookDelivery`` row (``pending``: a re-fetch is owed)
   and answers whether a task must be queued. A repeat of a delivery (same body and
   signature) whose row is still pending adds nothing: that re-fetch has not started, so it
   will see whatever the repeat announced. A repeat of a delivery already claimed owes a
   new re-fetch: the earlier one may have read Didit before the change.
2. ``process_delivery`` (the task) claims the row, re-fetches, and records the outcome. If
   Didit cannot be reached the row is pending again.
3. ``process_pending_deliveries`` (sync_didit runs it first) re-fetches rows whose task never
   ran or whose worker died mid-way.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from .didit.client import DiditError, DiditNotFound
from .models import WebhookDelivery, WebhookOutcome
from .sync import DecisionError, resync_session
from .webhooks import WebhookEvent

logger = logging.getLogger(__name__)

DUPLICATE = "duplicate"
ACCEPTED = "accepted"
RETRY = "retry"
# A pending row this old was not picked up by its task (no worker, or Didit was down) ...
PENDING_GRACE = timedelta(minutes=1)
# ... and a claim this old without a result belongs to a worker that died.
CLAIM_TIMEOUT = timedelta(minutes=5)


def record_delivery(event: WebhookEvent) -> tuple[WebhookDelivery, bool]:
    """Store the delivery (or note a repeat of it); return (row, whether to queue a task)."""
    with transaction.atomic():
        delivery, created = WebhookDelivery.objects.get_or_create(
            delivery_key=event.delivery_key,
            defaults={
                "session_id": event.session_id,
                "status": event.status[:32],
                "webhook_type": event.webhook_type[:64],
            },
        )
        if created:
            return delivery, True
        owed_again = WebhookDelivery.objects.filter(pk=delivery.pk, pending=False).update(
            pending=True, repeats=F("repeats") + 1
        )
        if not owed_again:
            WebhookDelivery.objects.filter(pk=delivery.pk).update(repeats=F("repeats") + 1)
    return delivery, bool(owed_again)


def process_delivery(delivery_id: int, *, client: Any) -> str:
    """Claim one pending delivery, re-fetch its session from Didit and record the outcome.

    Returns the outcome; ``DUPLICATE`` when nothing was owed (another task did it), ``RETRY``
    when Didit could not be reached (the row is pending again).
    """
    claimed_at = timezone.now()
    claimed = WebhookDelivery.objects.filter(pk=delivery_id, pending=True).update(
        pending=False, claimed_at=claimed_at, attempts=F("attempts") + 1
    )
    if not claimed:
        return DUPLICATE
    delivery = WebhookDelivery.objects.get(pk=delivery_id)
    try:
        outcome = str(resync_session(client, delivery.session_id))
    except DiditNotFound:
        outcome = WebhookOutcome.NOT_FOUND
    except DecisionError as exc:
        # Retrying would fetch the same bad decision; the next sync run reports it again.
        logger.warning("webhook for session %s: decision not applied: %s", delivery.session_id, exc)
        outcome = WebhookOutcome.FAILED
    except DiditError as exc:
        WebhookDelivery.objects.filter(pk=delivery_id).update(pending=True)
        logger.warning("webhook for session %s: Didit unreachable: %s", delivery.session_id, exc)
        return RETRY
    except BaseException:
        WebhookDelivery.objects.filter(pk=delivery_id).update(pending=True)
        raise
    WebhookDelivery.objects.filter(pk=delivery_id).update(
        outcome=str(outcome), processed_at=timezone.now()
    )
    return str(outcome)


def process_pending_deliveries(*, client: Any, limit: int = 500) -> int:
    """Re-fetch deliveries whose task never ran or died; returns how many were processed."""
    now = timezone.now()
    WebhookDelivery.objects.filter(
        Q(processed_at__isnull=True) | Q(processed_at__lt=F("claimed_at")),
        pending=False,
        claimed_at__lt=now - CLAIM_TIMEOUT,
    ).update(pending=True)
    waiting = WebhookDelivery.objects.filter(pending=True, received_at__lt=now - PENDING_GRACE)
    done = 0
    for delivery_id in waiting.order_by("received_at").values_list("pk", flat=True)[:limit]:
        if process_delivery(delivery_id, client=client) not in (DUPLICATE, RETRY):
            done += 1
    return done
