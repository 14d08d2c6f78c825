"""The sandbox's v3 update-status with nodes_to_resubmit (SPEC.md), and its request log."""

from __future__ import annotations

import pytest

from tests.sandbox import fast_client
from verifications.didit.errors import DiditError


def reviewable_v3(server) -> tuple[str, list[str]]:
    for session_id in server.session_ids():
        decision = server.decision(session_id)
        if decision["status"] == "In Review" and decision.get("id_verifications"):
            nodes = [
                item["node_id"]
                for value in decision.values()
                if isinstance(value, list)
                for item in value
                if isinstance(item, dict) and "node_id" in item
            ]
            return session_id, nodes
    raise AssertionError("no In Review v3 session")


def test_a_resubmit_naming_the_sessions_steps_is_accepted_and_logged(didit_sandbox):
    session_id, nodes = reviewable_v3(didit_sandbox)
    body = [{"node_id": nodes[0], "feature": "OCR"}]
    fast_client(didit_sandbox).update_status(
        session_id, new_status="Resubmitted", nodes_to_resubmit=body
    )
    assert didit_sandbox.decision(session_id)["status"] == "Resubmitted"
    [sent] = didit_sandbox.requests("update_status")
    assert sent["method"] == "PATCH"
    assert sent["path"] == f"/v3/session/{session_id}/update-status/"
    assert sent["body"] == {"new_status": "Resubmitted", "nodes_to_resubmit": body}


@pytest.mark.parametrize(
    "nodes",
    [
        [{"node_id": "feature_not_in_this_session", "feature": "OCR"}],
        [{"node_id": "feature_ocr"}],
        "feature_ocr",
    ],
)
def test_a_resubmit_with_bad_nodes_is_a_400_and_changes_nothing(didit_sandbox, nodes):
    session_id, _ = reviewable_v3(didit_sandbox)
    with pytest.raises(DiditError) as caught:
        fast_client(didit_sandbox).update_status(
            session_id, new_status="Resubmitted", nodes_to_resubmit=nodes
        )
    assert caught.value.status == 400
    assert didit_sandbox.decision(session_id)["status"] == "In Review"
