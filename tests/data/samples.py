"""Sample Didit payloads for tests: the vendor's examples, our own realistic ones, and a v2
decision built from a v3 one (v2 ``X`` is v3 ``Xs[0]``, without node ids)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent

V3_TO_V2 = {
    "id_verifications": "id_verification",
    "nfc_verifications": "nfc",
    "liveness_checks": "liveness",
    "face_matches": "face_match",
    "poa_verifications": "poa",
    "phone_verifications": "phone",
    "email_verifications": "email",
    "aml_screenings": "aml",
    "ip_analyses": "ip_analysis",
    "database_validations": "database_validation",
}


def load(name: str) -> Any:
    """A fresh copy of ``tests/data/<name>`` (tests may change it freely)."""
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def v3_to_v2(decision: dict) -> dict:
    v2 = copy.deepcopy(decision)
    v2.pop("questionnaire_responses", None)
    for plural, singular in V3_TO_V2.items():
        items = v2.pop(plural, None)
        item = items[0] if items else None
        if isinstance(item, dict):
            item.pop("node_id", None)
        v2[singular] = item
    return v2


def list_row(decision: dict, **changes: Any) -> dict:
    """The v3 list row Didit would show for a decision."""
    statuses = {}
    for plural in V3_TO_V2:
        for item in decision.get(plural) or []:
            statuses.setdefault(plural, item.get("status"))
    aml = (decision.get("aml_screenings") or [{}])[0]
    row = {
        "session_id": decision["session_id"],
        "session_number": decision.get("session_number"),
        "status": decision.get("status"),
        "vendor_data": decision.get("vendor_data"),
        "created_at": decision.get("created_at"),
        "features": [
            {"feature": plural.upper(), "status": status} for plural, status in statuses.items()
        ],
        "additional_details": {"aml": {"total_hits": aml.get("total_hits", 0)}},
    }
    row.update(changes)
    return row
