"""WebhookDelivery: one durable row per Didit webhook delivery, stored before it is acted on."""

from __future__ import annotations

from django.db import models


class WebhookOutcome(models.TextChoices):
    PROCESSING = "processing", "Processing"
    CREATED = "created", "Session created"
    UPDATED = "updated", "Session updated"
    UNCHANGED = "unchanged", "Session unchanged"
    NOT_FOUND = "not_found", "Session unknown to Didit"
    FAILED = "failed", "Decision could not be applied"


class WebhookDelivery(models.Model):
    """An accepted delivery, written before its re-fetch is queued, so a worker that dies
    loses nothing. ``pending`` says a re-fetch is owed: set on arrival and on every repeat
    of the delivery, cleared when a worker claims it (``claimed_at``). Didit retries a
    delivery with the same ``delivery_key`` (a digest of body and signature); the unique
    constraint turns a repeat into the same row. Nothing personal is kept: the body (and
    its decision) is never stored."""

    delivery_key = models.CharField(max_length=64, unique=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    pending = models.BooleanField(default=True)
    repeats = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    session_id = models.CharField(max_length=100, db_index=True)
    status = models.CharField(max_length=32, blank=True)
    webhook_type = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(
        max_length=16, choices=WebhookOutcome.choices, default=WebhookOutcome.PROCESSING
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            # The sweep's look-up: deliveries still owed a re-fetch (a handful at most).
            models.Index(
                fields=["claimed_at"], condition=models.Q(pending=True), name="delivery_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.webhook_type} {self.session_id} {self.status} ({self.outcome})"
