"""``python manage.py apply_retention [--dry-run] [--delete-at-didit]``."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from verifications.packs import delete_expired_packs
from verifications.retention import apply_retention


class Command(BaseCommand):
    help = (
        "Purge the personal data and evidence of sessions whose last activity is older than "
        "RETENTION_DAYS, keeping a tombstone (id, dates, final status, reviews, audit trail). "
        "Also deletes expired evidence packs. Run it daily (cron, systemd timer)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="List the sessions due; change nothing."
        )
        parser.add_argument(
            "--delete-at-didit",
            action="store_true",
            help="Delete each session at Didit first (irreversible); kept here if Didit fails.",
        )

    def handle(self, *args, dry_run: bool, delete_at_didit: bool, **options) -> None:
        if settings.RETENTION_DAYS is None:
            self.stdout.write("apply_retention: RETENTION_DAYS is not set; everything is kept")
            return
        result = apply_retention(dry_run=dry_run, delete_at_didit=delete_at_didit)
        if dry_run:
            for session_id in result.due:
                self.stdout.write(f"would purge {session_id}")
            self.stdout.write(
                f"apply_retention: {len(result.due)} sessions inactive since before "
                f"{result.cutoff:%Y-%m-%d %H:%M} would be purged (dry run)"
            )
            return
        packs = delete_expired_packs()
        for session_id, error in result.failed:
            self.stderr.write(f"apply_retention: {session_id} kept: {error}")
        self.stdout.write(
            f"apply_retention: {len(result.purged)} sessions purged, {result.files_deleted} "
            f"evidence files deleted, {len(result.failed)} failed, {packs} expired packs deleted"
        )
        if result.failed:
            raise SystemExit(1)
