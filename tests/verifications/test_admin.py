"""Django admin: every page renders, synced data is view-only, actions go through the sandbox."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.sandbox import API_KEY
from users.models import DiditUser
from verifications import admin as verification_admin
from verifications import paginators
from verifications.audit import record
from verifications.didit.client import DiditClient
from verifications.models import (
    AmlHit,
    AmlHitReview,
    AmlWhitelistEntry,
    AuditEntry,
    PendingDecision,
    Review,
    ReviewSource,
    SessionClaim,
    SessionWarning,
    VerificationSession,
    WebhookDelivery,
)
from verifications.paginators import EstimatedCountPaginator

REGISTERED = sorted(admin.site._registry, key=lambda model: model._meta.label)
SYNCED = [model for model in REGISTERED if model._meta.app_label in ("verifications", "users")]


@pytest.fixture
def synced(synced_sandbox, admin):
    """30 sandbox sessions in our database, the console pointed at the sandbox, and one row
    of every other model."""
    session = VerificationSession.objects.first()
    record(None, action="pii_view", object_type="session", object_id=session.session_id)
    WebhookDelivery.objects.create(
        delivery_key="k" * 64, session_id=session.session_id, status="Approved"
    )
    entry = AmlWhitelistEntry.objects.create(
        vendor_data="someone",
        entity_id="NK-1",
        reason="Other person",
        created_by=admin,
        review_by=timezone.localdate(),
    )
    hit = AmlHit.objects.first()
    AmlHitReview.objects.create(
        hit=hit,
        review_status="False Positive",
        staff_user=admin,
        created_at=timezone.now(),
        whitelist_entry=entry,
    )
    now = timezone.now()
    SessionClaim.objects.create(session=session, owner=admin, claimed_at=now, active_at=now)
    PendingDecision.objects.create(
        session=session, new_status="Approved", rules=["pep"], requested_by=admin, requested_at=now
    )
    return synced_sandbox


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- Every page -------------------------------------------------------------------------------


@pytest.mark.parametrize("model", REGISTERED, ids=lambda model: model._meta.label)
def test_every_changelist_renders_for_a_superuser(admin_client, synced, model):
    response = admin_client.get(admin_url(model, "changelist"))
    assert response.status_code == 200


@pytest.mark.parametrize("model", REGISTERED, ids=lambda model: model._meta.label)
def test_every_change_page_renders_for_a_superuser(admin_client, synced, model):
    obj = model._default_manager.order_by("pk").first()
    if obj is None and model not in SYNCED:
        pytest.skip(f"no {model._meta.label} row (another app's model) to show")
    assert obj is not None, f"no {model._meta.label} to show"
    response = admin_client.get(admin_url(model, "change", obj.pk))
    assert response.status_code == 200


@pytest.mark.parametrize("model", SYNCED, ids=lambda model: model._meta.label)
def test_synced_data_cannot_be_added_changed_or_deleted(admin_client, synced, model):
    obj = model._default_manager.order_by("pk").first()
    assert admin_client.get(admin_url(model, "add")).status_code == 403
    assert admin_client.post(admin_url(model, "change", obj.pk), {}).status_code == 403
    assert admin_client.post(admin_url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    assert model._default_manager.filter(pk=obj.pk).exists()


def test_the_audit_log_is_read_only_even_for_superusers(admin_client, synced):
    entry = AuditEntry.objects.get()
    before = AuditEntry.objects.values().get()
    changed = {"action": "resync", "object_type": "user", "object_id": "forged"}
    assert admin_client.get(admin_url(AuditEntry, "add")).status_code == 403
    assert admin_client.post(admin_url(AuditEntry, "add"), changed).status_code == 403
    assert admin_client.post(admin_url(AuditEntry, "change", entry.pk), changed).status_code == 403
    delete = admin_url(AuditEntry, "delete", entry.pk)
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    bulk = {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"}
    admin_client.post(admin_url(AuditEntry, "changelist"), bulk)
    assert AuditEntry.objects.values().get() == before
    model_admin = admin.site._registry[AuditEntry]
    request = admin_client.get("/admin/").wsgi_request
    assert "delete_selected" not in model_admin.get_actions(request)


def test_a_session_page_shows_its_hits_warnings_and_reviews(admin_client, synced):
    session = VerificationSession.objects.filter(aml_hits__isnull=False).first()
    assert session is not None
    response = admin_client.get(admin_url(VerificationSession, "change", session.pk))
    content = response.content.decode()
    for hit in session.aml_hits.all():
        assert str(hit.caption) in content
    assert "Re-sync selected from Didit" not in content  # actions live on the list


# --- Search -----------------------------------------------------------------------------------


def search(admin_client, query: str) -> set[str]:
    response = admin_client.get(admin_url(VerificationSession, "changelist"), {"q": query})
    assert response.status_code == 200
    return {obj.session_id for obj in response.context["cl"].result_list}


def test_search_finds_a_session_by_id_vendor_data_name_and_document_number(admin_client, synced):
    session = VerificationSession.objects.exclude(full_name="").exclude(document_number="")[0]
    assert search(admin_client, session.session_id) == {session.session_id}
    assert search(admin_client, f"  {session.session_id.upper()} ") == {session.session_id}
    assert session.session_id in search(admin_client, session.vendor_data)
    assert session.session_id in search(admin_client, session.full_name)
    assert session.session_id in search(admin_client, session.full_name.split()[-1].lower())
    assert session.session_id in search(admin_client, session.document_number[:4])
    assert search(admin_client, "no-such-person-anywhere") == set()


def test_didit_users_are_searchable_and_show_their_sessions(admin_client, synced):
    user = DiditUser.objects.filter(session_count__gt=0).first()
    response = admin_client.get(admin_url(DiditUser, "changelist"), {"q": user.vendor_data})
    assert [obj.pk for obj in response.context["cl"].result_list] == [user.pk]
    page = admin_client.get(admin_url(DiditUser, "change", user.pk)).content.decode()
    for session_id in user.sessions.values_list("session_id", flat=True):
        assert session_id in page


# --- Actions through the sandbox ------------------------------------------------------------


def run_action(admin_client, action: str, sessions) -> object:
    data = {"action": action, "_selected_action": [session.pk for session in sessions]}
    return admin_client.post(admin_url(VerificationSession, "changelist"), data)


def test_resync_selected_brings_sessions_up_to_date_and_reports_it(admin_client, synced):
    sessions = list(VerificationSession.objects.exclude(status="Declined")[:3])
    synced.change_status(sessions[0].session_id, "Declined", comment="Changed at Didit")
    before = synced.calls["decision"]

    response = run_action(admin_client, "resync_selected", sessions)

    assert response.status_code == 302
    assert synced.calls["decision"] == before + 3
    assert VerificationSession.objects.get(pk=sessions[0].pk).status == "Declined"
    assert messages_of(response) == ["Re-synced from Didit: 2 unchanged, 1 updated."]
    resyncs = AuditEntry.objects.filter(action="resync")
    assert sorted(resyncs.values_list("object_id", flat=True)) == sorted(
        s.session_id for s in sessions
    )
    assert {entry.actor_username for entry in resyncs} == {"admin"}


def test_resync_selected_reports_failures(admin_client, synced, monkeypatch):
    dead = DiditClient(
        verification_url="http://127.0.0.1:9",
        auth_url="http://127.0.0.1:9",
        api_key=API_KEY,
        rate_limits=None,
        timeout=(0.5, 0.5),
        max_retries=0,
    )
    monkeypatch.setattr(verification_admin, "didit_client", lambda: dead)
    sessions = list(VerificationSession.objects.all()[:2])
    response = run_action(admin_client, "resync_selected", sessions)
    [message] = messages_of(response)
    assert message.startswith("2 failed to re-sync: ")
    assert sessions[0].session_id in message
    assert not AuditEntry.objects.filter(action="resync").exists()


def test_download_didit_pdf_streams_the_report(admin_client, synced):
    session = VerificationSession.objects.filter(status__in=["Approved", "Declined"]).first()
    response = run_action(admin_client, "download_didit_pdf", [session])
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "application/pdf"
    assert f"didit-session-{session.session_id}.pdf" in response["Content-Disposition"]
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert synced.calls["pdf"] == 1
    entry = AuditEntry.objects.get(action="didit_pdf")
    assert entry.object_id == session.session_id


def test_download_didit_pdf_wants_exactly_one_session(admin_client, synced):
    sessions = list(VerificationSession.objects.all()[:2])
    response = run_action(admin_client, "download_didit_pdf", sessions)
    assert response.status_code == 302
    assert messages_of(response) == ["Select exactly one session."]
    assert synced.calls["pdf"] == 0


def test_download_didit_pdf_reports_didit_refusing(admin_client, synced):
    session = VerificationSession.objects.filter(status="Not Started").first()
    if session is None:
        pytest.skip("no unfinished session in this sandbox")
    response = run_action(admin_client, "download_didit_pdf", [session])
    assert response.status_code == 302
    assert messages_of(response)[0].startswith("Didit has no PDF report for this session")


# --- Scale ------------------------------------------------------------------------------------


def add_hits_and_reviews(session, *, hits: int, reviews: int, staff) -> None:
    AmlHit.objects.bulk_create(
        AmlHit(session=session, hit_id=f"extra-{n}", caption=f"Hit {n}", disposed_by=staff)
        for n in range(hits)
    )
    Review.objects.bulk_create(
        Review(
            session=session,
            source=ReviewSource.CONSOLE,
            new_status="Approved",
            created_at=timezone.now(),
            staff_user=staff,
        )
        for _ in range(reviews)
    )
    SessionWarning.objects.bulk_create(
        SessionWarning(session=session, risk=f"RISK_{n}", fingerprint=f"extra-{n}")
        for n in range(hits)
    )


def queries_for_change_page(admin_client, session) -> int:
    url = admin_url(VerificationSession, "change", session.pk)
    with CaptureQueriesContext(connection) as queries:
        assert admin_client.get(url).status_code == 200
    return len(queries)


def test_the_session_page_runs_the_same_queries_for_2_or_50_hits(admin_client, synced, admin):
    small, large = VerificationSession.objects.order_by("pk")[:2]
    add_hits_and_reviews(small, hits=2, reviews=1, staff=admin)
    add_hits_and_reviews(large, hits=50, reviews=20, staff=admin)
    queries_for_change_page(admin_client, small)  # warm caches (content types, session)
    assert queries_for_change_page(admin_client, large) == queries_for_change_page(
        admin_client, small
    )


def test_the_session_changelist_never_counts_the_whole_table(admin_client, synced):
    url = admin_url(VerificationSession, "changelist")
    for params in ({}, {"status__exact": "Approved"}, {"q": "a"}):
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(url, params).status_code == 200
        counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
        assert counts, "the paginator counts something"
        assert all("LIMIT" in sql.upper() for sql in counts), counts


def test_the_paginator_caps_its_count(db, synced, monkeypatch):
    monkeypatch.setattr(paginators, "COUNT_CAP", 5)
    sessions = VerificationSession.objects.all()
    assert EstimatedCountPaginator(sessions, 2).count == 6
    assert EstimatedCountPaginator(sessions.filter(pk__lte=0), 2).count == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="planner estimates: PostgreSQL")
def test_the_paginator_uses_the_planner_estimate_when_unfiltered(db, synced, monkeypatch):
    monkeypatch.setattr(paginators, "COUNT_CAP", 5)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {VerificationSession._meta.db_table}")
    with CaptureQueriesContext(connection) as queries:
        count = EstimatedCountPaginator(VerificationSession.objects.all(), 2).count
    assert count == 30
    assert not any("COUNT(" in q["sql"].upper() for q in queries)
