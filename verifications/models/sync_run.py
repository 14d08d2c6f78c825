"""SyncRun: one row per ``sync_didit`` run, which doubles as the lock against overlap."""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.db.models import Q
from django.utils import timezone


class SyncRunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIAL = "partial", "Partial (some sessions failed)"
    FAILED = "failed", "Failed"


class SyncRunMode(models.TextChoices):
    INCREMENTAL = "incremental", "Incremental"
    FULL = "full", "Full"
    SINCE = "since", "Since a date"
    VENDOR_DATA = "vendor_data", "One user"
    SESSION = "session", "One session"


class SyncRun(models.Model):
    """A sync run: what it was asked, what it did, what failed.

    At most one row can be ``running`` (a partial unique constraint, enforced by SQLite and
    PostgreSQL alike): inserting a second one fails, which is the lock. A run that stopped
    heartbeating (its process died) can be taken over; see ``verifications.sync``.
    """

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(
        max_length=16, choices=SyncRunStatus.choices, default=SyncRunStatus.RUNNING
    )
    mode = models.CharField(max_length=16, choices=SyncRunMode.choices)
    options = models.JSONField(default=dict, blank=True)
    host = models.CharField(max_length=255, blank=True)
    pid = models.PositiveIntegerField(null=True, blank=True)

    listed = models.PositiveIntegerField(default=0)
    fetched = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    # [{"session_id": ..., "error": ...}]: short messages, never payloads or credentials.
    errors = models.JSONField(default=list, blank=True)
    # Didit API calls made by the run, per operation ("list", "decision", "retries", ...).
    api_calls = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status="running"),
                name="syncrun_one_running",
            )
        ]
        indexes = [models.Index(fields=["status", "mode", "-started_at"], name="syncrun_last")]

    def __str__(self) -> str:
        return f"{self.get_mode_display()} sync {self.started_at:%Y-%m-%d %H:%M} ({self.status})"

    @property
    def duration(self) -> timedelta | None:
        return self.finished_at - self.started_at if self.finished_at else None

    def summary(self) -> str:
        seconds = (self.finished_at or timezone.now()) - self.started_at
        return (
            f"{self.listed} listed, {self.fetched} fetched, {self.created} created, "
            f"{self.updated} updated, {self.unchanged} unchanged, {self.failed} failed "
            f"in {seconds.total_seconds():.1f}s"
        )
