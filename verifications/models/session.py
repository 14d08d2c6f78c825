"""A verification session: Didit's decision kept whole, plus the columns the queue needs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from ..search import normalise


class SessionStatus(models.TextChoices):
    """Didit's session statuses, exactly as the API spells them (``Kyc Expired`` sic)."""

    NOT_STARTED = "Not Started"
    IN_PROGRESS = "In Progress"
    IN_REVIEW = "In Review"
    APPROVED = "Approved"
    DECLINED = "Declined"
    RESUBMITTED = "Resubmitted"
    EXPIRED = "Expired"
    ABANDONED = "Abandoned"
    KYC_EXPIRED = "Kyc Expired"
    AWAITING_USER = "Awaiting User"


class ApiShape(models.TextChoices):
    """Which decision shape Didit sent: v1 (kyc/face/aml/location), v2 objects, v3 arrays."""

    V1 = "v1", "v1 (kyc, face, aml, location)"
    V2 = "v2", "v2 (one object per feature)"
    V3 = "v3", "v3 (one array per feature)"


class SessionQuerySet(models.QuerySet):
    """Keeps ``search_name`` in step with ``full_name`` on bulk writes too (``save()`` does
    it for one row): the sync, the seeder and tests all write through one of these."""

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        for session in objs:
            session.normalise_search_fields()
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs, fields, *args, **kwargs):
        objs = list(objs)
        if "full_name" in fields:
            for session in objs:
                session.normalise_search_fields()
            fields = [*fields, "search_name"]
        return super().bulk_update(objs, fields, *args, **kwargs)

    def update(self, **kwargs):
        if isinstance(kwargs.get("full_name"), str):
            kwargs["search_name"] = normalise(kwargs["full_name"])
        return super().update(**kwargs)


class VerificationSession(models.Model):
    """One Didit session. Didit is the source of truth: everything here is synced."""

    session_id = models.CharField(max_length=64, unique=True)
    session_number = models.BigIntegerField(null=True, blank=True)
    # Not limited to the choices at the database level: a status Didit adds later is kept.
    status = models.CharField(max_length=32, choices=SessionStatus.choices)
    user = models.ForeignKey(
        "users.DiditUser",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sessions",
        db_index=False,  # Covered by the (user, created_at) index below.
    )
    vendor_data = models.CharField(max_length=255, blank=True)
    workflow_id = models.CharField(max_length=64, blank=True)
    session_kind = models.CharField(max_length=16, blank=True)
    # v1: a string like "OCR + FACE"; v2/v3: a list like ["ID_VERIFICATION", "AML"].
    features = models.JSONField(null=True, blank=True)
    # {"ID_VERIFICATION": "Approved", "AML": "In Review", ...}, from the decision.
    feature_statuses = models.JSONField(default=dict, blank=True)
    metadata = models.JSONField(null=True, blank=True)
    callback = models.TextField(blank=True)
    session_url = models.TextField(blank=True)
    # Didit's creation time (the time we first saw the session if Didit omits it).
    created_at = models.DateTimeField()

    api_shape = models.CharField(max_length=2, choices=ApiShape.choices)
    decision = models.JSONField(help_text="Didit's decision as received, unknown fields included.")
    # Hash of the decision without volatile parts (presigned URL signatures): equal hash,
    # nothing to write.
    decision_hash = models.CharField(max_length=64)
    # What the v3 list row said last time (status, feature statuses, AML hits): a different
    # row means the decision is worth fetching again.
    list_fingerprint = models.TextField(blank=True)
    synced_at = models.DateTimeField(help_text="When Didit's data last changed our copy.")
    # When the request that brought the stored decision was sent (or the status change Didit
    # confirmed was asked for): a copy Didit answered before that is older, and refused.
    decision_requested_at = models.DateTimeField(null=True, blank=True, editable=False)
    first_synced_at = models.DateTimeField(auto_now_add=True)
    # Local: a reviewer's status change in flight. Set (only if free and the session is as
    # the reviewer's page showed it) before Didit is asked, cleared once the outcome is
    # saved: two decisions on one session never reach Didit together. A claim older than
    # ``services.DECISION_CLAIM_TTL`` is abandoned (the process died) and may be taken.
    decision_claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    decision_claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    # Denormalised from the decision for the queue's filters, search and sort.
    full_name = models.CharField(max_length=255, blank=True)
    document_number = models.CharField(max_length=100, blank=True)
    document_type = models.CharField(max_length=100, blank=True)
    issuing_state = models.CharField(max_length=8, blank=True)
    aml_score = models.FloatField(null=True, blank=True)
    aml_total_hits = models.PositiveIntegerField(null=True, blank=True)
    # The name casefolded and without accents, for a search in any script with accents
    # optional; indexed by trigram (PostgreSQL) or an FTS5 trigram table (SQLite, 0015).
    search_name = models.CharField(max_length=255, blank=True, editable=False)

    # Retention (verifications/retention.py): when our retention period purged the personal
    # data and evidence (the row stays as a tombstone), and when a full sync found that
    # Didit no longer has the session (our copy and archive are kept under our own rules).
    purged_at = models.DateTimeField(null=True, blank=True, editable=False)
    deleted_at_didit = models.DateTimeField(null=True, blank=True, editable=False)

    objects = SessionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The queue: newest first, with (id) as the tie-break for keyset pagination.
            models.Index(fields=["-created_at", "-id"], name="session_newest"),
            # (id) too: the queue's order is (-created_at, -id), and a deep page's ids come
            # from this index alone (an index-only scan).
            models.Index(fields=["status", "-created_at", "-id"], name="session_status_newest"),
            models.Index(fields=["user", "created_at"], name="session_user_history"),
            models.Index(fields=["vendor_data", "-created_at"], name="session_vendor_newest"),
            models.Index(fields=["document_number"], name="session_document_number"),
            models.Index(fields=["full_name"], name="session_full_name"),
            models.Index(fields=["document_type", "-created_at"], name="session_doctype_newest"),
            models.Index(fields=["issuing_state", "-created_at"], name="session_state_newest"),
            models.Index(fields=["aml_score"], name="session_aml_score"),
            models.Index(
                fields=["-created_at"],
                condition=Q(aml_total_hits__gt=0),
                name="session_with_aml_hits",
            ),
            models.Index(fields=["session_number"], name="session_number"),
        ]
        permissions = [
            ("review_session", "Can approve/decline sessions"),
        ]

    def __str__(self) -> str:
        return f"{self.session_id} ({self.status})"

    def save(self, *args, **kwargs):
        self.normalise_search_fields()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "full_name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "search_name"}
        super().save(*args, **kwargs)

    def normalise_search_fields(self) -> None:
        """Derive ``search_name`` from ``full_name`` (whoever writes the row calls this)."""
        self.search_name = normalise(self.full_name or "")[:255]

    @property
    def has_aml_hits(self) -> bool:
        return bool(self.aml_total_hits)
