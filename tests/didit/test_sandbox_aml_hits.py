"""The sandbox's AML hit review endpoints (SPEC.md: body details unconfirmed, so the documented
``{hit_id, review_status, comment}`` and the bulk variants are all accepted), and the client's
single and bulk methods over real HTTP."""

from __future__ import annotations

import json

import pytest
import requests

from tests.sandbox import API_KEY, fast_client
from verifications.didit.client import DiditBadResponse, DiditNotFound, DiditRequestError
from verifications.services_aml import confirmed_statuses


def in_review_with_hits(server, count: int = 4) -> tuple[str, list[str]]:
    for session_id in server.session_ids():
        decision = server.decision(session_id, "v3")
        screenings = decision.get("aml_screenings") or []
        if screenings and screenings[0].get("status") == "In Review":
            server.set_aml_hit_count(session_id, count)
            return session_id, [hit["id"] for hit in server.aml_hits(session_id)]
    pytest.fail("no AML session")


def patch(server, session_id: str, body, *, bulk: bool = False) -> requests.Response:
    name = "bulk-update-aml-hit-status" if bulk else "update-aml-hit-status"
    return requests.patch(
        f"{server.base_url}/v3/session/{session_id}/{name}/",
        json=body,
        headers={"x-api-key": API_KEY},
        timeout=5,
    )


def statuses(server, session_id: str) -> dict[str, str]:
    return {hit["id"]: hit["review_status"] for hit in server.aml_hits(session_id)}


def test_one_hit_with_the_documented_body(didit_sandbox):
    session_id, hits = in_review_with_hits(didit_sandbox)
    body = {"hit_id": hits[0], "review_status": "Confirmed Match", "comment": "Same DOB"}
    response = patch(didit_sandbox, session_id, body)
    assert response.status_code == 200
    assert response.json() == {
        "session_id": session_id,
        "hit_id": hits[0],
        "review_status": "Confirmed Match",
    }
    assert statuses(didit_sandbox, session_id)[hits[0]] == "Confirmed Match"


@pytest.mark.parametrize(
    "shape",
    ["items", "items-with-top-level-status", "hit_ids", "single-body"],
)
def test_the_bulk_endpoint_takes_every_variant(didit_sandbox, shape):
    session_id, hits = in_review_with_hits(didit_sandbox)
    chosen = hits[:3] if shape != "single-body" else hits[:1]
    body = {
        "items": {"hits": [{"hit_id": h, "review_status": "False Positive"} for h in chosen]},
        "items-with-top-level-status": {
            "hits": [{"hit_id": h} for h in chosen],
            "review_status": "False Positive",
            "comment": "x",
        },
        "hit_ids": {"hit_ids": chosen, "review_status": "False Positive"},
        "single-body": {"hit_id": chosen[0], "review_status": "False Positive"},
    }[shape]
    response = patch(didit_sandbox, session_id, body, bulk=True)
    assert response.status_code == 200, response.text
    after = statuses(didit_sandbox, session_id)
    assert {after[h] for h in chosen} == {"False Positive"}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"hits": []}, 400),
        ({"hits": ["NK-1"]}, 400),
        ({"hits": [{"hit_id": "HIT", "review_status": "Unreviewed"}]}, 400),
        ({"hits": [{"hit_id": "HIT", "review_status": "False Positive", "comment": 1}]}, 400),
        ({"hits": [{"hit_id": "HIT", "review_status": "x", "comment": "y" * 10_001}]}, 400),
        (
            {
                "hits": [{"hit_id": "HIT"}, {"hit_id": "NK-missing"}],
                "review_status": "Inconclusive",
            },
            404,
        ),
    ],
)
def test_a_bad_bulk_request_changes_nothing(didit_sandbox, body, status):
    session_id, hits = in_review_with_hits(didit_sandbox)
    before = statuses(didit_sandbox, session_id)
    body = json.loads(json.dumps(body).replace('"HIT"', json.dumps(hits[0])))
    response = patch(didit_sandbox, session_id, body, bulk=True)
    assert response.status_code == status
    assert statuses(didit_sandbox, session_id) == before


def test_the_client_sends_one_item_per_hit_in_one_bulk_call(didit_sandbox):
    session_id, hits = in_review_with_hits(didit_sandbox, 5)
    client = fast_client(didit_sandbox)
    answer = client.bulk_update_aml_hit_status(
        session_id, hit_ids=hits[:4], review_status="Inconclusive", comment="Needs a look"
    )
    path, body = didit_sandbox.aml_hit_requests[-1]
    assert path == f"/v3/session/{session_id}/bulk-update-aml-hit-status/"
    assert body == {
        "hits": [
            {"hit_id": h, "review_status": "Inconclusive", "comment": "Needs a look"}
            for h in hits[:4]
        ]
    }
    assert didit_sandbox.calls["aml_hit"] == 1
    assert confirmed_statuses(answer, hit_ids=hits[:4], review_status="Inconclusive") == (
        dict.fromkeys(hits[:4], "Inconclusive")
    )
    with pytest.raises(DiditNotFound):
        client.bulk_update_aml_hit_status(
            session_id, hit_ids=["NK-nope"], review_status="Inconclusive"
        )
    with pytest.raises(DiditRequestError):
        client.bulk_update_aml_hit_status(session_id, hit_ids=hits[:1], review_status="Nope")


@pytest.mark.parametrize(
    "answer",
    [
        {"updated": 1},
        {"hit_id": "b", "review_status": "False Positive"},
        {"hits": [{"hit_id": "a", "review_status": "Inconclusive"}, {"hit_id": "b"}]},
        {"results": [{"id": "a", "review_status": "False Positive"}]},
    ],
)
def test_an_answer_that_does_not_confirm_what_was_sent_is_a_bad_response(answer):
    with pytest.raises(DiditBadResponse):
        confirmed_statuses(answer, hit_ids=["a", "b"], review_status="False Positive")


@pytest.mark.parametrize(
    "answer",
    [
        {},
        None,
        {"session_id": "s"},
        {"updated": 2},
        {
            "results": [
                {"id": "a", "review_status": "False Positive"},
                {"id": "b", "review_status": "False Positive"},
            ]
        },
    ],
)
def test_an_answer_that_confirms_the_request_is_read_as_sent(answer):
    expected = {"a": "False Positive", "b": "False Positive"}
    assert confirmed_statuses(answer, hit_ids=["a", "b"], review_status="False Positive") == (
        expected
    )
