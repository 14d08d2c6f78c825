"""The session page's reading of a decision: every part in readable sections, the reasons a
session needs a person, the steps a Resubmit can name, and what Didit lets a reviewer do.

Reads the stored decision JSON of any shape (v1, v2, v3); writes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from .models import SessionStatus, VerificationSession

# Statuses Didit's update-status accepts a change from (SPEC.md); elsewhere it answers 400.
DECIDABLE = frozenset(
    {
        SessionStatus.APPROVED,
        SessionStatus.DECLINED,
        SessionStatus.IN_REVIEW,
        SessionStatus.KYC_EXPIRED,
        SessionStatus.ABANDONED,
        SessionStatus.RESUBMITTED,
    }
)
WHY_NOT_DECIDABLE = {
    SessionStatus.NOT_STARTED: "The user has not started the verification yet: Didit accepts "
    "no decision until they finish.",
    SessionStatus.IN_PROGRESS: "The user is still going through the verification: Didit "
    "accepts no decision until they finish.",
    SessionStatus.AWAITING_USER: "Didit is waiting for the user: no decision is possible yet.",
    SessionStatus.EXPIRED: "The session expired before the user finished: there is nothing "
    "to decide.",
}
# Feature parts of a decision: (v3 array, v2/v1 object, title, Didit's feature name for a
# Resubmit's nodes_to_resubmit).
PARTS = [
    ("id_verifications", ("id_verification", "kyc"), "ID document", "OCR"),
    ("nfc_verifications", ("nfc",), "NFC chip", "NFC"),
    ("liveness_checks", ("liveness",), "Liveness", "LIVENESS"),
    ("face_matches", ("face_match", "face"), "Face match", "FACE"),
    ("poa_verifications", ("poa",), "Proof of address", "POA"),
    ("phone_verifications", ("phone",), "Phone", "PHONE"),
    ("email_verifications", ("email",), "Email", "EMAIL"),
    ("aml_screenings", ("aml",), "AML (screening data)", "AML"),
    ("ip_analyses", ("ip_analysis", "location"), "IP and device", "IP_ANALYSIS"),
    ("database_validations", ("database_validation",), "Database validation", "DATABASE"),
    ("questionnaire_responses", ("questionnaire",), "Questionnaire", "QUESTIONNAIRE"),
]
# Shown elsewhere on the page (header, timeline, warnings, the AML hits block).
TOP_LEVEL_SHOWN = {"status", "reviews", "warnings", "decision"}
ITEM_SHOWN_ELSEWHERE = {"warnings", "hits"}
COMPARED = [
    ("first_name", "first_name"),
    ("last_name", "last_name"),
    ("date_of_birth", "date_of_birth"),
    ("gender", "gender"),
    ("nationality", "nationality"),
    ("id_country", "issuing_state"),
    ("identification_number", "document_number"),
    ("address", "address"),
]
SOON = timedelta(days=60)
URL_RE = re.compile(r"^https?://", re.IGNORECASE)


@dataclass
class Row:
    label: str
    value: Any = None
    kind: str = "text"  # text, bool, url, image, video, time, date, status, empty
    children: list[Row] = field(default_factory=list)
    highlight: str = ""  # "", "bad", "warn"


@dataclass
class Section:
    anchor: str
    title: str
    status: str = ""
    rows: list[Row] = field(default_factory=list)
    node_id: str = ""


@dataclass
class Reason:
    text: str
    anchor: str


def decision_parts(decision: dict) -> list[tuple[str, str, str, dict]]:
    """(anchor, title, feature, item) for every feature item, in any shape."""
    parts = []
    for array, objects, title, feature in PARTS:
        items = decision.get(array)
        if isinstance(items, list):
            many = len(items) > 1
            for index, item in enumerate(items):
                if isinstance(item, dict):
                    label = f"{title} {index + 1} of {len(items)}" if many else title
                    parts.append((f"part-{array}-{index}", label, feature, item))
            continue
        for key in objects:
            item = decision.get(key)
            if isinstance(item, dict):
                parts.append((f"part-{key}", title, feature, item))
                break
    return parts


def decision_nodes(decision: dict) -> dict[str, str]:
    """node_id -> feature, for a v3 decision's items (a Resubmit names them)."""
    return {
        str(item["node_id"]): _item_feature(item, feature)
        for _anchor, _title, feature, item in decision_parts(decision)
        if item.get("node_id")
    }


def _item_feature(item: dict, default: str) -> str:
    # Didit's own warnings on the item say which feature name it uses.
    for warning in item.get("warnings") or []:
        if isinstance(warning, dict) and isinstance(warning.get("feature"), str):
            return warning["feature"]
    return default


def decision_choices(session: VerificationSession, nodes: dict[str, str]) -> list:
    """The statuses a reviewer may ask Didit for on this session (empty: none)."""
    if session.status not in DECIDABLE:
        return []
    choices = [(SessionStatus.APPROVED, "Approve"), (SessionStatus.DECLINED, "Decline")]
    if settings.DIDIT_API_VERSION == "v3" and nodes:
        choices.append((SessionStatus.RESUBMITTED, "Resubmit"))
    return choices


def why_not_decidable(session: VerificationSession) -> str:
    return WHY_NOT_DECIDABLE.get(
        session.status, f"Didit accepts no decision on a session that is {session.status}."
    )


def display_name(session: VerificationSession) -> str:
    """The person's name: extracted, else expected details, else vendor data."""
    if session.full_name:
        return session.full_name
    decision = session.decision if isinstance(session.decision, dict) else {}
    expected = decision.get("expected_details")
    if isinstance(expected, dict):
        name = " ".join(
            str(expected[key]) for key in ("first_name", "last_name") if expected.get(key)
        )
        if name:
            return name
    return session.vendor_data or ""


def sections(session: VerificationSession) -> list[Section]:
    """Every part of the decision as rows; unknown fields too (in "Other data")."""
    decision = session.decision if isinstance(session.decision, dict) else {}
    out = []
    for anchor, title, _feature, item in decision_parts(decision):
        rows = [
            _row(key, value)
            for key, value in item.items()
            if key not in ITEM_SHOWN_ELSEWHERE and key not in ("status", "node_id")
        ]
        _mark_expiry(rows)
        out.append(
            Section(
                anchor=anchor,
                title=title,
                status=str(item.get("status") or ""),
                rows=rows,
                node_id=str(item.get("node_id") or ""),
            )
        )
    known = {array for array, *_ in PARTS} | {key for _, keys, *_ in PARTS for key in keys}
    for key in ("metadata", "contact_details"):
        value = decision.get(key)
        if isinstance(value, dict) and value:
            out.append(
                Section(
                    anchor=f"part-{key}",
                    title=_label(key),
                    rows=[_row(k, v) for k, v in value.items()],
                )
            )
    other = [
        _row(key, value)
        for key, value in decision.items()
        if key not in known
        and key not in TOP_LEVEL_SHOWN
        and key not in ("metadata", "contact_details", "expected_details")
        and value not in (None, "", [], {})
    ]
    if other:
        out.append(Section(anchor="part-other", title="Other data", rows=other))
    return out


def expected_vs_extracted(session: VerificationSession) -> list[dict]:
    """The expected details beside what the documents say; ``mismatch`` where they differ."""
    decision = session.decision if isinstance(session.decision, dict) else {}
    expected = decision.get("expected_details")
    if not isinstance(expected, dict):
        return []
    documents = [
        item
        for _a, _t, feature, item in decision_parts(decision)
        if feature == "OCR" and isinstance(item, dict)
    ]
    document = documents[0] if documents else {}
    pairs = dict(COMPARED)
    rows = []
    for key, value in expected.items():
        extracted = document.get(pairs.get(key, key))
        if isinstance(value, dict | list):
            rows.append(
                {"label": _label(key), "expected": value, "extracted": extracted, "nested": True}
            )
            continue
        mismatch = (
            value not in (None, "")
            and extracted not in (None, "")
            and _norm(value) != _norm(extracted)
        )
        rows.append(
            {
                "label": _label(key),
                "expected": value,
                "extracted": extracted,
                "mismatch": mismatch,
            }
        )
    return rows


def _norm(value: Any) -> str:
    return re.sub(r"\s+", " ", str(value)).strip().casefold()


def reasons(session: VerificationSession, *, warnings: list, hits: list) -> list[Reason]:
    """Why this session is not simply approved, each linking to its section."""
    out = []
    decision = session.decision if isinstance(session.decision, dict) else {}
    for anchor, title, _feature, item in decision_parts(decision):
        status = item.get("status")
        if status and status != SessionStatus.APPROVED:
            out.append(Reason(f"{title}: {status}", anchor))
    for warning in warnings:
        text = warning.short_description or warning.risk
        out.append(Reason(f"Warning {warning.risk}: {text}" if warning.risk else text, "warnings"))
    unreviewed = [
        hit
        for hit in hits
        if hit.removed_at is None
        and not hit.disposition
        and hit.review_status in ("", "Unreviewed")
    ]
    if unreviewed:
        top = max((hit.score for hit in unreviewed if hit.score is not None), default=None)
        score = f", top score {top * 100:.0f}%" if top is not None else ""
        out.append(Reason(f"{len(unreviewed)} unreviewed AML hit(s){score}", "aml-title"))
    mismatches = [row["label"] for row in expected_vs_extracted(session) if row.get("mismatch")]
    if mismatches:
        out.append(
            Reason("Expected details differ: " + ", ".join(mismatches), "part-expected_details")
        )
    document = getattr(session, "document", None)
    expiry = getattr(document, "expiration_date", None)
    if expiry is not None and expiry < timezone.localdate():
        out.append(Reason(f"Document expired on {expiry:%Y-%m-%d}", "document-title"))
    return out


def _label(key: str) -> str:
    return key.replace("_", " ").strip().capitalize()


def _row(key: str, value: Any) -> Row:
    label = _label(str(key))
    if isinstance(value, dict):
        return Row(label, kind="group", children=[_row(k, v) for k, v in value.items()])
    if isinstance(value, list):
        if all(not isinstance(item, dict | list) for item in value):
            return Row(label, [_scalar(item) for item in value], kind="list")
        return Row(
            label,
            kind="group",
            children=[_row(f"{index + 1}", item) for index, item in enumerate(value)],
        )
    row = _scalar(value)
    row.label = label
    if key == "source_image_session_id" and value:
        row.kind = "session"
    if isinstance(value, str) and URL_RE.match(value):
        lowered = key.lower()
        if "video" in lowered:
            row.kind = "video"
        elif "image" in lowered or "portrait" in lowered:
            row.kind = "image"
    return row


def _scalar(value: Any) -> Row:
    if value is None or value == "":
        return Row("", None, kind="empty")
    if isinstance(value, bool):
        return Row("", value, kind="bool")
    if isinstance(value, str):
        if URL_RE.match(value):
            return Row("", value, kind="url")
        if len(value) >= 19 and parse_datetime(value) is not None:
            return Row("", value, kind="time")
    return Row("", value)


def _mark_expiry(rows: list[Row]) -> None:
    """An expired document in red, one expiring within 60 days in amber."""
    today = timezone.localdate()
    for row in rows:
        if row.label != "Expiration date" or not isinstance(row.value, str):
            continue
        expiry = parse_date(row.value[:10])
        if isinstance(expiry, date):
            if expiry < today:
                row.highlight = "bad"
            elif expiry - today <= SOON:
                row.highlight = "warn"
