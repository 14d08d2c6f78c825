"""Synthetic sessions for benchmarks and load tests, bulk inserted (``seed_sessions``).

The sandbox's generator makes the sessions (same seed, same people, hits and reviews);
each decision is rendered in its session's shape and mapped by ``parse_decision``, exactly
as a sync would, then written with ``bulk_create`` a batch at a time: a constant number of
queries per batch and flat memory whatever the number of sessions. Didit users are
summarised afterwards from their sessions, a batch of users at a time.

Seeded sessions are marked ``synthetic``. Seeding refuses a database that holds synced
data (a ``SyncRun``, or any session that is not synthetic) unless forced, and replaces the
synthetic sessions of an earlier seeding.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from itertools import groupby, islice
from multiprocessing import get_context

import django
from django.db import models, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from users.models import DiditUser, summarise_sessions
from verifications.didit.sandbox.config import SandboxConfig
from verifications.didit.sandbox.data import Session, SessionStore
from verifications.didit.sandbox.items import Context
from verifications.didit.sandbox.media import MediaSigner
from verifications.didit.sandbox.render import decision as render_decision
from verifications.models import (
    AmlHit,
    PendingDecision,
    Review,
    ReviewSource,
    SessionClaim,
    SessionWarning,
    SyncRun,
    VerificationSession,
)

from .apply import ONE_TO_ONE, _fit
from .parse import ParsedDecision, parse_decision

BATCH_SIZE = 1000
USER_BATCH_SIZE = 500
# Media URLs point at a host that never answers: seeded sessions have no images to fetch.
# They last a week (S3's longest), so the session page never tries to refresh them.
MEDIA_BASE_URL = "https://media.seeded.invalid"
MEDIA_TTL = 7 * 86400
CHILD_MODELS = (*ONE_TO_ONE.values(), AmlHit, SessionWarning, Review)


class SeedRefused(Exception):
    """The database holds synced data; seeding it needs ``force``."""


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
            + (f" ({self.replaced} earlier synthetic sessions replaced)" if self.replaced else "")
        )


def synced_data_reason() -> str | None:
    """Why this database should not be seeded, or None when it holds no synced data."""
    if SyncRun.objects.exists():
        return "it has sync runs"
    if VerificationSession.objects.filter(synthetic=False).exists():
        return "it has sessions synced from Didit"
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
    """Insert ``sessions`` synthetic sessions generated from ``seed``; see the module doc.

    With ``jobs`` > 1, that many worker processes render and parse the decisions (the
    costlier half) while this process inserts; the result is the same.
    """
    reason = synced_data_reason()
    if reason and not force:
        raise SeedRefused(f"Refusing to seed: {reason}. Use --force to seed it anyway.")
    started = time.monotonic()
    result = SeedResult(replaced=clear_synthetic())
    for parsed in _parsed_batches(sessions, seed, batch_size, jobs):
        with transaction.atomic():
            _insert_sessions(parsed, result)
        if progress is not None:
            progress(result.sessions, sessions)
    for vendors in _chunks(list(_generator(sessions, seed).by_vendor), USER_BATCH_SIZE):
        with transaction.atomic():
            result.users += _insert_users(vendors)
    _generator.cache_clear()
    result.seconds = time.monotonic() - started
    return result


def clear_synthetic() -> int:
    """Delete the sessions (and the users left without sessions) of an earlier seeding."""
    seeded = VerificationSession.objects.filter(synthetic=True)
    count = seeded.count()
    if not count:
        return 0
    shared = list(
        DiditUser.objects.filter(sessions__synthetic=True)
        .filter(sessions__synthetic=False)
        .distinct()
    )
    with transaction.atomic():
        for model in (*CHILD_MODELS, SessionClaim, PendingDecision):
            # No cascade below these rows: Django deletes them in one statement each.
            model.objects.filter(session__synthetic=True).delete()
        # Their children are gone: skip Django's cascade collection, which would load every
        # session into memory first.
        seeded._raw_delete(seeded.db)
        orphans = DiditUser.objects.filter(sessions__isnull=True)
        DiditUser.objects.filter(pk__in=Subquery(orphans.values("pk"))).delete()
    for user in shared:
        user.recompute()
    return count


@cache
def _generator(sessions: int, seed: int) -> SessionStore:
    return SessionStore(SandboxConfig(sessions=sessions, seed=seed), threading.RLock())


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
    store = _generator(sessions, seed)
    signer = MediaSigner(base_url=MEDIA_BASE_URL, ttl=MEDIA_TTL, secret=b"seeded")
    batch = store.sessions[start : start + size]
    parsed = [parse_decision(_render(store, signer, session)) for session in batch]
    # The store caches what it derives; drop it so memory stays flat.
    for session in batch:
        session.facts_cache = None
    store._people.clear()
    return parsed


def _render(store: SessionStore, signer: MediaSigner, session: Session) -> dict:
    context = Context(
        session=session,
        person=store.person(session),
        facts=store.facts(session),
        media=signer,
        reviews=store.reviews(session),
    )
    return render_decision(context, session.shape)


def _insert_sessions(batch: list[ParsedDecision], result: SeedResult) -> None:
    """The rows ``apply_decision`` would write for these new sessions, a table at a time."""
    now = timezone.now()
    sessions = [_session(parsed, now) for parsed in batch]
    VerificationSession.objects.bulk_create(sessions, batch_size=BATCH_SIZE)
    children: dict[type[models.Model], list[models.Model]] = {m: [] for m in CHILD_MODELS}
    for session, parsed in zip(sessions, batch, strict=True):
        for relation, model in ONE_TO_ONE.items():
            values = getattr(parsed, relation)
            if values is not None:
                children[model].append(model(session=session, **_fit(model, values)))
        for values in parsed.hits:
            values = _fit(AmlHit, {**values, "removed_at": None})
            children[AmlHit].append(AmlHit(session=session, **values))
        for values in parsed.warnings:
            children[SessionWarning].append(
                SessionWarning(session=session, **_fit(SessionWarning, values))
            )
        for values in parsed.reviews:
            values = _fit(Review, values)
            children[Review].append(
                Review(
                    session=session,
                    source=ReviewSource.DIDIT,
                    created_at=values["didit_created_at"],
                    **values,
                )
            )
    for model, rows in children.items():
        model.objects.bulk_create(rows, batch_size=BATCH_SIZE)
    result.sessions += len(sessions)
    result.hits += len(children[AmlHit])
    result.warnings += len(children[SessionWarning])
    result.reviews += len(children[Review])


def _session(parsed: ParsedDecision, now) -> VerificationSession:
    values = _fit(VerificationSession, parsed.session)
    values["created_at"] = values["created_at"] or now
    return VerificationSession(
        session_id=parsed.session_id,
        decision=parsed.raw,
        decision_hash=parsed.content_hash,
        synced_at=now,
        synthetic=True,
        **values,
    )


def _insert_users(vendors: list[str]) -> int:
    """Create these users, summarised from their seeded sessions, and link the sessions.

    Users that already exist (seeding forced into a synced database) keep their row and
    are recomputed from all their sessions instead.
    """
    existing = set(
        DiditUser.objects.filter(vendor_data__in=vendors).values_list("vendor_data", flat=True)
    )
    rows = (
        VerificationSession.objects.filter(synthetic=True, vendor_data__in=vendors)
        .order_by("vendor_data", "created_at", "id")
        .values_list("vendor_data", "created_at", "status", "feature_statuses", "full_name")
    )
    users = [
        DiditUser(vendor_data=vendor_data, **summarise_sessions(row[1:] for row in group))
        for vendor_data, group in groupby(rows, key=lambda row: row[0])
        if vendor_data not in existing
    ]
    DiditUser.objects.bulk_create(users, batch_size=BATCH_SIZE)
    VerificationSession.objects.filter(synthetic=True, vendor_data__in=vendors).update(
        user=Subquery(DiditUser.objects.filter(vendor_data=OuterRef("vendor_data")).values("pk"))
    )
    for user in DiditUser.objects.filter(vendor_data__in=existing):
        user.recompute()
    return len(users)


def _chunks(items: list, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
