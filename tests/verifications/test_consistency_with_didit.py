"""Never out of step with Didit (issue 10): each finding, through the sandbox over real HTTP.

Webhooks reach the console from the sandbox's own sender; the console's client calls the
sandbox; counts of what reached the sandbox are the sandbox's own.
"""

from __future__ import annotations

import time

import pytest
import time_machine
from django.test import TestCase

from tests.sandbox import WEBHOOK_SECRET, fast_client, point_settings_at
from tests.verifications.test_webhook_endpoint import URL, delivery
from verifications.didit.client import (
    DiditBadResponse,
    DiditClient,
    DiditRateLimited,
    DiditUnavailable,
)
from verifications.models import AmlHit, Review, SyncRun, VerificationSession, WebhookDelivery
from verifications.sync import sync_sessions

REVIEWABLE = ("Approved", "Declined", "In Review")


def wait_for(condition, *, seconds: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def within_one_second():
    """Wall-clock time (ours, the sandbox's, its webhooks') held inside the next second (never
    before what is stored already); the monotonic clock that timeouts use runs on."""
    return time_machine.travel(int(time.time()) + 1.1, tick=False)


def assert_equal_to_sandbox(server, session_id: str) -> None:
    theirs = server.decision(session_id)
    ours = VerificationSession.objects.get(session_id=session_id)
    assert ours.status == theirs["status"]
    assert ours.decision_hash and ours.decision["reviews"] == theirs["reviews"]
    hits = {hit["id"]: hit.get("review_status") or "" for hit in hits_of(server, session_id)}
    stored = dict(AmlHit.objects.filter(session=ours).values_list("hit_id", "review_status"))
    assert stored == hits


def hits_of(server, session_id: str) -> list[dict]:
    decision = server.decision(session_id)
    return [
        hit
        for screening in decision.get("aml_screenings") or []
        for hit in screening.get("hits") or []
    ]


# --- Finding 1: every webhook counts, even within one second ------------------------------------


@pytest.fixture
def webhooked(live_server, didit_sandbox_factory, settings):
    """A sandbox that sends its webhooks to a live console, both synced."""
    server = didit_sandbox_factory(
        sessions=20, seed=5, webhook_url=live_server.url + URL, webhook_secret=WEBHOOK_SECRET
    )
    point_settings_at(server, settings)
    sync_sessions(fast_client(server), full=True)
    return server


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_three_status_changes_within_one_second_end_equal_to_didit(webhooked):
    server = webhooked
    session_id = next(s for s in server.session_ids() if server.decision(s)["status"] in REVIEWABLE)
    with within_one_second():
        # Each change waits for its webhook's answer, so each re-fetch sees only its own.
        for count, status in enumerate(("Declined", "Approved", "Declined"), start=1):
            server.change_status(session_id, status, comment=f"change {count}")
            wait_for(lambda n=count: len(server.webhook_deliveries) >= n, what="the delivery")

    assert [outcome for _, outcome in server.webhook_deliveries] == [200, 200, 200]
    assert WebhookDelivery.objects.filter(session_id=session_id).count() == 3
    assert set(WebhookDelivery.objects.values_list("outcome", flat=True)) == {"updated"}
    assert_equal_to_sandbox(server, session_id)
    assert VerificationSession.objects.get(session_id=session_id).status == "Declined"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_aml_hit_reviews_half_a_second_apart_are_both_applied(webhooked):
    server = webhooked
    session_id = next(s for s in server.session_ids() if len(hits_of(server, s)) >= 2)
    first, second = hits_of(server, session_id)[:2]
    client = fast_client(server)
    with within_one_second() as clock:
        client.update_aml_hit_status(session_id, hit_id=first["id"], review_status="False Positive")
        wait_for(lambda: len(server.webhook_deliveries) >= 1, what="the first delivery")
        clock.shift(0.5)
        client.update_aml_hit_status(
            session_id, hit_id=second["id"], review_status="Confirmed Match"
        )
        wait_for(lambda: len(server.webhook_deliveries) >= 2, what="the second delivery")

    stored = dict(
        AmlHit.objects.filter(session__session_id=session_id).values_list("hit_id", "review_status")
    )
    assert stored[first["id"]] == "False Positive"
    assert stored[second["id"]] == "Confirmed Match"
    assert WebhookDelivery.objects.filter(session_id=session_id, outcome="updated").count() == 2


# --- Findings 3 and 5: sync sees reviews and hit reviews on old sessions -----------------------


def oldest_reviewable(server) -> str:
    return next(
        s for s in reversed(server.session_ids()) if server.decision(s)["status"] in REVIEWABLE
    )


@pytest.mark.django_db
def test_a_review_without_a_status_change_arrives_with_a_full_run(didit_sandbox):
    client = fast_client(didit_sandbox)
    sync_sessions(client, full=True)
    session_id = oldest_reviewable(didit_sandbox)
    status = didit_sandbox.decision(session_id)["status"]
    client.add_review(session_id, new_status=status, comment="note without a new status")

    run = sync_sessions(client, full=True)

    assert run.fetched == 1 and run.updated == 1
    assert Review.objects.filter(
        session__session_id=session_id, comment="note without a new status"
    ).exists()
    assert_equal_to_sandbox(didit_sandbox, session_id)


@pytest.mark.django_db
def test_an_incremental_run_brings_reviews_and_hit_reviews_of_an_old_session(didit_sandbox):
    client = fast_client(didit_sandbox)
    sync_sessions(client, full=True)
    SyncRun.objects.update(started_at=SyncRun.objects.get().started_at.replace(year=2020))
    session_id = oldest_reviewable(didit_sandbox)
    status = didit_sandbox.decision(session_id)["status"]
    client.add_review(session_id, new_status=status, comment="second look, same status")
    with_hits = next(s for s in reversed(didit_sandbox.session_ids()) if hits_of(didit_sandbox, s))
    hit = hits_of(didit_sandbox, with_hits)[0]
    client.update_aml_hit_status(with_hits, hit_id=hit["id"], review_status="Inconclusive")

    run = sync_sessions(client)

    assert run.mode == "incremental"
    assert run.fetched == len({session_id, with_hits})
    assert Review.objects.filter(comment="second look, same status").exists()
    assert AmlHit.objects.get(session__session_id=with_hits, hit_id=hit["id"]).review_status == (
        "Inconclusive"
    )
    assert_equal_to_sandbox(didit_sandbox, session_id)


# --- Finding 6: odd session ids and long vendor_data --------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "odd", ["a/b", "a?b", "a#b", "..", ".", "a b", "%2e%2e", "a\\b", "x" * 101]
)
def test_a_signed_webhook_with_an_odd_session_id_is_400_and_writes_nothing(
    client, didit_sandbox, settings, odd
):
    point_settings_at(didit_sandbox, settings)
    body, headers = delivery(odd, "Approved")
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(URL, data=body, content_type="application/json", headers=headers)
    assert response.status_code == 400
    assert not WebhookDelivery.objects.exists()
    assert didit_sandbox.calls["decision"] == 0


@pytest.mark.django_db
def test_a_vendor_data_longer_than_the_column_is_refused_whole_never_cut(didit_sandbox):
    client = fast_client(didit_sandbox)
    long_vendor = "customer-" + "x" * 300
    workflow_id = next(iter(didit_sandbox.workflows.values()))
    created = client.create_session(vendor_data=long_vendor, workflow_id=workflow_id)

    run = sync_sessions(client, full=True)

    assert run.failed == 1 and run.status == "partial"
    [error] = run.errors
    assert error["session_id"] == created.session_id
    assert "vendor_data is 309 characters" in error["error"]
    assert not VerificationSession.objects.filter(session_id=created.session_id).exists()
    assert not VerificationSession.objects.filter(vendor_data__startswith="customer-x").exists()


# --- Finding 7: one budget per purpose, one token for many requests -----------------------------


def budget_client(server, settings, purpose: str, **overrides) -> DiditClient:
    point_settings_at(server, settings)
    return DiditClient.from_settings(purpose=purpose, backoff=0.01, **overrides)


@pytest.mark.parametrize(
    ("purpose", "attempts"), [("interactive", 2), ("batch", 5)], ids=["interactive", "batch"]
)
@pytest.mark.parametrize(
    ("fault", "error"),
    [("503", DiditUnavailable), ("malformed", DiditBadResponse)],
    ids=["503", "malformed-body"],
)
def test_each_budget_makes_a_fixed_number_of_http_attempts_per_call(
    didit_sandbox_factory, settings, purpose, attempts, fault, error
):
    server = didit_sandbox_factory(sessions=3, fault_rate=1.0, faults=(fault,))
    client = budget_client(server, settings, purpose, max_backoff=0.02)
    with pytest.raises(error):
        client.get_decision(server.session_ids()[0])
    # The malformed body is retried in the same loop and budget: never retries of retries.
    assert server.calls["decision"] == attempts
    assert client.stats["attempts"] == attempts


def test_a_429_asking_for_a_minute_ends_an_interactive_call_at_once(
    didit_sandbox_factory, settings
):
    server = didit_sandbox_factory(
        sessions=3, fault_rate=1.0, faults=("429",), fault_retry_after=60
    )
    client = budget_client(server, settings, "interactive")
    started = time.monotonic()
    with pytest.raises(DiditRateLimited) as caught:
        client.get_decision(server.session_ids()[0])
    assert time.monotonic() - started < 2.0
    assert caught.value.retry_after == 60
    assert server.calls["decision"] == 1


def test_a_short_429_is_waited_out_once_by_an_interactive_call(didit_sandbox_factory, settings):
    server = didit_sandbox_factory(sessions=3, fault_rate=1.0, faults=("429",), fault_retry_after=1)
    waited: list[float] = []
    client = budget_client(server, settings, "interactive", sleep=waited.append)
    with pytest.raises(DiditRateLimited):
        client.get_decision(server.session_ids()[0])
    assert server.calls["decision"] == 2
    assert waited == [pytest.approx(1.0, abs=0.5)]


def test_the_batch_budget_waits_out_a_minute_long_429_four_times(didit_sandbox_factory, settings):
    server = didit_sandbox_factory(
        sessions=3, fault_rate=1.0, faults=("429",), fault_retry_after=60
    )
    waited: list[float] = []
    client = budget_client(server, settings, "batch", sleep=waited.append)
    with pytest.raises(DiditRateLimited):
        client.get_decision(server.session_ids()[0])
    assert server.calls["decision"] == 5
    assert len(waited) == 4 and min(waited) >= 60


def test_the_interactive_budget_has_a_short_read_timeout(didit_sandbox_factory, settings):
    server = didit_sandbox_factory(sessions=3, fault_rate=1.0, faults=("slow",), slow_seconds=1.5)
    settings.DIDIT_INTERACTIVE_READ_TIMEOUT = 0.3
    client = budget_client(server, settings, "interactive")
    assert client.transport.timeout[1] == 0.3
    with pytest.raises(DiditUnavailable, match="timed out"):
        client.get_decision(server.session_ids()[0])
    assert server.calls["decision"] == 2


@pytest.mark.django_db
def test_one_oauth_token_serves_many_console_requests(didit_sandbox, settings, viewer_client):
    point_settings_at(didit_sandbox, settings)
    settings.DIDIT_API_KEY = ""
    settings.DIDIT_CLIENT_ID = "sandbox-client-id"
    settings.DIDIT_CLIENT_SECRET = "sandbox-client-secret"
    sync_sessions(DiditClient.from_settings(purpose="batch"), full=True)
    reportable = [
        s for s in didit_sandbox.session_ids() if didit_sandbox.decision(s)["status"] in REVIEWABLE
    ]
    # Each request builds its own client (as each process would): the token is shared.
    for session_id in reportable[:4]:
        response = viewer_client.get(f"/sessions/{session_id}/pdf/")
        assert response.status_code == 200
        b"".join(response.streaming_content)
        body, headers = delivery(session_id, "Approved")
        with TestCase.captureOnCommitCallbacks(execute=True):
            viewer_client.post(URL, data=body, content_type="application/json", headers=headers)
    assert didit_sandbox.calls["pdf"] == 4
    assert didit_sandbox.calls["decision"] >= 30 + 4
    assert didit_sandbox.calls["token"] == 1


@pytest.mark.django_db
def test_a_token_rejected_by_didit_is_dropped_from_the_shared_cache(didit_sandbox, settings):
    point_settings_at(didit_sandbox, settings)
    settings.DIDIT_API_KEY = ""
    settings.DIDIT_CLIENT_ID = "sandbox-client-id"
    settings.DIDIT_CLIENT_SECRET = "sandbox-client-secret"
    session_id = didit_sandbox.session_ids()[0]
    DiditClient.from_settings().get_decision(session_id)
    didit_sandbox.expire_tokens()
    DiditClient.from_settings().get_decision(session_id)  # 401, a new token, once more
    DiditClient.from_settings().get_decision(session_id)
    assert didit_sandbox.calls["token"] == 2
