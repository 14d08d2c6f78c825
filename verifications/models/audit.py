"""The audit log: who did what to which session or user, when, and from where.

Entries are written by ``verifications.audit.record`` and never changed afterwards: the
model refuses updates and deletes, and the admin shows it read-only.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditAction(models.TextChoices):
    STATUS_REQUEST = "status_request", "Asked Didit to change a session's status"
    STATUS_UPDATE = "status_update", "Approved/declined a session"
    STATUS_REFUSED = "status_refused", "A status change Didit refused or did not answer"
    AML_DISPOSITION = "aml_disposition", "Disposed an AML hit"
    AML_WHITELIST_ADD = "aml_whitelist_add", "Whitelisted an AML entity for a person"
    AML_WHITELIST_REVOKE = "aml_whitelist_revoke", "Revoked an AML whitelist entry"
    REVERIFICATION = "reverification", "Started a re-verification"
    DIDIT_PDF = "didit_pdf", "Downloaded Didit's PDF report"
    REPORT_PDF = "report_pdf", "Downloaded a compliance report"
    CSV_EXPORT = "csv_export", "Exported the queue as CSV"
    PII_VIEW = "pii_view", "Viewed personal data"
    RESYNC = "resync", "Re-synced from Didit"
    SESSION_SHARE = "session_share", "Shared a session (share token)"
    SESSION_IMPORT = "session_import", "Imported a shared session"
    CLAIM = "claim", "Claimed a session"
    RELEASE = "release", "Released a session"
    CLAIM_REASSIGN = "claim_reassign", "Reassigned a session's claim"
    SECOND_REVIEW_REQUEST = "second_review_request", "Held a decision for second review"
    SECOND_REVIEW_CONFIRM = "second_review_confirm", "Confirmed a decision (second review)"
    SECOND_REVIEW_REJECT = "second_review_reject", "Rejected a decision (second review)"
    EVIDENCE_VIEW = "evidence_view", "Viewed an archived evidence file"
    EVIDENCE_PACK = "evidence_pack", "Requested or downloaded an evidence pack"
    RETENTION_PURGE = "retention_purge", "Purged personal data under the retention period"
    DELETED_AT_DIDIT = "deleted_at_didit", "Found deleted at Didit"
    ACCESS_DENIED = "access_denied", "Was refused access to personal data"


class AuditEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("Audit entries cannot be changed.")

    def delete(self):
        raise PermissionError("Audit entries cannot be deleted.")


class AuditEntry(models.Model):
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_entries",
    )
    # Kept even if the account is renamed: the log must say who it was at the time.
    actor_username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=32, choices=AuditAction.choices)
    # "session" or "user", and Didit's id for it (session_id or vendor_data).
    object_type = models.CharField(max_length=16)
    object_id = models.CharField(max_length=255)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["object_type", "object_id", "-at"], name="audit_object")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_username} {self.action} {self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("Audit entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit entries cannot be deleted.")
