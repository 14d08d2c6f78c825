"""What a person's history says: flags over their sessions, and two attempts side by side.

The flags are computed from the same rows as the user's summary (``DiditUser.recompute``)
and stored on the user, so the queue can filter on them with an index-friendly join. Only
"re-KYC due" depends on today, so it is computed when read from ``last_approved_at``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Q
from django.utils import timezone

# Read beside the summary's four columns, in this order.
HISTORY_COLUMNS = (
    "document_number",
    "issuing_state",
    "document__date_of_birth",
    "document__first_name",
    "document__last_name",
)
REPEAT_DECLINES = 2


@dataclass(frozen=True)
class HistoryFlag:
    code: str
    label: str
    detail: str


FLAG_LABELS = {
    "repeat_declines": "Repeat declines",
    "session_burst": "Many sessions in a short time",
    "document_changed": "Document changed between attempts",
    "identity_changed": "Name or date of birth changed between attempts",
    "rekyc_due": "Approval older than the re-KYC interval",
}


def history_flags(rows: Sequence[tuple]) -> dict[str, Any]:
    """The stored flags from ``(created_at, status, feature_statuses, full_name,
    *HISTORY_COLUMNS)`` rows, oldest first."""
    declines = sum(1 for row in rows if row[1] == "Declined")
    created = sorted(row[0] for row in rows if row[0] is not None)
    documents = {_document_key(row[4], row[5]) for row in rows if row[4]}
    names = {_name_key(row[7], row[8], row[3]) for row in rows if row[7] or row[8] or row[3]}
    births = {row[6] for row in rows if row[6] is not None}
    approvals = [row[0] for row in rows if row[1] == "Approved" and row[0] is not None]
    return {
        "flag_repeat_declines": declines >= REPEAT_DECLINES,
        "flag_session_burst": _burst(created),
        "flag_document_changed": len(documents) > 1,
        "flag_identity_changed": len(names) > 1 or len(births) > 1,
        "last_approved_at": max(approvals) if approvals else None,
    }


def _burst(created: list[datetime]) -> bool:
    """At least ``DIDIT_HISTORY_BURST_SESSIONS`` sessions within any window of
    ``DIDIT_HISTORY_BURST_DAYS`` days."""
    count = settings.DIDIT_HISTORY_BURST_SESSIONS
    window = timedelta(days=settings.DIDIT_HISTORY_BURST_DAYS)
    return any(
        created[i + count - 1] - created[i] <= window for i in range(len(created) - count + 1)
    )


def _document_key(number: str, country: str) -> tuple[str, str]:
    return ("".join(ch for ch in number.upper() if ch.isalnum()), (country or "").upper())


def _name_key(first: str | None, last: str | None, full: str | None) -> str:
    text = f"{first or ''} {last or ''}" if (first or last) else (full or "")
    return " ".join(text.casefold().split())


def rekyc_cutoff(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=settings.DIDIT_REKYC_INTERVAL_DAYS)


def flags_of(didit_user: Any, *, now: datetime | None = None) -> list[HistoryFlag]:
    """The person's raised flags, with what raised them, for the user page."""
    flags = []
    if didit_user.flag_repeat_declines:
        flags.append(("repeat_declines", f"{didit_user.declined_count} declined sessions"))
    if didit_user.flag_session_burst:
        burst = settings.DIDIT_HISTORY_BURST_SESSIONS, settings.DIDIT_HISTORY_BURST_DAYS
        flags.append(("session_burst", "{} or more sessions within {} days".format(*burst)))
    if didit_user.flag_document_changed:
        flags.append(("document_changed", "more than one document number"))
    if didit_user.flag_identity_changed:
        flags.append(("identity_changed", "more than one name or date of birth"))
    approved = didit_user.last_approved_at
    if approved is not None and approved < rekyc_cutoff(now):
        days = settings.DIDIT_REKYC_INTERVAL_DAYS
        flags.append(("rekyc_due", f"last approved {approved:%Y-%m-%d}, over {days} days ago"))
    return [HistoryFlag(code, FLAG_LABELS[code], detail) for code, detail in flags]


def flag_filter(code: str, *, prefix: str = "", now: datetime | None = None) -> Q:
    """The lookup selecting people (``prefix="user__"``: their sessions) with this flag."""
    if code == "rekyc_due":
        return Q(**{f"{prefix}last_approved_at__lt": rekyc_cutoff(now)})
    if code not in FLAG_LABELS:
        raise ValueError(f"unknown history flag {code!r}")
    return Q(**{f"{prefix}flag_{code}": True})


# --- Attempt diff ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiffRow:
    label: str
    left: Any
    right: Any
    differs: bool
    kind: str = "text"


def attempt_diff(left: Any, right: Any) -> list[DiffRow]:
    """Two sessions (loaded with ``document`` and ``ip_analysis``) field by field."""
    rows = []
    for label, read in DIFF_FIELDS:
        a, b = read(left), read(right)
        rows.append(DiffRow(label, a, b, _comparable(a) != _comparable(b)))
    portraits = (_document(left, "portrait_image_url"), _document(right, "portrait_image_url"))
    # Images cannot be compared by URL (each is signed anew): shown, never highlighted.
    rows.append(DiffRow("Portrait", *portraits, differs=False, kind="image"))
    return rows


def _document(session: Any, name: str) -> Any:
    document = getattr(session, "document", None) if _has(session, "document") else None
    return getattr(document, name, None) if document is not None else None


def _ip(session: Any, name: str) -> Any:
    ip = getattr(session, "ip_analysis", None) if _has(session, "ip_analysis") else None
    return getattr(ip, name, None) if ip is not None else None


def _has(session: Any, relation: str) -> bool:
    try:
        return getattr(session, relation) is not None
    except ObjectDoesNotExist:  # The decision had no such part.
        return False


def _device(session: Any) -> str:
    parts = [_ip(session, name) for name in ("device_brand", "device_model", "os_family")]
    parts.append(_ip(session, "browser_family"))
    return " · ".join(part for part in parts if part)


def _comparable(value: Any) -> Any:
    if isinstance(value, str):
        return " ".join(value.casefold().split())
    return value or None


DIFF_FIELDS = [
    ("Status", lambda s: s.status),
    ("Name", lambda s: _document(s, "full_name") or s.full_name),
    ("Date of birth", lambda s: _document(s, "date_of_birth")),
    ("Document type", lambda s: _document(s, "document_type") or s.document_type),
    ("Document number", lambda s: _document(s, "document_number") or s.document_number),
    ("Document country", lambda s: _document(s, "issuing_state") or s.issuing_state),
    ("Nationality", lambda s: _document(s, "nationality")),
    ("IP country", lambda s: _ip(s, "ip_country") or _ip(s, "ip_country_code")),
    ("Device", _device),
]


def pick_attempts(sessions: Sequence[Any], left_id: str, right_id: str) -> tuple[Any, Any] | None:
    """The two sessions to compare: those named, else the latest two (``sessions`` newest
    first). None when the person has fewer than two sessions."""
    by_id = {session.session_id: session for session in sessions}
    if len(sessions) < 2:
        return None
    left = by_id.get(left_id) or sessions[1]
    right = by_id.get(right_id) or sessions[0]
    return left, right
