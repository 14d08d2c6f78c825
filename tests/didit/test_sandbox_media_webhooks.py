"""The sandbox's signed media URLs and its webhooks, over HTTP."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from PIL import Image


def keys(text: str) -> set[str]:
    return set(text.split())


KEY = {"x-api-key": "sandbox-api-key"}
SECRET = "whsec-test"
WEBHOOK = keys(
    """
    session_id status webhook_type vendor_data workflow_id metadata workflow_version
    created_at timestamp
    """
)


def wait_until(condition, timeout: float = 5.0) -> None:
    """Deliveries are recorded by the sandbox's sender thread, a moment after they arrive."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def portrait_url(server) -> tuple[str, str]:
    for session_id in server.session_ids():
        decision = server.decision(session_id, shape="v1")
        if decision["kyc"]:
            return session_id, decision["kyc"]["portrait_image"]
    pytest.fail("no session with a document")


def test_media_urls_serve_real_images(didit_sandbox):
    session_id, url = portrait_url(didit_sandbox)
    assert url.startswith(f"{didit_sandbox.base_url}/media/{session_id}/portrait.jpg?")
    assert "X-Amz-Signature=" in url and "X-Amz-Expires=3600" in url
    response = requests.get(url, timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/jpeg"
    image = Image.open(io.BytesIO(response.content))
    image.verify()
    assert image.format == "JPEG"
    assert didit_sandbox.calls["media"] == 1


def test_a_tampered_media_signature_is_403_with_an_s3_error(didit_sandbox):
    _, url = portrait_url(didit_sandbox)
    response = requests.get(url[:-4] + "0000", timeout=5)
    assert response.status_code == 403
    assert response.headers["Content-Type"] == "application/xml"
    assert b"<Code>SignatureDoesNotMatch</Code>" in response.content
    assert requests.get(url.split("?")[0], timeout=5).status_code == 403


def test_media_urls_expire_and_each_fetch_issues_fresh_ones(didit_sandbox_factory):
    server = didit_sandbox_factory(sessions=20, media_ttl=1)
    session_id, url = portrait_url(server)
    assert requests.get(url, timeout=5).status_code == 200
    time.sleep(2.1)
    expired = requests.get(url, timeout=5)
    assert expired.status_code == 403
    assert b"<Code>AccessDenied</Code>" in expired.content
    assert b"expired" in expired.content
    fresh = server.decision(session_id, shape="v1")["kyc"]["portrait_image"]
    assert fresh != url
    assert requests.get(fresh, timeout=5).status_code == 200


class Receiver:
    """A tiny webhook endpoint: records every POST; answers the statuses it is given."""

    def __init__(self, statuses=()) -> None:
        self.received: list[tuple[dict, bytes]] = []
        self.statuses = list(statuses)
        self.arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                receiver.arrived.set()
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/webhooks/didit/"
        threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def wait_for(self, count: int, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.received) >= count, f"{len(self.received)} webhooks, wanted {count}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver():
    running = Receiver()
    yield running
    running.close()


def sign(data: bytes) -> str:
    return hmac.new(SECRET.encode(), data, hashlib.sha256).hexdigest()


def canonical(payload: dict) -> bytes:
    def ints(value):
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, dict):
            return {k: ints(v) for k, v in value.items()}
        if isinstance(value, list):
            return [ints(v) for v in value]
        return value

    return json.dumps(
        ints(payload), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()


def test_update_status_sends_a_webhook_signed_three_ways(didit_sandbox_factory, receiver):
    server = didit_sandbox_factory(sessions=30, webhook_url=receiver.url, webhook_secret=SECRET)
    session_id = next(
        s for s in server.session_ids() if server.decision(s, shape="v2")["status"] == "In Review"
    )
    response = requests.patch(
        f"{server.base_url}/v3/session/{session_id}/update-status/",
        json={"new_status": "Approved", "comment": "Olé"},
        headers=KEY,
        timeout=5,
    )
    assert response.status_code == 200
    receiver.wait_for(1)
    headers, body = receiver.received[0]
    payload = json.loads(body)
    assert set(payload) >= WEBHOOK
    assert payload["session_id"] == session_id
    assert payload["status"] == "Approved"
    assert payload["webhook_type"] == "status.updated"
    assert payload["decision"]["status"] == "Approved"
    assert "id_verifications" in payload["decision"] or "liveness_checks" in payload["decision"]
    assert headers["User-Agent"] == "DiditWebhook/2.0"
    assert headers["X-Timestamp"] == str(payload["timestamp"])
    assert abs(int(headers["X-Timestamp"]) - time.time()) < 10
    assert hmac.compare_digest(headers["X-Signature"], sign(body))
    assert hmac.compare_digest(headers["X-Signature-V2"], sign(canonical(payload)))
    simple = f"{payload['timestamp']}:{session_id}:Approved:status.updated"
    assert hmac.compare_digest(headers["X-Signature-Simple"], sign(simple.encode()))
    wait_until(lambda: server.webhook_deliveries)
    assert server.webhook_deliveries == [(receiver.url, 200)]


def test_control_changes_and_new_sessions_send_webhooks(didit_sandbox_factory, receiver):
    server = didit_sandbox_factory(sessions=10, webhook_url=receiver.url, webhook_secret=SECRET)
    server.change_status(server.session_ids()[0], "Kyc Expired")
    added = server.add_sessions(3)
    assert server.session_ids()[:3] == added
    receiver.wait_for(4)
    sent = [json.loads(body) for _, body in receiver.received]
    assert sent[0]["status"] == "Kyc Expired" and "decision" not in sent[0]
    assert {p["session_id"] for p in sent[1:]} == set(added)


def test_an_aml_hit_review_sends_data_updated(didit_sandbox_factory, receiver):
    server = didit_sandbox_factory(sessions=150, webhook_url=receiver.url, webhook_secret=SECRET)
    session_id, hit = next(
        (s, d["aml"]["hits"][0])
        for s in server.session_ids()
        if (d := server.decision(s, shape="v2"))["aml"] and d["aml"]["hits"]
    )
    url = f"{server.base_url}/v3/session/{session_id}/update-aml-hit-status/"
    body = {"hit_id": hit["id"], "review_status": "Confirmed Match", "comment": "same DOB"}
    assert requests.patch(url, json=body, headers=KEY, timeout=5).status_code == 200
    receiver.wait_for(1)
    assert json.loads(receiver.received[0][1])["webhook_type"] == "data.updated"
    hits = server.decision(session_id, shape="v2")["aml"]["hits"]
    assert next(h for h in hits if h["id"] == hit["id"])["review_status"] == "Confirmed Match"
    status = server.decision(session_id, shape="v2")["status"]
    body["hit_id"] = "NK-does-not-exist"
    assert requests.patch(url, json=body, headers=KEY, timeout=5).status_code == 404
    body.update(hit_id=hit["id"], review_status="Probably")
    assert requests.patch(url, json=body, headers=KEY, timeout=5).status_code == 400
    assert server.decision(session_id, shape="v2")["status"] == status


def test_failed_deliveries_are_retried(didit_sandbox_factory):
    receiver = Receiver(statuses=[500, 404])
    try:
        server = didit_sandbox_factory(
            sessions=5,
            webhook_url=receiver.url,
            webhook_secret=SECRET,
            webhook_retry_delays=(0.1, 0.1),
        )
        server.add_sessions(1)
        receiver.wait_for(3)
        wait_until(lambda: len(server.webhook_deliveries) == 3)
        assert [outcome for _, outcome in server.webhook_deliveries] == [500, 404, 200]
        assert receiver.received[0][1] == receiver.received[2][1]
    finally:
        receiver.close()


def test_an_unreachable_endpoint_is_recorded_and_never_blocks_the_api(didit_sandbox_factory):
    server = didit_sandbox_factory(
        sessions=5,
        webhook_url="http://127.0.0.1:9/hook",
        webhook_secret=SECRET,
        webhook_retry_delays=(0.05,),
    )
    started = time.monotonic()
    server.add_sessions(1)
    assert time.monotonic() - started < 0.5
    wait_until(lambda: len(server.webhook_deliveries) == 2)
    assert all(isinstance(outcome, str) for _, outcome in server.webhook_deliveries)
