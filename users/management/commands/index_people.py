"""``python manage.py index_people``: rebuild what issue 15 derives from stored sessions.

Run once after migrating (users 0007, verifications 0017): the history flags of every
person and the linked-identity index of every synced session. Syncs keep both current.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from users.models import DiditUser
from verifications.linking import reindex_all


class Command(BaseCommand):
    help = "Recompute every person's summary and history flags, and re-index linked identities."

    def handle(self, *args, **options) -> None:
        people = 0
        for didit_user in DiditUser.objects.order_by("pk").iterator(chunk_size=500):
            didit_user.recompute()
            people += 1
        sessions = reindex_all()
        self.stdout.write(f"index_people: {people} people recomputed, {sessions} sessions indexed")
