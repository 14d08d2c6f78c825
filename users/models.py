"""Didit's User entity: the person behind one ``vendor_data``, across all their sessions.

Not a staff account: reviewers log in with ``django.contrib.auth`` users. A ``DiditUser`` is
derived data, recomputed from its verification sessions whenever one of them is synced.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import models


class DiditUser(models.Model):
    """One verified person as Didit knows them (one per ``vendor_data``)."""

    vendor_data = models.CharField(max_length=255, unique=True)
    full_name = models.CharField(max_length=255, blank=True, help_text="Latest known name.")
    # Latest status per feature across the user's sessions, e.g. {"AML": "In Review"}.
    features = models.JSONField(default=dict, blank=True)
    latest_status = models.CharField(max_length=32, blank=True)
    session_count = models.PositiveIntegerField(default=0)
    approved_count = models.PositiveIntegerField(default=0)
    declined_count = models.PositiveIntegerField(default=0)
    in_review_count = models.PositiveIntegerField(default=0)
    first_session_at = models.DateTimeField(null=True, blank=True)
    last_session_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Didit's own User entity (GET /v3/users/), kept by sync_didit: its status is Didit's
    # verdict on the person (ACTIVE / FLAGGED / BLOCKED, as spelled), the record as sent.
    didit_status = models.CharField(max_length=32, blank=True)
    didit_record = models.JSONField(default=dict, blank=True)
    didit_synced_at = models.DateTimeField(null=True, blank=True)

    # History flags, recomputed with the summary (users/history.py); the queue filters on them.
    flag_repeat_declines = models.BooleanField(default=False)
    flag_session_burst = models.BooleanField(default=False)
    flag_document_changed = models.BooleanField(default=False)
    flag_identity_changed = models.BooleanField(default=False)
    # The latest approval: "re-KYC due" is a comparison with now, so it is not stored as a flag.
    last_approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "Didit user"
        verbose_name_plural = "Didit users"
        ordering = ["-last_session_at", "-id"]
        indexes = [
            models.Index(fields=["-last_session_at", "-id"], name="didituser_recent"),
            models.Index(fields=["full_name"], name="didituser_full_name"),
        ]
        permissions = [
            ("start_reverification", "Can start a re-verification session for a user"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.vendor_data

    def recompute(self) -> None:
        """Refresh the summary from this user's sessions: one query to read, one to write."""
        from .history import HISTORY_COLUMNS, history_flags

        rows = list(
            self.sessions.order_by("created_at", "id").values_list(
                "created_at", "status", "feature_statuses", "full_name", *HISTORY_COLUMNS
            )
        )
        summary = summarise_sessions(row[:4] for row in rows)
        summary.update(history_flags(rows))
        for name, value in summary.items():
            setattr(self, name, value)
        self.save(update_fields=[*summary, "updated_at"])


def summarise_sessions(
    rows: Iterable[tuple[datetime | None, str, Any, str]],
) -> dict[str, Any]:
    """Fold ``(created_at, status, feature_statuses, full_name)`` rows, oldest first.

    Later sessions override earlier ones feature by feature, so the map holds the latest
    known status of every feature whatever order the sessions were synced in.
    """
    summary: dict[str, Any] = {
        "features": {},
        "full_name": "",
        "latest_status": "",
        "session_count": 0,
        "approved_count": 0,
        "declined_count": 0,
        "in_review_count": 0,
        "first_session_at": None,
        "last_session_at": None,
    }
    counters = {"Approved": "approved_count", "Declined": "declined_count"}
    counters["In Review"] = "in_review_count"
    for created_at, status, feature_statuses, full_name in rows:
        summary["session_count"] += 1
        if status in counters:
            summary[counters[status]] += 1
        summary["latest_status"] = status
        if full_name:
            summary["full_name"] = full_name
        if isinstance(feature_statuses, dict):
            summary["features"].update(
                {name: value for name, value in feature_statuses.items() if value}
            )
        if created_at is not None:
            if summary["first_session_at"] is None:
                summary["first_session_at"] = created_at
            summary["last_session_at"] = created_at
    return summary
