"""The sandbox's list rows carry ``updated_at``, moved by every change made at Didit."""

from __future__ import annotations

import requests

KEY = {"x-api-key": "sandbox-api-key"}


def row(server, session_id: str) -> dict:
    page = requests.get(
        f"{server.base_url}/v3/sessions/", params={"limit": 100}, headers=KEY, timeout=10
    ).json()
    return next(r for r in page["results"] if r["session_id"] == session_id)


def hits(server, session_id: str) -> list[dict]:
    decision = server.decision(session_id)
    return [h for s in decision.get("aml_screenings") or [] for h in s.get("hits") or []]


def test_updated_at_starts_at_created_at_and_moves_with_each_change(didit_sandbox):
    server = didit_sandbox
    session_id = next(s for s in server.session_ids() if hits(server, s))
    start = row(server, session_id)
    assert start["updated_at"] == start["created_at"]
    url = f"{server.base_url}/v3/sessions/{session_id}/reviews/"
    status = start["status"]

    # A note without a new status, a hit's review, a new status: each moves it forward.
    seen = [start["updated_at"]]
    requests.post(url, json={"new_status": status, "comment": "note"}, headers=KEY, timeout=10)
    seen.append(row(server, session_id)["updated_at"])
    requests.patch(
        f"{server.base_url}/v3/session/{session_id}/update-aml-hit-status/",
        json={"hit_id": hits(server, session_id)[0]["id"], "review_status": "False Positive"},
        headers=KEY,
        timeout=10,
    )
    seen.append(row(server, session_id)["updated_at"])
    server.change_status(session_id, "Declined")
    latest = row(server, session_id)
    seen.append(latest["updated_at"])

    assert seen == sorted(set(seen)), seen
    assert latest["created_at"] == start["created_at"]
