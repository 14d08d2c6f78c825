"""Background work, through Django's tasks API (django-tasks now, ``django.tasks`` on 6.0).

Tasks take ids, not objects, are enqueued with ``transaction.on_commit``, and are idempotent:
running one twice costs a Didit call, never a wrong row.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from .deliveries import RETRY, process_delivery
from .didit.client import DiditClient
from .models import WebhookDelivery

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
