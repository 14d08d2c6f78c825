"""The sandbox's rate limits and injected faults, over HTTP."""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest
import requests

KEY = {"x-api-key": "sandbox-api-key"}
# What `requests` raises when a connection closes before the whole body arrived.
BROKEN = (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)
LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


def decision_url(server, session_id=None) -> str:
    session_id = session_id or server.session_ids()[0]
    return f"{server.base_url}/v3/session/{session_id}/decision/"


def test_the_decision_limit_is_100_per_window_then_429_with_headers(didit_sandbox_factory):
    # A 3-second window keeps the test short yet leaves room for 100 requests on a slow box.
    server = didit_sandbox_factory(sessions=5, rate_limits=True, rate_window=3)
    http = requests.Session()
    url = decision_url(server)
    first = http.get(url, headers=KEY, timeout=5)
    assert first.status_code == 200
    assert first.headers["X-RateLimit-Limit"] == "100"
    assert first.headers["X-RateLimit-Remaining"] == "99"
    statuses = [http.get(url, headers=KEY, timeout=5).status_code for _ in range(99)]
    assert set(statuses) == {200}
    refused = http.get(url, headers=KEY, timeout=5)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 3
    assert all(name in refused.headers for name in LIMIT_HEADERS)
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert int(refused.headers["X-RateLimit-Reset"]) >= int(time.time())
    assert "detail" in refused.json()
    # Other families and other credentials have their own budgets.
    listing = http.get(f"{server.base_url}/v3/sessions/", headers=KEY, timeout=5)
    assert listing.status_code == 200 and listing.headers["X-RateLimit-Limit"] == "600"
    token = http.post(
        f"{server.base_url}/auth/v2/token/",
        data={"grant_type": "client_credentials"},
        auth=("sandbox-client-id", "sandbox-client-secret"),
        timeout=5,
    ).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert http.get(url, headers=bearer, timeout=5).status_code == 200
    time.sleep(int(refused.headers["Retry-After"]) + 0.1)
    assert http.get(url, headers=KEY, timeout=5).status_code == 200


def test_writes_allow_300_per_window(didit_sandbox_factory):
    server = didit_sandbox_factory(sessions=5, rate_limits=True, rate_window=5)
    http = requests.Session()
    url = f"{server.base_url}/v3/session/{server.session_ids()[0]}/share/"
    statuses = Counter(
        http.post(url, json={}, headers=KEY, timeout=5).status_code for _ in range(301)
    )
    assert statuses[429] == 1 and sum(statuses.values()) == 301


def test_limits_can_be_switched_at_runtime_and_media_is_exempt(didit_sandbox):
    didit_sandbox.set_rate_limits(True, window=5)
    http = requests.Session()
    session_id = next(
        s for s in didit_sandbox.session_ids() if didit_sandbox.decision(s, shape="v1")["kyc"]
    )
    url = decision_url(didit_sandbox, session_id)
    responses = [http.get(url, headers=KEY, timeout=5) for _ in range(101)]
    assert responses[-1].status_code == 429
    portrait = responses[0].json()
    portrait = (
        portrait.get("kyc") or portrait.get("id_verification") or portrait["id_verifications"][0]
    )["portrait_image"]
    assert http.get(portrait, timeout=5).status_code == 200
    didit_sandbox.set_rate_limits(False)
    response = http.get(url, headers=KEY, timeout=5)
    assert response.status_code == 200
    assert "X-RateLimit-Limit" not in response.headers


def test_fault_429_carries_the_configured_retry_after(didit_sandbox_factory):
    server = didit_sandbox_factory(sessions=5, fault_rate=1.0, faults=("429",), fault_retry_after=3)
    response = requests.get(decision_url(server), headers=KEY, timeout=5)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3"


@pytest.mark.parametrize("kind", ["500", "503"])
def test_fault_server_errors(didit_sandbox, kind):
    didit_sandbox.set_faults(1.0, [kind])
    response = requests.get(decision_url(didit_sandbox), headers=KEY, timeout=5)
    assert response.status_code == int(kind)


def test_fault_slow_answers_late_but_normally(didit_sandbox_factory):
    server = didit_sandbox_factory(sessions=5, fault_rate=1.0, faults=("slow",), slow_seconds=0.5)
    started = time.monotonic()
    response = requests.get(decision_url(server), headers=KEY, timeout=5)
    assert time.monotonic() - started >= 0.5
    assert response.status_code == 200 and response.json()["session_id"]
    with pytest.raises(requests.Timeout):
        requests.get(decision_url(server), headers=KEY, timeout=0.2)


def test_fault_malformed_is_a_200_with_truncated_json(didit_sandbox):
    didit_sandbox.set_faults(1.0, ["malformed"])
    response = requests.get(decision_url(didit_sandbox), headers=KEY, timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.content)


def test_fault_drop_closes_the_connection_mid_body(didit_sandbox):
    didit_sandbox.set_faults(1.0, ["drop"])
    with pytest.raises(BROKEN):
        requests.get(decision_url(didit_sandbox), headers=KEY, timeout=5)
    didit_sandbox.set_faults(0.0)
    assert requests.get(decision_url(didit_sandbox), headers=KEY, timeout=5).status_code == 200


@pytest.mark.parametrize("kind", ["429", "500", "503", "slow", "malformed", "drop"])
def test_a_faulted_patch_changes_nothing(didit_sandbox_factory, kind):
    server = didit_sandbox_factory(sessions=30, slow_seconds=0.1)
    session_id = next(
        s for s in server.session_ids() if server.decision(s, shape="v2")["status"] == "In Review"
    )
    before = server.decision(session_id, shape="v2")
    server.set_faults(1.0, [kind])
    url = f"{server.base_url}/v3/session/{session_id}/update-status/"
    try:
        response = requests.patch(url, json={"new_status": "Approved"}, headers=KEY, timeout=5)
        assert response.status_code != 200 or kind == "malformed"
    except BROKEN:
        assert kind == "drop"
    after = server.decision(session_id, shape="v2")
    assert after["status"] == before["status"] == "In Review"
    assert len(after["reviews"]) == len(before["reviews"])


def test_every_fault_kind_appears_at_a_mixed_rate(didit_sandbox_factory):
    server = didit_sandbox_factory(sessions=5, fault_rate=0.5, slow_seconds=0.01)
    seen = Counter()
    for _ in range(120):
        try:
            response = requests.get(decision_url(server), headers=KEY, timeout=5)
        except BROKEN:
            seen["drop"] += 1
            continue
        try:
            response.json()
            seen[response.status_code] += 1
        except ValueError:
            seen["malformed" if response.status_code == 200 else response.status_code] += 1
    assert {200, 429, 500, 503, "malformed", "drop"} <= set(seen)
    assert 20 < seen[200] < 100
    assert server.calls["decision"] == 120


def test_the_token_endpoint_is_never_faulted(didit_sandbox):
    didit_sandbox.set_faults(1.0)
    for _ in range(10):
        response = requests.post(
            f"{didit_sandbox.base_url}/auth/v2/token/",
            data={"grant_type": "client_credentials"},
            auth=("sandbox-client-id", "sandbox-client-secret"),
            timeout=5,
        )
        assert response.status_code == 200
