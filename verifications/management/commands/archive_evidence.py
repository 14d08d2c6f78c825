"""``python manage.py archive_evidence [--session ID]``: archive what is not archived yet."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser
from django.db.models import Q

from verifications.models import EvidenceStatus, VerificationSession
from verifications.tasks import archive_evidence


class Command(BaseCommand):
    help = (
        "Enqueue the evidence archive for sessions with media not yet archived (those synced "
        "before the archive existed, or whose retries ran out). A worker does the copying."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--session", dest="session_id", help="Only this session.")

    def handle(self, *args, session_id: str | None, **options) -> None:
        sessions = VerificationSession.objects.filter(purged_at__isnull=True)
        if session_id:
            sessions = sessions.filter(session_id=session_id)
        else:
            unfinished = Q(evidence__isnull=True) | ~Q(evidence__status=EvidenceStatus.ARCHIVED)
            sessions = sessions.filter(unfinished).distinct()
        count = 0
        for pk in sessions.values_list("pk", flat=True).iterator():
            archive_evidence.enqueue(pk)
            count += 1
        self.stdout.write(f"archive_evidence: {count} sessions enqueued")
