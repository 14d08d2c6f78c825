"""Decisions in Didit's three shapes (v1, v2, v3), list rows and User entities."""

from __future__ import annotations

import random

from . import catalog, config, details
from .facts import iso_datetime, worst
from .items import Context, feature_items, warning_items

VERIFY_URL = "https://verify.didit.me"


def extras(ctx: Context) -> dict:
    """metadata, callback, contact and expected details: stored for created sessions,
    generated for the others."""
    session = ctx.session
    if session.extra is not None:
        return session.extra
    rng = random.Random(session.seed ^ 0xC0FFEE)
    person = ctx.person
    return {
        "metadata": {
            "user_type": rng.choice(["premium", "standard"]),
            "account_id": f"ACC{rng.randint(1000, 99999)}",
        }
        if rng.random() < 0.5
        else None,
        "callback": "https://app.example.com/kyc/callback" if rng.random() < 0.7 else None,
        "contact_details": {
            "email": person.email,
            "email_lang": "en",
            "send_notification_emails": rng.random() < 0.5,
            "phone": person.phone if rng.random() < 0.5 else None,
        }
        if rng.random() < 0.4
        else None,
        "expected_details": {"first_name": person.first_name, "last_name": person.last_name}
        if rng.random() < 0.3
        else None,
    }


def session_url(ctx: Context) -> str:
    session = ctx.session
    key = session.session_id if session.shape == "v1" else session.token
    return f"{VERIFY_URL}/session/{key}"


def decision(ctx: Context, shape: str) -> dict:
    return {"v1": v1_decision, "v2": v2_decision, "v3": v3_decision}[shape](ctx)


def _top(ctx: Context) -> dict:
    session = ctx.session
    more = extras(ctx)
    return {
        "session_id": session.session_id,
        "session_kind": "user",
        "session_number": session.number,
        "session_url": session_url(ctx),
        "status": session.status,
        "environment": "live",
        "workflow_id": session.workflow_id,
        "workflow_version": session.workflow.version if session.workflow else None,
        "features": list(session.features),
        "vendor_data": session.vendor_data,
        "metadata": more["metadata"],
        "expected_details": more["expected_details"],
        "contact_details": more["contact_details"],
        "callback": more["callback"],
    }


def v3_decision(ctx: Context) -> dict:
    out = _top(ctx)
    features = ctx.session.features
    for feature, keys in catalog.FEATURES.items():
        out[keys[1]] = feature_items(ctx, feature) if feature in features else None
    out["reviews"] = ctx.reviews
    out["created_at"] = iso_datetime(ctx.session.created)
    return out


def v2_decision(ctx: Context) -> dict:
    out = _top(ctx)
    del out["session_kind"], out["environment"]
    features = ctx.session.features
    for feature, keys in catalog.FEATURES.items():
        if keys[0] is None:
            continue
        items = feature_items(ctx, feature) if feature in features else None
        if items:
            item = dict(items[0])
            item.pop("node_id")
            out[keys[0]] = item
        else:
            out[keys[0]] = None
    out["reviews"] = ctx.reviews
    out["created_at"] = iso_datetime(ctx.session.created)
    return out


def v1_decision(ctx: Context) -> dict:
    session, facts = ctx.session, ctx.facts
    features = session.features
    warnings = []
    for feature in features:
        warnings += warning_items(ctx, feature, label=catalog.FEATURES[feature][4])
    return {
        "session_id": session.session_id,
        "session_number": session.number,
        "session_url": session_url(ctx),
        "status": session.status,
        "vendor_data": session.vendor_data,
        "callback": extras(ctx)["callback"],
        "features": session.v1_features or catalog.v1_option_of(features),
        "kyc": _v1_kyc(ctx) if facts.document is not None else None,
        "aml": _v1_aml(ctx) if facts.ran("AML") else None,
        "face": _v1_face(ctx) if facts.ran("LIVENESS") or facts.ran("FACE_MATCH") else None,
        "location": _v1_location(ctx) if facts.ran("IP_ANALYSIS") else None,
        "warnings": warnings,
        "reviews": ctx.reviews,
        "extra_images": [],
        "created_at": iso_datetime(session.created),
    }


def _v1_kyc(ctx: Context) -> dict:
    item = feature_items(ctx, "ID_VERIFICATION")[0]
    statuses = ctx.facts.statuses
    person = ctx.person
    return {
        "status": worst([statuses["ID_VERIFICATION"], statuses.get("NFC")]),
        "ocr_status": statuses["ID_VERIFICATION"],
        "epassport_status": statuses.get("NFC"),
        **{
            key: item[key]
            for key in (
                "document_type",
                "document_number",
                "personal_number",
                "portrait_image",
                "front_image",
                "front_video",
                "back_image",
                "back_video",
                "full_front_image",
                "full_back_image",
                "date_of_birth",
                "expiration_date",
                "date_of_issue",
                "issuing_state",
                "issuing_state_name",
                "first_name",
                "last_name",
                "full_name",
                "gender",
                "address",
                "formatted_address",
            )
        },
        "is_nfc_verified": statuses.get("NFC") == config.APPROVED,
        "parsed_address": item["parsed_address"],
        "place_of_birth": item["place_of_birth"],
        "marital_status": item["marital_status"],
        "nationality": person.nationality,
        "created_at": iso_datetime(ctx.session.created + 95),
    }


def _v1_aml(ctx: Context) -> dict:
    hits = details.aml_hits(
        ctx.facts, ctx.person, created=ctx.session.created, overrides=ctx.session.hit_reviews
    )
    keep = (
        "id",
        "match",
        "score",
        "target",
        "caption",
        "datasets",
        "features",
        "last_seen",
        "first_seen",
        "properties",
        "last_change",
    )
    return {
        "status": ctx.facts.statuses["AML"],
        "total_hits": len(hits),
        "score": round(max((h["score"] for h in hits), default=0.0) * 100, 2),
        "hits": [{key: hit[key] for key in keep} for hit in hits],
    }


def _v1_face(ctx: Context) -> dict:
    facts = ctx.facts
    liveness, match = facts.statuses.get("LIVENESS"), facts.statuses.get("FACE_MATCH")
    male = round(random.Random(ctx.session.seed).uniform(0.5, 3), 2)
    if ctx.person.gender == "M":
        male = round(100 - male, 2)
    return {
        "status": worst([liveness, match]),
        "face_match_status": match,
        "liveness_status": liveness,
        "face_match_similarity": facts.face_score if match else None,
        "liveness_confidence": facts.liveness_score if liveness else None,
        "source_image": ctx.url("source") if match else None,
        "target_image": ctx.url("target") if match else ctx.url("reference"),
        "video_url": ctx.video("liveness_video"),
        "age_estimation": facts.age_estimation,
        "gender_estimation": {"male": male, "female": round(100 - male, 2)},
    }


def _v1_location(ctx: Context) -> dict:
    info = details.ip_analysis(ctx.facts, ctx.person)
    distance = info.pop("distance")
    return {
        **info,
        "status": ctx.facts.statuses["IP_ANALYSIS"],
        "ip_location": {"longitude": info["longitude"], "latitude": info["latitude"]},
        "distance_from_document_to_ip_km": distance,
    }


def feature_summary(ctx: Context) -> list[dict]:
    statuses = ctx.facts.statuses
    return [
        {"feature": feature, "status": statuses.get(feature) or config.NOT_FINISHED}
        for feature in ctx.session.features
    ]


def list_row(ctx: Context) -> dict:
    session, facts, person = ctx.session, ctx.facts, ctx.person
    document = facts.document
    more = extras(ctx)
    ran = facts.ran
    contact = more["contact_details"] or {}
    return {
        "session_id": session.session_id,
        "session_kind": "user",
        "session_number": session.number,
        "session_url": session_url(ctx),
        "portrait_image": ctx.url("portrait") if document else None,
        "document_type": document.document_type if document else None,
        "full_name": person.full_name if document else None,
        "country": document.issuing_state if document else None,
        "status": session.status,
        "vendor_data": session.vendor_data,
        "didit_internal_id": f"{session.seed % (1 << 32):08x}-6c8d-4f2a-bb90-{session.number:012d}",
        "created_at": iso_datetime(session.created),
        # Not in Didit's published list row; served so the console can use it when present.
        "updated_at": iso_datetime(session.updated or session.created),
        "features": feature_summary(ctx),
        "phone_number": {
            "number": person.phone,
            "is_verified": facts.statuses["PHONE"] == config.APPROVED,
        }
        if ran("PHONE")
        else ({"number": contact["phone"], "is_verified": False} if contact.get("phone") else None),
        "email_address": {
            "email": person.email,
            "is_verified": facts.statuses["EMAIL_VERIFICATION"] == config.APPROVED,
        }
        if ran("EMAIL_VERIFICATION")
        else ({"email": contact["email"], "is_verified": False} if contact.get("email") else None),
        "additional_details": {
            "aml": {
                "total_hits": facts.aml_hits,
                "entity_type": "person",
                "is_adverse_media_fetched": False,
            }
            if ran("AML")
            else None,
            "liveness": {
                "method": facts.liveness_method,
                "score": round(facts.liveness_score / 100, 4),
            }
            if ran("LIVENESS")
            else None,
            "face_match": {"score": round(facts.face_score / 100, 4)}
            if ran("FACE_MATCH")
            else None,
        },
    }
