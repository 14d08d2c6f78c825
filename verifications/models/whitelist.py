"""The AML false-positive whitelist: "this list entity is not this person", with an expiry.

An entry is made by a reviewer marking a hit False Positive for a person (``vendor_data``).
When a later session of the same person brings the same list entity, the console offers the
earlier decision; a person still sends the False Positive to Didit. Entries are never
deleted: they expire (``review_by``) or are revoked, and both stay on record.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.utils import timezone


class WhitelistQuerySet(models.QuerySet):
    def active(self, *, on: date | None = None) -> WhitelistQuerySet:
        """Entries that apply today: not revoked and not past their review-by date."""
        return self.filter(revoked_at__isnull=True, review_by__gte=on or timezone.localdate())

    def expired(self, *, on: date | None = None) -> WhitelistQuerySet:
        """Entries past their review-by date (and not revoked): they need a fresh look."""
        return self.filter(revoked_at__isnull=True, review_by__lt=on or timezone.localdate())


class AmlWhitelistEntry(models.Model):
    vendor_data = models.TextField(help_text="The person (Didit's vendor_data).")
    # The list entity: its id when the hit has one; else name + date of birth + dataset.
    entity_id = models.CharField(max_length=255, blank=True)
    entity_name = models.CharField(max_length=500, blank=True)
    entity_birth_date = models.CharField(max_length=32, blank=True)
    entity_dataset = models.CharField(max_length=500, blank=True)
    caption = models.TextField(blank=True, help_text="The hit's name as shown when whitelisted.")
    reason = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="aml_whitelist_entries"
    )
    created_at = models.DateTimeField(default=timezone.now)
    review_by = models.DateField(help_text="The entry stops applying after this day.")
    source_session_id = models.CharField(max_length=255, blank=True)
    source_hit_id = models.CharField(max_length=255, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = WhitelistQuerySet.as_manager()

    class Meta:
        verbose_name = "AML whitelist entry"
        verbose_name_plural = "AML whitelist entries"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["vendor_data", "review_by"], name="whitelist_person")]

    def __str__(self) -> str:
        return f"{self.caption or self.entity_id or self.entity_name} for {self.vendor_data}"

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.review_by < timezone.localdate() else "active"

    def matches(self, identity: dict[str, str]) -> bool:
        """Whether a hit with this identity (see ``hit_identity``) is this entry's entity."""
        if self.entity_id:
            return self.entity_id == identity["entity_id"]
        return bool(self.entity_name) and (
            self.entity_name,
            self.entity_birth_date,
            self.entity_dataset,
        ) == (identity["name"], identity["birth_date"], identity["dataset"])
