"""Acting on a verified webhook event: remember it once, then re-sync its session.

The event only says *that* a session changed; what it changed to comes from Didit's API
(``resync_session``), never from the delivery's body. The ``WebhookDelivery`` row is written
before the fetch, so a retry arriving meanwhile is a duplicate; it is removed again when Didit
could not be reached, so Didit's own retry of the event is processed instead of ignored.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction

from .didit.client import DiditError, DiditNotFound
from .models import WebhookDelivery, WebhookOutcome
from .sync import DecisionError, resync_session
from .webhooks import WebhookEvent

logger = logging.getLogger(__name__)

DUPLICATE = "duplicate"


class DiditUnreachable(Exception):
    """The session could not be brought up to date now; the delivery should be retried."""


def accept_delivery(event: WebhookEvent, *, client: Any) -> str:
    """Record the event and re-sync its session; return the outcome (or ``DUPLICATE``).

    Raises ``DiditUnreachable`` when Didit failed to answer; nothing is kept in that case.
    """
    try:
        with transaction.atomic():
            delivery = WebhookDelivery.objects.create(
                delivery_key=event.delivery_key,
                session_id=event.session_id,
                status=event.status[:32],
                webhook_type=event.webhook_type[:64],
            )
    except IntegrityError:
        return DUPLICATE

    try:
        outcome = resync_session(client, event.session_id)
    except DiditNotFound:
        outcome = WebhookOutcome.NOT_FOUND
    except DecisionError as exc:
        # Retrying would fetch the same bad decision; the next sync run reports it again.
        logger.warning("webhook for session %s: decision not applied: %s", event.session_id, exc)
        outcome = WebhookOutcome.FAILED
    except DiditError as exc:
        WebhookDelivery.objects.filter(pk=delivery.pk).delete()
        logger.warning("webhook for session %s: Didit unreachable: %s", event.session_id, exc)
        raise DiditUnreachable(str(exc)) from None
    except BaseException:
        WebhookDelivery.objects.filter(pk=delivery.pk).delete()
        raise
    WebhookDelivery.objects.filter(pk=delivery.pk).update(outcome=str(outcome))
    return str(outcome)
