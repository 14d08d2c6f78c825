"""``python manage.py verify_evidence``: re-hash every archived file; exit 1 on any problem."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from verifications.evidence import verify_archive


class Command(BaseCommand):
    help = (
        "Re-hash every file in the evidence archive and report any missing or altered one "
        "(with the sessions that reference it). Exit status 1 when there is one."
    )

    def handle(self, *args, **options) -> None:
        checked, problems = verify_archive()
        for problem in problems:
            self.stderr.write(
                f"verify_evidence: {problem.problem} {problem.sha256} "
                f"(sessions: {', '.join(problem.sessions)})"
            )
        self.stdout.write(f"verify_evidence: {checked} files checked, {len(problems)} problems")
        if problems:
            raise SystemExit(1)
