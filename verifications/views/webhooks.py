"""Didit's webhook deliveries: ``POST /webhooks/didit/`` (docs/didit-api.md, "Webhooks")."""

from __future__ import annotations

import logging
from functools import partial

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from verifications.deliveries import ACCEPTED, DUPLICATE, record_delivery
from verifications.tasks import refetch_delivered_session
from verifications.webhooks import MAX_BODY_BYTES, WebhookRejected, verify_delivery

logger = logging.getLogger(__name__)


@csrf_exempt  # Didit cannot send a CSRF token; the HMAC signature authenticates it instead.
@login_not_required
@require_POST
def didit_webhook(request: HttpRequest) -> JsonResponse:
    """Verify, store durably, and queue the re-fetch that brings the session up to date."""
    if _declared_length(request) > MAX_BODY_BYTES:
        return _reject(WebhookRejected("body too large", status=413))
    # Read one byte past the limit so an undeclared oversize body is caught too.
    body = request.read(MAX_BODY_BYTES + 1)
    try:
        event = verify_delivery(body, request.headers, secret=settings.DIDIT_WEBHOOK_SECRET)
    except WebhookRejected as rejected:
        return _reject(rejected)

    with transaction.atomic():
        delivery, owed = record_delivery(event)
        if owed:
            # Queued once the row is committed: the task must find it. If queueing fails the
            # row stays pending and the next sync_didit run re-fetches it.
            transaction.on_commit(
                partial(refetch_delivered_session.enqueue, delivery.pk), robust=True
            )
    outcome = ACCEPTED if owed else DUPLICATE
    logger.info("webhook %s for session %s: %s", event.webhook_type, event.session_id, outcome)
    return JsonResponse({"detail": "ok", "outcome": outcome}, status=200)


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _reject(rejected: WebhookRejected) -> JsonResponse:
    # The reason is ours ("invalid signature", ...): never the body, a header or the secret.
    logger.warning("webhook rejected (%s): %s", rejected.status, rejected.reason)
    return JsonResponse({"detail": rejected.reason}, status=rejected.status)
