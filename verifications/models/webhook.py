"""WebhookDelivery: one row per Didit webhook event we acted on, so a repeat is a no-op."""

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
    """An accepted delivery. Didit retries an event with the same ``delivery_key``; the
    unique constraint makes the second one fail to insert, which is how we spot it. Nothing
    personal is kept: the body (and its decision) is never stored."""

    delivery_key = models.CharField(max_length=64, unique=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    session_id = models.CharField(max_length=100, db_index=True)
    status = models.CharField(max_length=32, blank=True)
    webhook_type = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(
        max_length=16, choices=WebhookOutcome.choices, default=WebhookOutcome.PROCESSING
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.webhook_type} {self.session_id} {self.status} ({self.outcome})"
