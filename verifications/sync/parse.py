"""Decision JSON (v1, v2 or v3 shape) -> plain values for our models. No database here.

Liberal by design: a missing key, a null or a value of the wrong type in an optional field
maps to "unknown" (blank or None) and the mapping goes on; the raw decision keeps
everything. Only a decision that cannot be identified raises ``DecisionError``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .coerce import (
    as_datetime,
    as_dict,
    as_int,
    as_list,
    as_str,
    digest,
    strip_volatile,
    without_nul,
)
from .sections import (
    aml_values,
    document_values,
    face_values,
    hit_values,
    ip_values,
    review_values,
    warning_values,
)

# Bump when the mapping changes: stored hashes then differ, so re-applying re-maps.
MAPPING_VERSION = 1
# The longest vendor_data our columns hold (VerificationSession, DiditUser). A longer one is
# refused, never cut: a cut value names another person (and would be sent back to Didit).
MAX_VENDOR_DATA = 255

# v3 arrays and v2 objects, with the feature name Didit uses in `features` and list rows.
V3_ARRAYS = {
    "id_verifications": "ID_VERIFICATION",
    "nfc_verifications": "NFC",
    "liveness_checks": "LIVENESS",
    "face_matches": "FACE_MATCH",
    "poa_verifications": "POA",
    "phone_verifications": "PHONE",
    "email_verifications": "EMAIL_VERIFICATION",
    "aml_screenings": "AML",
    "ip_analyses": "IP_ANALYSIS",
    "database_validations": "DATABASE_VALIDATION",
    "questionnaire_responses": "QUESTIONNAIRE",
}
V2_OBJECTS = {
    "id_verification": "ID_VERIFICATION",
    "nfc": "NFC",
    "liveness": "LIVENESS",
    "face_match": "FACE_MATCH",
    "poa": "POA",
    "phone": "PHONE",
    "email": "EMAIL_VERIFICATION",
    "aml": "AML",
    "ip_analysis": "IP_ANALYSIS",
    "database_validation": "DATABASE_VALIDATION",
    "questionnaire": "QUESTIONNAIRE",
}
V1_SECTIONS = {"kyc": "ID_VERIFICATION", "face": "FACE", "aml": "AML", "location": "IP_ANALYSIS"}
V1_ONLY = ("kyc", "face", "location")


class DecisionError(ValueError):
    """The decision cannot be mapped at all (not an object, no usable session_id, ...)."""


@dataclass
class ParsedDecision:
    session_id: str
    shape: str
    content_hash: str
    raw: dict[str, Any]
    session: dict[str, Any]
    document: dict[str, Any] | None = None
    face: dict[str, Any] | None = None
    aml: dict[str, Any] | None = None
    ip_analysis: dict[str, Any] | None = None
    hits: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)


def parse_decision(decision: Any) -> ParsedDecision:
    """Map one decision of any shape to values for VerificationSession and its children."""
    if not isinstance(decision, dict):
        raise DecisionError(f"decision is {type(decision).__name__}, not an object")
    decision = without_nul(decision)
    session_id = decision.get("session_id")
    if isinstance(session_id, bool) or not isinstance(session_id, (str, int)):
        raise DecisionError("decision has no session_id")
    session_id = str(session_id).strip()
    if not session_id or len(session_id) > 64:
        raise DecisionError("decision has no usable session_id")

    shape = detect_shape(decision)
    items = feature_items(decision, shape)
    parsed = ParsedDecision(
        session_id=session_id,
        shape=shape,
        content_hash=content_hash(decision),
        raw=decision,
        session={},
        document=document_values(items, shape),
        face=face_values(items, shape),
        aml=aml_values(items),
        ip_analysis=ip_values(items),
        hits=hit_values(items),
        warnings=warning_values(decision, items, shape),
        reviews=review_values(decision),
    )
    parsed.session = _session(decision, parsed, items, shape)
    return parsed


def detect_shape(decision: dict) -> str:
    if any(key in decision for key in V3_ARRAYS):
        return "v3"
    if any(key in decision for key in V1_ONLY) or isinstance(decision.get("features"), str):
        return "v1"
    if any(key in decision for key in V2_OBJECTS):
        return "v2"
    return "v3"  # No feature data yet (a session not started): the shapes map alike.


def feature_items(decision: dict, shape: str) -> dict[str, list[tuple[str, dict]]]:
    """{FEATURE: [(where in the decision, item), ...]} for whichever shape arrived."""
    items: dict[str, list[tuple[str, dict]]] = {}
    if shape == "v1":
        # v1 `face` holds liveness and face match together: "FACE" stands for both.
        for key, feature in V1_SECTIONS.items():
            if isinstance(decision.get(key), dict):
                items[feature] = [(key, decision[key])]
        return items
    if shape == "v2":
        for key, feature in V2_OBJECTS.items():
            if isinstance(decision.get(key), dict):
                items.setdefault(feature, []).append((key, decision[key]))
        return items
    for key, feature in V3_ARRAYS.items():
        for index, item in enumerate(as_list(decision.get(key))):
            if isinstance(item, dict):
                items.setdefault(feature, []).append((f"{key}[{index}]", item))
    return items


def feature_statuses(items: dict[str, list[tuple[str, dict]]]) -> dict[str, str]:
    """{FEATURE: status} from the first item of each feature (v2 X is v3 Xs[0])."""
    statuses = {}
    for feature, entries in items.items():
        if feature == "FACE":  # v1 `face` holds two features.
            face = entries[0][1]
            for name, key in (("LIVENESS", "liveness_status"), ("FACE_MATCH", "face_match_status")):
                if as_str(face.get(key)):
                    statuses[name] = as_str(face.get(key))
            continue
        status = next((as_str(item.get("status")) for _, item in entries if item.get("status")), "")
        if status:
            statuses[feature] = status
    return statuses


def list_fingerprint(row: Any) -> str:
    """What a v3 list row says that a decision change would alter.

    Didit's ``updated_at``, when the row has one, moves with every change (a review without
    a new status, an AML hit's review); the status, features and hit count are the fallback
    for rows without it, and stay in the fingerprint either way.
    """
    row = as_dict(row)
    features = sorted(
        f"{as_str(entry.get('feature'))}={as_str(entry.get('status'))}"
        for entry in as_list(row.get("features"))
        if isinstance(entry, dict)
    )
    hits = as_dict(as_dict(row.get("additional_details")).get("aml")).get("total_hits")
    fingerprint = f"{as_str(row.get('status'))}|{','.join(features)}|hits={as_int(hits)}"
    updated_at = as_str(row.get("updated_at"))
    return f"{fingerprint}|updated={updated_at}" if updated_at else fingerprint


def content_hash(decision: dict) -> str:
    """Hash of the decision minus volatile parts: presigned URLs lose their query strings."""
    return digest([MAPPING_VERSION, strip_volatile(decision)])


def _session(decision: dict, parsed: ParsedDecision, items: dict, shape: str) -> dict[str, Any]:
    vendor_data = as_str(decision.get("vendor_data"))
    if len(vendor_data) > MAX_VENDOR_DATA:
        raise DecisionError(
            f"vendor_data is {len(vendor_data)} characters; the console keeps at most "
            f"{MAX_VENDOR_DATA} and never shortens it, so this session is not stored"
        )
    document = parsed.document or {}
    aml = parsed.aml or {}
    full_name = document.get("full_name") or " ".join(
        part for part in (document.get("first_name"), document.get("last_name")) if part
    )
    features = decision.get("features")
    total_hits = aml.get("total_hits")
    if total_hits is None and parsed.aml is not None:
        total_hits = len(parsed.hits)
    metadata = decision.get("metadata")
    return {
        "session_number": as_int(decision.get("session_number")),
        "status": as_str(decision.get("status")),
        "vendor_data": vendor_data,
        "workflow_id": as_str(decision.get("workflow_id")),
        "session_kind": as_str(decision.get("session_kind")),
        "features": features if isinstance(features, (str, list)) else None,
        "feature_statuses": feature_statuses(items),
        "metadata": metadata if isinstance(metadata, (dict, list)) else None,
        "callback": as_str(decision.get("callback")),
        "session_url": as_str(decision.get("session_url") or decision.get("url")),
        "created_at": as_datetime(decision.get("created_at")),
        "api_shape": shape,
        "full_name": full_name,
        "document_number": document.get("document_number", ""),
        "document_type": document.get("document_type", ""),
        "issuing_state": document.get("issuing_state", ""),
        "aml_score": aml.get("score"),
        "aml_total_hits": total_hits,
    }
