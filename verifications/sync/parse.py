"""Decision JSON (v1, v2 or v3 shape) -> plain values for our models. No database here.

Liberal by design: a missing key, a null or a value of the wrong type in an optional field
maps to "unknown" (blank or None) and the mapping goes on; the raw decision keeps
everything. Only a decision that cannot be identified raises ``DecisionError``.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .coerce import (
    as_bool,
    as_date,
    as_datetime,
    as_dict,
    as_float,
    as_int,
    as_list,
    as_str,
    without_nul,
)

# Bump when the mapping changes: stored hashes then differ, so re-applying re-maps.
MAPPING_VERSION = 1

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
IMAGE_FIELDS = ("portrait_image", "front_image", "back_image", "full_front_image")
IMAGE_FIELDS += ("full_back_image", "front_video", "back_video")
HIT_COLUMNS = {"id", "caption", "score", "match_score", "risk_score", "match", "target"}
HIT_COLUMNS |= {"review_status", "url", "datasets", "features", "topics", "properties"}
HIT_COLUMNS |= {"first_seen", "last_seen", "last_change"}


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
        document=_document(items, shape),
        face=_face(items, shape),
        aml=_aml(items),
        ip_analysis=_ip_analysis(items),
        hits=_hits(items),
        warnings=_warnings(decision, items, shape),
        reviews=_reviews(decision),
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
    """What a v3 list row says that a decision change would alter: status, features, hits."""
    row = as_dict(row)
    features = sorted(
        f"{as_str(entry.get('feature'))}={as_str(entry.get('status'))}"
        for entry in as_list(row.get("features"))
        if isinstance(entry, dict)
    )
    hits = as_dict(as_dict(row.get("additional_details")).get("aml")).get("total_hits")
    return f"{as_str(row.get('status'))}|{','.join(features)}|hits={as_int(hits)}"


def content_hash(decision: dict) -> str:
    """Hash of the decision minus volatile parts: presigned URLs lose their query strings."""
    text = json.dumps(
        [MAPPING_VERSION, _strip_volatile(decision)],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _strip_volatile(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _strip_volatile(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_strip_volatile(item) for item in value]
    if isinstance(value, str) and value.startswith(("https://", "http://")):
        return value.split("?", 1)[0].split("#", 1)[0]
    return value


def _first(items: dict, feature: str) -> dict | None:
    entries = items.get(feature)
    return entries[0][1] if entries else None


def _session(decision: dict, parsed: ParsedDecision, items: dict, shape: str) -> dict[str, Any]:
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
        "vendor_data": as_str(decision.get("vendor_data")),
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


def _document(items: dict, shape: str) -> dict[str, Any] | None:
    source = _first(items, "ID_VERIFICATION")
    nfc = _first(items, "NFC")
    if source is None and nfc is None:
        return None
    source = source or {}
    text = ("node_id", "status", "ocr_status", "document_type", "document_subtype")
    text += ("document_number", "personal_number", "first_name", "last_name", "full_name")
    text += ("gender", "nationality", "issuing_state", "issuing_state_name", "place_of_birth")
    text += ("marital_status", "address", "formatted_address", "epassport_status")
    values: dict[str, Any] = {name: as_str(source.get(name)) for name in text}
    for name in ("date_of_birth", "date_of_issue", "expiration_date"):
        values[name] = as_date(source.get(name))
    age = as_int(source.get("age"))
    values["age"] = age if age is not None and 0 <= age < 200 else None
    parsed_address = source.get("parsed_address")
    values["parsed_address"] = parsed_address if isinstance(parsed_address, dict) else None
    for name in IMAGE_FIELDS:
        values[f"{name}_url"] = as_str(source.get(name))
    nfc_status = as_str((nfc or {}).get("status"))
    values["nfc_status"] = nfc_status
    nfc_verified = as_bool(source.get("is_nfc_verified"))
    if nfc_verified is None and nfc_status in ("Approved", "Declined"):
        nfc_verified = nfc_status == "Approved"
    values["is_nfc_verified"] = nfc_verified
    return values


def _face(items: dict, shape: str) -> dict[str, Any] | None:
    if shape == "v1":
        face = _first(items, "FACE")
        if face is None:
            return None
        return {
            "status": as_str(face.get("status")),
            "face_match_status": as_str(face.get("face_match_status")),
            "face_match_similarity": as_float(face.get("face_match_similarity")),
            "liveness_status": as_str(face.get("liveness_status")),
            "liveness_confidence": as_float(face.get("liveness_confidence")),
            "liveness_method": as_str(face.get("liveness_method") or face.get("method")),
            "age_estimation": as_float(face.get("age_estimation")),
            "gender_estimation": _json_object(face.get("gender_estimation")),
            "source_image_url": as_str(face.get("source_image")),
            "target_image_url": as_str(face.get("target_image")),
            "reference_image_url": as_str(face.get("reference_image")),
            "video_url": as_str(face.get("video_url")),
        }
    liveness = _first(items, "LIVENESS")
    match = _first(items, "FACE_MATCH")
    if liveness is None and match is None:
        return None
    liveness, match = liveness or {}, match or {}
    return {
        "status": "",
        "face_match_status": as_str(match.get("status")),
        "face_match_similarity": as_float(match.get("score")),
        "liveness_status": as_str(liveness.get("status")),
        "liveness_confidence": as_float(liveness.get("score")),
        "liveness_method": as_str(liveness.get("method")),
        "age_estimation": as_float(liveness.get("age_estimation")),
        "gender_estimation": _json_object(liveness.get("gender_estimation")),
        "source_image_url": as_str(match.get("source_image")),
        "target_image_url": as_str(match.get("target_image")),
        "reference_image_url": as_str(liveness.get("reference_image")),
        "video_url": as_str(liveness.get("video_url")),
    }


def _aml(items: dict) -> dict[str, Any] | None:
    aml = _first(items, "AML")
    if aml is None:
        return None
    total_hits = as_int(aml.get("total_hits"))
    return {
        "node_id": as_str(aml.get("node_id")),
        "status": as_str(aml.get("status")),
        "score": as_float(aml.get("score")),
        "total_hits": total_hits if total_hits is None or total_hits >= 0 else None,
        "entity_type": as_str(aml.get("entity_type")),
        "screened_data": _json_object(aml.get("screened_data")),
        "is_ongoing_monitoring_enabled": as_bool(aml.get("is_ongoing_monitoring_enabled")),
    }


def _hits(items: dict) -> list[dict[str, Any]]:
    """Every hit of every AML item, once per id, in Didit's order."""
    hits: dict[str, dict[str, Any]] = {}
    for _, screening in items.get("AML", []):
        for hit in as_list(screening.get("hits")):
            if not isinstance(hit, dict):
                continue
            hit_id = as_str(hit.get("id")) or "sha256:" + _digest(_strip_volatile(hit))
            if hit_id in hits:
                continue
            properties = as_dict(hit.get("properties"))
            match_score, risk_score = (
                as_float(hit.get("match_score")),
                as_float(hit.get("risk_score")),
            )
            score = as_float(hit.get("score"))
            score = _unit(score if score is not None else match_score)
            topics = hit.get("topics") if "topics" in hit else properties.get("topics")
            hits[hit_id] = {
                "hit_id": hit_id,
                "caption": as_str(hit.get("caption")),
                "score": score,
                "match_score": match_score,
                "risk_score": risk_score,
                "match": as_bool(hit.get("match")),
                "target": as_bool(hit.get("target")),
                "review_status": as_str(hit.get("review_status")),
                "url": as_str(hit.get("url")),
                "datasets": [str(item) for item in as_list(hit.get("datasets"))],
                "features": _json_object(hit.get("features")),
                "topics": [str(item) for item in as_list(topics)],
                "properties": properties,
                "details": {key: value for key, value in hit.items() if key not in HIT_COLUMNS},
                "first_seen": as_datetime(hit.get("first_seen")),
                "last_seen": as_datetime(hit.get("last_seen")),
                "last_change": as_datetime(hit.get("last_change")),
                "position": len(hits),
            }
    return list(hits.values())


def _ip_analysis(items: dict) -> dict[str, Any] | None:
    ip = _first(items, "IP_ANALYSIS")
    if ip is None:
        return None
    text = ("status", "device_brand", "device_model", "browser_family", "os_family", "platform")
    text += ("ip_address", "ip_country", "ip_country_code", "ip_state", "ip_city", "isp")
    text += ("organization", "time_zone", "time_zone_offset")
    values: dict[str, Any] = {name: as_str(ip.get(name)) for name in text}
    values["latitude"] = as_float(ip.get("latitude"))
    values["longitude"] = as_float(ip.get("longitude"))
    values["is_vpn_or_tor"] = as_bool(ip.get("is_vpn_or_tor"))
    values["is_data_center"] = as_bool(ip.get("is_data_center"))
    # v1: distance_from_document_to_ip_km{}; v3: id_document{distance_from_ip{}}.
    distance = as_dict(ip.get("distance_from_document_to_ip_km")) or as_dict(
        as_dict(ip.get("id_document")).get("distance_from_ip")
    )
    values["document_distance_km"] = as_float(distance.get("distance"))
    values["document_direction"] = as_str(distance.get("direction"))
    return values


def _warnings(decision: dict, items: dict, shape: str) -> list[dict[str, Any]]:
    sources: list[tuple[str, str, Any]] = [("warnings", "", decision.get("warnings"))]
    for feature, entries in items.items():
        if shape != "v1":
            sources += [(where, feature, item.get("warnings")) for where, item in entries]
    warnings = []
    seen: Counter[str] = Counter()
    for where, feature, entries in sources:
        for warning in as_list(entries):
            if not isinstance(warning, dict):
                continue
            values = {
                "source": as_str(where),
                "feature": as_str(warning.get("feature")) or feature,
                "risk": as_str(warning.get("risk")),
                "short_description": as_str(warning.get("short_description")),
                "long_description": as_str(warning.get("long_description")),
                "log_type": as_str(warning.get("log_type")),
                "additional_data": warning.get("additional_data"),
            }
            digest = _digest(_strip_volatile(values))
            seen[digest] += 1  # The same warning twice stays twice, and stays idempotent.
            values["fingerprint"] = _digest([digest, seen[digest]])
            values["position"] = len(warnings)
            warnings.append(values)
    return warnings


def _reviews(decision: dict) -> list[dict[str, Any]]:
    reviews = []
    seen: Counter[str] = Counter()
    for review in as_list(decision.get("reviews")):
        if not isinstance(review, dict):
            continue
        raw_created = review.get("created_at")
        values = {
            "didit_user": as_str(review.get("user")),
            "new_status": as_str(review.get("new_status")),
            "comment": as_str(review.get("comment")),
            "didit_created_at": as_datetime(raw_created),
        }
        digest = _digest(
            [values["didit_user"], values["new_status"], values["comment"], raw_created]
        )
        seen[digest] += 1
        values["didit_fingerprint"] = _digest([digest, seen[digest]])
        reviews.append(values)
    return reviews


def _unit(score: float | None) -> float | None:
    """A score on 0-1, whether Didit sent it on 0-1 or 0-100."""
    if score is None or score < 0:
        return None
    return score / 100 if score > 1 else score


def _json_object(value: Any) -> dict | list | None:
    return value if isinstance(value, (dict, list)) else None


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
