"""Verification data synced from Didit, and the record of each sync run."""

from .audit import AuditAction, AuditEntry
from .evidence import (
    Evidence,
    EvidencePack,
    EvidencePackKind,
    EvidencePackStatus,
    EvidenceStatus,
    evidence_name,
)
from .form_token import UsedFormToken
from .identifier import IdentifierKind, SessionIdentifier
from .results import (
    UNREVIEWED,
    AmlHit,
    AmlHitReview,
    AmlHitReviewSource,
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
from .whitelist import AmlWhitelistEntry
from .workflow import PendingDecision, SecondReviewState, SessionClaim

__all__ = [
    "AuditAction",
    "AuditEntry",
    "AmlHit",
    "AmlHitReview",
    "AmlHitReviewSource",
    "AmlWhitelistEntry",
    "AmlScreening",
    "ApiShape",
    "Disposition",
    "Evidence",
    "EvidencePack",
    "EvidencePackKind",
    "EvidencePackStatus",
    "EvidenceStatus",
    "DocumentData",
    "FaceCheck",
    "IdentifierKind",
    "IpAnalysis",
    "Review",
    "PendingDecision",
    "ReviewSource",
    "SessionIdentifier",
    "SecondReviewState",
    "SessionClaim",
    "SessionStatus",
    "SessionWarning",
    "SyncRun",
    "SyncRunMode",
    "SyncRunStatus",
    "UNREVIEWED",
    "UsedFormToken",
    "VerificationSession",
    "WebhookDelivery",
    "WebhookOutcome",
    "evidence_name",
]
