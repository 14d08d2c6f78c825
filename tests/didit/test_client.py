"""DiditClient against the sandbox Didit server, over real HTTP."""

from __future__ import annotations

import io
import time

import pytest
from pypdf import PdfReader

from verifications.didit.client import (
    CreatedSession,
    DiditAuthError,
    DiditBadResponse,
    DiditClient,
    DiditConfigError,
    DiditForbidden,
    DiditNotFound,
    DiditRateLimited,
    DiditRequestError,
    DiditUnavailable,
)

from .conftest import API_KEY, CLIENT_SECRET

FINISHED = ("Approved", "Declined", "In Review")


def first_session(client: DiditClient, *statuses: str) -> dict:
    return next(client.iter_sessions(status=list(statuses)))


# --- Auth ----------------------------------------------------------------------------------------


def test_api_key_client_sends_x_api_key_and_never_asks_for_a_token(didit_sandbox, make_client):
    client = make_client(didit_sandbox)
    session_id = didit_sandbox.session_ids()[0]
    assert client.get_decision(session_id)["session_id"] == session_id
    assert didit_sandbox.calls["token"] == 0


def test_oauth_client_fetches_one_token_and_reuses_it(didit_sandbox, make_client):
    client = make_client(didit_sandbox, auth="oauth")
    for session_id in didit_sandbox.session_ids()[:5]:
        client.get_decision(session_id)
    rows = list(client.iter_sessions(page_size=7))
    assert len(rows) == len(didit_sandbox.session_ids())
    assert didit_sandbox.calls["token"] == 1
    assert client.stats["token"] == 1


def test_oauth_client_renews_the_token_shortly_before_it_expires(
    didit_sandbox_factory, make_client
):
    server = didit_sandbox_factory(token_ttl=2)
    client = make_client(server, auth="oauth")
    session_id = server.session_ids()[0]
    client.get_decision(session_id)
    time.sleep(2.1)
    client.get_decision(session_id)
    # Renewed ahead of expiry: a second token, and never a 401 on the way.
    assert server.calls["token"] == 2
    assert client.stats["decision"] == 2
    assert client.stats["retries"] == 0


def test_forced_token_expiry_mid_listing_costs_one_reauthentication_and_no_page(
    didit_sandbox_factory, make_client
):
    server = didit_sandbox_factory(sessions=40)
    client = make_client(server, auth="oauth")
    rows = []
    for index, row in enumerate(client.iter_sessions(page_size=5)):
        rows.append(row["session_id"])
        if index == 12:  # inside the third page
            server.expire_tokens()
    assert rows == server.session_ids()
    assert server.calls["token"] == 2
    assert client.stats["token"] == 2


def test_bad_client_secret_is_an_auth_error_without_the_secret(didit_sandbox, make_client):
    client = make_client(didit_sandbox, auth="oauth", client_secret="wrong-" + CLIENT_SECRET)
    with pytest.raises(DiditAuthError) as caught:
        client.get_decision(didit_sandbox.session_ids()[0])
    assert caught.value.status == 401
    assert CLIENT_SECRET not in str(caught.value)
    assert didit_sandbox.calls["decision"] == 0


def test_bad_api_key_on_v3_is_a_403_auth_error_with_didits_detail(didit_sandbox, make_client):
    client = make_client(didit_sandbox, api_key="not-" + API_KEY)
    with pytest.raises(DiditAuthError) as caught:
        client.get_decision(didit_sandbox.session_ids()[0])
    assert isinstance(caught.value, DiditForbidden)
    assert caught.value.status == 403
    assert caught.value.detail
    assert API_KEY not in str(caught.value)


def test_bad_api_key_on_v1_is_a_401_auth_error(didit_sandbox, make_client):
    client = make_client(didit_sandbox, api_key="nope", api_version="v1")
    with pytest.raises(DiditAuthError) as caught:
        client.get_decision(didit_sandbox.session_ids()[0])
    assert caught.value.status == 401


def test_client_without_credentials_refuses_before_any_request(didit_sandbox):
    client = DiditClient(verification_url=didit_sandbox.base_url, rate_limits=None)
    with pytest.raises(DiditConfigError):
        client.get_decision(didit_sandbox.session_ids()[0])
    assert sum(didit_sandbox.calls.values()) == 0


def test_from_settings_reads_the_didit_settings(settings, didit_sandbox):
    settings.DIDIT_VERIFICATION_URL = didit_sandbox.base_url
    settings.DIDIT_AUTH_URL = didit_sandbox.base_url
    settings.DIDIT_API_KEY = ""
    settings.DIDIT_CLIENT_ID = "sandbox-client-id"
    settings.DIDIT_CLIENT_SECRET = CLIENT_SECRET
    settings.DIDIT_API_VERSION = "v2"
    settings.DIDIT_RATE_LIMITS = "decision=7/60"
    client = DiditClient.from_settings()
    assert client.auth_mode == "oauth"
    assert client.api_version == "v2"
    assert client.limiter.limits["decision"].calls == 7
    decision = client.get_decision(didit_sandbox.session_ids()[0])
    assert "kyc" not in decision  # v2 shape: one object per feature


# --- Sessions ------------------------------------------------------------------------------------


@pytest.mark.parametrize("auth", ["api_key", "oauth"])
@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_every_version_serves_decisions_with_either_auth_mode(
    didit_sandbox, make_client, auth, version
):
    client = make_client(didit_sandbox, auth=auth, api_version=version)
    session_id = didit_sandbox.session_ids()[0]
    decision = client.get_decision(session_id)
    assert decision["session_id"] == session_id
    assert decision["status"] == didit_sandbox.decision(session_id, shape=version)["status"]
    if version == "v1":
        assert "kyc" in decision or decision["status"] in ("Not Started", "In Progress")


def test_v3_decisions_come_in_both_shapes_for_an_account_with_legacy_sessions(
    didit_sandbox_factory, make_client
):
    server = didit_sandbox_factory(sessions=60)
    client = make_client(server)
    shapes = set()
    for session_id in server.session_ids():
        decision = client.get_decision(session_id)
        if "kyc" in decision or "face" in decision:
            shapes.add("v1")
        elif any(key.endswith("s") and key in decision for key in ("id_verifications",)):
            shapes.add("v3")
        elif "id_verification" in decision:
            shapes.add("v2")
    assert {"v1", "v3"} <= shapes


def test_decision_of_an_unknown_session_is_not_found(didit_sandbox, make_client):
    client = make_client(didit_sandbox)
    with pytest.raises(DiditNotFound) as caught:
        client.get_decision("00000000-0000-4000-8000-000000000000")
    assert caught.value.status == 404


@pytest.mark.parametrize("bad_id", ["", "../v3/users", "a/b", "x?y=1"])
def test_identifiers_that_would_change_the_path_are_refused(didit_sandbox, make_client, bad_id):
    client = make_client(didit_sandbox)
    with pytest.raises(ValueError):
        client.get_decision(bad_id)


@pytest.mark.parametrize("version", ["v2", "v3"])
def test_create_session_with_a_workflow(didit_sandbox, make_client, version):
    client = make_client(didit_sandbox, api_version=version)
    created = client.create_session(
        workflow_id="11111111-2222-3333-4444-555555555555",
        vendor_data="new-user-1",
        callback="https://example.com/cb",
        metadata={"user_type": "premium"},
        contact_details={"email": "jane@example.com", "email_lang": "en"},
        expected_details={"first_name": "Jane", "last_name": "Doe"},
    )
    assert isinstance(created, CreatedSession)
    assert created.status == "Not Started"
    assert created.url.startswith("http")
    assert created.vendor_data == "new-user-1"
    assert didit_sandbox.decision(created.session_id, shape="v3")["vendor_data"] == "new-user-1"


def test_create_session_on_v1_sends_features(didit_sandbox, make_client):
    client = make_client(didit_sandbox, api_version="v1", auth="oauth")
    created = client.create_session(
        features="OCR + FACE", vendor_data="legacy-user", callback="https://example.com/cb"
    )
    assert created.session_id
    assert didit_sandbox.decision(created.session_id, shape="v1")["vendor_data"] == "legacy-user"


def test_create_session_without_a_workflow_on_v3_is_refused_locally(didit_sandbox, make_client):
    client = make_client(didit_sandbox)
    with pytest.raises(ValueError, match="workflow_id"):
        client.create_session(vendor_data="x")
    assert didit_sandbox.calls["create"] == 0


def test_update_status_declines_and_didit_records_the_review(didit_sandbox, make_client):
    client = make_client(didit_sandbox)
    session_id = first_session(client, "In Review")["session_id"]
    answer = client.update_status(session_id, new_status="Declined", comment="Duplicated user")
    assert answer["session_id"] == session_id
    decision = didit_sandbox.decision(session_id, shape="v3")
    assert decision["status"] == "Declined"
    assert decision["reviews"][-1]["comment"] == "Duplicated user"
    assert decision["reviews"][-1]["new_status"] == "Declined"
    reviews = list(client.iter_reviews(session_id))
    assert reviews[-1]["comment"] == "Duplicated user"


def test_update_status_from_a_status_didit_forbids_is_a_request_error(didit_sandbox, make_client):
    client = make_client(didit_sandbox)
    session_id = first_session(client, "Not Started", "In Progress")["session_id"]
    with pytest.raises(DiditRequestError) as caught:
        client.update_status(session_id, new_status="Approved")
    assert caught.value.status == 400
    assert didit_sandbox.decision(session_id, shape="v3")["status"] != "Approved"


def test_update_status_rejects_statuses_the_api_does_not_take(didit_sandbox, make_client):
    client = make_client(didit_sandbox, api_version="v1")
    with pytest.raises(ValueError):
        client.update_status(didit_sandbox.session_ids()[0], new_status="Resubmitted")


def test_pdf_is_streamed_in_chunks_and_is_a_real_report(didit_sandbox, make_client):
    client = make_client(didit_sandbox)
    session_id = first_session(client, *FINISHED)["session_id"]
    with client.download_pdf(session_id) as pdf:
        assert pdf.filename == f"session_{session_id}.pdf"
        chunks = list(pdf.iter_bytes(chunk_size=1024))
    body = b"".join(chunks)
    assert len(chunks) > 1
    assert body.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)
    assert session_id in text


def test_pdf_of_an_unfinished_session_is_refused_with_didits_detail(didit_sandbox, make_client):
    client = make_client(didit_sandbox)
    session_id = first_session(client, "Not Started", "In Progress")["session_id"]
    with pytest.raises(DiditForbidden) as caught:
        client.download_pdf(session_id)
    assert caught.value.detail


def test_delete_session_then_its_decision_is_gone(didit_sandbox, make_client):
    client = make_client(didit_sandbox)
    session_id = didit_sandbox.session_ids()[3]
    client.delete_session(session_id)
    with pytest.raises(DiditNotFound):
        client.get_decision(session_id)
    assert session_id not in [row["session_id"] for row in client.iter_sessions()]


def test_share_and_import_a_session_once(didit_sandbox, make_client):
    client = make_client(didit_sandbox)
    session_id = first_session(client, "Approved")["session_id"]
    token = client.share_session(session_id, ttl_in_seconds=600)
    imported = client.import_shared_session(
        share_token=token,
        trust_review=True,
        workflow_id="11111111-2222-3333-4444-555555555555",
        vendor_data="partner-user",
    )
    assert imported["session_id"] != session_id
    assert imported["vendor_data"] == "partner-user"
    with pytest.raises(DiditForbidden):
        client.import_shared_session(share_token=token, vendor_data="partner-user")


def test_aml_hit_review_status_is_sent(didit_sandbox_factory, make_client):
    server = didit_sandbox_factory(sessions=80)
    client = make_client(server, api_version="v3")
    for session_id in server.session_ids():
        decision = server.decision(session_id, shape="v3")
        hits = [h for s in decision.get("aml_screenings") or [] for h in s.get("hits") or []]
        if hits:
            break
    else:
        pytest.fail("the sandbox generated no AML hit in 80 sessions")
    client.update_aml_hit_status(session_id, hit_id=hits[0]["id"], review_status="False Positive")
    after = server.decision(session_id, shape="v3")
    statuses = {h["id"]: h.get("review_status") for h in after["aml_screenings"][0]["hits"]}
    assert statuses[hits[0]["id"]] == "False Positive"


# --- Listing -------------------------------------------------------------------------------------


def test_listing_follows_next_to_the_end_newest_first(didit_sandbox_factory, make_client):
    server = didit_sandbox_factory(sessions=53)
    client = make_client(server)
    rows = list(client.iter_sessions(page_size=10))
    assert [row["session_id"] for row in rows] == server.session_ids()
    assert server.calls["list"] == 6
    assert client.count_sessions() == 53


def test_listing_filters_by_vendor_data_status_and_search(didit_sandbox, make_client):
    client = make_client(didit_sandbox)
    everything = list(client.iter_sessions())
    vendor = everything[0]["vendor_data"]
    mine = list(client.iter_sessions(vendor_data=vendor))
    assert mine and all(row["vendor_data"] == vendor for row in mine)
    assert len(mine) == sum(1 for row in everything if row["vendor_data"] == vendor)
    approved = list(client.iter_sessions(status="Approved"))
    assert approved and all(row["status"] == "Approved" for row in approved)
    both = list(client.iter_sessions(status=["Approved", "Declined"]))
    assert {row["status"] for row in both} <= {"Approved", "Declined"}
    assert client.count_sessions(status="Approved") == len(approved)
    target = everything[1]["session_id"]
    assert target in [row["session_id"] for row in client.iter_sessions(search=target)]


def test_listing_filters_by_date(didit_sandbox, make_client):
    client = make_client(didit_sandbox)
    everything = list(client.iter_sessions())
    middle = everything[len(everything) // 2]["created_at"][:10]
    recent = list(client.iter_sessions(date_from=middle))
    assert 0 < len(recent) < len(everything)
    assert all(row["created_at"][:10] >= middle for row in recent)


def test_users_are_listed_and_fetched_one_by_one(didit_sandbox, make_client):
    client = make_client(didit_sandbox)
    users = list(client.iter_users(page_size=4))
    vendors = {row["vendor_data"] for row in client.iter_sessions()}
    assert {user["vendor_data"] for user in users} == vendors
    user = client.get_user(users[0]["vendor_data"])
    assert user["session_count"] >= 1
    assert isinstance(user["features"], dict)
    with pytest.raises(DiditNotFound):
        client.get_user("nobody-at-all")


# --- Faults, retries, pacing ---------------------------------------------------------------------


def test_reads_are_retried_through_transient_faults(didit_sandbox_factory, make_client):
    server = didit_sandbox_factory(
        sessions=60,
        fault_rate=0.3,
        faults=("429", "500", "503", "malformed", "drop"),
        fault_retry_after=1,
    )
    client = make_client(server, max_retries=8, max_backoff=0.02)
    client.transport._sleep = lambda seconds: time.sleep(min(seconds, 0.02))
    rows = [row["session_id"] for row in client.iter_sessions(page_size=5)]
    assert rows == server.session_ids()
    assert client.stats["retries"] > 0


def test_429_honours_retry_after_then_gives_up_with_a_rate_limited_error(
    didit_sandbox_factory, make_client, recorded_sleep
):
    server = didit_sandbox_factory(fault_rate=1.0, faults=("429",), fault_retry_after=3)
    client = make_client(server, max_retries=2, sleep=recorded_sleep)
    with pytest.raises(DiditRateLimited) as caught:
        client.get_decision(server.session_ids()[0])
    assert caught.value.retry_after == 3
    assert len(recorded_sleep.delays) == 2
    assert all(delay >= 3 for delay in recorded_sleep.delays)
    assert server.calls["decision"] == 3


def test_5xx_is_retried_with_growing_backoff_then_reported_unavailable(
    didit_sandbox_factory, make_client, recorded_sleep
):
    server = didit_sandbox_factory(fault_rate=1.0, faults=("503",))
    client = make_client(server, max_retries=3, backoff=1.0, max_backoff=8.0, sleep=recorded_sleep)
    with pytest.raises(DiditUnavailable) as caught:
        client.get_decision(server.session_ids()[0])
    assert caught.value.status == 503
    assert server.calls["decision"] == 4
    first, second, third = recorded_sleep.delays
    assert 0.5 <= first <= 1.0 and 1.0 <= second <= 2.0 and 2.0 <= third <= 4.0


def test_writes_are_never_retried(didit_sandbox_factory, make_client, recorded_sleep):
    server = didit_sandbox_factory(fault_rate=1.0, faults=("503",))
    client = make_client(server, sleep=recorded_sleep)
    server.set_faults(0.0)
    session_id = first_session(client, "In Review")["session_id"]
    server.set_faults(1.0, kinds=("503",))
    with pytest.raises(DiditUnavailable):
        client.update_status(session_id, new_status="Approved", comment="ok")
    assert server.calls["update_status"] == 1
    assert recorded_sleep.delays == []
    assert server.decision(session_id, shape="v3")["status"] == "In Review"


def test_a_slow_answer_times_out_and_is_retried_for_reads(didit_sandbox_factory, make_client):
    server = didit_sandbox_factory(fault_rate=1.0, faults=("slow",), slow_seconds=2.0)
    client = make_client(server, timeout=(1.0, 0.3), max_retries=1)
    started = time.monotonic()
    with pytest.raises(DiditUnavailable, match="timed out"):
        client.get_decision(server.session_ids()[0])
    assert time.monotonic() - started < 2.0
    assert server.calls["decision"] == 2


def test_malformed_json_is_a_bad_response(didit_sandbox_factory, make_client):
    server = didit_sandbox_factory(fault_rate=1.0, faults=("malformed",))
    client = make_client(server, max_retries=1)
    with pytest.raises(DiditBadResponse, match="malformed JSON"):
        client.get_decision(server.session_ids()[0])


def test_a_dropped_connection_is_reported_unavailable(didit_sandbox_factory, make_client):
    server = didit_sandbox_factory(fault_rate=1.0, faults=("drop",))
    client = make_client(server, max_retries=1)
    with pytest.raises((DiditUnavailable, DiditBadResponse)):
        client.get_decision(server.session_ids()[0])


def test_pacing_keeps_the_client_under_didits_limits_without_429s(
    didit_sandbox_factory, make_client
):
    # Didit's decision limit, scaled to a 2-second window so the test stays short.
    server = didit_sandbox_factory(sessions=30, rate_limits=True, rate_window=2.0)
    client = make_client(server, rate_limits="decision=100/2")
    server_ids = server.session_ids()
    started = time.monotonic()
    for index in range(250):
        client.get_decision(server_ids[index % len(server_ids)])
    elapsed = time.monotonic() - started
    assert client.stats["rate_limited"] == 0
    # 250 calls at 100 per 2 s need just over two windows: paced, but at the ceiling.
    assert 4.0 <= elapsed < 7.0


def test_without_pacing_the_sandbox_answers_429_with_rate_limit_headers(
    didit_sandbox_factory, make_client, recorded_sleep
):
    server = didit_sandbox_factory(sessions=5, rate_limits=True, rate_window=30.0)
    client = make_client(server, max_retries=0)
    with pytest.raises(DiditRateLimited) as caught:
        for _ in range(150):
            client.get_decision(server.session_ids()[0])
    assert caught.value.retry_after and caught.value.retry_after >= 1
    assert client.stats["rate_limited"] == 1
