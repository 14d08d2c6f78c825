"""Model-level guarantees: constraints that keep synced data and the sync lock sound."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Permission
from django.db import IntegrityError, transaction

from tests.data.samples import load
from verifications.models import AmlHit, Review, SessionStatus, SyncRun, VerificationSession
from verifications.sync import apply_decision

pytestmark = pytest.mark.django_db


def test_statuses_are_didits_exact_words():
    assert SessionStatus.KYC_EXPIRED == "Kyc Expired"
    assert [status.value for status in SessionStatus] == [
        "Not Started",
        "In Progress",
        "In Review",
        "Approved",
        "Declined",
        "Resubmitted",
        "Expired",
        "Abandoned",
        "Kyc Expired",
        "Awaiting User",
    ]


def test_the_review_permissions_exist_for_the_roles_to_use():
    codenames = set(Permission.objects.values_list("content_type__app_label", "codename"))
    assert ("verifications", "review_session") in codenames
    assert ("verifications", "dispose_aml_hit") in codenames
    assert ("users", "start_reverification") in codenames


def test_only_one_sync_run_can_be_running_at_a_time():
    SyncRun.objects.create(mode="full")
    with pytest.raises(IntegrityError), transaction.atomic():
        SyncRun.objects.create(mode="incremental")
    SyncRun.objects.create(mode="full", status="succeeded")
    SyncRun.objects.create(mode="full", status="failed")
    assert SyncRun.objects.count() == 3


def test_a_hit_id_is_unique_within_a_session_only():
    apply_decision(load("v1-decision.json"))
    other = load("v1-decision.json")
    other["session_id"] = "another-session"
    apply_decision(other)
    assert AmlHit.objects.filter(hit_id="aaaaaaa-1111-2222-3333-4444-555555555555").count() == 2
    session = VerificationSession.objects.get(session_id="another-session")
    with pytest.raises(IntegrityError), transaction.atomic():
        AmlHit.objects.create(session=session, hit_id="aaaaaaa-1111-2222-3333-4444-555555555555")


def test_many_console_reviews_can_wait_for_didit_but_a_didit_review_exists_once():
    apply_decision(load("v1-decision.json"))
    session = VerificationSession.objects.get()
    at = datetime(2025, 1, 1, tzinfo=UTC)
    Review.objects.create(session=session, source="console", new_status="Approved", created_at=at)
    Review.objects.create(session=session, source="console", new_status="Declined", created_at=at)
    fingerprint = session.reviews.get(source="didit").didit_fingerprint
    with pytest.raises(IntegrityError), transaction.atomic():
        Review.objects.create(session=session, source="didit", didit_fingerprint=fingerprint)


def test_the_sync_run_summary_reads_as_one_line():
    run = SyncRun(
        mode="full",
        listed=10,
        fetched=4,
        created=3,
        updated=1,
        unchanged=6,
        failed=0,
        started_at=datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC),
        finished_at=datetime(2025, 1, 1, 12, 0, 12, 300000, tzinfo=UTC),
    )
    assert run.summary() == (
        "10 listed, 4 fetched, 3 created, 1 updated, 6 unchanged, 0 failed in 12.3s"
    )
