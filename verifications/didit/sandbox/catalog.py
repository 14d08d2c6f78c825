"""Didit's fixed vocabularies: features, workflows, v1 feature strings, warning texts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

# Feature name -> (v2 key, v3 key, v3 node_id, users-map key, v1 warning label).
FEATURES = {
    "ID_VERIFICATION": (
        "id_verification",
        "id_verifications",
        "feature_ocr",
        "id_verification",
        "OCR",
    ),
    "NFC": ("nfc", "nfc_verifications", "feature_nfc", "nfc", "NFC"),
    "LIVENESS": ("liveness", "liveness_checks", "feature_liveness", "liveness", "LIVENESS"),
    "FACE_MATCH": ("face_match", "face_matches", "feature_face_match", "face_match", "FACE"),
    "POA": ("poa", "poa_verifications", "feature_poa", "poa", "POA"),
    "PHONE": ("phone", "phone_verifications", "feature_phone", "phone", "PHONE"),
    "EMAIL_VERIFICATION": ("email", "email_verifications", "feature_email", "email", "EMAIL"),
    "DATABASE_VALIDATION": (
        "database_validation",
        "database_validations",
        "feature_database_validation",
        "database_validation",
        "DATABASE",
    ),
    "AML": ("aml", "aml_screenings", "feature_aml", "aml", "AML"),
    "IP_ANALYSIS": ("ip_analysis", "ip_analyses", "feature_ip_analysis", "ip_analysis", "LOCATION"),
    "QUESTIONNAIRE": (
        None,
        "questionnaire_responses",
        "feature_questionnaire",
        "questionnaire",
        "QUESTIONNAIRE",
    ),
}
FEATURE_ORDER = list(FEATURES)

_NAMESPACE = uuid.UUID("6f1c1a52-3b0e-4a43-9d55-9a1d1e2b7c00")


@dataclass(frozen=True)
class Workflow:
    workflow_id: str
    name: str
    version: int
    features: tuple[str, ...]


def _workflow(name: str, version: int, features: str) -> Workflow:
    return Workflow(str(uuid.uuid5(_NAMESPACE, name)), name, version, tuple(features.split()))


# Stable ids (independent of the seed) so tests and demos can name a workflow.
WORKFLOWS = (
    _workflow("KYC", 3, "ID_VERIFICATION LIVENESS FACE_MATCH IP_ANALYSIS"),
    _workflow("KYC + AML", 5, "ID_VERIFICATION LIVENESS FACE_MATCH AML IP_ANALYSIS"),
    _workflow(
        "Full KYC",
        2,
        "ID_VERIFICATION NFC LIVENESS FACE_MATCH POA PHONE DATABASE_VALIDATION AML IP_ANALYSIS",
    ),
    _workflow(
        "Onboarding with contact checks",
        4,
        "ID_VERIFICATION LIVENESS FACE_MATCH EMAIL_VERIFICATION PHONE QUESTIONNAIRE AML "
        "IP_ANALYSIS",
    ),
    _workflow("Biometric authentication", 1, "LIVENESS FACE_MATCH IP_ANALYSIS"),
)
WORKFLOW_WEIGHTS = (30, 30, 15, 10, 15)
WORKFLOWS_BY_ID = {w.workflow_id: w for w in WORKFLOWS}

# The eight feature strings the v1 create endpoint accepts.
V1_FEATURE_OPTIONS = (
    "OCR",
    "OCR + NFC",
    "OCR + AML",
    "OCR + NFC + AML",
    "OCR + FACE",
    "OCR + NFC + FACE",
    "OCR + FACE + AML",
    "OCR + NFC + FACE + AML",
)
V1_FEATURE_WEIGHTS = (5, 2, 8, 3, 30, 7, 35, 10)


def features_of_v1(option: str) -> tuple[str, ...]:
    parts = set(option.split(" + "))
    features = ["ID_VERIFICATION"]
    if "NFC" in parts:
        features.append("NFC")
    if "FACE" in parts:
        features += ["LIVENESS", "FACE_MATCH"]
    if "AML" in parts:
        features.append("AML")
    features.append("IP_ANALYSIS")
    return tuple(features)


def v1_option_of(features: tuple[str, ...]) -> str:
    parts = ["OCR"]
    if "NFC" in features:
        parts.append("NFC")
    if "LIVENESS" in features or "FACE_MATCH" in features:
        parts.append("FACE")
    if "AML" in features:
        parts.append("AML")
    return " + ".join(parts)


# Risk code -> (short, long) description. Codes beyond SPEC's list are Didit-like inventions.
WARNING_TEXTS = {
    "POSSIBLE_MATCH_FOUND": (
        "Possible match found in AML screening",
        "The Anti-Money Laundering (AML) screening process identified potential matches with "
        "watchlists or high-risk databases, requiring further review.",
    ),
    "DOCUMENT_EXPIRED": (
        "Document expired",
        "The identity document presented has passed its expiration date.",
    ),
    "DATA_INCONSISTENT": (
        "Inconsistent data",
        "Data extracted from the visual zone does not match the machine-readable zone.",
    ),
    "DOCUMENT_NUMBER_NOT_DETECTED": (
        "Document number not detected",
        "The document number could not be read from the document images.",
    ),
    "SCREEN_CAPTURE_DETECTED": (
        "Screen capture detected",
        "The image appears to be a photo of a screen rather than of a physical document.",
    ),
    "COUNTRY_FROM_DOCUMENT_DOES_NOT_MATCH_COUNTRY_FROM_IP": (
        "Document country does not match IP country",
        "The country that issued the document differs from the country of the user's IP.",
    ),
    "FACE_IN_BLOCKLIST": (
        "Face in blocklist",
        "The face matches a face that this application added to its blocklist.",
    ),
    "ID_DOCUMENT_IN_BLOCKLIST": (
        "Document in blocklist",
        "The document number matches a document that this application added to its blocklist.",
    ),
    "LOW_LIVENESS_SCORE": (
        "Low liveness score",
        "The liveness check score is below the threshold configured for this workflow.",
    ),
    "LOW_FACE_MATCH_SIMILARITY": (
        "Low face match similarity",
        "The selfie and the document portrait are less similar than the configured threshold.",
    ),
    "VPN_OR_TOR_DETECTED": (
        "VPN or Tor detected",
        "The user's IP address belongs to a VPN, proxy or Tor exit node.",
    ),
    "NFC_CHIP_NOT_AUTHENTIC": (
        "NFC chip could not be authenticated",
        "The chip's security object did not validate against a trusted certificate.",
    ),
    "POA_NAME_MISMATCH": (
        "Name on proof of address does not match",
        "The name on the proof-of-address document differs from the name on the ID document.",
    ),
    "PHONE_NUMBER_IN_BLOCKLIST": (
        "Phone number in blocklist",
        "The phone number matches a number that this application added to its blocklist.",
    ),
    "DISPOSABLE_EMAIL_DETECTED": (
        "Disposable email address",
        "The email address belongs to a disposable email provider.",
    ),
    "DATABASE_VALIDATION_NO_MATCH": (
        "No match in government database",
        "The identity data could not be matched against the government database.",
    ),
    "QUESTIONNAIRE_ANSWER_REJECTED": (
        "Questionnaire answer rejected",
        "An answer to the questionnaire falls outside the accepted values.",
    ),
}

# Feature -> risk codes that explain a Declined / In Review outcome.
FEATURE_RISKS = {
    "ID_VERIFICATION": [
        "DOCUMENT_NUMBER_NOT_DETECTED",
        "DATA_INCONSISTENT",
        "ID_DOCUMENT_IN_BLOCKLIST",
        "SCREEN_CAPTURE_DETECTED",
    ],
    "NFC": ["NFC_CHIP_NOT_AUTHENTIC"],
    "LIVENESS": ["LOW_LIVENESS_SCORE", "FACE_IN_BLOCKLIST", "SCREEN_CAPTURE_DETECTED"],
    "FACE_MATCH": ["LOW_FACE_MATCH_SIMILARITY"],
    "POA": ["POA_NAME_MISMATCH"],
    "PHONE": ["PHONE_NUMBER_IN_BLOCKLIST"],
    "EMAIL_VERIFICATION": ["DISPOSABLE_EMAIL_DETECTED"],
    "DATABASE_VALIDATION": ["DATABASE_VALIDATION_NO_MATCH"],
    "AML": ["POSSIBLE_MATCH_FOUND"],
    "IP_ANALYSIS": ["COUNTRY_FROM_DOCUMENT_DOES_NOT_MATCH_COUNTRY_FROM_IP", "VPN_OR_TOR_DETECTED"],
    "QUESTIONNAIRE": ["QUESTIONNAIRE_ANSWER_REJECTED"],
}

REVIEWERS = (
    "compliance@example.com",
    "ana.garcia@example.com",
    "j.okafor@example.com",
    "søren.reviewer@example.com",
)
REVIEW_COMMENTS = {
    "Approved": [
        "Documents verified manually.",
        "False positive on AML, approved ✅",
        "Foto borrosa pero legible; aprobado.",
        None,
    ],
    "Declined": [
        "Possible match found in AML screening",
        "Duplicated user",
        "Document appears tampered <b>(see front image)</b> & 'edges'",
        None,
    ],
    "Resubmitted": ["Document image blurry, please resubmit the front side."],
    "In Review": ["Escalated to the senior compliance officer."],
}
