"""Synthetic sessions for benchmarks and load tests, bulk inserted (``seed_sessions``).

The sandbox's generator makes the sessions (``DecisionSource``: same seed, same people, hits
and reviews); each decision is parsed by ``parse_decision`` and written by ``insert_sessions``,
the same rows ``apply_decision`` writes for a new session, a batch at a time: a constant
number of queries per batch and flat memory whatever the number of sessions. Didit users are
summarised afterwards from their sessions, a batch of users at a time.

On PostgreSQL the same rows are written with ``COPY`` instead (``session_row`` and
``session_children`` build them, every column a sync writes, derived ones included): the
Didit users first, as placeholders, so each session is written with its user; their summaries
are folded in memory while the sessions are written and set at the end with one ``UPDATE``.
A million sessions in minutes rather than hours.

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
from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from users.history import HISTORY_COLUMNS, history_flags
from users.models import DiditUser, summarise_sessions
from verifications.didit.sandbox.offline import DecisionSource
from verifications.models import (
    AmlHit,
    DocumentData,
    Review,
    SessionWarning,
    SyncRun,
    VerificationSession,
    WebhookDelivery,
)
from verifications.sync import insert_sessions, parse_decision, session_children, session_row
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
    batches = _parsed_batches(sessions, seed, batch_size, jobs)
    if connection.vendor == "postgresql":
        _copy_everything(batches, _source(sessions, seed).vendors(), result, sessions, progress)
    else:
        for parsed in batches:
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


def _summary(rows: list[tuple]) -> dict:
    """What ``DiditUser.recompute`` stores: the summary and the history flags."""
    return {**summarise_sessions(row[:4] for row in rows), **history_flags(rows)}


def _insert_users(vendors: list[str]) -> int:
    """Create these users, summarised from their seeded sessions, and link the sessions."""
    rows = (
        VerificationSession.objects.filter(vendor_data__in=vendors)
        .order_by("vendor_data", "created_at", "id")
        .values_list(
            "vendor_data",
            "created_at",
            "status",
            "feature_statuses",
            "full_name",
            *HISTORY_COLUMNS,
        )
    )
    users = [
        DiditUser(vendor_data=vendor_data, **_summary([row[1:] for row in group]))
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


# PostgreSQL: COPY.


def _copy_everything(
    batches: Iterator[list[ParsedDecision]],
    vendors: list[str],
    result: SeedResult,
    total: int,
    progress: Callable[[int, int], None] | None,
) -> None:
    """Users as placeholders, then each batch of sessions with their rows, then the users'
    summaries: the same rows as the bulk path, written with ``COPY``."""
    with transaction.atomic(), connection.cursor() as cursor:
        _copy(cursor, DiditUser, [DiditUser(vendor_data=vendor) for vendor in vendors])
    user_ids = dict(DiditUser.objects.values_list("vendor_data", "id"))
    folded: dict[str, list[tuple]] = {vendor: [] for vendor in vendors}
    for parsed in batches:
        with transaction.atomic(), connection.cursor() as cursor:
            _copy_sessions(cursor, parsed, user_ids, folded, result)
        if progress is not None:
            progress(result.sessions, total)
    with transaction.atomic(), connection.cursor() as cursor:
        result.users = _copy_user_summaries(cursor, folded, user_ids)


def _copy_sessions(
    cursor, batch: list[ParsedDecision], user_ids: dict, folded: dict, result: SeedResult
) -> None:
    now = timezone.now()
    # A scratch database: a crash loses the last batches, nothing else; no flush per batch.
    cursor.execute("SET LOCAL synchronous_commit TO OFF")
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
        [VerificationSession._meta.db_table, len(batch)],
    )
    ids = [row[0] for row in cursor.fetchall()]
    sessions = []
    children: dict[type[models.Model], list[models.Model]] = {}
    for pk, parsed in zip(ids, batch, strict=True):
        session = session_row(parsed, synced_at=now, user_id=None)
        session.pk = pk
        session.created_at = session.created_at or now
        session.normalise_search_fields()  # What bulk_create and save() derive (search_name).
        own = session_children(session, parsed)
        if session.vendor_data:
            session.user_id = user_ids[session.vendor_data]
            folded[session.vendor_data].append(_summary_row(session, own.get(DocumentData)))
        sessions.append(session)
        for model, objects in own.items():
            children.setdefault(model, []).extend(objects)
    _copy(cursor, VerificationSession, sessions, with_pk=True)
    for model, objects in children.items():
        _copy(cursor, model, objects)
    result.sessions += len(sessions)
    result.hits += len(children.get(AmlHit, ()))
    result.warnings += len(children.get(SessionWarning, ()))
    result.reviews += len(children.get(Review, ()))


def _summary_row(session: VerificationSession, documents: list | None) -> tuple:
    """The row ``_insert_users`` reads back for this session: ``(created_at, status,
    feature_statuses, full_name, *HISTORY_COLUMNS)``, as the database returns them."""
    document = documents[0] if documents else None

    def stored(name: str):
        if document is None:
            return None
        return DocumentData._meta.get_field(name).to_python(getattr(document, name))

    history = {
        column: stored(column.removeprefix("document__"))
        if column.startswith("document__")
        else getattr(session, column)
        for column in HISTORY_COLUMNS
    }
    return (
        session.created_at,
        session.status,
        session.feature_statuses,
        session.full_name,
        *(history[column] for column in HISTORY_COLUMNS),
    )


def _copy_user_summaries(cursor, folded: dict[str, list[tuple]], user_ids: dict) -> int:
    """Summarise each user from its sessions (oldest first, as ``_insert_users`` reads them)
    into a temporary table, then set them on the placeholders with one ``UPDATE``."""
    names = list(_summary([]))
    fields = [DiditUser._meta.get_field(name) for name in names]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    table = _table(DiditUser)
    # Identifiers from the models' metadata, no input: S608 does not apply.
    cursor.execute(
        f"CREATE TEMPORARY TABLE seeded_user AS "  # noqa: S608
        f"SELECT id, {columns} FROM {table} WITH NO DATA"
    )
    with cursor.copy(f"COPY seeded_user (id, {columns}) FROM STDIN") as copy:
        for vendor, rows in folded.items():
            # Stable: sessions were generated oldest first, so equal times stay in id order.
            summary = _summary(sorted(rows, key=lambda row: row[0]))
            values = [field.get_db_prep_save(summary[field.name], connection) for field in fields]
            copy.write_row([user_ids[vendor], *values])
    assignments = ", ".join(f"{column} = seeded.{column}" for column in columns.split(", "))
    cursor.execute(
        f"UPDATE {table} AS didit_user SET {assignments} "  # noqa: S608
        f"FROM seeded_user AS seeded WHERE didit_user.id = seeded.id"
    )
    # Not left for the commit: inside a caller's transaction (a test's) there is none yet.
    cursor.execute("DROP TABLE seeded_user")
    return len(folded)


def _copy(cursor, model: type[models.Model], objects: list, *, with_pk: bool = False) -> None:
    """``COPY`` these unsaved instances into their table, every column as ``bulk_create``
    would write it (``pre_save``: auto_now; ``get_db_prep_save``: JSON, dates)."""
    fields = [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    # The connection itself, not the proxy: a lookup per value costs a fifth of the time.
    database = connections[DEFAULT_DB_ALIAS]
    with cursor.copy(f"COPY {_table(model)} ({columns}) FROM STDIN") as copy:
        for instance in objects:
            copy.write_row(
                [
                    field.get_db_prep_save(field.pre_save(instance, True), database)
                    for field in fields
                ]
            )


def _table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)
