"""Sync runs: list sessions, fetch only the decisions that changed, apply each on its own.

A ``SyncRun`` row is the lock (at most one ``running`` row, by a partial unique
constraint), the progress record (counts flushed with a heartbeat) and the report.
"""

from __future__ import annotations

import logging
import os
import socket
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, timedelta
from typing import Any, TextIO

from django.db import IntegrityError, transaction
from django.utils import timezone

from verifications.didit.client import DiditAuthError, DiditConfigError, DiditError
from verifications.models import SyncRun, SyncRunMode, SyncRunStatus, VerificationSession

from .apply import CREATED, UNCHANGED, UPDATED, apply_decision
from .coerce import as_date, as_str
from .deleted import mark_deleted_at_didit
from .parse import DecisionError, list_fingerprint

logger = logging.getLogger(__name__)

# A running row whose heartbeat is older than this belongs to a dead process.
LOCK_TIMEOUT = timedelta(minutes=10)
HEARTBEAT = timedelta(seconds=5)
# List rows checked against the database per query.
BATCH_SIZE = 100
# Errors kept per run; more are counted, not listed (memory and the row stay small).
MAX_ERRORS = 200
MAX_MESSAGE = 300

Progress = Callable[[int, "int | None"], None]


class SyncLocked(Exception):
    """Another sync run holds the lock."""

    def __init__(self, holder: SyncRun | None) -> None:
        self.holder = holder
        where = f" (run {holder.pk} on {holder.host or '?'} pid {holder.pid})" if holder else ""
        super().__init__(f"another sync is running{where}")


class SyncLockLost(Exception):
    """Our run was declared dead and taken over by another process: stop at once."""


def sync_sessions(
    client: Any,
    *,
    since: date | str | None = None,
    vendor_data: str | None = None,
    session_id: str | None = None,
    full: bool = False,
    progress: Progress | None = None,
    stdout: TextIO | None = None,
    lock_timeout: timedelta = LOCK_TIMEOUT,
) -> SyncRun:
    """Bring our copy up to date with Didit; returns the finished ``SyncRun``.

    Without options: incremental. Didit's list has no "updated since" filter (SPEC.md lists
    only created-date filters), and a change to an old session (a review, a hit's review, a
    new status) changes its row, not its place in the list; so an incremental run lists
    every row, which is cheap (read family, 100 rows a call), and fetches decisions only for
    rows whose fingerprint (``updated_at`` when Didit sends it) differs from ours: the
    sessions updated since the last run. ``full`` does the same listing; ``since`` from a date,
    ``vendor_data`` one user's sessions, ``session_id`` fetches that one decision. Raises
    ``SyncLocked`` if another run holds the lock; every other failure ends up in the run.
    """
    since_day = _since(since)
    mode = _mode(session_id=session_id, vendor_data=vendor_data, since=since_day, full=full)
    filters: dict[str, Any] = {}
    if vendor_data:
        filters["vendor_data"] = vendor_data
    if since_day:
        filters["date_from"] = since_day.isoformat()
    options = {"since": since_day and since_day.isoformat(), "vendor_data": vendor_data}
    options.update(session_id=session_id, full=full, filters=filters)
    run = start_run(mode=mode, options=options, lock_timeout=lock_timeout)
    runner = _Runner(run, client, progress=progress, stdout=stdout)
    try:
        if session_id:
            runner.total = 1
            runner.process(session_id, row=None)
        else:
            runner.total = _count(client, filters)
            listed: set[str] = set()
            for batch in _batches(client.iter_sessions(**filters), BATCH_SIZE):
                runner.process_batch(batch)
                listed.update(as_str(row.get("session_id")) for row in batch)
            if full and not filters:  # A complete listing: what it lacks, Didit may have deleted.
                mark_deleted_at_didit(client, listed, listed_since=run.started_at, stdout=stdout)
    except SyncLockLost:
        runner.abort("the lock was taken over by another run")
    except (DiditError, DecisionError) as exc:
        runner.abort(_short(exc))
    except BaseException:
        runner.abort("interrupted")
        runner.finish()
        raise
    runner.finish()
    return run


def resync_session(client: Any, session_id: str, *, refresh_media: bool = False) -> str:
    """Fetch one decision and apply it: "created", "updated" or "unchanged".

    For webhooks, the admin's re-sync action and the console (``refresh_media=True`` when
    stored image URLs have expired). Raises ``DiditError`` or ``DecisionError``.
    """
    decision, fetched_between = fetch_decision(client, session_id)
    if isinstance(decision, dict) and str(decision.get("session_id")) != str(session_id):
        raise DecisionError("Didit answered with another session's decision")
    return apply_decision(decision, refresh_media=refresh_media, fetched_between=fetched_between)


def fetch_decision(client: Any, session_id: str) -> tuple[Any, tuple[datetime, datetime]]:
    """Didit's decision, and (before the request, after the answer) for ``apply_decision``."""
    asked_at = timezone.now()
    decision = client.get_decision(session_id)
    return decision, (asked_at, timezone.now())


def start_run(
    *, mode: str, options: dict | None = None, lock_timeout: timedelta = LOCK_TIMEOUT
) -> SyncRun:
    """Insert our ``running`` row, taking over one whose process is gone; else SyncLocked."""
    for _ in range(3):
        try:
            with transaction.atomic():
                return SyncRun.objects.create(
                    mode=mode, options=options or {}, host=socket.gethostname(), pid=os.getpid()
                )
        except IntegrityError:
            holder = SyncRun.objects.filter(status=SyncRunStatus.RUNNING).first()
            if holder is None:
                continue  # It finished in between: try again.
            if not _is_stale(holder, lock_timeout):
                raise SyncLocked(holder) from None
            note = {"session_id": "", "error": f"abandoned; lock taken over by pid {os.getpid()}"}
            SyncRun.objects.filter(
                pk=holder.pk, status=SyncRunStatus.RUNNING, heartbeat_at=holder.heartbeat_at
            ).update(
                status=SyncRunStatus.FAILED,
                finished_at=timezone.now(),
                errors=[*holder.errors, note][-MAX_ERRORS:],
            )
    raise SyncLocked(SyncRun.objects.filter(status=SyncRunStatus.RUNNING).first())


class _Runner:
    """Counts, errors, heartbeat and progress of one run; processes rows one at a time."""

    def __init__(self, run: SyncRun, client: Any, *, progress: Progress | None, stdout) -> None:
        self.run = run
        self.client = client
        self.progress = progress
        self.stdout = stdout
        self.total: int | None = None
        self.aborted = ""
        self.last_flush = timezone.now()
        self.stats_before = Counter(getattr(client, "stats", {}))

    def process_batch(self, rows: list[dict]) -> None:
        ids = [as_str(row.get("session_id")) for row in rows]
        known = dict(
            VerificationSession.objects.filter(session_id__in=[i for i in ids if i]).values_list(
                "session_id", "list_fingerprint"
            )
        )
        for session_id, row in zip(ids, rows, strict=True):
            if not session_id:
                self.run.listed += 1
                self.record_failure("", "list row without a session_id")
            elif known.get(session_id) == list_fingerprint(row):
                self.run.listed += 1
                self.run.unchanged += 1
            else:
                self.process(session_id, row=row)
            self.tick()

    def process(self, session_id: str, *, row: dict | None) -> None:
        """Fetch and apply one decision; a failure is recorded and the run goes on."""
        if row is not None:
            self.run.listed += 1
        try:
            decision, fetched_between = fetch_decision(self.client, session_id)
            self.run.fetched += 1
            if isinstance(decision, dict) and str(decision.get("session_id")) != session_id:
                raise DecisionError("Didit answered with another session's decision")
            result = apply_decision(decision, list_row=row, fetched_between=fetched_between)
        except (DiditAuthError, DiditConfigError):
            raise  # Every call would fail the same way: stop the run.
        except (DiditError, DecisionError) as exc:
            self.record_failure(session_id, _short(exc))
            return
        except Exception as exc:
            logger.exception("sync of session %s failed", session_id)
            self.record_failure(session_id, f"unexpected {type(exc).__name__} (see the logs)")
            return
        counter = {CREATED: "created", UPDATED: "updated", UNCHANGED: "unchanged"}[result]
        setattr(self.run, counter, getattr(self.run, counter) + 1)

    def record_failure(self, session_id: str, message: str) -> None:
        self.run.failed += 1
        if len(self.run.errors) < MAX_ERRORS:
            self.run.errors.append({"session_id": session_id, "error": message})
        if self.stdout is not None:
            self.stdout.write(f"sync_didit: session {session_id or '?'} failed: {message}\n")

    def tick(self) -> None:
        if self.progress is not None:
            self.progress(self.run.listed, self.total)
        if timezone.now() - self.last_flush >= HEARTBEAT:
            self.flush()

    def flush(self, **final: Any) -> None:
        """Save counts and heartbeat, only while we still hold the lock."""
        self.last_flush = timezone.now()
        calls = Counter(getattr(self.client, "stats", {}))
        calls.subtract(self.stats_before)
        self.run.api_calls = {name: count for name, count in sorted(calls.items()) if count}
        self.run.heartbeat_at = self.last_flush
        fields = ["listed", "fetched", "created", "updated", "unchanged", "failed", "errors"]
        values = {name: getattr(self.run, name) for name in [*fields, "api_calls"]}
        held = SyncRun.objects.filter(pk=self.run.pk, status=SyncRunStatus.RUNNING).update(
            heartbeat_at=self.last_flush, **values, **final
        )
        if not held and not final:
            raise SyncLockLost

    def abort(self, message: str) -> None:
        self.aborted = message
        if len(self.run.errors) < MAX_ERRORS:
            self.run.errors.append({"session_id": "", "error": f"run stopped: {message}"})
        if self.stdout is not None:
            self.stdout.write(f"sync_didit: run stopped: {message}\n")

    def finish(self) -> None:
        run = self.run
        done = run.created + run.updated + run.unchanged
        if self.aborted or (run.failed and not done):
            run.status = SyncRunStatus.FAILED
        elif run.failed:
            run.status = SyncRunStatus.PARTIAL
        else:
            run.status = SyncRunStatus.SUCCEEDED
        run.finished_at = timezone.now()
        self.flush(status=run.status, finished_at=run.finished_at)


def _is_stale(run: SyncRun, timeout: timedelta) -> bool:
    """Its heartbeat stopped, or it ran on this host under a process that no longer exists."""
    if timezone.now() - run.heartbeat_at > timeout:
        return True
    if run.host == socket.gethostname() and run.pid and run.pid != os.getpid():
        try:
            os.kill(run.pid, 0)
        except ProcessLookupError:
            return True
        except OSError:
            return False  # It exists but is not ours to signal.
    return False


def _mode(*, session_id: str | None, vendor_data: str | None, since: Any, full: bool) -> str:
    if session_id:
        return SyncRunMode.SESSION
    if vendor_data:
        return SyncRunMode.VENDOR_DATA
    if since:
        return SyncRunMode.SINCE
    return SyncRunMode.FULL if full else SyncRunMode.INCREMENTAL


def _since(value: date | str | None) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    parsed = as_date(value)
    if parsed is None:
        raise ValueError(f"not an ISO date: {value!r}")
    return parsed


def _count(client: Any, filters: dict) -> int | None:
    try:
        return client.count_sessions(**filters)
    except DiditError:
        return None  # Only the progress total is lost; listing will tell us the rest.


def _batches(rows: Iterable[dict], size: int) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _short(exc: Exception) -> str:
    return str(exc)[:MAX_MESSAGE] or type(exc).__name__
