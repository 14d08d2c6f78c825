"""One v3 decision item per feature (v2 uses the same objects without `node_id`)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime

from . import catalog, config, details
from .data import Session
from .facts import Document, Facts, iso_datetime
from .media import MediaSigner
from .people import ISO3, Person


@dataclass
class Context:
    """Everything a renderer needs about one session, gathered under the store lock."""

    session: Session
    person: Person
    facts: Facts
    media: MediaSigner
    reviews: list[dict]

    def url(self, kind: str) -> str:
        return self.media.url(self.session.session_id, kind)

    def video(self, kind: str) -> str | None:
        return self.url(kind) if self.facts.has_videos else None


def warning_items(ctx: Context, feature: str, *, label: str | None = None) -> list[dict]:
    status = ctx.facts.statuses.get(feature)
    log_type = {"Declined": "error", "In Review": "warning"}.get(status, "information")
    items = []
    for risk in ctx.facts.warnings.get(feature, []):
        short, long = catalog.WARNING_TEXTS[risk]
        additional = None
        if risk == "COUNTRY_FROM_DOCUMENT_DOES_NOT_MATCH_COUNTRY_FROM_IP":
            additional = {
                "document_country": ctx.person.country,
                "ip_country": ctx.facts.ip_country,
            }
        items.append(
            {
                "feature": label or feature,
                "risk": risk,
                "additional_data": additional,
                "log_type": log_type,
                "short_description": short,
                "long_description": long,
            }
        )
    return items


def parsed_address(person: Person) -> dict:
    country = ISO3[person.country]
    return {
        "street_1": person.street,
        "street_2": None,
        "city": person.city,
        "region": None,
        "postal_code": person.postal_code,
        "country": country[1],
        "raw_results": {"geometry": {"location": {"lat": country[5][0], "lng": country[5][1]}}},
    }


def id_verification(ctx: Context, document: Document, *, status: str, primary: bool) -> dict:
    person = ctx.person
    passport = document.document_type == "Passport"
    born = person.date_of_birth
    on = datetime.fromtimestamp(ctx.session.created, UTC).date()
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    return {
        "status": status,
        "document_type": document.document_type,
        "document_subtype": document.document_subtype,
        "document_number": document.number,
        "personal_number": document.personal_number,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "full_name": person.full_name,
        "date_of_birth": person.date_of_birth.isoformat(),
        "age": age,
        "gender": person.gender,
        "nationality": person.nationality,
        "issuing_state": document.issuing_state,
        "issuing_state_name": ISO3[document.issuing_state][2],
        "date_of_issue": document.date_of_issue.isoformat(),
        "expiration_date": document.expiration_date.isoformat(),
        "place_of_birth": ISO3[person.country][7][0] if person.document_seed % 3 else None,
        "marital_status": "UNKNOWN" if person.document_seed % 4 else "SINGLE",
        "address": None if passport else person.address,
        "formatted_address": None if passport else person.formatted_address,
        "parsed_address": None if passport else parsed_address(person),
        "portrait_image": ctx.url("portrait"),
        "front_image": ctx.url("front" if primary else "full_front"),
        "back_image": None if passport else ctx.url("back"),
        "full_front_image": ctx.url("full_front"),
        "full_back_image": None if passport else ctx.url("full_back"),
        "front_video": ctx.video("front_video") if primary else None,
        "back_video": None if passport else ctx.video("back_video"),
        "front_image_quality_score": {"blur": 0.12, "glare": 0.05, "overall": 0.91},
        "back_image_quality_score": None if passport else {"blur": 0.2, "overall": 0.86},
        "matches": [],
        "warnings": warning_items(ctx, "ID_VERIFICATION") if primary else [],
    }


def nfc(ctx: Context, status: str) -> dict:
    person, document = ctx.person, ctx.facts.document
    return {
        "status": status,
        "portrait_image": ctx.url("nfc_portrait"),
        "signature_image": None,
        "chip_data": {
            "document_type": document.document_type if document else None,
            "issuing_country": document.issuing_state if document else None,
            "document_number": document.number if document else None,
            "expiration_date": document.expiration_date.isoformat() if document else None,
            "first_name": person.first_name,
            "last_name": person.last_name,
            "birth_date": person.date_of_birth.isoformat(),
            "gender": person.gender,
            "nationality": person.nationality,
        },
        "authenticity": {"sod_integrity": status == "Approved", "dg_integrity": True},
        "certificate_summary": {"issuer": f"CSCA {person.nationality}", "serial_number": "0A1B"},
        "warnings": warning_items(ctx, "NFC"),
    }


def liveness(ctx: Context, status: str) -> dict:
    return {
        "status": status,
        "method": ctx.facts.liveness_method,
        "score": ctx.facts.liveness_score,
        "age_estimation": ctx.facts.age_estimation,
        "reference_image": ctx.url("reference"),
        "video_url": ctx.video("liveness_video"),
        "face_quality": round(ctx.facts.liveness_score * 0.9, 2),
        "face_luminance": 54.0,
        "matches": [],
        "warnings": warning_items(ctx, "LIVENESS"),
    }


def face_match(ctx: Context, status: str) -> dict:
    return {
        "status": status,
        "score": ctx.facts.face_score,
        "source_image": ctx.url("source"),
        "target_image": ctx.url("target"),
        "source_image_session_id": None,
        "warnings": warning_items(ctx, "FACE_MATCH"),
    }


def poa(ctx: Context, status: str) -> dict:
    person = ctx.person
    return {
        "status": status,
        "document_type": "Utility Bill",
        "issuer": "Iberdrola" if person.country == "ESP" else "City Power & Water",
        "issue_date": iso_datetime(ctx.session.created - 40 * 86400)[:10],
        "document_language": "en",
        "name_on_document": person.full_name,
        "poa_address": person.address,
        "poa_formatted_address": person.formatted_address,
        "poa_parsed_address": parsed_address(person),
        "document_file": ctx.url("poa"),
        "warnings": warning_items(ctx, "POA"),
    }


def phone(ctx: Context, status: str) -> dict:
    number = ctx.person.phone
    return {
        "status": status,
        "phone_number_prefix": number[:3],
        "phone_number": number[3:],
        "full_number": number,
        "country_code": ISO3[ctx.person.country][1],
        "country_name": ISO3[ctx.person.country][2],
        "carrier": {"name": "Vodafone", "type": "mobile"},
        "is_disposable": False,
        "is_virtual": status != "Approved",
        "verification_method": "sms",
        "verification_attempts": 1,
        "verified_at": iso_datetime(ctx.session.created + 120),
        "warnings": warning_items(ctx, "PHONE"),
    }


def email(ctx: Context, status: str) -> dict:
    return {
        "status": status,
        "email": ctx.person.email,
        "is_breached": False,
        "breaches": [],
        "is_disposable": status != "Approved",
        "is_undeliverable": False,
        "verification_attempts": 1,
        "verified_at": iso_datetime(ctx.session.created + 60),
        "warnings": warning_items(ctx, "EMAIL_VERIFICATION"),
    }


def aml(ctx: Context, status: str) -> dict:
    person, document = ctx.person, ctx.facts.document
    hits = details.aml_hits(
        ctx.facts, person, created=ctx.session.created, overrides=ctx.session.hit_reviews
    )
    for hit in hits:
        hit.pop("features")
        hit.pop("last_change")
    return {
        "status": status,
        "entity_type": "person",
        "total_hits": len(hits),
        "score": float(max((h["match_score"] for h in hits), default=0)),
        "hits": hits,
        "screened_data": {
            "full_name": person.full_name,
            "date_of_birth": person.date_of_birth.isoformat(),
            "nationality": ISO3[person.nationality][1],
            "document_number": document.number if document else None,
        },
        "is_ongoing_monitoring_enabled": ctx.session.seed % 3 == 0,
        "next_ongoing_monitoring_bill_date": None,
        "warnings": warning_items(ctx, "AML"),
    }


def ip_analysis(ctx: Context, status: str) -> dict:
    info = details.ip_analysis(ctx.facts, ctx.person)
    distance = info.pop("distance")
    info.pop("document_location")
    return {
        "status": status,
        **info,
        "id_document": {"distance_from_ip": distance},
        "warnings": warning_items(ctx, "IP_ANALYSIS"),
    }


def database_validation(ctx: Context, status: str) -> dict:
    outcome = "full_match" if status == "Approved" else "no_match"
    document = ctx.facts.document
    return {
        "status": status,
        "match_type": outcome,
        "issuing_state": document.issuing_state if document else ctx.person.country,
        "validation_type": "one_by_one",
        "screened_data": {
            "full_name": ctx.person.full_name,
            "date_of_birth": ctx.person.date_of_birth.isoformat(),
            "identification_number": document.number if document else None,
        },
        "validations": {
            "full_name": outcome,
            "date_of_birth": outcome,
            "identification_number": outcome,
        },
        "warnings": warning_items(ctx, "DATABASE_VALIDATION"),
    }


def questionnaire(ctx: Context, status: str) -> dict:
    rng = random.Random(ctx.session.seed ^ 0x0A)
    return {
        "status": status,
        "questionnaire_id": "6b0f7c1e-source-of-funds",
        "title": "Source of funds",
        "language": "en",
        "answers": [
            {
                "question": "What is your occupation?",
                "answer": rng.choice(["Engineer", "Médica", "Self-employed", "学生"]),
            },
            {
                "question": "Expected monthly volume (EUR)?",
                "answer": rng.choice(["< 1,000", "1,000 – 10,000", "> 10,000"]),
            },
        ],
        "warnings": warning_items(ctx, "QUESTIONNAIRE"),
    }


BUILDERS = {
    "NFC": nfc, "LIVENESS": liveness, "FACE_MATCH": face_match, "POA": poa, "PHONE": phone,
    "EMAIL_VERIFICATION": email, "AML": aml, "IP_ANALYSIS": ip_analysis,
    "DATABASE_VALIDATION": database_validation, "QUESTIONNAIRE": questionnaire,
}  # fmt: skip


def feature_items(ctx: Context, feature: str) -> list[dict] | None:
    """The v3 items of one feature (node_id first), or None when it has not run."""
    status = ctx.facts.statuses.get(feature)
    if status is None:
        return None
    node = catalog.FEATURES[feature][2]
    if feature != "ID_VERIFICATION":
        return [{"node_id": node, **BUILDERS[feature](ctx, status)}]
    items = []
    for index, document in enumerate(ctx.facts.documents):
        primary = index == 0
        item = id_verification(
            ctx, document, status=status if primary else config.APPROVED, primary=primary
        )
        node_id = f"{node}_{index + 1}" if len(ctx.facts.documents) > 1 else node
        items.append({"node_id": node_id, **item})
    return items
