"""The evidence archive: our own copy of every media file behind a decision, and the ZIP
bundles (evidence packs) handed to auditors.

Files live in ``STORAGES["evidence"]``, content-addressed by SHA-256; these rows say which
session referenced which file, under which key of the decision, fetched when and from where
(the URL without its signature: the signature is a short-lived credential, not provenance).
"""

from __future__ import annotations

import re
import uuid

from django.conf import settings
from django.db import models


class EvidenceStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be archived"
    ARCHIVED = "archived", "Archived"
    FAILED = "failed", "Failed (will be retried)"
    REFUSED = "refused", "Refused (host, size or content type)"


class Evidence(models.Model):
    """One media file a session's decision references (``kind`` is its path in the JSON)."""

    session = models.ForeignKey(
        "verifications.VerificationSession", on_delete=models.CASCADE, related_name="evidence"
    )
    # Where in the decision: "id_verifications[0].front_image", "face.source_image", ...
    kind = models.CharField(max_length=200)
    source_url = models.TextField(help_text="Didit's URL without its query string (signature).")
    status = models.CharField(
        max_length=16, choices=EvidenceStatus.choices, default=EvidenceStatus.PENDING
    )
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    fetched_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name_plural = "evidence"
        ordering = ["session", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["session", "kind"], name="evidence_session_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.status})"

    @property
    def storage_name(self) -> str:
        return evidence_name(self.sha256)


def evidence_name(sha256: str) -> str:
    """The file's name in the evidence storage: fanned out so no directory grows huge."""
    return f"sha256/{sha256[:2]}/{sha256}"


class EvidencePackStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    BUILDING = "building", "Building"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"
    EXPIRED = "expired", "Expired"


class EvidencePackKind(models.TextChoices):
    SESSIONS = "sessions", "Evidence pack (ZIP)"
    USER_REPORT = "user_report", "User compliance report (PDF)"


class EvidencePack(models.Model):
    """A ZIP of several sessions' evidence, built in the background, downloadable for a day.

    Also a person's compliance report when it is too long to render inside a request
    (``kind`` user report: a PDF of ``vendor_data``'s sessions).
    """

    pack_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="evidence_packs"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    session_ids = models.JSONField(default=list)
    kind = models.CharField(
        max_length=16, choices=EvidencePackKind.choices, default=EvidencePackKind.SESSIONS
    )
    vendor_data = models.CharField(max_length=255, blank=True)
    status = models.CharField(
        max_length=16, choices=EvidencePackStatus.choices, default=EvidencePackStatus.QUEUED
    )
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    # Name of the ZIP in the evidence storage, its size and hash once built.
    file_name = models.CharField(max_length=200, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"evidence pack {self.pack_id} ({self.status})"

    @property
    def download_name(self) -> str:
        if self.kind == EvidencePackKind.USER_REPORT:
            safe = re.sub(r"[^A-Za-z0-9._-]+", "_", self.vendor_data)
            return f"didit-console-user-{safe}.pdf"
        return f"evidence-pack-{self.pack_id}.zip"

    @property
    def content_type(self) -> str:
        if self.kind == EvidencePackKind.USER_REPORT:
            return "application/pdf"
        return "application/zip"
