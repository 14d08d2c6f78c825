"""Synthetic sessions for benchmarks and load tests, bulk inserted (``seed_sessions``).

The sandbox's generator makes the sessions (``DecisionSource``: same seed, same people, hits
and reviews); each decision is parsed by ``parse_decision`` and written by ``insert_sessions``,
the same rows ``apply_decision`` writes for a new session, a batch at a time: a constant
number of queries per batch and flat memory whatever the number of sessions. Didit users are
summarised afterwards from their sessions, a batch of users at a time.

A seeded database is a scratch database. Seeding replaces the sessions already there (an
earlier seeding's), and refuses a database that was synced from Didit (it has sync runs or
webhook deliveries) unless forced: then its sessions are replaced too.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from itertools import groupby, islice
from multiprocessing import get_context

import django
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from users.models import DiditUser, summarise_sessions
from verifications.didit.sandbox.offline import DecisionSource
from verifications.models import SyncRun, VerificationSession, WebhookDelivery
from verifications.sync import insert_sessions, parse_decision, session_row
from verifications.sync.parse import ParsedDecision

BATCH_SIZE = 1000
USER_BATCH_SIZE = 500
# Media URLs point at a host that never answers: seeded sessions have no images to fetch.
# They last a week (S3's longest), so the session page never tries to refresh them.
MEDIA_BASE_URL = "https://media.seeded.invalid"
MEDIA_TTL = 7 * 86400


class SeedRefused(Exception):
    """The database was synced from Didit; seeding it needs ``force``."""


@dataclass
class SeedResult:
    sessions: int = 0
    users: int = 0
    hits: int = 0
    warnings: int = 0
    reviews: int = 0
    replaced: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"{self.sessions} sessions, {self.users} users, {self.hits} AML hits, "
            f"{self.warnings} warnings, {self.reviews} reviews in {self.seconds:.1f}s"
            + (f" ({self.replaced} earlier sessions replaced)" if self.replaced else "")
        )


def synced_data_reason() -> str | None:
    """Why this database should not be seeded, or None when it was never synced."""
    if SyncRun.objects.exists():
        return "it has sync runs"
    if WebhookDelivery.objects.exists():
        return "it has received Didit's webhooks"
    return None


def seed_sessions(
    *,
    sessions: int,
    seed: int = 1,
    force: bool = False,
    batch_size: int = BATCH_SIZE,
    jobs: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> SeedResult:
    """Replace the database's sessions with ``sessions`` generated from ``seed``; see the
    module doc. With ``jobs`` > 1, that many worker processes render and parse the decisions
    (the costlier half) while this process inserts; the result is the same."""
    reason = synced_data_reason()
    if reason and not force:
        raise SeedRefused(f"Refusing to seed: {reason}. Use --force to seed it anyway.")
    started = time.monotonic()
    result = SeedResult(replaced=clear_sessions())
    for parsed in _parsed_batches(sessions, seed, batch_size, jobs):
        with transaction.atomic():
            _insert_sessions(parsed, result)
        if progress is not None:
            progress(result.sessions, sessions)
    for vendors in _chunks(_source(sessions, seed).vendors(), USER_BATCH_SIZE):
        with transaction.atomic():
            result.users += _insert_users(vendors)
    _source.cache_clear()
    result.seconds = time.monotonic() - started
    return result


def clear_sessions() -> int:
    """Delete every session and Didit user; returns how many sessions there were."""
    count = VerificationSession.objects.count()
    with transaction.atomic():
        # Primary keys only: the cascade needs no more, and decisions are most of a row.
        VerificationSession.objects.only("pk").delete()
        DiditUser.objects.only("pk").delete()
    return count


@cache
def _source(sessions: int, seed: int) -> DecisionSource:
    return DecisionSource(
        sessions=sessions, seed=seed, media_base_url=MEDIA_BASE_URL, media_ttl=MEDIA_TTL
    )


def _parsed_batches(
    sessions: int, seed: int, batch_size: int, jobs: int
) -> Iterator[list[ParsedDecision]]:
    starts = range(0, sessions, batch_size)
    tasks = ((sessions, seed, start, batch_size) for start in starts)
    if jobs <= 1:
        yield from (_parse_batch(task) for task in tasks)
        return
    # Spawned workers: a forked one would inherit this process's database connection.
    with get_context("spawn").Pool(jobs, initializer=django.setup) as pool:
        pending: deque = deque()
        for task in tasks:
            pending.append(pool.apply_async(_parse_batch, (task,)))
            # A few batches in flight at most, so memory stays flat if inserting lags.
            if len(pending) > jobs:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


def _parse_batch(task: tuple[int, int, int, int]) -> list[ParsedDecision]:
    """Render one batch of the generator's sessions and parse them (in a worker, maybe)."""
    sessions, seed, start, size = task
    return [
        parse_decision(decision)
        for decision in _source(sessions, seed).decisions(start, start + size)
    ]


def _insert_sessions(batch: list[ParsedDecision], result: SeedResult) -> None:
    now = timezone.now()
    rows = []
    for parsed in batch:
        session = session_row(parsed, synced_at=now)
        session.created_at = session.created_at or now
        rows.append((session, parsed))
    written = insert_sessions(rows)
    result.sessions += len(rows)
    result.hits += written["AmlHit"]
    result.warnings += written["SessionWarning"]
    result.reviews += written["Review"]


def _insert_users(vendors: list[str]) -> int:
    """Create these users, summarised from their seeded sessions, and link the sessions."""
    rows = (
        VerificationSession.objects.filter(vendor_data__in=vendors)
        .order_by("vendor_data", "created_at", "id")
        .values_list("vendor_data", "created_at", "status", "feature_statuses", "full_name")
    )
    users = [
        DiditUser(vendor_data=vendor_data, **summarise_sessions(row[1:] for row in group))
        for vendor_data, group in groupby(rows, key=lambda row: row[0])
    ]
    DiditUser.objects.bulk_create(users, batch_size=BATCH_SIZE)
    VerificationSession.objects.filter(vendor_data__in=vendors).update(
        user=Subquery(DiditUser.objects.filter(vendor_data=OuterRef("vendor_data")).values("pk"))
    )
    return len(users)


def _chunks(items: list, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
