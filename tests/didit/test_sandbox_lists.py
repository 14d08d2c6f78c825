"""The sandbox's v3 list endpoints over HTTP: sessions, reviews, users; both paginations."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

import pytest
import requests

from verifications.didit.sandbox import SandboxConfig, SandboxServer


def keys(text: str) -> set[str]:
    return set(text.split())


KEY = {"x-api-key": "sandbox-api-key"}
ANCHOR = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)
# Keys of a row in examples/v3-sessions-list-page.json.
LIST_ROW = keys(
    """
    session_id session_kind session_number session_url portrait_image document_type
    full_name country status vendor_data didit_internal_id created_at features phone_number
    email_address additional_details updated_at
    """
)  # updated_at is beyond the published row: served so the console's use of it is tested.
USER = keys(
    """
    vendor_data full_name status session_count approved_count declined_count in_review_count
    features first_session_at last_session_at
    """
)


@pytest.fixture(scope="module")
def server():
    with SandboxServer(SandboxConfig(sessions=150, seed=5, anchor=ANCHOR)) as running:
        yield running


def get(server, path: str, **params) -> requests.Response:
    return requests.get(f"{server.base_url}{path}", params=params, headers=KEY, timeout=10)


def follow(server, path: str, **params) -> list[dict]:
    page = get(server, path, **params).json()
    rows = list(page["results"])
    while page["next"]:
        assert page["next"].startswith(server.base_url)
        page = requests.get(page["next"], headers=KEY, timeout=10).json()
        rows += page["results"]
    return rows


@pytest.mark.parametrize("style", [{"limit": 40}, {"page_size": 40}])
def test_following_next_lists_every_session_newest_first(server, style):
    rows = follow(server, "/v3/sessions/", **style)
    assert [row["session_id"] for row in rows] == server.session_ids()
    created = [row["created_at"] for row in rows]
    assert created == sorted(created, reverse=True)


def test_a_page_has_count_next_previous_and_rows_shaped_like_the_docs(server):
    page = get(server, "/v3/sessions/", limit=10, offset=10).json()
    assert page["count"] == 150
    assert "offset=20" in page["next"] and "limit=10" in page["next"]
    assert "offset=0" in page["previous"]
    assert len(page["results"]) == 10
    assert all(set(row) == LIST_ROW for row in page["results"])
    statuses = {f["status"] for row in page["results"] for f in row["features"]}
    assert statuses <= {"Approved", "Declined", "In Review", "Not Finished", "Expired"}


def test_page_style_pagination_and_a_page_past_the_end(server):
    page = get(server, "/v3/sessions/", page=2, page_size=50).json()
    assert page["results"][0]["session_id"] == server.session_ids()[50]
    assert "page=3" in page["next"] and "page=1" in page["previous"]
    assert get(server, "/v3/sessions/", page=99).status_code == 404


def test_filters_by_status_with_several_values(server):
    rows = follow(server, "/v3/sessions/", status="Approved,In Review", limit=100)
    assert rows and {row["status"] for row in rows} == {"Approved", "In Review"}


def test_filters_by_vendor_data_and_workflow(server):
    first = get(server, "/v3/sessions/", limit=1).json()["results"][0]
    rows = follow(server, "/v3/sessions/", vendor_data=first["vendor_data"])
    assert {row["vendor_data"] for row in rows} == {first["vendor_data"]}
    workflow_id = server.workflows["KYC + AML"]
    rows = follow(server, "/v3/sessions/", workflow_id=workflow_id, limit=100)
    assert rows
    assert all(
        server.decision(r["session_id"], shape="v2")["workflow_id"] == workflow_id for r in rows
    )


def test_filters_by_country_and_dates(server):
    rows = follow(server, "/v3/sessions/", country="ESP", limit=100)
    assert rows and {row["country"] for row in rows} == {"ESP"}
    rows = follow(server, "/v3/sessions/", date_from="2025-03-01", date_to="2025-03-31")
    assert rows
    assert all(row["created_at"].startswith("2025-03") for row in rows)
    rows = follow(server, "/v3/sessions/", date_from="2025-06-01T00:00:00Z")
    assert all(row["created_at"] >= "2025-06-01" for row in rows)
    assert get(server, "/v3/sessions/", date_from="last tuesday").status_code == 400


def test_search_finds_names_document_numbers_and_ids(server):
    rows = follow(server, "/v3/sessions/", limit=100)
    named = next(row for row in rows if row["full_name"])
    found = follow(server, "/v3/sessions/", search=named["full_name"].upper())
    assert named["session_id"] in {row["session_id"] for row in found}
    document = server.decision(named["session_id"], shape="v1")["kyc"]["document_number"]
    found = follow(server, "/v3/sessions/", search=document)
    assert named["session_id"] in {row["session_id"] for row in found}
    found = follow(server, "/v3/sessions/", search=named["session_id"])
    assert [row["session_id"] for row in found] == [named["session_id"]]


def test_reviews_are_listed_and_paginated(didit_sandbox):
    session_id = didit_sandbox.session_ids()[0]
    for n in range(3):
        didit_sandbox.change_status(session_id, "In Review", comment=f"note {n}")
    page = get(didit_sandbox, f"/v3/sessions/{session_id}/reviews/", limit=2).json()
    assert page["count"] >= 3 and len(page["results"]) == 2 and page["next"]
    reviews = follow(didit_sandbox, f"/v3/sessions/{session_id}/reviews/", limit=2)
    assert [r["comment"] for r in reviews[-3:]] == ["note 0", "note 1", "note 2"]


def test_users_are_listed_with_counts_and_a_features_map(server):
    users = follow(server, "/v3/users/", limit=25)
    assert users and all(set(user) == USER for user in users)
    assert len({u["vendor_data"] for u in users}) == len(users)
    rows = follow(server, "/v3/sessions/", limit=100)
    assert sum(user["session_count"] for user in users) == len(rows)
    values = {status for user in users for status in user["features"].values()}
    assert "APPROVED" in values and values <= {
        "APPROVED",
        "DECLINED",
        "IN_REVIEW",
        "NOT_FINISHED",
        "EXPIRED",
    }
    assert {key for user in users for key in user["features"]} >= {
        "id_verification",
        "liveness",
        "aml",
    }


def test_one_user_is_computed_from_their_sessions(server):
    users = follow(server, "/v3/users/", limit=100)
    user = max(users, key=lambda u: u["session_count"])
    one = get(server, f"/v3/users/{quote(user['vendor_data'], safe='')}/").json()
    assert one == user
    sessions = follow(server, "/v3/sessions/", vendor_data=user["vendor_data"])
    assert one["session_count"] == len(sessions)
    assert one["approved_count"] == sum(s["status"] == "Approved" for s in sessions)
    assert one["last_session_at"] == sessions[0]["created_at"]
    assert one["first_session_at"] == sessions[-1]["created_at"]
    assert get(server, "/v3/users/nobody-at-all/").status_code == 404


def test_vendor_data_with_reserved_characters_round_trips(didit_sandbox):
    body = {"workflow_id": didit_sandbox.workflows["KYC"], "vendor_data": "ana+kyc@example.com"}
    requests.post(f"{didit_sandbox.base_url}/v3/session/", json=body, headers=KEY, timeout=5)
    user = get(didit_sandbox, f"/v3/users/{quote('ana+kyc@example.com', safe='')}/").json()
    assert user["vendor_data"] == "ana+kyc@example.com"
    assert user["session_count"] == 1
