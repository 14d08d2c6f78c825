"""Verifying Didit's webhook deliveries (docs/didit-api.md, "Webhooks").

Didit signs each delivery three ways, all HMAC-SHA256 hex keyed with the webhook secret:
``X-Signature`` over the raw body, ``X-Signature-V2`` over a canonical re-serialisation of
the JSON, and ``X-Signature-Simple`` over ``timestamp:session_id:status:webhook_type``.
Sources disagree on details of V2 (ASCII escaping, a ``timestamp:`` prefix), so every
documented variant is accepted. Every comparison is constant-time, and the timestamp must be
within five minutes of now, so a captured delivery cannot be replayed later.

A delivery is identified by a digest of its raw body and the signature that verified it:
Didit's retry of a delivery repeats both, while two events, even within one second, differ
in their bodies. The ``session_id`` must look like a Didit id before anything is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass
from typing import Any

MAX_BODY_BYTES = 1024 * 1024
MAX_SKEW_SECONDS = 300
# Didit's session ids are UUIDs; letters, digits, "-" and "_" cover them and any variant,
# and nothing that could change a URL path ("/", "?", "#", "..", "%", spaces).
SESSION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")


class WebhookRejected(Exception):
    """The delivery is refused; ``status`` is the HTTP status to answer with."""

    def __init__(self, reason: str, *, status: int = 400) -> None:
        self.reason = reason
        self.status = status
        super().__init__(reason)


@dataclass(frozen=True)
class WebhookEvent:
    session_id: str
    status: str
    webhook_type: str
    timestamp: int
    vendor_data: str | None
    signed_by: str  # which header matched: "v2", "raw" or "simple"
    # sha256 of the raw body and the signature that verified it: one delivery, one key.
    delivery_key: str = ""


def verify_delivery(
    body: bytes, headers: Any, *, secret: str, now: float | None = None
) -> WebhookEvent:
    """Check size, freshness and signature; return the event or raise ``WebhookRejected``."""
    if not secret:
        raise WebhookRejected("webhooks are not configured", status=503)
    if len(body) > MAX_BODY_BYTES:
        raise WebhookRejected("body too large", status=413)
    timestamp = _timestamp(headers.get("X-Timestamp"))
    now = time.time() if now is None else now
    if abs(now - timestamp) > MAX_SKEW_SECONDS:
        raise WebhookRejected("stale or future timestamp", status=401)

    key = secret.encode()
    signed_by = None
    signatures = {
        "raw": headers.get("X-Signature"),
        "v2": headers.get("X-Signature-V2"),
        "simple": headers.get("X-Signature-Simple"),
    }
    if _matches(key, body, signatures["raw"]):
        signed_by = "raw"
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        payload = None
    if signed_by is None and payload is None:
        # Without a valid raw-body signature, an unparseable body is simply unsigned.
        raise WebhookRejected("invalid signature", status=401)
    if payload is not None and not isinstance(payload, dict):
        raise WebhookRejected("body is not a JSON object")
    if signed_by is None and _v2_matches(key, payload, timestamp, headers.get("X-Signature-V2")):
        signed_by = "v2"
    if signed_by is None and _simple_matches(
        key, payload, timestamp, headers.get("X-Signature-Simple")
    ):
        signed_by = "simple"
    if signed_by is None:
        raise WebhookRejected("invalid signature", status=401)
    if payload is None:
        raise WebhookRejected("malformed JSON")
    if signed_by != "simple":
        # X-Timestamp is outside what the raw and V2 signatures cover: a replay could carry
        # a fresh header on an old body. The body's own (signed) timestamp must be fresh too,
        # and it identifies the event, so a re-dated replay is still a duplicate.
        timestamp = _signed_timestamp(payload, default=timestamp)
        if abs(now - timestamp) > MAX_SKEW_SECONDS:
            raise WebhookRejected("stale or future timestamp", status=401)
    signature = str(signatures[signed_by]).strip().lower()
    delivery_key = hashlib.sha256(body + b"\0" + signature.encode()).hexdigest()
    return _event(payload, timestamp, signed_by, delivery_key)


def canonical_json(payload: Any, *, ensure_ascii: bool = False) -> bytes:
    """Didit's V2 canonical form: sorted keys, no spaces, whole floats as integers."""
    return json.dumps(
        _normalise(payload), sort_keys=True, separators=(",", ":"), ensure_ascii=ensure_ascii
    ).encode()


def sign(key: bytes, message: bytes) -> str:
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _normalise(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value


def _matches(key: bytes, message: bytes, signature: str | None) -> bool:
    if not signature or len(signature) > 256:
        return False
    return hmac.compare_digest(sign(key, message), signature.strip().lower())


def _v2_matches(key: bytes, payload: dict, timestamp: int, signature: str | None) -> bool:
    if not signature:
        return False
    matched = False
    for ensure_ascii in (False, True):
        canonical = canonical_json(payload, ensure_ascii=ensure_ascii)
        for message in (canonical, f"{timestamp}:".encode() + canonical):
            # No early exit: every variant is computed, so timing says nothing about which.
            matched |= _matches(key, message, signature)
    return matched


def _simple_matches(key: bytes, payload: dict, timestamp: int, signature: str | None) -> bool:
    if not signature:
        return False
    fields = (payload.get("session_id"), payload.get("status"), payload.get("webhook_type"))
    message = f"{timestamp}:{fields[0]}:{fields[1]}:{fields[2]}".encode()
    return _matches(key, message, signature)


def _timestamp(value: str | None) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise WebhookRejected("missing or malformed X-Timestamp", status=401) from None


def _signed_timestamp(payload: dict, *, default: int) -> int:
    value = payload.get("timestamp")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    return int(value)


def _event(payload: dict, timestamp: int, signed_by: str, delivery_key: str) -> WebhookEvent:
    session_id = payload.get("session_id")
    if not isinstance(session_id, str) or not session_id:
        raise WebhookRejected("no session_id")
    if not SESSION_ID.fullmatch(session_id):
        raise WebhookRejected("session_id is not a Didit session id")
    status = payload.get("status")
    webhook_type = payload.get("webhook_type")
    vendor_data = payload.get("vendor_data")
    return WebhookEvent(
        session_id=session_id,
        status=status if isinstance(status, str) else "",
        webhook_type=webhook_type if isinstance(webhook_type, str) else "status.updated",
        timestamp=timestamp,
        vendor_data=vendor_data if isinstance(vendor_data, str) else None,
        signed_by=signed_by,
        delivery_key=delivery_key,
    )
