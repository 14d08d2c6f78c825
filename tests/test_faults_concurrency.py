"""Faults and concurrency against the sandbox Didit: the data ends equal to the source.

Each test runs a small sandbox over real HTTP, disturbs the sync (injected faults, dropped
connections, a locked database, a second sync, a webhook or a reviewer in the middle), and
then checks: every session's status and AML hits equal what Didit serves, no row is
duplicated, and the reviewer's action is there exactly once.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db import OperationalError, connection, transaction

from tests.verifications.test_sync_sandbox import local_counts, source_counts
from verifications.decisions import update_session_status
from verifications.models import Review, VerificationSession
from verifications.sync import SyncLocked, sync_sessions

from .trust import fast_client, point_settings_at

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def hit_ids(decision: dict) -> set[str]:
    screenings = [decision.get("aml"), *(decision.get("aml_screenings") or [])]
    return {
        str(hit["id"])
        for screening in screenings
        if isinstance(screening, dict)
        for hit in screening.get("hits") or []
    }


def assert_equal_to_source(server) -> None:
    """Per session: status and AML hits as Didit serves them; overall: no extra rows."""
    local = {
        session.session_id: session
        for session in VerificationSession.objects.prefetch_related("aml_hits")
    }
    assert set(local) == set(server.session_ids())
    for session_id, session in local.items():
        decision = server.decision(session_id)
        assert session.status == decision["status"], session_id
        live_hits = {hit.hit_id for hit in session.aml_hits.all() if hit.removed_at is None}
        assert live_hits == hit_ids(decision), session_id
    assert local_counts() == source_counts(server)


def run_in_thread(target) -> tuple[threading.Thread, dict]:
    """Run ``target`` in a thread with its own database connection; its result or error."""
    outcome: dict = {}

    def body():
        try:
            outcome["result"] = target()
        except BaseException as error:  # noqa: BLE001 - handed back to the test
            outcome["error"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread, outcome


def paused_client(server, *, pause_on: str, after_fetch: bool):
    """A client whose decision fetch for ``pause_on`` waits until ``release`` is set."""
    client = fast_client(server)
    paused, release = threading.Event(), threading.Event()
    fetch = client.get_decision

    def get_decision(session_id, *args, **kwargs):
        if session_id == pause_on and not after_fetch:
            paused.set()
            release.wait(10)
        decision = fetch(session_id, *args, **kwargs)
        if session_id == pause_on and after_fetch:
            paused.set()
            release.wait(10)
        return decision

    client.get_decision = get_decision
    return client, paused, release


# --- Faults ---------------------------------------------------------------------------------


def test_sync_with_20_percent_faults_ends_equal_to_the_source_after_a_rerun(
    didit_sandbox_factory,
):
    server = didit_sandbox_factory(sessions=40, seed=5, slow_seconds=0.4)
    server.set_faults(0.2)

    first = sync_sessions(fast_client(server), full=True)
    server.set_faults(0.0)
    rerun = sync_sessions(fast_client(server), full=True)

    assert first.status in ("succeeded", "partial", "failed")
    assert (rerun.status, rerun.failed) == ("succeeded", 0), rerun.errors
    assert_equal_to_source(server)


def test_connections_dropped_mid_page_lose_nothing(didit_sandbox_factory):
    server = didit_sandbox_factory(sessions=40, seed=6)
    server.set_faults(0.3, kinds=("drop",))

    sync_sessions(fast_client(server), full=True)
    server.set_faults(0.0)
    rerun = sync_sessions(fast_client(server), full=True)

    assert rerun.status == "succeeded", rerun.errors
    assert_equal_to_source(server)


def hold_write_lock(seconds: float, ready: threading.Event):
    """Another connection holds a write lock on the sessions table for ``seconds``."""
    table = VerificationSession._meta.db_table
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f'LOCK TABLE "{table}" IN EXCLUSIVE MODE')  # noqa: S608
        else:
            # SQLite: atomic() begins IMMEDIATE (settings), taking the single write lock.
            VerificationSession.objects.filter(pk=-1).update(status="x")
        ready.set()
        time.sleep(seconds)


def test_a_briefly_locked_database_mid_sync_loses_nothing(didit_sandbox_factory):
    """PostgreSQL waits out the lock and the run succeeds. SQLite's test database (shared
    memory, unlike the WAL file with a busy timeout in production) fails each write at
    once: the sessions fail alone, and if even the run's own row cannot be saved the run
    dies like a crashed process; the next run takes its lock over. Either way, no half
    session, and the next run ends equal to the source."""
    server = didit_sandbox_factory(sessions=20, seed=7)
    third = server.session_ids()[2]
    client, paused, release = paused_client(server, pause_on=third, after_fetch=True)
    syncing, synced = run_in_thread(lambda: sync_sessions(client, full=True))
    assert paused.wait(10)

    ready = threading.Event()
    holder, held = run_in_thread(lambda: hold_write_lock(1.0, ready))
    assert ready.wait(10), held
    release.set()
    syncing.join(30)
    holder.join(10)
    # As a new process would: take over a run whose process died holding the lock.
    rerun = sync_sessions(fast_client(server), full=True, lock_timeout=timedelta(0))

    assert "error" not in held, held
    if connection.vendor == "postgresql":
        assert "error" not in synced, synced
        assert synced["result"].status == "succeeded", synced["result"].errors
    else:
        assert isinstance(synced.get("error"), OperationalError | type(None)), synced
    assert rerun.status == "succeeded", rerun.errors
    assert_equal_to_source(server)


# --- Concurrency ----------------------------------------------------------------------------


def test_two_syncs_started_at_once_one_refuses_and_the_other_completes(didit_sandbox_factory):
    server = didit_sandbox_factory(sessions=15, seed=8)
    first_id = server.session_ids()[0]
    client, paused, release = paused_client(server, pause_on=first_id, after_fetch=False)
    thread, outcome = run_in_thread(lambda: sync_sessions(client, full=True))
    assert paused.wait(10)

    with pytest.raises(SyncLocked):
        sync_sessions(fast_client(server), full=True)
    release.set()
    thread.join(20)

    assert "error" not in outcome, outcome
    assert outcome["result"].status == "succeeded", outcome["result"].errors
    assert_equal_to_source(server)


def reviewable_session_id(server) -> str:
    for session_id in server.session_ids():
        # Decided sessions: moving one back to In Review changes its list row.
        if server.decision(session_id)["status"] in ("Declined", "Approved"):
            return session_id
    raise AssertionError("the sandbox should hold a reviewable session")


@pytest.mark.parametrize("after_fetch", [False, True], ids=["before-fetch", "after-fetch"])
def test_a_webhook_arriving_while_a_sync_writes_the_same_session(
    didit_sandbox_factory, settings, client, after_fetch
):
    from tests.verifications.test_webhook_endpoint import delivery

    server = didit_sandbox_factory(sessions=15, seed=9)
    point_settings_at(server, settings)
    sync_sessions(fast_client(server), full=True)
    session_id = reviewable_session_id(server)
    sync_client, paused, release = paused_client(
        server, pause_on=session_id, after_fetch=after_fetch
    )
    # The list row must differ from what we stored, or the sync would not fetch it.
    server.change_status(session_id, "In Review", comment="second look")
    thread, outcome = run_in_thread(lambda: sync_sessions(sync_client, full=True))
    assert paused.wait(10)

    server.change_status(session_id, "Declined", comment="forged document")
    body, headers = delivery(session_id, "Declined")
    response = client.post(
        "/webhooks/didit/", data=body, content_type="application/json", headers=headers
    )
    release.set()
    thread.join(20)

    assert response.status_code == 200
    assert "error" not in outcome, outcome
    # A sync that fetched before the webhook may write the older decision; the next run
    # (its list row has changed since) brings the session back to the source.
    sync_sessions(fast_client(server), full=True)
    assert_equal_to_source(server)


@pytest.mark.parametrize("after_fetch", [False, True], ids=["before-fetch", "after-fetch"])
def test_a_reviewer_approving_while_a_sync_updates_the_session(
    didit_sandbox_factory, settings, reviewer, after_fetch
):
    server = didit_sandbox_factory(sessions=15, seed=10)
    point_settings_at(server, settings)
    sync_sessions(fast_client(server), full=True)
    session_id = reviewable_session_id(server)
    server.change_status(session_id, "In Review", comment="needs a reviewer")
    sync_client, paused, release = paused_client(
        server, pause_on=session_id, after_fetch=after_fetch
    )
    thread, outcome = run_in_thread(lambda: sync_sessions(sync_client, full=True))
    assert paused.wait(10)

    update_session_status(
        session=VerificationSession.objects.get(session_id=session_id),
        new_status="Approved",
        comment="checked by hand",
        actor=reviewer,
        request=None,
        client=fast_client(server),
    )
    release.set()
    thread.join(20)

    assert "error" not in outcome, outcome
    sync_sessions(fast_client(server), full=True)
    assert_equal_to_source(server)
    session = VerificationSession.objects.get(session_id=session_id)
    assert session.status == "Approved"
    ours = Counter(
        review.comment
        for review in Review.objects.filter(session=session)
        if review.comment == "checked by hand"
    )
    assert ours == {"checked by hand": 1}, "the reviewer's approval was lost or doubled"
