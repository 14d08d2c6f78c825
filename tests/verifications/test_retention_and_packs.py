"""Retention (tombstones, audit, Didit deletion), sessions deleted at Didit, and evidence
packs, against the sandbox over real HTTP with the archive in a temporary directory."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from tests.sandbox import fast_client, point_settings_at
from verifications.didit.client import DiditClient
from verifications.didit.errors import DiditNotFound
from verifications.evidence import media_references
from verifications.models import (
    AuditAction,
    AuditEntry,
    DocumentData,
    Evidence,
    EvidencePack,
    EvidencePackStatus,
    EvidenceStatus,
    Review,
    VerificationSession,
    evidence_name,
)
from verifications.packs import delete_expired_packs
from verifications.sync import sync_sessions

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def archive_dir(tmp_path, settings):
    location = tmp_path / "evidence"
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(location)},
        },
    }
    return location


@pytest.fixture
def world(didit_sandbox_factory, settings, archive_dir, django_capture_on_commit_callbacks):
    """Five sandbox sessions synced and archived."""
    server = didit_sandbox_factory(sessions=5, seed=11)
    point_settings_at(server, settings)
    with django_capture_on_commit_callbacks(execute=True):
        sync_sessions(DiditClient.from_settings(), full=True)
    return server


def age(sessions, *, days: int) -> None:
    """Make these sessions' last activity ``days`` ago (created, synced, reviewed)."""
    when = timezone.now() - timedelta(days=days)
    pks = [session.pk for session in sessions]
    VerificationSession.objects.filter(pk__in=pks).update(created_at=when, synced_at=when)
    Review.objects.filter(session__in=pks).update(created_at=when)


# --- Retention ------------------------------------------------------------------------------


def test_retention_purges_exactly_the_old_sessions_and_keeps_tombstones(
    world, settings, archive_dir
):
    settings.RETENTION_DAYS = 30
    sessions = list(VerificationSession.objects.order_by("pk"))
    old, recent = sessions[:2], sessions[2:]
    age(recent, days=1)
    age(old, days=45)
    old_files = {row.sha256 for row in Evidence.objects.filter(session__in=old) if row.sha256} - {
        row.sha256 for row in Evidence.objects.filter(session__in=recent)
    }
    assert old_files
    reviews_before = {s.pk: list(s.reviews.values_list("new_status", "staff_user")) for s in old}

    out = io.StringIO()
    call_command("apply_retention", "--dry-run", stdout=out)
    assert f"{len(old)} sessions" in out.getvalue()
    assert VerificationSession.objects.filter(purged_at__isnull=False).count() == 0

    call_command("apply_retention", stdout=io.StringIO())

    purged = set(
        VerificationSession.objects.filter(purged_at__isnull=False).values_list("pk", flat=True)
    )
    assert purged == {s.pk for s in old}
    for before in old:
        tombstone = VerificationSession.objects.get(pk=before.pk)
        assert tombstone.session_id == before.session_id
        assert tombstone.status == before.status
        assert tombstone.created_at is not None
        assert tombstone.full_name == "" and tombstone.document_number == ""
        assert tombstone.vendor_data == "" and tombstone.user_id is None
        assert tombstone.decision == {"session_id": before.session_id, "status": before.status}
        assert not DocumentData.objects.filter(session=tombstone).exists()
        assert not Evidence.objects.filter(session=tombstone).exists()
        assert (
            list(tombstone.reviews.values_list("new_status", "staff_user"))
            == (reviews_before[before.pk])
        )
        entry = AuditEntry.objects.get(
            action=AuditAction.RETENTION_PURGE, object_id=before.session_id
        )
        assert entry.detail["retention_days"] == 30
    for digest in old_files:
        assert not (archive_dir / evidence_name(digest)).exists()
    for session in recent:
        fresh = VerificationSession.objects.get(pk=session.pk)
        assert fresh.purged_at is None and fresh.full_name == session.full_name
        assert Evidence.objects.filter(session=fresh, status=EvidenceStatus.ARCHIVED).exists()
    call_command("verify_evidence", stdout=io.StringIO())  # what is left is intact

    # A later sync never fills a tombstone in again.
    sync_sessions(DiditClient.from_settings(), full=True)
    assert VerificationSession.objects.get(pk=old[0].pk).full_name == ""


def test_retention_without_a_period_keeps_everything(world, settings):
    settings.RETENTION_DAYS = None
    age(VerificationSession.objects.all(), days=4000)

    out = io.StringIO()
    call_command("apply_retention", stdout=out)

    assert "everything is kept" in out.getvalue()
    assert not VerificationSession.objects.filter(purged_at__isnull=False).exists()


def test_retention_can_delete_at_didit_first(world, settings):
    settings.RETENTION_DAYS = 30
    old = VerificationSession.objects.order_by("pk").first()
    age(VerificationSession.objects.exclude(pk=old.pk), days=1)
    age([old], days=90)

    call_command("apply_retention", "--delete-at-didit", stdout=io.StringIO())

    tombstone = VerificationSession.objects.get(pk=old.pk)
    assert tombstone.purged_at is not None and tombstone.deleted_at_didit is not None
    with pytest.raises(DiditNotFound):
        fast_client(world).get_decision(old.session_id)
    assert VerificationSession.objects.filter(purged_at__isnull=True).count() == 4


def test_a_session_didit_will_not_delete_is_kept_for_the_next_run(world, settings):
    settings.RETENTION_DAYS = 30
    age(VerificationSession.objects.all(), days=90)
    world.set_faults(1.0, kinds=["500"])

    with pytest.raises(SystemExit):
        call_command(
            "apply_retention", "--delete-at-didit", stdout=io.StringIO(), stderr=io.StringIO()
        )

    assert not VerificationSession.objects.filter(purged_at__isnull=False).exists()


# --- Deleted at Didit -----------------------------------------------------------------------


def test_a_full_sync_marks_sessions_deleted_at_didit_and_keeps_their_evidence(world):
    gone = VerificationSession.objects.order_by("pk").first()
    files = Evidence.objects.filter(session=gone).count()
    fast_client(world).delete_session(gone.session_id)

    sync_sessions(DiditClient.from_settings())  # an incremental run does not judge
    assert VerificationSession.objects.get(pk=gone.pk).deleted_at_didit is None
    sync_sessions(DiditClient.from_settings(), full=True)

    marked = VerificationSession.objects.filter(deleted_at_didit__isnull=False)
    assert list(marked.values_list("pk", flat=True)) == [gone.pk]
    assert Evidence.objects.filter(session=gone).count() == files
    assert AuditEntry.objects.filter(
        action=AuditAction.DELETED_AT_DIDIT, object_id=gone.session_id
    ).exists()


def test_the_session_page_says_deleted_at_didit(world, viewer_client):
    gone = VerificationSession.objects.order_by("pk").first()
    VerificationSession.objects.filter(pk=gone.pk).update(deleted_at_didit=timezone.now())

    page = viewer_client.get(reverse("verifications:session-detail", args=[gone.session_id]))

    assert "Deleted at Didit" in page.content.decode()


# --- Evidence packs -------------------------------------------------------------------------


def request_pack(client, session_ids, capture):
    with capture(execute=True):
        return client.post(reverse("evidence-pack-create"), {"session": session_ids})


def test_an_evidence_pack_holds_every_file_with_matching_hashes(
    world, reviewer_client, reviewer, django_capture_on_commit_callbacks
):
    sessions = list(VerificationSession.objects.order_by("pk")[:3])
    ids = [s.session_id for s in sessions]

    response = request_pack(reviewer_client, ids, django_capture_on_commit_callbacks)

    pack = EvidencePack.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/evidence-packs/{pack.pack_id}/"
    assert pack.status == EvidencePackStatus.READY and pack.done == 3
    page = reviewer_client.get(response["Location"]).content.decode()
    link = reverse("evidence-pack-download", args=[pack.pack_id, pack.download_name])
    assert link in page and "hx-trigger" not in page
    download = reviewer_client.get(link)
    assert download.status_code == 200 and download["Cache-Control"] == "private, no-store"
    data = b"".join(download.streaming_content)
    assert hashlib.sha256(data).hexdigest() == pack.sha256

    archive = zipfile.ZipFile(io.BytesIO(data))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["sessions"] == ids and manifest["created_by"] == reviewer.username
    listed = {entry["path"]: entry for entry in manifest["files"]}
    assert set(listed) == set(archive.namelist()) - {"manifest.json"}
    for path, entry in listed.items():
        body = archive.read(path)
        assert hashlib.sha256(body).hexdigest() == entry["sha256"] and len(body) == entry["size"]
    for session in sessions:
        folder = session.session_id
        assert archive.read(f"{folder}/compliance-report.pdf").startswith(b"%PDF-")
        assert json.loads(archive.read(f"{folder}/decision.json")) == session.decision
        media = [p for p in listed if p.startswith(f"{folder}/media/")]
        assert len(media) == len(media_references(session.decision))
        trail = archive.read(f"{folder}/audit-trail.jsonl").decode().splitlines()
        assert all(json.loads(line)["action"] for line in trail)
        if session.status in ("Approved", "Declined", "In Review", "Kyc Expired"):
            assert archive.read(f"{folder}/didit-report.pdf").startswith(b"%PDF-")
    assert (
        AuditEntry.objects.filter(
            action=AuditAction.EVIDENCE_PACK, object_id=str(pack.pack_id)
        ).count()
        == 2
    )  # requested, downloaded


def test_a_pack_page_polls_while_the_pack_is_built(world, reviewer_client, reviewer):
    pack = EvidencePack.objects.create(
        created_by=reviewer,
        session_ids=["x"],
        total=4,
        done=1,
        status=EvidencePackStatus.BUILDING,
        expires_at=timezone.now() + timedelta(hours=1),
    )
    url = reverse("evidence-pack-detail", args=[pack.pack_id])

    full = reviewer_client.get(url).content.decode()
    fragment = reviewer_client.get(url, headers={"HX-Request": "true"}).content.decode()

    assert 'hx-trigger="every 2s"' in full and "1 of 4 sessions packed" in full
    assert fragment.strip().startswith('<div id="pack-progress"') and "<html" not in fragment


def test_packs_are_refused_for_sessions_the_user_may_not_see(
    world,
    outsider_client,
    viewer_client,
    reviewer_client,
    client,
    django_user_model,
    django_capture_on_commit_callbacks,
):
    session_id = VerificationSession.objects.first().session_id

    assert (
        client.post(reverse("evidence-pack-create"), {"session": [session_id]}).status_code == 302
    )
    for refused in (outsider_client, viewer_client):  # no permission to build packs
        assert (
            request_pack(refused, [session_id], django_capture_on_commit_callbacks).status_code
            == 403
        )
    # May build packs, may not see sessions.
    builder = django_user_model.objects.create_user("builder")
    builder.user_permissions.add(Permission.objects.get(codename="add_evidencepack"))
    client.force_login(builder)
    blind = request_pack(client, [session_id], django_capture_on_commit_callbacks)
    assert blind.status_code == 403
    unknown = request_pack(
        reviewer_client, [session_id, "no-such-session"], django_capture_on_commit_callbacks
    )
    assert unknown.status_code == 403
    assert request_pack(reviewer_client, [], django_capture_on_commit_callbacks).status_code == 400
    assert reviewer_client.get(reverse("evidence-pack-create")).status_code == 405
    assert not EvidencePack.objects.exists()


def test_a_pack_is_only_for_whoever_asked_and_expires_after_a_day(
    world, reviewer_client, viewer_client, settings, django_capture_on_commit_callbacks
):
    session_id = VerificationSession.objects.first().session_id
    request_pack(reviewer_client, [session_id], django_capture_on_commit_callbacks)
    pack = EvidencePack.objects.get()
    detail = reverse("evidence-pack-detail", args=[pack.pack_id])
    link = reverse("evidence-pack-download", args=[pack.pack_id, pack.download_name])
    assert viewer_client.get(detail).status_code == 403
    assert viewer_client.get(link).status_code == 403

    assert settings.EVIDENCE_PACK_TTL_HOURS == 24
    assert timedelta(hours=23) < pack.expires_at - pack.created_at <= timedelta(hours=24)
    # A day later (the reviewer's login would have lapsed meanwhile: move the pack instead).
    EvidencePack.objects.filter(pk=pack.pk).update(expires_at=timezone.now())

    assert reviewer_client.get(link).status_code == 410
    assert "expired" in reviewer_client.get(detail).content.decode()
    assert delete_expired_packs() == 1
    pack.refresh_from_db()
    assert pack.status == EvidencePackStatus.EXPIRED


def test_the_admin_and_the_user_page_offer_evidence_packs(
    world, admin_client, reviewer_client, viewer_client, django_capture_on_commit_callbacks
):
    sessions = list(VerificationSession.objects.order_by("pk")[:2])
    changelist = reverse("admin:verifications_verificationsession_changelist")

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            changelist,
            {"action": "build_evidence_pack", "_selected_action": [s.pk for s in sessions]},
        )

    pack = EvidencePack.objects.get()
    assert response.status_code == 302 and str(pack.pack_id) in response["Location"]
    assert sorted(pack.session_ids) == sorted(s.session_id for s in sessions)
    assert pack.status == EvidencePackStatus.READY
    person = sessions[0].user
    page = reviewer_client.get(reverse("users:user-detail", args=[person.vendor_data]))
    html = page.content.decode()
    assert f'action="{reverse("evidence-pack-create")}"' in html
    assert f'name="session" value="{sessions[0].session_id}"' in html
    page = viewer_client.get(reverse("users:user-detail", args=[person.vendor_data]))
    assert "evidence-packs" not in page.content.decode()  # viewers may not build packs
