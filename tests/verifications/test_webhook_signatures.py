"""Signature, freshness and size checks on Didit webhook deliveries (no database)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from verifications.webhooks import (
    MAX_BODY_BYTES,
    WebhookRejected,
    canonical_json,
    sign,
    verify_delivery,
)

SECRET = "whsec-test"
KEY = SECRET.encode()
NOW = 1_800_000_000


def payload(**overrides):
    body = {
        "session_id": "5b3720ed-d429-42ef-b67f-37ea805f48ee",
        "status": "Approved",
        "webhook_type": "status.updated",
        "vendor_data": "user-1",
        "created_at": NOW - 60,
        "timestamp": NOW,
        "decision": {"session_id": "5b3720ed", "status": "Approved", "score": 95.0, "name": "Zoë"},
    }
    body.update(overrides)
    return body


def signed(body: dict, *, timestamp: int = NOW, which: str = "all"):
    raw = json.dumps(body, indent=1).encode()
    simple = f"{timestamp}:{body['session_id']}:{body['status']}:{body['webhook_type']}"
    headers = {"X-Timestamp": str(timestamp)}
    if which in ("all", "raw"):
        headers["X-Signature"] = sign(KEY, raw)
    if which in ("all", "v2"):
        headers["X-Signature-V2"] = sign(KEY, canonical_json(body))
    if which in ("all", "simple"):
        headers["X-Signature-Simple"] = sign(KEY, simple.encode())
    return raw, headers


@pytest.mark.parametrize("which", ["all", "raw", "v2", "simple"])
def test_each_signature_header_alone_is_accepted(which):
    raw, headers = signed(payload(), which=which)
    event = verify_delivery(raw, headers, secret=SECRET, now=NOW)
    assert event.session_id == "5b3720ed-d429-42ef-b67f-37ea805f48ee"
    assert event.status == "Approved"
    assert event.signed_by == ("raw" if which == "all" else which)


@pytest.mark.parametrize(
    "variant",
    [
        lambda body: canonical_json(body, ensure_ascii=True),
        lambda body: f"{NOW}:".encode() + canonical_json(body),
    ],
    ids=["ascii-escaped", "timestamp-prefixed"],
)
def test_v2_variants_the_sources_disagree_on_are_accepted(variant):
    body = payload()
    raw = json.dumps(body).encode()
    headers = {"X-Timestamp": str(NOW), "X-Signature-V2": sign(KEY, variant(body))}
    assert verify_delivery(raw, headers, secret=SECRET, now=NOW).signed_by == "v2"


def test_v2_canonical_form_writes_whole_floats_as_integers():
    assert (
        canonical_json({"b": 1.0, "a": [2.5, 3.0], "c": "é"})
        == '{"a":[2.5,3],"b":1,"c":"é"}'.encode()
    )


def test_a_tampered_body_is_rejected():
    body = payload()
    raw, headers = signed(body, which="raw")
    tampered = raw.replace(b"Approved", b"Declined")
    with pytest.raises(WebhookRejected) as caught:
        verify_delivery(tampered, headers, secret=SECRET, now=NOW)
    assert caught.value.status == 401


def test_a_tampered_status_breaks_the_simple_signature():
    raw, headers = signed(payload(), which="simple")
    forged = json.dumps(payload(status="Declined")).encode()
    with pytest.raises(WebhookRejected):
        verify_delivery(forged, headers, secret=SECRET, now=NOW)


def test_an_unsigned_delivery_is_rejected():
    with pytest.raises(WebhookRejected) as caught:
        verify_delivery(
            json.dumps(payload()).encode(), {"X-Timestamp": str(NOW)}, secret=SECRET, now=NOW
        )
    assert caught.value.status == 401


def test_a_delivery_signed_with_another_secret_is_rejected():
    raw, headers = signed(payload())
    with pytest.raises(WebhookRejected):
        verify_delivery(raw, headers, secret="another-secret", now=NOW)


@pytest.mark.parametrize("skew", [301, -301, 86400])
def test_stale_or_future_timestamps_are_rejected(skew):
    raw, headers = signed(payload(), timestamp=NOW - skew)
    with pytest.raises(WebhookRejected, match="timestamp"):
        verify_delivery(raw, headers, secret=SECRET, now=NOW)


@pytest.mark.parametrize("value", [None, "", "yesterday", "1e9"])
def test_a_missing_or_malformed_timestamp_is_rejected(value):
    raw, headers = signed(payload())
    headers["X-Timestamp"] = value
    with pytest.raises(WebhookRejected):
        verify_delivery(raw, headers, secret=SECRET, now=NOW)


def test_an_oversized_body_is_rejected_before_anything_else():
    with pytest.raises(WebhookRejected) as caught:
        verify_delivery(b"x" * (MAX_BODY_BYTES + 1), {}, secret=SECRET, now=NOW)
    assert caught.value.status == 413


def test_without_a_configured_secret_nothing_is_accepted():
    raw, headers = signed(payload())
    with pytest.raises(WebhookRejected) as caught:
        verify_delivery(raw, headers, secret="", now=NOW)
    assert caught.value.status == 503


def test_a_correctly_signed_body_that_is_not_an_event_is_a_400():
    raw = b"[1, 2, 3]"
    headers = {"X-Timestamp": str(NOW), "X-Signature": sign(KEY, raw)}
    with pytest.raises(WebhookRejected) as caught:
        verify_delivery(raw, headers, secret=SECRET, now=NOW)
    assert caught.value.status == 400


def test_a_deeply_nested_body_is_rejected_cleanly():
    raw = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(WebhookRejected):
        verify_delivery(raw, {"X-Timestamp": str(NOW)}, secret=SECRET, now=NOW)


def test_retries_of_one_event_share_a_delivery_key():
    raw, headers = signed(payload())
    first = verify_delivery(raw, headers, secret=SECRET, now=NOW)
    again = verify_delivery(raw, headers, secret=SECRET, now=NOW + 100)
    other, other_headers = signed(payload(status="Declined"))
    assert first.delivery_key == again.delivery_key
    assert (
        verify_delivery(other, other_headers, secret=SECRET, now=NOW).delivery_key
        != first.delivery_key
    )


@given(
    body=st.binary(max_size=2048),
    headers=st.dictionaries(
        st.sampled_from(["X-Signature", "X-Signature-V2", "X-Signature-Simple", "X-Timestamp"]),
        st.text(max_size=80),
    ),
)
def test_random_bodies_and_headers_are_all_rejected(body, headers):
    with pytest.raises(WebhookRejected):
        verify_delivery(body, headers, secret=SECRET, now=NOW)
