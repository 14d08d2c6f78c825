"""The sandbox Didit server over real HTTP: auth, decisions in three shapes, writes, PDFs.

These tests speak plain `requests`, not the project's client: they check the sandbox
against Didit's docs (docs/didit-api.md), whose key sets are copied below.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import pytest
import requests

from verifications.didit.sandbox import SandboxConfig, SandboxServer


def keys(text: str) -> set[str]:
    return set(text.split())


KEY = {"x-api-key": "sandbox-api-key"}
ANCHOR = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)

# Keys of the vendor's v1 decision example (examples/v1-decision.json).
V1_TOP = keys(
    """
    session_id session_number session_url status vendor_data callback features kyc aml face
    location warnings reviews extra_images created_at
    """
)
V1_KYC = keys(
    """
    status ocr_status epassport_status document_type document_number personal_number
    portrait_image front_image front_video back_image back_video full_front_image
    full_back_image date_of_birth expiration_date date_of_issue issuing_state
    issuing_state_name first_name last_name full_name gender address formatted_address
    is_nfc_verified parsed_address place_of_birth marital_status nationality created_at
    """
)
V1_AML = keys("status total_hits score hits")
V1_HIT = keys(
    """
    id match score target caption datasets features last_seen first_seen properties
    last_change
    """
)
V1_FACE = keys(
    """
    status face_match_status liveness_status face_match_similarity liveness_confidence
    source_image target_image video_url age_estimation gender_estimation
    """
)
V1_LOCATION = keys(
    """
    device_brand device_model browser_family os_family platform ip_country ip_country_code
    ip_state ip_city latitude longitude ip_address isp organization is_vpn_or_tor
    is_data_center time_zone time_zone_offset status document_location ip_location
    distance_from_document_to_ip_km
    """
)
WARNING = keys("feature risk additional_data log_type short_description long_description")
REVIEW = keys("user new_status comment created_at")
# Top level of examples/v3-decision-abridged.json, and the item fields docs/didit-api.md lists.
V3_TOP = keys(
    """
    session_id session_kind session_number session_url status environment workflow_id
    features vendor_data metadata expected_details contact_details callback id_verifications
    nfc_verifications liveness_checks face_matches poa_verifications phone_verifications
    email_verifications aml_screenings ip_analyses database_validations
    questionnaire_responses reviews created_at
    """
)
V3_ARRAYS = keys(
    """
    id_verifications nfc_verifications liveness_checks face_matches poa_verifications
    phone_verifications email_verifications aml_screenings ip_analyses database_validations
    questionnaire_responses
    """
)
V3_ID = keys(
    """
    node_id status warnings document_type document_subtype document_number personal_number
    first_name last_name full_name date_of_birth age gender nationality issuing_state
    issuing_state_name date_of_issue expiration_date place_of_birth marital_status address
    formatted_address parsed_address portrait_image front_image back_image full_front_image
    full_back_image front_video back_video matches
    """
)
V3_LIVENESS = keys(
    """
    node_id status warnings method score age_estimation reference_image video_url
    face_quality face_luminance matches
    """
)
V3_FACE_MATCH = keys(
    """
    node_id status warnings score source_image target_image source_image_session_id
    """
)
V3_AML = keys(
    """
    node_id status warnings entity_type total_hits score hits screened_data
    is_ongoing_monitoring_enabled
    """
)
V3_HIT = keys(
    """
    id url caption match score match_score risk_score review_status target datasets
    first_seen last_seen properties risk_view score_breakdown pep_matches sanction_matches
    adverse_media_matches linked_entities
    """
)
V3_IP = keys(
    """
    node_id status warnings ip_address ip_country ip_country_code ip_state ip_city isp
    organization latitude longitude is_vpn_or_tor is_data_center device_brand device_model
    browser_family os_family platform time_zone time_zone_offset id_document
    """
)
V2_OBJECTS = keys(
    """
    id_verification nfc liveness face_match phone email poa aml ip_analysis
    database_validation
    """
)
STATUSES = {
    "Not Started",
    "In Progress",
    "In Review",
    "Approved",
    "Declined",
    "Resubmitted",
    "Expired",
    "Abandoned",
    "Kyc Expired",
    "Awaiting User",
}
URL = re.compile(r"https?://[^\"\s]+")


def find(server, predicate, *, shape: str = "v2") -> tuple[str, dict]:
    for session_id in server.session_ids():
        decision = server.decision(session_id, shape=shape)
        if predicate(decision):
            return session_id, decision
    pytest.fail("no session in the sandbox matches")


def without_urls(value):
    return URL.sub("<url>", repr(value))


CLIENT_SECRET = "sandbox-client-secret"


def token(server, *, secret: str = CLIENT_SECRET) -> requests.Response:
    return requests.post(
        f"{server.base_url}/auth/v2/token/",
        data={"grant_type": "client_credentials"},
        auth=("sandbox-client-id", secret),
        timeout=5,
    )


@pytest.fixture(scope="module")
def shared():
    """One read-mostly sandbox for tests that do not change state."""
    with SandboxServer(SandboxConfig(sessions=120, seed=7, anchor=ANCHOR)) as server:
        yield server


# -- auth ------------------------------------------------------------------------------------


def test_token_flow_gives_a_bearer_token_accepted_on_every_version(didit_sandbox):
    response = token(didit_sandbox)
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {
        "iss",
        "iat",
        "sub",
        "client_id",
        "organization_id",
        "expires_in",
        "exp",
        "access_token",
    }
    assert body["expires_in"] == 86400
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    session_id = didit_sandbox.session_ids()[0]
    for version in ("v1", "v2", "v3"):
        url = f"{didit_sandbox.base_url}/{version}/session/{session_id}/decision/"
        assert requests.get(url, headers=bearer, timeout=5).status_code == 200
    assert didit_sandbox.calls["token"] == 1
    assert didit_sandbox.calls["decision"] == 3


def test_token_with_a_bad_secret_is_401_and_never_echoes_it(didit_sandbox):
    response = token(didit_sandbox, secret="wrong-secret-123")
    assert response.status_code == 401
    assert "detail" in response.json()
    assert "wrong-secret-123" not in response.text


def test_token_needs_the_client_credentials_grant(didit_sandbox):
    response = requests.post(
        f"{didit_sandbox.base_url}/auth/v2/token/",
        data={"grant_type": "password"},
        auth=("sandbox-client-id", "sandbox-client-secret"),
        timeout=5,
    )
    assert response.status_code == 400


def test_an_expired_token_is_401(didit_sandbox_factory):
    server = didit_sandbox_factory(sessions=5, token_ttl=1)
    bearer = {"Authorization": f"Bearer {token(server).json()['access_token']}"}
    url = f"{server.base_url}/v3/session/{server.session_ids()[0]}/decision/"
    assert requests.get(url, headers=bearer, timeout=5).status_code == 200
    time.sleep(1.1)
    response = requests.get(url, headers=bearer, timeout=5)
    assert response.status_code == 401
    assert response.json()["detail"]


def test_expire_tokens_invalidates_every_issued_token(didit_sandbox):
    bearer = {"Authorization": f"Bearer {token(didit_sandbox).json()['access_token']}"}
    url = f"{didit_sandbox.base_url}/v1/session/{didit_sandbox.session_ids()[0]}/decision/"
    didit_sandbox.expire_tokens()
    assert requests.get(url, headers=bearer, timeout=5).status_code == 401
    fresh = {"Authorization": f"Bearer {token(didit_sandbox).json()['access_token']}"}
    assert requests.get(url, headers=fresh, timeout=5).status_code == 200


def test_a_made_up_bearer_token_is_401(didit_sandbox):
    url = f"{didit_sandbox.base_url}/v3/sessions/"
    response = requests.get(url, headers={"Authorization": "Bearer not-a-token"}, timeout=5)
    assert response.status_code == 401
    assert "not-a-token" not in response.text


@pytest.mark.parametrize(("version", "status"), [("v1", 401), ("v2", 401), ("v3", 403)])
def test_a_bad_api_key_is_refused_with_the_status_of_each_version(didit_sandbox, version, status):
    session_id = didit_sandbox.session_ids()[0]
    url = f"{didit_sandbox.base_url}/{version}/session/{session_id}/decision/"
    response = requests.get(url, headers={"x-api-key": "guessed-key-42"}, timeout=5)
    assert response.status_code == status
    assert response.json()["detail"]
    assert "guessed-key-42" not in response.text
    assert requests.get(url, timeout=5).status_code == status


def test_a_slashless_path_redirects_to_the_slashed_one(didit_sandbox):
    response = requests.get(
        f"{didit_sandbox.base_url}/v3/sessions?limit=1",
        headers=KEY,
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code == 301
    assert response.headers["Location"] == "/v3/sessions/?limit=1"


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_an_unknown_session_is_404_not_found(didit_sandbox, version):
    url = f"{didit_sandbox.base_url}/{version}/session/00000000-0000-4000-8000-000000000000"
    response = requests.get(f"{url}/decision/", headers=KEY, timeout=5)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_a_body_that_is_not_json_is_400(didit_sandbox):
    session_id = didit_sandbox.session_ids()[0]
    response = requests.patch(
        f"{didit_sandbox.base_url}/v3/session/{session_id}/update-status/",
        data=b"{not json",
        headers={**KEY, "Content-Type": "application/json"},
        timeout=5,
    )
    assert response.status_code == 400
    assert "detail" in response.json()


# -- decisions -------------------------------------------------------------------------------


def test_v1_decisions_have_the_keys_of_the_vendor_example(shared):
    def complete(decision):
        return all(decision[k] for k in ("kyc", "face", "location")) and (
            decision["aml"] and decision["aml"]["hits"] and decision["warnings"]
        )

    session_id, _ = find(shared, complete, shape="v1")
    response = requests.get(
        f"{shared.base_url}/v1/session/{session_id}/decision/", headers=KEY, timeout=5
    )
    decision = response.json()
    assert set(decision) == V1_TOP
    assert set(decision["kyc"]) == V1_KYC
    assert set(decision["aml"]) == V1_AML
    assert all(set(hit) == V1_HIT for hit in decision["aml"]["hits"])
    assert all(0 <= hit["score"] <= 1 for hit in decision["aml"]["hits"])
    assert 0 <= decision["aml"]["score"] <= 100
    assert set(decision["face"]) == V1_FACE
    assert set(decision["location"]) == V1_LOCATION
    assert all(set(w) == WARNING for w in decision["warnings"])
    assert isinstance(decision["features"], str)


def test_v2_decisions_have_one_object_or_null_per_feature(shared):
    session_id = shared.session_ids()[0]
    decision = requests.get(
        f"{shared.base_url}/v2/session/{session_id}/decision/", headers=KEY, timeout=5
    ).json()
    assert set(decision) >= V2_OBJECTS
    assert isinstance(decision["features"], list)
    for key in V2_OBJECTS:
        assert decision[key] is None or isinstance(decision[key], dict)
        assert decision[key] is None or "node_id" not in decision[key]


def test_v3_decisions_have_an_array_per_feature_with_the_documented_fields(shared_path):
    def rich(decision):
        return (
            decision["aml_screenings"]
            and decision["aml_screenings"][0]["hits"]
            and (
                decision["id_verifications"]
                and decision["ip_analyses"]
                and decision["liveness_checks"]
                and decision["face_matches"]
            )
        )

    session_id, _ = find(shared_path, rich, shape="v3")
    decision = requests.get(
        f"{shared_path.base_url}/v3/session/{session_id}/decision/", headers=KEY, timeout=5
    ).json()
    assert set(decision) >= V3_TOP
    for key in V3_ARRAYS:
        assert decision[key] is None or isinstance(decision[key], list)
    assert set(decision["id_verifications"][0]) >= V3_ID
    assert set(decision["liveness_checks"][0]) >= V3_LIVENESS
    assert set(decision["face_matches"][0]) >= V3_FACE_MATCH
    assert set(decision["aml_screenings"][0]) >= V3_AML
    assert all(set(hit) >= V3_HIT for hit in decision["aml_screenings"][0]["hits"])
    assert set(decision["ip_analyses"][0]) >= V3_IP
    assert all(set(review) == REVIEW for review in decision["reviews"])


@pytest.fixture(scope="module")
def shared_path():
    config = SandboxConfig(sessions=120, seed=7, anchor=ANCHOR, decision_shape="path")
    with SandboxServer(config) as server:
        yield server


def test_v3_arrays_are_null_until_the_feature_ran(shared_path):
    _, decision = find(shared_path, lambda d: d["status"] == "Not Started", shape="v3")
    assert all(decision[key] is None for key in V3_ARRAYS)


def test_passports_have_no_back_image(shared_path):
    def passport(decision):
        items = decision["id_verifications"] or []
        return items and items[0]["document_type"] == "Passport"

    _, decision = find(shared_path, passport, shape="v3")
    assert decision["id_verifications"][0]["back_image"] is None
    assert decision["id_verifications"][0]["front_image"].startswith(shared_path.base_url)


def test_native_shape_serves_legacy_sessions_in_their_own_shape_on_v3(shared):
    shapes = set()
    for session_id in shared.session_ids():
        decision = requests.get(
            f"{shared.base_url}/v3/session/{session_id}/decision/", headers=KEY, timeout=5
        ).json()
        shapes.add("v1" if "kyc" in decision else "v3" if "id_verifications" in decision else "v2")
    assert shapes == {"v1", "v2", "v3"}


def test_path_shape_serves_every_session_in_the_shape_of_its_path(shared_path):
    for session_id in shared_path.session_ids()[:20]:
        decision = shared_path.decision(session_id, shape="v3")
        assert "id_verifications" in decision and "kyc" not in decision


def test_the_server_decision_is_what_the_endpoint_serves(shared):
    for session_id in shared.session_ids()[:10]:
        for version in ("v1", "v2", "v3"):
            served = requests.get(
                f"{shared.base_url}/{version}/session/{session_id}/decision/",
                headers=KEY,
                timeout=5,
            ).json()
            expected = shared.decision(session_id, shape=version)
            assert without_urls(served) == without_urls(expected)


def test_a_small_sandbox_shows_every_status_and_legacy_and_current_sessions(didit_sandbox):
    statuses = {
        didit_sandbox.decision(s, shape="v2")["status"] for s in didit_sandbox.session_ids()
    }
    assert statuses == STATUSES


def test_users_have_several_sessions_and_some_sessions_have_many_aml_hits():
    config = SandboxConfig(sessions=400, seed=3, anchor=ANCHOR)
    with SandboxServer(config) as server:
        per_user: dict[str, int] = {}
        hits = []
        for session_id in server.session_ids():
            decision = server.decision(session_id, shape="v1")
            per_user[decision["vendor_data"]] = per_user.get(decision["vendor_data"], 0) + 1
            hits.append(decision["aml"]["total_hits"] if decision["aml"] else 0)
    assert max(per_user.values()) >= 4
    assert hits.count(0) > len(hits) / 2
    assert any(1 <= h <= 3 for h in hits) and any(h >= 10 for h in hits)


def test_the_same_seed_gives_the_same_sessions_and_decisions():
    first = SandboxServer(SandboxConfig(sessions=40, seed=11, anchor=ANCHOR)).start()
    second = SandboxServer(SandboxConfig(sessions=40, seed=11, anchor=ANCHOR)).start()
    other = SandboxServer(SandboxConfig(sessions=40, seed=12, anchor=ANCHOR)).start()
    try:
        assert first.session_ids() == second.session_ids()
        assert set(first.session_ids()).isdisjoint(other.session_ids())
        for session_id in first.session_ids():
            for shape in ("v1", "v2", "v3"):
                assert without_urls(first.decision(session_id, shape)) == without_urls(
                    second.decision(session_id, shape)
                )
    finally:
        for server in (first, second, other):
            server.stop()
