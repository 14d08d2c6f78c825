"""sync_sessions, resync_session, the lock and the command, with an in-memory Didit."""

from __future__ import annotations

import copy
import io
import socket
import subprocess
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tests.data.samples import list_row, load
from verifications.didit.client import (
    DiditAuthError,
    DiditBadResponse,
    DiditNotFound,
    DiditUnavailable,
)
from verifications.management.commands import sync_didit as command_module
from verifications.models import SyncRun, VerificationSession
from verifications.sync import SyncLocked, resync_session, start_run, sync_sessions

pytestmark = pytest.mark.django_db


class FakeDidit:
    """The client's interface over a dict of decisions, newest first, counting calls."""

    def __init__(self, count: int = 5) -> None:
        self.decisions: dict[str, dict] = {}
        self.failures: dict[str, Exception] = {}
        self.list_calls: list[dict] = []
        self.stats: Counter[str] = Counter()
        base = load("v3-decision-full.json")
        for n in range(count):
            decision = copy.deepcopy(base)
            decision["session_id"] = f"session-{n:03d}"
            decision["vendor_data"] = f"user-{n % 3}"
            decision["created_at"] = f"2025-01-{n + 1:02d}T10:00:00Z"
            self.decisions[decision["session_id"]] = decision

    def iter_users(self, **_):
        return iter(())  # Didit's User records: none here (users/sync.py is tested apart).

    def get_user(self, vendor_data):
        raise DiditNotFound("no such user", status=404, operation="user")

    def rows(self, **filters):
        for session_id, decision in reversed(list(self.decisions.items())):
            if not isinstance(decision, dict):  # A broken decision still has a list row.
                yield {"session_id": session_id, "status": "In Review"}
                continue
            if filters.get("vendor_data") not in (None, decision["vendor_data"]):
                continue
            if filters.get("date_from") and decision["created_at"][:10] < filters["date_from"]:
                continue
            yield list_row(decision, session_id=session_id)

    def iter_sessions(self, **filters):
        self.list_calls.append(filters)
        self.stats["list"] += 1
        yield from self.rows(**filters)

    def count_sessions(self, **filters):
        return sum(1 for _ in self.rows(**filters))

    def get_decision(self, session_id):
        self.stats["decision"] += 1
        if session_id in self.failures:
            raise self.failures[session_id]
        if session_id not in self.decisions:
            raise DiditNotFound("Not found.", status=404, operation="decision")
        return copy.deepcopy(self.decisions[session_id])


@pytest.fixture
def didit():
    return FakeDidit()


def test_a_first_run_creates_everything_and_a_second_run_fetches_nothing(didit):
    run = sync_sessions(didit, full=True)
    assert (run.status, run.listed, run.fetched, run.created, run.failed) == (
        "succeeded",
        5,
        5,
        5,
        0,
    )
    assert run.api_calls == {"decision": 5, "list": 1}
    assert VerificationSession.objects.count() == 5

    didit.stats.clear()
    again = sync_sessions(didit, full=True)
    assert (again.listed, again.fetched, again.unchanged, again.created, again.updated) == (
        5,
        0,
        5,
        0,
        0,
    )
    assert didit.stats["decision"] == 0


def test_a_changed_list_row_fetches_that_decision_only(didit):
    sync_sessions(didit, full=True)
    didit.decisions["session-002"]["status"] = "Approved"
    didit.stats.clear()

    run = sync_sessions(didit, full=True)
    assert (run.fetched, run.updated, run.unchanged) == (1, 1, 4)
    assert VerificationSession.objects.get(session_id="session-002").status == "Approved"


def test_one_failing_session_is_recorded_and_the_run_goes_on(didit):
    didit.failures["session-001"] = DiditUnavailable("Service unavailable", status=503)
    didit.failures["session-003"] = DiditBadResponse("malformed JSON in the response")
    didit.decisions["session-004"] = ["not", "a", "decision"]
    stderr = io.StringIO()

    run = sync_sessions(didit, full=True, stdout=stderr)
    assert (run.status, run.created, run.failed) == ("partial", 2, 3)
    errors = {error["session_id"]: error["error"] for error in run.errors}
    assert sorted(errors) == ["session-001", "session-003", "session-004"]
    assert "HTTP 503" in errors["session-001"]
    assert errors["session-004"] == "decision is list, not an object"
    assert "session-004 failed" in stderr.getvalue()
    assert VerificationSession.objects.count() == 2

    didit.failures.clear()
    didit.decisions["session-004"] = copy.deepcopy(didit.decisions["session-000"])
    didit.decisions["session-004"]["session_id"] = "session-004"
    rerun = sync_sessions(didit, full=True)
    assert (rerun.status, rerun.fetched, rerun.created) == ("succeeded", 3, 3)


def test_a_decision_for_another_session_is_refused(didit):
    didit.decisions["session-001"] = copy.deepcopy(didit.decisions["session-000"])
    run = sync_sessions(didit, full=True)
    assert run.failed == 1 and "another session" in run.errors[0]["error"]


def test_an_auth_error_stops_the_run(didit):
    didit.failures["session-004"] = DiditAuthError("Invalid API key", status=403)
    run = sync_sessions(didit, full=True)
    assert run.status == "failed" and run.fetched == 0
    assert "run stopped" in run.errors[-1]["error"]


def test_a_run_without_options_lists_every_row_but_fetches_only_changed_ones(didit):
    # Didit's list has no updated-since filter: an incremental run reads every row (a
    # change to an old session moves its row, not its place) and fetches what changed.
    first = sync_sessions(didit)
    assert first.mode == "incremental" and didit.list_calls[-1] == {}
    SyncRun.objects.filter(pk=first.pk).update(started_at=datetime(2025, 3, 10, 8, tzinfo=UTC))
    didit.stats.clear()

    run = sync_sessions(didit)
    assert didit.list_calls[-1] == {}
    assert (run.listed, run.fetched) == (5, 0)
    assert didit.stats["decision"] == 0


def test_since_and_vendor_data_become_list_filters(didit):
    run = sync_sessions(didit, since="2025-01-03", vendor_data="user-1")
    assert didit.list_calls[-1] == {"vendor_data": "user-1", "date_from": "2025-01-03"}
    assert run.mode == "vendor_data" and run.listed == 1  # session-004 only
    assert list(VerificationSession.objects.values_list("session_id", flat=True)) == ["session-004"]


def test_a_single_session_is_fetched_directly(didit):
    run = sync_sessions(didit, session_id="session-002")
    assert (run.mode, run.listed, run.fetched, run.created) == ("session", 0, 1, 1)
    assert didit.list_calls == []

    missing = sync_sessions(didit, session_id="no-such-session")
    assert missing.status == "failed" and "404" in missing.errors[0]["error"]


def test_resync_session_applies_one_decision(didit):
    assert resync_session(didit, "session-001") == "created"
    assert resync_session(didit, "session-001") == "unchanged"
    didit.decisions["session-001"]["status"] = "Declined"
    assert resync_session(didit, "session-001") == "updated"
    with pytest.raises(DiditNotFound):
        resync_session(didit, "nope")


def test_the_lock_refuses_a_second_run_while_one_is_running(didit):
    holder = SyncRun.objects.create(mode="full", host="other-host", pid=1)
    with pytest.raises(SyncLocked) as refused:
        sync_sessions(didit)
    assert refused.value.holder == holder
    assert didit.stats["list"] == 0


def test_a_run_whose_heartbeat_stopped_is_taken_over(didit):
    stale = SyncRun.objects.create(
        mode="full", host="other-host", pid=1, heartbeat_at=timezone.now() - timedelta(hours=1)
    )
    run = sync_sessions(didit)
    stale.refresh_from_db()
    assert stale.status == "failed" and "taken over" in stale.errors[-1]["error"]
    assert run.status == "succeeded"


def test_a_run_of_a_dead_process_on_this_host_is_taken_over_at_once(didit):
    child = subprocess.Popen(["true"])  # noqa: S603, S607 - a process that has exited
    child.wait()
    SyncRun.objects.create(mode="full", host=socket.gethostname(), pid=child.pid)
    assert sync_sessions(didit).status == "succeeded"


def test_only_one_run_can_hold_the_lock():
    first = start_run(mode="full")
    with pytest.raises(SyncLocked):
        start_run(mode="full")
    first.status = "succeeded"
    first.save()
    start_run(mode="full")


def test_a_run_that_loses_its_lock_stops(didit, monkeypatch):
    from verifications.sync import runs

    monkeypatch.setattr(runs, "HEARTBEAT", timedelta(0))
    original = didit.get_decision

    def taken_over(session_id):
        SyncRun.objects.filter(status="running").update(status="failed")
        return original(session_id)

    didit.get_decision = taken_over
    run = sync_sessions(didit, full=True)
    assert run.fetched == 1
    assert "taken over" in run.errors[-1]["error"]
    assert SyncRun.objects.get(pk=run.pk).status == "failed"


@pytest.fixture
def fake_client(monkeypatch, didit):
    monkeypatch.setattr(
        command_module.DiditClient, "from_settings", classmethod(lambda cls, **kw: didit)
    )
    return didit


def test_the_command_prints_one_summary_line(fake_client):
    out = io.StringIO()
    call_command("sync_didit", "--full", stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        "sync_didit: 5 listed, 5 fetched, 5 created, 0 updated, 0 unchanged, 0 failed in "
    )


def test_the_command_passes_its_options(fake_client):
    call_command(
        "sync_didit", "--since", "2025-01-02", "--vendor-data", "user-2", stdout=io.StringIO()
    )
    assert fake_client.list_calls[-1] == {"vendor_data": "user-2", "date_from": "2025-01-02"}
    call_command("sync_didit", "--session", "session-003", stdout=io.StringIO())
    assert SyncRun.objects.first().options["session_id"] == "session-003"


def test_the_command_exits_1_when_anything_failed(fake_client):
    fake_client.failures["session-002"] = DiditUnavailable("timed out")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("sync_didit", stdout=out, stderr=err)
    assert failed.value.returncode == 1
    assert "1 failed" in out.getvalue()
    assert "session-002 failed: timed out" in err.getvalue()


def test_the_command_exits_2_when_another_run_holds_the_lock(fake_client):
    SyncRun.objects.create(mode="full", host="elsewhere", pid=4242)
    with pytest.raises(CommandError) as locked:
        call_command("sync_didit", stdout=io.StringIO())
    assert locked.value.returncode == 2
    assert "another sync is running" in str(locked.value)


def test_progress_reports_sessions_done_out_of_the_total(didit):
    seen = []
    sync_sessions(didit, full=True, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(n, 5) for n in range(1, 6)]
