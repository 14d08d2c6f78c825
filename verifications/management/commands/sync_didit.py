"""``python manage.py sync_didit``: bring the local copy up to date with Didit."""

from __future__ import annotations

import argparse
import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser

from users.sync import sync_users_after_run
from verifications.deliveries import process_pending_deliveries
from verifications.didit.client import DiditClient
from verifications.models import SyncRunStatus
from verifications.sync import SyncLocked, sync_sessions


class Command(BaseCommand):
    help = (
        "Sync sessions from Didit: list them, fetch the decisions of new or changed ones "
        "(a list row's updated_at, status, features or hit count differ from ours). First, "
        "re-fetch sessions of webhook deliveries a worker has not processed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", type=_iso_date, help="YYYY-MM-DD: list from.")
        parser.add_argument("--vendor-data", help="Only this user's sessions.")
        parser.add_argument("--session", dest="session_id", help="Fetch this one session.")
        parser.add_argument("--full", action="store_true", help="List every session.")

    def handle(self, *args, since, vendor_data, session_id, full, **options) -> None:
        started = shown = time.monotonic()
        tty = self.stdout.isatty()

        def progress(done: int, total: int | None) -> None:
            nonlocal shown
            now = time.monotonic()
            if now - shown < 0.2 and done != total:
                return  # A terminal redrawn five times a second is plenty.
            shown = now
            rate = done / max(now - started, 1e-6)
            of = f"/{total}" if total is not None else ""
            self.stdout.write(f"\r{done}{of} sessions, {rate:.1f}/s", ending="")
            self.stdout.flush()

        client = DiditClient.from_settings(purpose="batch")
        if redone := process_pending_deliveries(client=client):
            self.stderr.write(f"sync_didit: {redone} pending webhook deliveries re-fetched")
        try:
            run = sync_sessions(
                client,
                since=since,
                vendor_data=vendor_data,
                session_id=session_id,
                full=full,
                progress=progress if tty else None,
                stdout=self.stderr,  # One line per failed session, beside the summary.
            )
        except SyncLocked as exc:
            raise CommandError(f"sync_didit: {exc}", returncode=2) from None
        if tty:
            self.stdout.write("")
        users = sync_users_after_run(client, run)  # Didit's User records (users/sync.py).
        self.stdout.write(f"sync_didit: {run.summary()}; {users.summary()}")
        if run.status != SyncRunStatus.SUCCEEDED:
            raise CommandError(f"sync_didit: run {run.pk} ended {run.status}", returncode=1)
        if not users.ok:
            raise CommandError("sync_didit: Didit's user records were not synced", returncode=1)


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, not {value!r}") from None
