"""SessionIdentifier: one identifying value of a session, indexed to find who else shares it."""

from __future__ import annotations

from django.db import models


class IdentifierKind(models.TextChoices):
    DOCUMENT_NUMBER = "document_number", "Document number"
    PERSONAL_NUMBER = "personal_number", "Personal number"
    # A face match's image source: the session's own id, and the other session it was
    # compared against when Didit names one (source_image_session_id).
    FACE_SOURCE = "face_source", "Face image source"
    IP_ADDRESS = "ip_address", "IP address"
    DEVICE = "device", "Device fingerprint"
    PHONE = "phone", "Phone"
    EMAIL = "email", "E-mail"


class SessionIdentifier(models.Model):
    """Derived from the decision at each sync (``verifications/linking.py``), normalised so
    equal values compare equal; never edited by hand."""

    session = models.ForeignKey(
        "verifications.VerificationSession", on_delete=models.CASCADE, related_name="identifiers"
    )
    kind = models.CharField(max_length=16, choices=IdentifierKind.choices)
    value = models.CharField(max_length=255)

    class Meta:
        default_permissions = ("view",)
        indexes = [models.Index(fields=["kind", "value"], name="identifier_kind_value")]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "kind", "value"], name="identifier_unique_per_session"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value}"
