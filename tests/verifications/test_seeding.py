"""seed_sessions (devtools): the rows a sync would write, in bulk; refuses synced databases."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from devtools.seeding import SeedRefused, seed_sessions
from users.models import DiditUser
from verifications.models import (
    AmlHit,
    AmlScreening,
    DocumentData,
    FaceCheck,
    IpAnalysis,
    Review,
    SessionWarning,
    SyncRun,
    SyncRunMode,
    VerificationSession,
    WebhookDelivery,
)
from verifications.search import session_search
from verifications.sync import apply_decision

pytestmark = pytest.mark.django_db

CHILD_MODELS = (DocumentData, FaceCheck, AmlScreening, AmlHit, IpAnalysis, SessionWarning, Review)
# Bookkeeping that differs between two writes of the same data.
VOLATILE = {
    "id",
    "session",
    "user",
    "synced_at",
    "first_synced_at",
    "updated_at",
    "decision_requested_at",
}


def snapshot() -> dict:
    """Every synced row, keyed by what identifies it across databases (not primary keys)."""

    def values(instance) -> dict:
        # Every column, the non-editable derived ones (search_name) included.
        return {
            field.name: field.value_from_object(instance)
            for field in instance._meta.concrete_fields
            if field.name not in VOLATILE
        }

    sessions = VerificationSession.objects.order_by("session_id")
    data = {
        "sessions": {s.session_id: values(s) for s in sessions},
        "users": {u.vendor_data: values(u) for u in DiditUser.objects.order_by("vendor_data")},
        "links": sorted(sessions.values_list("session_id", "user__vendor_data")),
    }
    for model in CHILD_MODELS:
        rows = model.objects.order_by("session__session_id", "id").select_related("session")
        data[model.__name__] = [(row.session.session_id, values(row)) for row in rows]
    return data


def test_seeded_rows_equal_what_apply_decision_writes():
    result = seed_sessions(sessions=60, seed=7, batch_size=25)
    seeded = snapshot()
    decisions = list(VerificationSession.objects.order_by("id").values_list("decision", flat=True))
    shapes = set(VerificationSession.objects.values_list("api_shape", flat=True))

    VerificationSession.objects.all().delete()
    DiditUser.objects.all().delete()
    for decision in decisions:
        apply_decision(decision)
    synced = snapshot()

    assert result.sessions == 60 and result.hits and result.warnings and result.reviews
    assert shapes == {"v1", "v2", "v3"}
    assert max(user["session_count"] for user in seeded["users"].values()) > 1
    for key in synced:
        assert seeded[key] == synced[key], key


def test_seeding_is_deterministic_and_replaces_an_earlier_seeding():
    seed_sessions(sessions=30, seed=3)
    first = set(VerificationSession.objects.values_list("session_id", flat=True))
    result = seed_sessions(sessions=30, seed=3)

    assert result.replaced == 30
    assert set(VerificationSession.objects.values_list("session_id", flat=True)) == first
    assert DiditUser.objects.count() == result.users


def test_seeding_refuses_a_database_with_sync_runs():
    SyncRun.objects.create(mode=SyncRunMode.FULL, status="succeeded")
    with pytest.raises(SeedRefused, match="sync runs"):
        seed_sessions(sessions=5)
    assert not VerificationSession.objects.exists()


def test_seeding_refuses_a_database_that_received_webhooks():
    WebhookDelivery.objects.create(delivery_key="k", session_id="s", status="Approved")
    with pytest.raises(SeedRefused, match="webhooks"):
        seed_sessions(sessions=5)
    assert not VerificationSession.objects.exists()


def test_forced_seeding_of_a_synced_database_replaces_its_sessions():
    seed_sessions(sessions=3, seed=1)
    SyncRun.objects.create(mode=SyncRunMode.FULL, status="succeeded")

    with pytest.raises(CommandError, match="--force"):
        call_command("seed_sessions", "--sessions", "5", "--jobs", "1")
    assert VerificationSession.objects.count() == 3
    call_command("seed_sessions", "--sessions", "5", "--seed", "2", "--jobs", "1", "--force")

    assert VerificationSession.objects.count() == 5
    assert DiditUser.objects.exists()
    assert SyncRun.objects.count() == 1


def test_seeding_costs_the_same_queries_per_batch_at_any_size():
    def queries(sessions: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            seed_sessions(sessions=sessions, seed=5, batch_size=10)
        return len(captured)

    two_batches, six_batches = queries(20), queries(60)

    per_batch = (six_batches - two_batches) / 4
    # Savepoints, sessions, four one-to-ones, hits, warnings, reviews, linked identifiers (on
    # PostgreSQL a COPY each, plus the session ids and SET LOCAL), and the larger clearing of
    # the earlier seeding spread over the batches.
    assert per_batch <= 20
    assert six_batches <= two_batches + 4 * 20


def test_command_prints_a_summary(capsys):
    call_command("seed_sessions", "--sessions", "12", "--jobs", "1")
    assert "Seeded 12 sessions" in capsys.readouterr().out


def test_the_queue_finds_seeded_sessions_as_it_finds_synced_ones():
    """The queue's search (indexes, SQLite's full-text triggers) and filters answer the same
    on seeded rows as on synced ones; on PostgreSQL the seeding writes them with COPY."""
    with CaptureQueriesContext(connection) as captured:
        seed_sessions(sessions=60, seed=11, batch_size=25)
    inserts = [q["sql"] for q in captured if q["sql"].startswith("INSERT INTO")]
    if connection.vendor == "postgresql":
        assert inserts == []  # COPY, not INSERT.
    else:
        assert inserts
    sessions = VerificationSession.objects.order_by("id")
    names = [name for name in sessions.values_list("full_name", flat=True) if name][:5]
    documents = [d for d in sessions.values_list("document_number", flat=True) if d][:3]
    texts = [
        *(name.split()[-1] for name in names),
        *(name[1:4] for name in names),
        *(document[:4] for document in documents),
        *(session_id[:6] for session_id in sessions.values_list("session_id", flat=True)[:3]),
        *(
            vendor[:5]
            for vendor in sessions.exclude(vendor_data="").values_list("vendor_data", flat=True)[:3]
        ),
    ]

    def answers() -> dict:
        def ids(queryset) -> list[str]:
            return sorted(queryset.values_list("session_id", flat=True))

        every = VerificationSession.objects.all()
        return {
            "search": {t: ids(every.filter(session_search(t, connection.vendor))) for t in texts},
            "status": {
                s: ids(every.filter(status=s)) for s in set(every.values_list("status", flat=True))
            },
            "user": sorted(
                every.values_list("session_id", "user__vendor_data", "user__session_count")
            ),
        }

    seeded = answers()
    decisions = list(sessions.values_list("decision", flat=True))
    VerificationSession.objects.all().delete()
    DiditUser.objects.all().delete()
    for decision in decisions:
        apply_decision(decision)

    assert all(seeded["search"].values()) and len(seeded["status"]) > 1
    assert answers() == seeded
