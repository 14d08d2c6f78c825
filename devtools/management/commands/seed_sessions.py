"""``python manage.py seed_sessions --sessions N``: synthetic sessions for benchmarks."""

from __future__ import annotations

import os
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from devtools.seeding import SeedRefused, seed_sessions


class Command(BaseCommand):
    help = (
        "Fill the database with N synthetic sessions from the sandbox's generator (every "
        "decision shape, AML hits, warnings, reviews, returning users), bulk inserted. "
        "For benchmarks and load tests: replaces the sessions already there, and refuses a "
        "database synced from Didit unless --force."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sessions", type=int, required=True, help="How many sessions.")
        parser.add_argument("--seed", type=int, default=1, help="Same seed, same sessions.")
        parser.add_argument(
            "--jobs",
            type=int,
            default=min(2, os.cpu_count() or 1),
            help="Worker processes rendering decisions (default: up to 2).",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even a database synced from Didit (its sessions are deleted).",
        )

    def handle(self, *args, sessions: int, seed: int, force: bool, jobs: int, **options) -> None:
        if sessions < 0:
            raise CommandError("--sessions must be 0 or more.")
        # A scratch database is often a new one: migrate it first, as the demo does.
        call_command("migrate", interactive=False, verbosity=0)
        started = time.monotonic()
        tty = self.stdout.isatty()

        def progress(done: int, total: int) -> None:
            if tty:
                rate = done / max(time.monotonic() - started, 1e-6)
                self.stdout.write(f"\r{done}/{total} sessions, {rate:.0f}/s", ending="")
                self.stdout.flush()

        try:
            result = seed_sessions(
                sessions=sessions, seed=seed, force=force, jobs=jobs, progress=progress
            )
        except SeedRefused as error:
            raise CommandError(str(error)) from error
        if tty:
            self.stdout.write("")
        self.stdout.write(f"Seeded {result.summary()}")
