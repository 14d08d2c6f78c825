"""Configuration of the sandbox Didit server, and the vocabulary Didit's docs define."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime

FAULT_KINDS = ("429", "500", "503", "slow", "malformed", "drop")

# Session statuses, exact and case-sensitive as in docs/didit-api.md ("Kyc Expired" is
# Didit's spelling).
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
STATUSES = (
    NOT_STARTED,
    IN_PROGRESS,
    IN_REVIEW,
    APPROVED,
    DECLINED,
    RESUBMITTED,
    EXPIRED,
    ABANDONED,
    KYC_EXPIRED,
    AWAITING_USER,
)
NOT_FINISHED = "Not Finished"

# Statuses a reviewer may move a session away from (update-status), per docs/didit-api.md.
REVIEWABLE = frozenset({APPROVED, DECLINED, IN_REVIEW, KYC_EXPIRED, ABANDONED, RESUBMITTED})
# Statuses for which generate-pdf answers (else 403), and which count as finished for sharing.
REPORTABLE = frozenset({APPROVED, DECLINED, IN_REVIEW, KYC_EXPIRED})
# Statuses in which the user has not finished the flow: a create for the same vendor_data
# returns that session again instead of a new one.
UNFINISHED = frozenset({NOT_STARTED, IN_PROGRESS, AWAITING_USER, RESUBMITTED})
# Statuses in which no feature has run yet.
NOT_RUN = frozenset({NOT_STARTED, AWAITING_USER})
# Statuses whose webhook carries the full decision.
WEBHOOK_WITH_DECISION = frozenset({APPROVED, DECLINED, IN_REVIEW, ABANDONED})

AML_REVIEW_STATUSES = ("Confirmed Match", "False Positive", "Inconclusive")


@dataclass(frozen=True)
class SandboxConfig:
    """Everything a sandbox run can vary; the defaults are those of the command line."""

    host: str = "127.0.0.1"
    port: int = 0
    sessions: int = 200
    seed: int = 1
    api_key: str = "sandbox-api-key"
    client_id: str = "sandbox-client-id"
    client_secret: str = "sandbox-client-secret"  # noqa: S105 - the documented sandbox default
    token_ttl: float = 86400
    fault_rate: float = 0.0
    faults: tuple[str, ...] = FAULT_KINDS
    slow_seconds: float = 5.0
    fault_retry_after: int = 1
    rate_limits: bool = False
    rate_window: float = 60.0
    media_ttl: int = 3600
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_retry_delays: tuple[float, ...] = (1.0, 3.0)
    decision_shape: str = "native"
    anchor: datetime | None = None
    log_requests: bool = False
    # Signs media URLs; random per server unless set. Two servers with the same seed,
    # anchor, port and media secret serve the same decisions (a test fixture reuses one sync).
    media_secret: bytes | None = None

    def __post_init__(self) -> None:
        unknown = set(self.faults) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
        if self.decision_shape not in ("native", "path"):
            raise ValueError("decision_shape must be 'native' or 'path'")
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError("fault_rate must be between 0 and 1")
        if self.sessions < 0:
            raise ValueError("sessions must be >= 0")

    def replace(self, **changes) -> SandboxConfig:
        return dataclasses.replace(self, **changes)
