"""Who works on which session (claims) and decisions waiting for a second reviewer.

Both are ours, never synced: Didit knows nothing of them. A claim's uniqueness and a pending
decision's uniqueness are database constraints, so two reviewers racing each other get
exactly one winner whatever the timing.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class SessionClaim(models.Model):
    """One reviewer working on one session. A claim lapses ``CLAIM_TTL_MINUTES`` after its
    last activity; a lapsed row stays until someone claims the session again (it is then
    taken over by a conditional update, never a check-then-write)."""

    session = models.OneToOneField(
        "verifications.VerificationSession", on_delete=models.CASCADE, related_name="claim"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="session_claims"
    )
    claimed_at = models.DateTimeField()
    active_at = models.DateTimeField(help_text="Last activity: the claim lapses after the TTL.")

    class Meta:
        indexes = [models.Index(fields=["owner", "active_at"], name="claim_owner_active")]
        permissions = [("reassign_sessionclaim", "Can reassign or release others' claims")]

    def __str__(self) -> str:
        return f"{self.session_id} claimed by {self.owner_id}"


class SecondReviewState(models.TextChoices):
    PENDING = "pending", "Pending second review"
    CONFIRMING = "confirming", "Being confirmed"
    CONFIRMED = "confirmed", "Confirmed"
    REJECTED = "rejected", "Rejected"


class PendingDecision(models.Model):
    """A first reviewer's decision that a four-eyes rule held back: stored here, not sent to
    Didit, until a different reviewer confirms it (then it is sent) or rejects it."""

    session = models.ForeignKey(
        "verifications.VerificationSession",
        on_delete=models.CASCADE,
        related_name="pending_decisions",
    )
    new_status = models.CharField(max_length=32)
    comment = models.TextField(blank=True)
    rules = models.JSONField(default=list, help_text="The four-eyes rules that fired.")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    state = models.CharField(
        max_length=16, choices=SecondReviewState.choices, default=SecondReviewState.PENDING
    )
    second_reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    second_comment = models.TextField(blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["requested_at", "id"]
        constraints = [
            # One open decision per session: a second first-decision waits for this one.
            models.UniqueConstraint(
                fields=["session"],
                condition=Q(state__in=["pending", "confirming"]),
                name="one_open_pending_decision",
            )
        ]
        indexes = [models.Index(fields=["state", "requested_at"], name="pending_state")]

    def __str__(self) -> str:
        return f"{self.new_status} of {self.session_id} ({self.state})"
