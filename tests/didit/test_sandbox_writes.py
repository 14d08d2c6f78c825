"""The sandbox's writes over HTTP: create, update status, reviews, delete, share/import, PDF."""

from __future__ import annotations

import io

import pypdf
import pytest
import requests

from verifications.didit.sandbox import SandboxConfig, SandboxServer


def keys(text: str) -> set[str]:
    return set(text.split())


KEY = {"x-api-key": "sandbox-api-key"}
REVIEW = keys("user new_status comment created_at")


@pytest.fixture(scope="module")
def shared():
    with SandboxServer(SandboxConfig(sessions=120, seed=7)) as server:
        yield server


def find(server, predicate, *, shape: str = "v2") -> tuple[str, dict]:
    for session_id in server.session_ids():
        decision = server.decision(session_id, shape=shape)
        if predicate(decision):
            return session_id, decision
    pytest.fail("no session in the sandbox matches")


# -- create ----------------------------------------------------------------------------------


def test_create_on_v1_takes_a_features_string(didit_sandbox):
    body = {
        "features": "OCR + NFC + FACE",
        "vendor_data": "legacy-1",
        "callback": "https://example.com/cb",
    }
    response = requests.post(
        f"{didit_sandbox.base_url}/v1/session/", json=body, headers=KEY, timeout=5
    )
    assert response.status_code == 201
    created = response.json()
    assert set(created) >= {
        "session_id",
        "session_number",
        "session_token",
        "vendor_data",
        "status",
        "callback",
        "url",
        "features",
    }
    assert created["status"] == "Not Started"
    assert created["features"] == "OCR + NFC + FACE"
    assert didit_sandbox.session_ids()[0] == created["session_id"]
    bad = requests.post(
        f"{didit_sandbox.base_url}/v1/session/", json={"features": "DNA"}, headers=KEY, timeout=5
    )
    assert bad.status_code == 400 and "features" in bad.json()


@pytest.mark.parametrize("version", ["v2", "v3"])
def test_create_on_v2_and_v3_requires_a_workflow(didit_sandbox, version):
    url = f"{didit_sandbox.base_url}/{version}/session/"
    response = requests.post(url, json={"vendor_data": "u"}, headers=KEY, timeout=5)
    assert response.status_code == 400
    assert response.json() == {"workflow_id": ["This field is required."]}
    workflow_id = didit_sandbox.workflows["KYC + AML"]
    body = {
        "workflow_id": workflow_id,
        "vendor_data": f"new-{version}",
        "metadata": {"plan": "gold"},
        "contact_details": {"email": "a@example.com"},
    }
    created = requests.post(url, json=body, headers=KEY, timeout=5)
    assert created.status_code == 201
    assert created.json()["workflow_id"] == workflow_id
    assert created.json()["metadata"] == {"plan": "gold"}
    decision = didit_sandbox.decision(created.json()["session_id"], shape=version)
    assert decision["status"] == "Not Started"
    assert decision["id_verification" if version == "v2" else "id_verifications"] is None


def test_create_for_a_user_with_an_unfinished_session_returns_that_session(didit_sandbox):
    url = f"{didit_sandbox.base_url}/v3/session/"
    body = {"workflow_id": didit_sandbox.workflows["KYC"], "vendor_data": "returning-user"}
    first = requests.post(url, json=body, headers=KEY, timeout=5).json()
    again = requests.post(url, json=body, headers=KEY, timeout=5).json()
    assert again["session_id"] == first["session_id"]
    assert didit_sandbox.session_ids().count(first["session_id"]) == 1


# -- update status, reviews, delete ----------------------------------------------------------


def test_update_status_changes_the_session_and_appends_a_review(didit_sandbox):
    session_id, before = find(didit_sandbox, lambda d: d["status"] == "In Review")
    url = f"{didit_sandbox.base_url}/v3/session/{session_id}/update-status/"
    response = requests.patch(
        url, json={"new_status": "Declined", "comment": "Fake ID"}, headers=KEY, timeout=5
    )
    assert response.status_code == 200
    assert response.json() == {"session_id": session_id}
    after = didit_sandbox.decision(session_id, shape="v2")
    assert after["status"] == "Declined"
    assert after["reviews"][-1]["new_status"] == "Declined"
    assert after["reviews"][-1]["comment"] == "Fake ID"
    assert len(after["reviews"]) == len(before["reviews"]) + 1
    reviews = requests.get(
        f"{didit_sandbox.base_url}/v3/sessions/{session_id}/reviews/", headers=KEY, timeout=5
    ).json()
    assert reviews["results"][-1]["comment"] == "Fake ID"
    row = requests.get(
        f"{didit_sandbox.base_url}/v3/sessions/",
        params={"search": session_id},
        headers=KEY,
        timeout=5,
    ).json()["results"][0]
    assert row["status"] == "Declined"


@pytest.mark.parametrize("status", ["Not Started", "In Progress", "Expired", "Awaiting User"])
def test_update_status_is_refused_from_statuses_the_docs_exclude(didit_sandbox, status):
    session_id, _ = find(didit_sandbox, lambda d: d["status"] == status)
    url = f"{didit_sandbox.base_url}/v1/session/{session_id}/update-status/"
    response = requests.patch(url, json={"new_status": "Approved"}, headers=KEY, timeout=5)
    assert response.status_code == 400
    assert "detail" in response.json()
    assert didit_sandbox.decision(session_id, shape="v2")["status"] == status


def test_resubmitted_is_a_v3_only_new_status(didit_sandbox):
    session_id, _ = find(didit_sandbox, lambda d: d["status"] == "Declined")
    base = f"{didit_sandbox.base_url}/{{}}/session/{session_id}/update-status/"
    body = {"new_status": "Resubmitted"}
    assert requests.patch(base.format("v1"), json=body, headers=KEY, timeout=5).status_code == 400
    assert requests.patch(base.format("v3"), json=body, headers=KEY, timeout=5).status_code == 200
    assert didit_sandbox.decision(session_id, shape="v2")["status"] == "Resubmitted"


def test_add_review_limits_comments_to_ten_thousand_characters(didit_sandbox):
    session_id, _ = find(didit_sandbox, lambda d: d["status"] == "In Review")
    url = f"{didit_sandbox.base_url}/v3/sessions/{session_id}/reviews/"
    too_long = requests.post(url, json={"comment": "x" * 10_001}, headers=KEY, timeout=5)
    assert too_long.status_code == 400
    added = requests.post(
        url, json={"new_status": "Approved", "comment": "ok ✅"}, headers=KEY, timeout=5
    )
    assert added.status_code == 201
    assert set(added.json()) == REVIEW
    assert didit_sandbox.decision(session_id, shape="v2")["status"] == "Approved"


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_delete_removes_the_session(didit_sandbox, version):
    session_id = didit_sandbox.session_ids()[3]
    base = f"{didit_sandbox.base_url}/{version}/session/{session_id}"
    response = requests.delete(f"{base}/delete/", headers=KEY, timeout=5)
    assert response.status_code == 204
    assert requests.get(f"{base}/decision/", headers=KEY, timeout=5).json() == {
        "detail": "Not found."
    }
    assert session_id not in didit_sandbox.session_ids()
    assert requests.delete(f"{base}/delete/", headers=KEY, timeout=5).status_code == 404


def test_change_status_shows_everywhere(didit_sandbox):
    session_id, _ = find(didit_sandbox, lambda d: d["status"] == "Not Started")
    didit_sandbox.change_status(session_id, "Approved", comment="Finished on the phone")
    decision = didit_sandbox.decision(session_id, shape="v3")
    assert decision["status"] == "Approved"
    assert decision["reviews"][-1]["user"] == "reviewer@didit.sandbox"
    row = requests.get(
        f"{didit_sandbox.base_url}/v3/sessions/",
        params={"search": session_id},
        headers=KEY,
        timeout=5,
    ).json()["results"][0]
    assert row["status"] == "Approved"
    assert all(f["status"] != "Not Finished" for f in row["features"])
    pdf = requests.get(
        f"{didit_sandbox.base_url}/v3/session/{session_id}/generate-pdf/", headers=KEY, timeout=5
    )
    assert pdf.status_code == 200
    assert "Finished on the phone" in pdf_text(pdf.content)
    user = requests.get(
        f"{didit_sandbox.base_url}/v3/users/{decision['vendor_data']}/", headers=KEY, timeout=5
    ).json()
    assert user["approved_count"] >= 1


# -- PDF -------------------------------------------------------------------------------------


def pdf_text(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.mark.parametrize("version", ["v1", "v2", "v3"])
def test_the_pdf_report_is_a_real_pdf_with_the_sessions_facts(shared, version):
    def reviewed_with_hits(decision):
        return (
            decision["aml"]
            and decision["aml"]["hits"]
            and decision["reviews"]
            and (decision["status"] in ("Approved", "Declined", "In Review", "Kyc Expired"))
        )

    session_id, decision = find(shared, reviewed_with_hits, shape="v1")
    response = requests.get(
        f"{shared.base_url}/{version}/session/{session_id}/generate-pdf/", headers=KEY, timeout=10
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=session_{session_id}.pdf"
    )
    assert response.content.startswith(b"%PDF-")
    text = pdf_text(response.content)
    kyc = decision["kyc"]
    for expected in (
        session_id,
        kyc["full_name"][:40],
        kyc["document_number"],
        decision["status"],
        decision["aml"]["hits"][0]["caption"][:30],
        decision["reviews"][0]["user"],
    ):
        assert expected in text


@pytest.mark.parametrize("status", ["Not Started", "Expired", "Abandoned", "Resubmitted"])
def test_the_pdf_is_403_for_statuses_the_docs_exclude(didit_sandbox, status):
    session_id, _ = find(didit_sandbox, lambda d: d["status"] == status)
    response = requests.get(
        f"{didit_sandbox.base_url}/v3/session/{session_id}/generate-pdf/", headers=KEY, timeout=5
    )
    assert response.status_code == 403
    assert response.json()["detail"]


# -- share and import ------------------------------------------------------------------------


def test_a_shared_session_imports_once(didit_sandbox):
    session_id, source = find(
        didit_sandbox, lambda d: d["status"] == "Approved" and (d["id_verification"] is not None)
    )
    share = requests.post(
        f"{didit_sandbox.base_url}/v3/session/{session_id}/share/",
        json={"ttl_in_seconds": 600},
        headers=KEY,
        timeout=5,
    )
    assert share.status_code == 200
    share_token = share.json()["share_token"]
    assert share_token.count(".") == 2
    url = f"{didit_sandbox.base_url}/v3/session/import-shared/"
    body = {
        "share_token": share_token,
        "trust_review": True,
        "vendor_data": "partner-user-9",
        "workflow_id": didit_sandbox.workflows["KYC"],
    }
    imported = requests.post(url, json=body, headers=KEY, timeout=5)
    assert imported.status_code == 201
    created = imported.json()
    assert set(created) >= {
        "session_id",
        "session_number",
        "status",
        "workflow_id",
        "vendor_data",
        "created_at",
    }
    assert created["session_id"] != session_id
    assert created["status"] == "Approved"
    assert created["vendor_data"] == "partner-user-9"
    copy = didit_sandbox.decision(created["session_id"], shape="v2")
    assert (
        copy["id_verification"]["document_number"] == (source["id_verification"]["document_number"])
    )
    assert didit_sandbox.session_ids()[0] == created["session_id"]
    again = requests.post(url, json=body, headers=KEY, timeout=5)
    assert again.status_code == 403
    assert again.json()["detail"]


def test_import_without_trust_goes_to_review_and_bad_tokens_are_refused(didit_sandbox):
    session_id, _ = find(didit_sandbox, lambda d: d["status"] == "Declined")
    share_token = requests.post(
        f"{didit_sandbox.base_url}/v3/session/{session_id}/share/", headers=KEY, timeout=5
    ).json()["share_token"]
    url = f"{didit_sandbox.base_url}/v3/session/import-shared/"
    imported = requests.post(url, json={"share_token": share_token}, headers=KEY, timeout=5)
    assert imported.json()["status"] == "In Review"
    forged = share_token[:-3] + ("aaa" if not share_token.endswith("aaa") else "bbb")
    assert (
        requests.post(url, json={"share_token": forged}, headers=KEY, timeout=5).status_code == 403
    )
    assert requests.post(url, json={}, headers=KEY, timeout=5).status_code == 400


@pytest.mark.parametrize("status", ["Not Started", "In Progress", "Abandoned"])
def test_only_finished_sessions_can_be_shared(didit_sandbox, status):
    session_id, _ = find(didit_sandbox, lambda d: d["status"] == status)
    response = requests.post(
        f"{didit_sandbox.base_url}/v3/session/{session_id}/share/", headers=KEY, timeout=5
    )
    assert response.status_code == 400
    assert response.json()["detail"]
