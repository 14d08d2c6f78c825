"""The sync against the sandbox Didit over real HTTP: equal to the source, idempotent, robust."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tests.sandbox import API_KEY, fast_client, point_settings_at
from users.models import DiditUser
from verifications.decisions import update_session_status
from verifications.didit.client import DiditClient
from verifications.models import (
    AmlHit,
    Review,
    SessionWarning,
    SyncRun,
    VerificationSession,
)
from verifications.sync import apply_decision, resync_session, sync_sessions

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def source_counts(server) -> Counter:
    """What Didit holds, counted straight from the decisions it serves (not via our mapping)."""
    totals: Counter = Counter()
    for session_id in server.session_ids():
        decision = server.decision(session_id)
        totals["sessions"] += 1
        totals[f"status {decision['status']}"] += 1
        totals["reviews"] += len(decision.get("reviews") or [])
        totals["warnings"] += len(decision.get("warnings") or [])
        screenings = [decision.get("aml")] + list(decision.get("aml_screenings") or [])
        hit_ids = {
            hit["id"]
            for screening in screenings
            if isinstance(screening, dict)
            for hit in screening.get("hits") or []
        }
        totals["aml hits"] += len(hit_ids)
        for key, value in decision.items():
            items = value if isinstance(value, list) else [value]
            for item in items:
                if isinstance(item, dict) and key != "reviews":
                    totals["warnings"] += len(item.get("warnings") or [])
    return totals


def local_counts() -> Counter:
    totals = Counter(
        {
            "sessions": VerificationSession.objects.count(),
            "reviews": Review.objects.count(),
            "warnings": SessionWarning.objects.count(),
            "aml hits": AmlHit.objects.count(),
        }
    )
    for status in VerificationSession.objects.values_list("status", flat=True):
        totals[f"status {status}"] += 1
    return totals


def test_a_thousand_sessions_sync_equal_to_the_source_and_a_rerun_changes_nothing(
    didit_sandbox_factory,
):
    server = didit_sandbox_factory(sessions=1000, seed=7)
    client = fast_client(server)

    run = sync_sessions(client, full=True)
    assert (run.status, run.listed, run.fetched, run.created, run.failed) == (
        "succeeded",
        1000,
        1000,
        1000,
        0,
    )
    source = source_counts(server)
    assert local_counts() == source
    assert source["aml hits"] > 0 and source["warnings"] > 0 and source["reviews"] > 0
    shapes = Counter(VerificationSession.objects.values_list("api_shape", flat=True))
    assert set(shapes) == {"v1", "v2", "v3"}
    assert DiditUser.objects.count() == len(
        set(VerificationSession.objects.exclude(vendor_data="").values_list("vendor_data"))
    )

    client.stats.clear()
    again = sync_sessions(client, full=True)
    assert client.stats["decision"] == 0
    assert (again.status, again.unchanged, again.created, again.updated) == (
        "succeeded",
        1000,
        0,
        0,
    )
    assert local_counts() == source


def test_with_20_percent_faults_the_first_run_is_incomplete_and_a_rerun_ends_equal(
    didit_sandbox_factory,
):
    server = didit_sandbox_factory(sessions=300, seed=11, slow_seconds=0.6)
    server.set_faults(0.2)

    # A client that gives up early, so faults surface as failures of the first run.
    first = sync_sessions(fast_client(server, max_retries=1, timeout=(1.0, 0.3)), full=True)
    assert first.status in ("partial", "failed")
    assert first.failed > 0 or first.status == "failed"

    # Still 20% faults: a patient client gets everything, and nothing twice.
    rerun = sync_sessions(fast_client(server, max_retries=8, timeout=(1.0, 0.3)), full=True)
    assert (rerun.status, rerun.failed) == ("succeeded", 0), rerun.errors
    assert local_counts() == source_counts(server)

    server.set_faults(0.0)
    clean = fast_client(server)
    final = sync_sessions(clean, full=True)
    assert (final.fetched, final.created, final.updated) == (0, 0, 0)
    assert clean.stats["decision"] == 0


@pytest.fixture
def sandbox_settings(settings, monkeypatch, didit_sandbox):
    """Point the command's ``DiditClient.from_settings()`` at the sandbox, fast."""
    settings.DIDIT_VERIFICATION_URL = didit_sandbox.base_url
    settings.DIDIT_AUTH_URL = didit_sandbox.base_url
    settings.DIDIT_API_KEY = API_KEY
    settings.DIDIT_API_VERSION = "v3"
    settings.DIDIT_RATE_LIMITS = ""
    settings.DIDIT_CONNECT_TIMEOUT = settings.DIDIT_READ_TIMEOUT = 5.0
    build = DiditClient.from_settings.__func__
    monkeypatch.setattr(
        DiditClient,
        "from_settings",
        classmethod(lambda cls, **kw: build(cls, backoff=0.01, max_backoff=0.05, **kw)),
    )
    return didit_sandbox


def run_command(*args: str) -> str:
    out = io.StringIO()
    call_command("sync_didit", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_the_command_syncs_the_sandbox_then_finds_nothing_to_do(sandbox_settings):
    assert run_command().startswith("sync_didit: 30 listed, 30 fetched, 30 created, 0 updated")
    assert "0 fetched, 0 created, 0 updated, 30 unchanged, 0 failed" in run_command("--full")
    assert local_counts() == source_counts(sandbox_settings)


def test_an_incremental_run_picks_up_new_and_changed_recent_sessions(sandbox_settings):
    server = sandbox_settings
    run_command("--full")
    new = server.add_sessions(3)
    server.change_status(new[0], "Declined", comment="Blurry document.")

    output = run_command()
    run = SyncRun.objects.first()
    assert run.mode == "incremental" and run.options["filters"] == {}
    assert (run.fetched, run.created, run.failed) == (3, 3, 0), output
    assert VerificationSession.objects.get(session_id=new[0]).status == "Declined"
    assert local_counts() == source_counts(server)


def test_the_command_syncs_one_session_by_id(sandbox_settings):
    session_id = sandbox_settings.session_ids()[5]
    assert "0 listed, 1 fetched, 1 created" in run_command("--session", session_id)
    assert list(VerificationSession.objects.values_list("session_id", flat=True)) == [session_id]


def test_the_command_syncs_one_users_sessions(sandbox_settings):
    server = sandbox_settings
    decisions = [server.decision(session_id) for session_id in server.session_ids()]
    vendor_data = Counter(d["vendor_data"] for d in decisions if d.get("vendor_data"))
    person, sessions = vendor_data.most_common(1)[0]

    run_command("--vendor-data", person)
    assert VerificationSession.objects.count() == sessions
    assert set(VerificationSession.objects.values_list("vendor_data", flat=True)) == {person}
    assert DiditUser.objects.get().session_count == sessions


def test_the_command_syncs_sessions_created_since_a_date(sandbox_settings):
    server = sandbox_settings
    days = sorted(
        server.decision(session_id)["created_at"][:10] for session_id in server.session_ids()
    )
    since = days[len(days) // 2]

    run_command("--since", since)
    expected = sum(1 for day in days if day >= since)
    assert VerificationSession.objects.count() == expected
    assert not VerificationSession.objects.filter(created_at__date__lt=since).exists()


def test_the_command_refuses_to_run_while_another_run_holds_the_lock(sandbox_settings):
    SyncRun.objects.create(mode="full", host="elsewhere", pid=4242)
    with pytest.raises(CommandError) as locked:
        run_command()
    assert locked.value.returncode == 2
    assert sandbox_settings.calls["list"] == 0
    assert VerificationSession.objects.count() == 0


def test_the_command_exits_1_when_the_run_was_incomplete(sandbox_settings, settings):
    sandbox_settings.set_faults(1.0, kinds=["500"])
    with pytest.raises(CommandError) as failed:
        run_command("--full")
    assert failed.value.returncode == 1
    assert SyncRun.objects.get().status == "failed"


# --- An older copy arriving late ---------------------------------------------------------------


def test_a_decision_fetched_before_a_newer_one_never_overwrites_it(didit_sandbox):
    client = fast_client(didit_sandbox)
    sync_sessions(client, full=True)
    session = VerificationSession.objects.filter(status="In Review").first()
    # A sync asks for the decision, then a webhook's re-fetch overtakes it.
    asked_at = timezone.now()
    older = client.get_decision(session.session_id)
    fetched_between = (asked_at, timezone.now())
    didit_sandbox.change_status(session.session_id, "Declined")
    assert resync_session(client, session.session_id) == "updated"

    assert apply_decision(older, fetched_between=fetched_between) == "unchanged"

    session.refresh_from_db()
    assert session.status == "Declined"
    assert session.decision["status"] == "Declined"
    # A copy asked for later than ours is applied as usual.
    didit_sandbox.change_status(session.session_id, "Approved")
    assert resync_session(client, session.session_id) == "updated"
    assert VerificationSession.objects.get(pk=session.pk).status == "Approved"


def test_a_decision_fetched_before_a_reviewers_confirmed_change_never_undoes_it(
    didit_sandbox, settings, reviewer
):
    point_settings_at(didit_sandbox, settings)
    client = fast_client(didit_sandbox)
    sync_sessions(client, full=True)
    session = VerificationSession.objects.filter(status="In Review").first()
    # Didit's copy moves on (a note from its own console), a sync asks for it, and before
    # that answer is applied the reviewer's approval is confirmed by Didit and recorded.
    didit_sandbox.change_status(session.session_id, "In Review", comment="second look")
    asked_at = timezone.now()
    older = client.get_decision(session.session_id)
    fetched_between = (asked_at, timezone.now())
    assert older["status"] == "In Review"
    update_session_status(
        session=session, new_status="Approved", comment="ok", actor=reviewer, request=None
    )

    assert apply_decision(older, fetched_between=fetched_between) == "unchanged"

    assert VerificationSession.objects.get(pk=session.pk).status == "Approved"
