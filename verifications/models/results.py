"""What a decision holds, one model per part: document, face, AML (with one row per hit),
IP/location, warnings and reviews. All synced from Didit except the fields marked local."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class DocumentData(models.Model):
    """The ID document (v1 ``kyc``; v2 ``id_verification``; v3 ``id_verifications[0]``)."""

    session = models.OneToOneField(
        "verifications.VerificationSession", on_delete=models.CASCADE, related_name="document"
    )
    node_id = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=32, blank=True)
    ocr_status = models.CharField(max_length=32, blank=True)
    document_type = models.CharField(max_length=100, blank=True)
    document_subtype = models.CharField(max_length=100, blank=True)
    document_number = models.CharField(max_length=100, blank=True)
    personal_number = models.CharField(max_length=100, blank=True)
    first_name = models.CharField(max_length=255, blank=True)
    last_name = models.CharField(max_length=255, blank=True)
    full_name = models.CharField(max_length=255, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    age = models.PositiveSmallIntegerField(null=True, blank=True)
    gender = models.CharField(max_length=16, blank=True)
    nationality = models.CharField(max_length=8, blank=True)
    issuing_state = models.CharField(max_length=8, blank=True)
    issuing_state_name = models.CharField(max_length=100, blank=True)
    date_of_issue = models.DateField(null=True, blank=True)
    expiration_date = models.DateField(null=True, blank=True)
    place_of_birth = models.CharField(max_length=255, blank=True)
    marital_status = models.CharField(max_length=32, blank=True)
    address = models.TextField(blank=True)
    formatted_address = models.TextField(blank=True)
    parsed_address = models.JSONField(null=True, blank=True)
    # NFC chip reading: v1 says is_nfc_verified/epassport_status; v2/v3 have an nfc feature.
    is_nfc_verified = models.BooleanField(null=True, blank=True)
    epassport_status = models.CharField(max_length=32, blank=True)
    nfc_status = models.CharField(max_length=32, blank=True)
    # Presigned URLs: they expire about an hour after the fetch that returned them.
    portrait_image_url = models.TextField(blank=True)
    front_image_url = models.TextField(blank=True)
    back_image_url = models.TextField(blank=True)
    full_front_image_url = models.TextField(blank=True)
    full_back_image_url = models.TextField(blank=True)
    front_video_url = models.TextField(blank=True)
    back_video_url = models.TextField(blank=True)

    class Meta:
        verbose_name = "document data"
        verbose_name_plural = "document data"

    def __str__(self) -> str:
        return f"{self.document_type} {self.document_number}".strip()


class FaceCheck(models.Model):
    """Face match and liveness (v1 ``face``; v2/v3 ``liveness`` + ``face_match``)."""

    session = models.OneToOneField(
        "verifications.VerificationSession", on_delete=models.CASCADE, related_name="face"
    )
    status = models.CharField(max_length=32, blank=True)
    face_match_status = models.CharField(max_length=32, blank=True)
    face_match_similarity = models.FloatField(null=True, blank=True)
    liveness_status = models.CharField(max_length=32, blank=True)
    liveness_confidence = models.FloatField(null=True, blank=True)
    liveness_method = models.CharField(max_length=32, blank=True)
    age_estimation = models.FloatField(null=True, blank=True)
    gender_estimation = models.JSONField(null=True, blank=True)
    source_image_url = models.TextField(blank=True)
    target_image_url = models.TextField(blank=True)
    reference_image_url = models.TextField(blank=True)
    video_url = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"face match {self.face_match_status or '-'}, liveness {self.liveness_status or '-'}"


class AmlScreening(models.Model):
    """The AML screening summary; its hits are ``AmlHit`` rows."""

    session = models.OneToOneField(
        "verifications.VerificationSession", on_delete=models.CASCADE, related_name="aml"
    )
    node_id = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=32, blank=True)
    score = models.FloatField(null=True, blank=True, help_text="0-100, as Didit reports it.")
    total_hits = models.PositiveIntegerField(null=True, blank=True)
    entity_type = models.CharField(max_length=32, blank=True)
    screened_data = models.JSONField(null=True, blank=True)
    is_ongoing_monitoring_enabled = models.BooleanField(null=True, blank=True)

    class Meta:
        verbose_name = "AML screening"

    def __str__(self) -> str:
        return f"AML {self.status or '-'} ({self.total_hits or 0} hits)"


class Disposition(models.TextChoices):
    """Didit's AML hit review statuses a reviewer can set, spelled as the API spells them."""

    CONFIRMED_MATCH = "Confirmed Match", "Confirmed Match"
    FALSE_POSITIVE = "False Positive", "False Positive"
    INCONCLUSIVE = "Inconclusive", "Inconclusive"


# A hit Didit has not reviewed (its ``review_status``), or one with no status at all.
UNREVIEWED = "Unreviewed"


class AmlHit(models.Model):
    """One watchlist hit. Synced fields come from Didit, ``review_status`` included.

    ``disposition*`` record the last review status a reviewer set from this console, once
    Didit confirmed it: who, when, with which note. A re-sync never touches them (nor deletes
    a disposed hit Didit stops listing). Each console disposition is also an ``AmlHitReview``.
    """

    session = models.ForeignKey(
        "verifications.VerificationSession", on_delete=models.CASCADE, related_name="aml_hits"
    )
    hit_id = models.CharField(max_length=255, help_text="Didit's id for the hit.")
    caption = models.TextField(blank=True)
    score = models.FloatField(null=True, blank=True, help_text="Normalised to 0-1.")
    match_score = models.FloatField(null=True, blank=True)
    risk_score = models.FloatField(null=True, blank=True)
    match = models.BooleanField(null=True, blank=True)
    target = models.BooleanField(null=True, blank=True)
    review_status = models.CharField(max_length=32, blank=True)
    url = models.TextField(blank=True)
    datasets = models.JSONField(default=list, blank=True)
    features = models.JSONField(null=True, blank=True)
    topics = models.JSONField(default=list, blank=True)
    properties = models.JSONField(default=dict, blank=True)
    # The hit's other keys (risk_view, score_breakdown, pep_matches, ...), kept as sent.
    details = models.JSONField(default=dict, blank=True)
    first_seen = models.DateTimeField(null=True, blank=True)
    last_seen = models.DateTimeField(null=True, blank=True)
    last_change = models.DateTimeField(null=True, blank=True)
    position = models.PositiveIntegerField(default=0, help_text="Order in Didit's list.")
    removed_at = models.DateTimeField(
        null=True, blank=True, help_text="Didit stopped listing it; kept for its disposition."
    )

    # Local: the review status a reviewer set from the console, after Didit confirmed it.
    disposition = models.CharField(max_length=32, choices=Disposition.choices, blank=True)
    disposition_note = models.TextField(blank=True)
    disposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="aml_dispositions",
    )
    disposed_at = models.DateTimeField(null=True, blank=True)
    # The whitelist entry this hit's False Positive was made with or offered by, if any.
    whitelist_entry = models.ForeignKey(
        "verifications.AmlWhitelistEntry",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="hits",
    )
    # Bumped by every console disposition: a form made from an older page is refused.
    review_version = models.PositiveIntegerField(default=0)
    # A disposition on its way to Didit (the intent, recorded before the call): a second
    # reviewer cannot send another one for the same hit meanwhile.
    pending_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    pending_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "AML hit"
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "hit_id"], name="amlhit_unique_per_session")
        ]
        permissions = [
            ("dispose_aml_hit", "Can set AML hits' review status at Didit"),
        ]

    def __str__(self) -> str:
        return self.caption or self.hit_id

    @property
    def is_unreviewed(self) -> bool:
        return self.review_status in ("", UNREVIEWED)


class AmlHitReviewSource(models.TextChoices):
    CONSOLE = "console", "Set from the console, confirmed by Didit"
    MIGRATED = "migrated", "Recorded locally before dispositions went to Didit"


class AmlHitReview(models.Model):
    """One review status set on a hit from this console: the hit's disposition history."""

    hit = models.ForeignKey(AmlHit, on_delete=models.CASCADE, related_name="reviews")
    review_status = models.CharField(max_length=32, choices=Disposition.choices)
    previous_status = models.CharField(max_length=32, blank=True)
    note = models.TextField(blank=True)
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="aml_hit_reviews",
    )
    created_at = models.DateTimeField()
    source = models.CharField(
        max_length=16, choices=AmlHitReviewSource.choices, default=AmlHitReviewSource.CONSOLE
    )
    whitelist_entry = models.ForeignKey(
        "verifications.AmlWhitelistEntry",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = "AML hit review"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.review_status} on {self.hit_id}"


class IpAnalysis(models.Model):
    """Device, IP and location (v1 ``location``; v2 ``ip_analysis``; v3 ``ip_analyses[0]``)."""

    session = models.OneToOneField(
        "verifications.VerificationSession", on_delete=models.CASCADE, related_name="ip_analysis"
    )
    status = models.CharField(max_length=32, blank=True)
    device_brand = models.CharField(max_length=100, blank=True)
    device_model = models.CharField(max_length=100, blank=True)
    browser_family = models.CharField(max_length=100, blank=True)
    os_family = models.CharField(max_length=100, blank=True)
    platform = models.CharField(max_length=32, blank=True)
    ip_address = models.CharField(max_length=64, blank=True)
    ip_country = models.CharField(max_length=100, blank=True)
    ip_country_code = models.CharField(max_length=8, blank=True)
    ip_state = models.CharField(max_length=100, blank=True)
    ip_city = models.CharField(max_length=100, blank=True)
    isp = models.CharField(max_length=255, blank=True)
    organization = models.CharField(max_length=255, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    is_vpn_or_tor = models.BooleanField(null=True, blank=True)
    is_data_center = models.BooleanField(null=True, blank=True)
    time_zone = models.CharField(max_length=64, blank=True)
    time_zone_offset = models.CharField(max_length=16, blank=True)
    document_distance_km = models.FloatField(null=True, blank=True)
    document_direction = models.CharField(max_length=8, blank=True)

    class Meta:
        verbose_name = "IP analysis"
        verbose_name_plural = "IP analyses"

    def __str__(self) -> str:
        return f"{self.ip_address or '-'} ({self.ip_country_code or '?'})"


class SessionWarning(models.Model):
    """A risk warning: top-level (v1) or on a feature item (v2/v3)."""

    session = models.ForeignKey(
        "verifications.VerificationSession", on_delete=models.CASCADE, related_name="warnings"
    )
    # Where in the decision it came from, e.g. "warnings" or "aml_screenings[0]".
    source = models.CharField(max_length=64, blank=True)
    feature = models.CharField(max_length=64, blank=True)
    risk = models.CharField(max_length=100, blank=True)
    short_description = models.TextField(blank=True)
    long_description = models.TextField(blank=True)
    log_type = models.CharField(max_length=32, blank=True)
    additional_data = models.JSONField(null=True, blank=True)
    position = models.PositiveIntegerField(default=0)
    # Hash of the warning's content (and its occurrence number): how a re-sync finds it.
    fingerprint = models.CharField(max_length=64)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "fingerprint"], name="warning_unique_per_session"
            )
        ]
        indexes = [models.Index(fields=["risk"], name="warning_risk")]

    def __str__(self) -> str:
        return self.risk or self.short_description


class ReviewSource(models.TextChoices):
    DIDIT = "didit", "Didit"
    CONSOLE = "console", "Didit Console"


class Review(models.Model):
    """A status change with a comment: made at Didit, or by a reviewer in this console.

    A console review (written by the review service once Didit has confirmed it) comes back
    in the decision's ``reviews[]`` on the next sync; the sync then links it by filling
    ``didit_fingerprint``, ``didit_user`` and ``didit_created_at`` instead of adding a copy.
    """

    session = models.ForeignKey(
        "verifications.VerificationSession", on_delete=models.CASCADE, related_name="reviews"
    )
    source = models.CharField(max_length=8, choices=ReviewSource.choices)
    new_status = models.CharField(max_length=32, blank=True)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(null=True, blank=True)
    # Didit's side: who Didit says made it, and when.
    didit_user = models.CharField(max_length=255, blank=True)
    didit_created_at = models.DateTimeField(null=True, blank=True)
    # Blank until Didit has listed it (a console review not yet seen in a decision).
    didit_fingerprint = models.CharField(max_length=64, blank=True)
    # Ours: the reviewer who made it in the console.
    staff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="session_reviews",
    )
    # Ours: sent to Didit, outcome not yet saved here (the database failed after Didit
    # accepted, or the process died). Not shown as a review until Didit's own record of it
    # arrives (webhook or sync), which links it and clears the flag.
    pending = models.BooleanField(default=False)
    # Ours: the warnings (risk codes) the reviewer acknowledged before approving, and the
    # steps sent back to the user with a Resubmit (``[{node_id, feature}]``).
    acknowledged_warnings = models.JSONField(default=list, blank=True)
    resubmit_nodes = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "didit_fingerprint"],
                condition=~Q(didit_fingerprint=""),
                name="review_unique_per_session",
            )
        ]

    def __str__(self) -> str:
        return f"{self.new_status} by {self.reviewer}"

    @property
    def reviewer(self) -> str:
        if self.staff_user_id is not None:
            return self.staff_user.get_username()
        return self.didit_user or "Didit"
