"""POST /webhooks/didit/: verified, stored, and the session re-synced from Didit by a task.

Tests run tasks with the immediate backend; ``post`` runs the view's on-commit callbacks as
a committed request would, so the task's work is done when it returns.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta

import pytest
import requests
from django.test import TestCase

from tests.sandbox import API_KEY, WEBHOOK_SECRET, fast_client, point_settings_at
from verifications import tasks
from verifications.deliveries import process_pending_deliveries
from verifications.didit.client import DiditClient
from verifications.models import VerificationSession, WebhookDelivery
from verifications.sync import sync_sessions
from verifications.webhooks import MAX_BODY_BYTES, canonical_json, sign

URL = "/webhooks/didit/"
SECRET = WEBHOOK_SECRET


@pytest.fixture
def didit_settings(settings):
    """Point the console at a sandbox: ``didit_settings(server)``."""

    def point(server):
        point_settings_at(server, settings)
        return server

    return point


def delivery(session_id: str, status: str, *, timestamp: int | None = None, **extra):
    """A delivery as Didit sends it, signed three ways with the test secret."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    payload = {
        "session_id": session_id,
        "status": status,
        "webhook_type": "status.updated",
        "created_at": timestamp - 60,
        "timestamp": timestamp,
        **extra,
    }
    body = json.dumps(payload).encode()
    simple = f"{timestamp}:{session_id}:{status}:status.updated".encode()
    key = SECRET.encode()
    headers = {
        "X-Timestamp": str(timestamp),
        "X-Signature": sign(key, body),
        "X-Signature-V2": sign(key, canonical_json(payload)),
        "X-Signature-Simple": sign(key, simple),
    }
    return body, headers


def post(client, body: bytes, headers: dict):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(URL, data=body, content_type="application/json", headers=headers)


def outcome(session_id: str) -> str:
    return WebhookDelivery.objects.filter(session_id=session_id).latest("id").outcome


def a_session(server, *, not_status: str = "Declined") -> str:
    for session_id in server.session_ids():
        if server.decision(session_id)["status"] != not_status:
            return session_id
    pytest.fail("no session to change")


# --- The whole loop over real HTTP ------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_status_change_at_didit_reaches_our_database_through_the_webhook(
    live_server, didit_sandbox_factory, didit_settings
):
    server = didit_settings(
        didit_sandbox_factory(sessions=20, webhook_url=live_server.url + URL, webhook_secret=SECRET)
    )
    sync_sessions(fast_client(server), full=True)
    session_id = a_session(server)
    decisions_before = server.calls["decision"]

    server.change_status(session_id, "Declined", comment="Document looks altered")

    deadline = time.monotonic() + 15
    while not WebhookDelivery.objects.filter(outcome="updated").exists():
        assert time.monotonic() < deadline, f"webhook never applied: {server.webhook_deliveries}"
        time.sleep(0.05)
    assert VerificationSession.objects.get(session_id=session_id).status == "Declined"
    session = VerificationSession.objects.get(session_id=session_id)
    assert session.reviews.filter(comment="Document looks altered").exists()
    # The sandbox records the delivery once it has read our answer, just after we commit.
    while not server.webhook_deliveries and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.webhook_deliveries == [(live_server.url + URL, 200)]
    assert server.calls["decision"] == decisions_before + 1
    stored = WebhookDelivery.objects.get()
    assert (stored.session_id, stored.status, stored.outcome) == (session_id, "Declined", "updated")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_forged_delivery_over_http_is_refused(live_server, didit_sandbox_factory, didit_settings):
    server = didit_settings(didit_sandbox_factory(sessions=5))
    sync_sessions(fast_client(server), full=True)
    session_id = a_session(server)
    body, headers = delivery(session_id, "Declined")
    headers = {**headers, "X-Signature": "0" * 64, "X-Signature-V2": "0" * 64}
    headers["X-Signature-Simple"] = "0" * 64
    response = requests.post(live_server.url + URL, data=body, headers=headers, timeout=5)
    assert response.status_code == 401
    assert server.calls["decision"] == 5
    assert not WebhookDelivery.objects.exists()


# --- Hand-built deliveries ------------------------------------------------------------------


def test_a_valid_delivery_is_stored_and_its_task_updates_the_session(client, synced):
    session_id = a_session(synced)
    synced.change_status(session_id, "Declined")
    body, headers = delivery(session_id, "Declined")
    response = post(client, body, headers)
    assert response.status_code == 200
    assert response.json()["outcome"] == "accepted"
    assert outcome(session_id) == "updated"
    assert VerificationSession.objects.get(session_id=session_id).status == "Declined"


def test_without_a_committed_transaction_nothing_is_queued_but_the_row_is_kept(client, synced):
    session_id = a_session(synced)
    synced.change_status(session_id, "Declined")
    body, headers = delivery(session_id, "Declined")
    before = synced.calls["decision"]
    # No on-commit callbacks: as if the worker never ran the task.
    client.post(URL, data=body, content_type="application/json", headers=headers)
    stored = WebhookDelivery.objects.get()
    assert (stored.pending, stored.outcome) == (True, "processing")
    assert synced.calls["decision"] == before


def test_the_decision_in_the_body_is_never_trusted(client, synced):
    session_id = a_session(synced)
    real_status = synced.decision(session_id)["status"]
    forged = {"session_id": session_id, "status": "Declined", "reviews": []}
    body, headers = delivery(session_id, "Declined", decision=forged)
    assert post(client, body, headers).status_code == 200
    assert VerificationSession.objects.get(session_id=session_id).status == real_status


def test_a_repeat_of_a_pending_delivery_is_a_duplicate_without_a_second_fetch(client, synced):
    session_id = a_session(synced)
    synced.change_status(session_id, "Declined")
    body, headers = delivery(session_id, "Declined")
    before = synced.calls["decision"]
    client.post(URL, data=body, content_type="application/json", headers=headers)  # queued
    response = post(client, body, headers)
    assert response.status_code == 200
    assert response.json()["outcome"] == "duplicate"
    assert synced.calls["decision"] == before
    assert WebhookDelivery.objects.get().repeats == 1


def test_a_repeat_of_a_processed_delivery_re_fetches_once_more(client, synced):
    # Identical bytes may announce a second change (same status, same second): the earlier
    # re-fetch may have read Didit before it, so a repeat costs one idempotent fetch.
    session_id = a_session(synced)
    body, headers = delivery(session_id, "Declined")
    assert post(client, body, headers).json()["outcome"] == "accepted"
    synced.change_status(session_id, "Declined")
    before = synced.calls["decision"]
    assert post(client, body, headers).json()["outcome"] == "accepted"
    assert synced.calls["decision"] == before + 1
    assert WebhookDelivery.objects.count() == 1
    assert VerificationSession.objects.get(session_id=session_id).status == "Declined"


def test_an_old_delivery_replayed_with_a_fresh_timestamp_header_is_refused(client, synced):
    session_id = a_session(synced)
    body, headers = delivery(session_id, "Declined", timestamp=int(time.time()) - 3600)
    headers = {**headers, "X-Timestamp": str(int(time.time()))}
    before = synced.calls["decision"]
    assert post(client, body, headers).status_code == 401
    assert synced.calls["decision"] == before
    assert not WebhookDelivery.objects.exists()


def test_a_replay_re_dated_within_the_window_is_the_same_delivery(client, synced):
    session_id = a_session(synced)
    body, headers = delivery(session_id, "Declined", timestamp=int(time.time()) - 60)
    assert post(client, body, headers).status_code == 200
    redated = {**headers, "X-Timestamp": str(int(time.time()))}
    assert post(client, body, redated).status_code == 200
    assert WebhookDelivery.objects.count() == 1


def snapshot():
    return list(VerificationSession.objects.order_by("id").values_list("session_id", "status"))


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda b, h: (b.replace(b"Declined", b"Approved"), h), id="tampered-body"),
        pytest.param(
            lambda b, h: (b, {"X-Timestamp": h["X-Timestamp"]}),
            id="unsigned",
        ),
        pytest.param(
            lambda b, h: (b, {"X-Timestamp": h["X-Timestamp"], "X-Signature": sign(b"k", b)}),
            id="wrong-secret",
        ),
        pytest.param(lambda b, h: (b"{not json", h), id="malformed"),
        pytest.param(
            lambda b, h: (b, {k: v for k, v in h.items() if k != "X-Timestamp"}), id="no-timestamp"
        ),
    ],
)
def test_a_bad_delivery_is_refused_and_changes_nothing(client, synced, spoil):
    session_id = a_session(synced)
    synced.change_status(session_id, "Declined")
    before, decisions = snapshot(), synced.calls["decision"]
    body, headers = spoil(*delivery(session_id, "Declined"))
    response = post(client, body, headers)
    assert 400 <= response.status_code < 500
    assert snapshot() == before
    assert synced.calls["decision"] == decisions
    assert not WebhookDelivery.objects.exists()


def test_a_stale_delivery_is_refused(client, synced):
    session_id = a_session(synced)
    body, headers = delivery(session_id, "Declined", timestamp=int(time.time()) - 301)
    response = post(client, body, headers)
    assert response.status_code == 401
    assert not WebhookDelivery.objects.exists()


def test_an_oversized_delivery_is_refused_by_its_content_length(client, synced):
    session_id = a_session(synced)
    body, headers = delivery(session_id, "Declined", padding="x" * MAX_BODY_BYTES)
    response = post(client, body, headers)
    assert response.status_code == 413
    assert not WebhookDelivery.objects.exists()


def test_a_lying_content_length_cannot_smuggle_an_oversized_body(client, synced):
    session_id = a_session(synced)
    body, headers = delivery(session_id, "Declined", padding="x" * MAX_BODY_BYTES)
    response = client.generic(
        "POST",
        URL,
        body,
        content_type="application/json",
        headers=headers,
        CONTENT_LENGTH=str(MAX_BODY_BYTES),
    )
    assert 400 <= response.status_code < 500
    assert not WebhookDelivery.objects.exists()


def test_get_is_not_allowed(client, db):
    assert client.get(URL).status_code == 405


def test_the_endpoint_needs_no_login_and_no_csrf_token(db, didit_sandbox, didit_settings):
    from django.test import Client

    didit_settings(didit_sandbox)
    strict = Client(enforce_csrf_checks=True)
    session_id = didit_sandbox.session_ids()[0]
    body, headers = delivery(session_id, "Declined")
    assert post(strict, body, headers).status_code == 200


def test_without_a_configured_secret_every_delivery_is_refused(client, synced, settings):
    settings.DIDIT_WEBHOOK_SECRET = ""
    body, headers = delivery(a_session(synced), "Declined")
    assert post(client, body, headers).status_code == 503
    assert not WebhookDelivery.objects.exists()


def test_when_didit_is_unreachable_the_delivery_stays_pending_and_a_sweep_applies_it(
    client, synced, monkeypatch
):
    session_id = a_session(synced)
    synced.change_status(session_id, "Declined")
    body, headers = delivery(session_id, "Declined")
    dead = DiditClient(
        verification_url="http://127.0.0.1:9",
        auth_url="http://127.0.0.1:9",
        api_key=API_KEY,
        rate_limits=None,
        timeout=(0.5, 0.5),
        max_retries=1,
        backoff=0.01,
    )
    monkeypatch.setattr(tasks, "didit_client", lambda: dead)
    assert post(client, body, headers).status_code == 200
    stored = WebhookDelivery.objects.get()
    assert (stored.pending, stored.attempts, stored.outcome) == (True, 1, "processing")
    assert VerificationSession.objects.get(session_id=session_id).status != "Declined"

    # Not yet a minute old: the sweep leaves it to its task.
    assert process_pending_deliveries(client=fast_client(synced)) == 0
    WebhookDelivery.objects.update(received_at=stored.received_at - timedelta(minutes=2))
    assert process_pending_deliveries(client=fast_client(synced)) == 1
    stored.refresh_from_db()
    assert (stored.pending, stored.outcome) == (False, "updated")
    assert VerificationSession.objects.get(session_id=session_id).status == "Declined"


def test_a_delivery_whose_worker_died_mid_fetch_is_picked_up_again(client, synced):
    session_id = a_session(synced)
    synced.change_status(session_id, "Declined")
    body, headers = delivery(session_id, "Declined")
    client.post(URL, data=body, content_type="application/json", headers=headers)
    # A worker claimed it, then died before recording anything.
    long_ago = WebhookDelivery.objects.get().received_at - timedelta(minutes=10)
    WebhookDelivery.objects.update(pending=False, claimed_at=long_ago, received_at=long_ago)
    assert process_pending_deliveries(client=fast_client(synced)) == 1
    assert outcome(session_id) == "updated"
    assert VerificationSession.objects.get(session_id=session_id).status == "Declined"


def test_a_session_unknown_to_didit_is_acknowledged(client, synced):
    body, headers = delivery("00000000-0000-0000-0000-000000000000", "Approved")
    response = post(client, body, headers)
    assert response.status_code == 200
    assert outcome("00000000-0000-0000-0000-000000000000") == "not_found"


def test_nothing_personal_or_secret_is_logged(client, synced, caplog):
    session_id = a_session(synced)
    synced.change_status(session_id, "Declined")
    decision = synced.decision(session_id)
    body, headers = delivery(session_id, "Declined", vendor_data="person-vendor-data-42")
    with caplog.at_level(logging.DEBUG):
        post(client, body, headers)
        post(client, body + b" ", headers)  # tampered: logged as rejected
    text = caplog.text
    assert SECRET not in text
    assert "person-vendor-data-42" not in text
    assert headers["X-Signature"] not in text
    for item in decision.get("id_verifications") or []:
        if isinstance(item, dict) and item.get("full_name"):
            assert item["full_name"] not in text
