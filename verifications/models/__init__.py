"""Verification data synced from Didit, and the record of each sync run."""

from .audit import AuditAction, AuditEntry
from .evidence import Evidence, EvidencePack, EvidencePackStatus, EvidenceStatus, evidence_name
from .form_token import UsedFormToken
from .results import (
    AmlHit,
    AmlScreening,
    Disposition,
    DocumentData,
    FaceCheck,
    IpAnalysis,
    Review,
    ReviewSource,
    SessionWarning,
)
from .session import ApiShape, SessionStatus, VerificationSession
from .sync_run import SyncRun, SyncRunMode, SyncRunStatus
from .webhook import WebhookDelivery, WebhookOutcome

__all__ = [
    "AuditAction",
    "AuditEntry",
    "AmlHit",
    "AmlScreening",
    "ApiShape",
    "Disposition",
    "Evidence",
    "EvidencePack",
    "EvidencePackStatus",
    "EvidenceStatus",
    "DocumentData",
    "FaceCheck",
    "IpAnalysis",
    "Review",
    "ReviewSource",
    "SessionStatus",
    "SessionWarning",
    "SyncRun",
    "SyncRunMode",
    "SyncRunStatus",
    "UsedFormToken",
    "VerificationSession",
    "WebhookDelivery",
    "WebhookOutcome",
    "evidence_name",
]
