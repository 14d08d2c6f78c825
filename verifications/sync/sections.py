"""One function per part of a decision: document, face, AML and its hits, IP, warnings,
reviews. Each takes the feature items of any shape (see ``parse.feature_items``) and returns
plain values for one model, or None when the decision has no such part."""

from __future__ import annotations

from collections import Counter
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
    digest,
    strip_volatile,
)

IMAGE_FIELDS = ("portrait_image", "front_image", "back_image", "full_front_image")
IMAGE_FIELDS += ("full_back_image", "front_video", "back_video")
HIT_COLUMNS = {"id", "caption", "score", "match_score", "risk_score", "match", "target"}
HIT_COLUMNS |= {"review_status", "url", "datasets", "features", "topics", "properties"}
HIT_COLUMNS |= {"first_seen", "last_seen", "last_change"}


def first_item(items: dict, feature: str) -> dict | None:
    entries = items.get(feature)
    return entries[0][1] if entries else None


def document_values(items: dict, shape: str) -> dict[str, Any] | None:
    source = first_item(items, "ID_VERIFICATION")
    nfc = first_item(items, "NFC")
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


def face_values(items: dict, shape: str) -> dict[str, Any] | None:
    if shape == "v1":
        face = first_item(items, "FACE")
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
    liveness = first_item(items, "LIVENESS")
    match = first_item(items, "FACE_MATCH")
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


def aml_values(items: dict) -> dict[str, Any] | None:
    aml = first_item(items, "AML")
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


def hit_values(items: dict) -> list[dict[str, Any]]:
    """Every hit of every AML item, once per id, in Didit's order."""
    hits: dict[str, dict[str, Any]] = {}
    for _, screening in items.get("AML", []):
        for hit in as_list(screening.get("hits")):
            if not isinstance(hit, dict):
                continue
            hit_id = as_str(hit.get("id")) or "sha256:" + digest(strip_volatile(hit))
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
            details = {key: value for key, value in hit.items() if key not in HIT_COLUMNS}
            if isinstance(hit.get("target"), (str, dict)):
                # ``target`` as the list entity's id rather than a flag: kept, it names the
                # entity for the AML whitelist.
                details["target"] = hit["target"]
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
                "details": details,
                "first_seen": as_datetime(hit.get("first_seen")),
                "last_seen": as_datetime(hit.get("last_seen")),
                "last_change": as_datetime(hit.get("last_change")),
                "position": len(hits),
            }
    return list(hits.values())


def ip_values(items: dict) -> dict[str, Any] | None:
    ip = first_item(items, "IP_ANALYSIS")
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


def warning_values(decision: dict, items: dict, shape: str) -> list[dict[str, Any]]:
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
            content = digest(strip_volatile(values))
            seen[content] += 1  # The same warning twice stays twice, and stays idempotent.
            values["fingerprint"] = digest([content, seen[content]])
            values["position"] = len(warnings)
            warnings.append(values)
    return warnings


def review_values(decision: dict) -> list[dict[str, Any]]:
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
        content = digest(
            [values["didit_user"], values["new_status"], values["comment"], raw_created]
        )
        seen[content] += 1
        values["didit_fingerprint"] = digest([content, seen[content]])
        reviews.append(values)
    return reviews


def _unit(score: float | None) -> float | None:
    """A score on 0-1, whether Didit sent it on 0-1 or 0-100."""
    if score is None or score < 0:
        return None
    return score / 100 if score > 1 else score


def _json_object(value: Any) -> dict | list | None:
    return value if isinstance(value, (dict, list)) else None
