"""The evidence archive against the sandbox over real HTTP: every media file of a decision is
copied into our storage when the decision is stored, and pages and reports show our copy
once Didit's short-lived URLs have expired, or once Didit is gone altogether."""

from __future__ import annotations

import hashlib
import io
import re
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

import pytest
from django.core.management import call_command
from django.urls import reverse
from pypdf import PdfReader

from tests.sandbox import point_settings_at
from verifications.didit.client import DiditClient
from verifications.evidence import (
    archive_session,
    archived_sha256,
    media_references,
    read_archived,
    unsigned,
)
from verifications.media import expires_at, media_expiring
from verifications.models import (
    AuditAction,
    AuditEntry,
    Evidence,
    EvidenceStatus,
    VerificationSession,
    evidence_name,
)
from verifications.pdf import render_session_report, render_user_report, report_sessions
from verifications.sync import sync_sessions

pytestmark = [pytest.mark.django_db]

MEDIA_TTL = 3  # seconds: the sandbox's signed media URLs die quickly


@pytest.fixture
def archive_dir(tmp_path, settings):
    """The evidence storage in a fresh directory for this test."""
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
def short_lived(didit_sandbox_factory, settings, archive_dir, django_capture_on_commit_callbacks):
    """A sandbox whose media URLs live ``MEDIA_TTL`` seconds, synced whole; the archive task
    ran on commit of each decision (tasks run immediately in tests)."""
    server = didit_sandbox_factory(sessions=4, seed=7, media_ttl=MEDIA_TTL)
    point_settings_at(server, settings)
    with django_capture_on_commit_callbacks(execute=True):
        sync_sessions(DiditClient.from_settings(), full=True)
    return server


def sessions_with_media() -> list[VerificationSession]:
    return [s for s in VerificationSession.objects.all() if media_references(s.decision)]


def wait_past_expiry() -> None:
    time.sleep(MEDIA_TTL + 1.5)


def test_storing_a_decision_archives_every_media_file_it_references(short_lived, archive_dir):
    sessions = sessions_with_media()
    assert sessions
    for session in sessions:
        references = media_references(session.decision)
        rows = {row.kind: row for row in Evidence.objects.filter(session=session)}
        assert set(rows) == set(references)
        for kind, url in references.items():
            row = rows[kind]
            assert row.status == EvidenceStatus.ARCHIVED, (kind, row.error)
            assert row.source_url == unsigned(url) and "?" not in row.source_url
            stored = (archive_dir / evidence_name(row.sha256)).read_bytes()
            assert hashlib.sha256(stored).hexdigest() == row.sha256
            assert len(stored) == row.size
            assert row.content_type.startswith(("image/", "video/"))
            assert row.fetched_at is not None


def test_every_kind_of_media_is_found_in_a_decision():
    decision = {
        "id_verifications": [
            {"front_image": "https://m.example/a.jpg", "front_video": "https://m.example/v.mp4"},
            {"portrait_image": "https://m.example/p.jpg", "back_image": None},
        ],
        "liveness_checks": [{"reference_image": "https://m.example/r.jpg", "video_url": "x"}],
        "face_matches": [{"source_image": "https://m.example/s.jpg"}],
        "poa_verifications": [{"document_file": "https://m.example/poa.pdf"}],
        "extra_images": ["https://m.example/e.jpg"],
        "session_url": "https://verify.didit.me/session/abc",
        "aml_screenings": [{"hits": [{"url": "https://watchlist.example/entity"}]}],
    }

    found = media_references(decision)

    assert found == {
        "id_verifications[0].front_image": "https://m.example/a.jpg",
        "id_verifications[0].front_video": "https://m.example/v.mp4",
        "id_verifications[1].portrait_image": "https://m.example/p.jpg",
        "liveness_checks[0].reference_image": "https://m.example/r.jpg",
        "face_matches[0].source_image": "https://m.example/s.jpg",
        "poa_verifications[0].document_file": "https://m.example/poa.pdf",
        "extra_images[0]": "https://m.example/e.jpg",
    }


@pytest.mark.slow
def test_after_expiry_the_page_and_both_pdfs_show_every_image_from_the_archive(
    short_lived, viewer_client, reviewer
):
    session = max(sessions_with_media(), key=lambda s: len(media_references(s.decision)))
    wait_past_expiry()
    decisions_before = short_lived.calls["decision"]

    page = viewer_client.get(reverse("verifications:session-detail", args=[session.session_id]))

    html = page.content.decode()
    sources = re.findall(r'<(?:img|video)[^>]* src="([^"]+)"', html)
    assert sources and all(src.startswith("/evidence/") for src in sources), sources
    assert short_lived.base_url not in html.split('id="document-title"')[1].split("</section>")[0]
    assert short_lived.calls["decision"] == decisions_before  # no refresh needed
    for src in set(sources):
        image = viewer_client.get(src)
        assert image.status_code == 200
        assert image["Cache-Control"] == "private, no-store"
        assert hashlib.sha256(b"".join(image.streaming_content)).hexdigest() in src
    assert "files archived" in html

    loaded = report_sessions().get(pk=session.pk)
    expected = sum(
        1
        for url in (
            loaded.document.portrait_image_url,
            loaded.document.front_image_url,
            loaded.document.back_image_url,
            loaded.face.target_image_url or loaded.face.reference_image_url,
        )
        if url
    )
    media_fetches = short_lived.calls["media"]
    for data in (
        render_session_report(loaded, generated_by=reviewer),
        render_user_report(loaded.user, generated_by=reviewer, sessions=[loaded]),
    ):
        assert distinct_images(data) == expected
    assert short_lived.calls["media"] == media_fetches  # read from the archive, not Didit
    # Without the archive, the expired URLs give a report without images.
    Evidence.objects.filter(session=session).delete()
    bare = render_session_report(report_sessions().get(pk=session.pk), generated_by=reviewer)
    assert distinct_images(bare) == 0


def distinct_images(data: bytes) -> int:
    """Images embedded in a PDF (pypdf lists a page's resources, shared between pages)."""
    reader = PdfReader(io.BytesIO(data))
    return len(
        {hashlib.sha256(image.data).digest() for page in reader.pages for image in page.images}
    )


def test_the_archive_outlives_didit(short_lived, viewer_client):
    session = sessions_with_media()[0]
    row = Evidence.objects.filter(session=session).first()
    short_lived.stop()

    response = viewer_client.get(reverse("evidence-file", args=[row.sha256]))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == read_archived(row.sha256)
    page = viewer_client.get(reverse("verifications:session-detail", args=[session.session_id]))
    assert page.status_code == 200
    assert f"/evidence/{row.sha256}/" in page.content.decode()


def test_an_archived_file_is_served_only_to_people_who_may_see_sessions(
    short_lived, client, outsider_client, viewer_client, viewer
):
    row = Evidence.objects.filter(status=EvidenceStatus.ARCHIVED).first()
    url = reverse("evidence-file", args=[row.sha256])

    assert client.get(url).status_code == 302  # login first
    assert outsider_client.get(url).status_code == 403
    assert viewer_client.post(url).status_code == 405
    assert viewer_client.get(reverse("evidence-file", args=["0" * 64])).status_code == 404
    assert viewer_client.get(url).status_code == 200
    entry = AuditEntry.objects.filter(action=AuditAction.EVIDENCE_VIEW).get()
    assert entry.actor == viewer and entry.object_id == row.session.session_id
    assert entry.detail == {"sha256": row.sha256, "kind": row.kind}


def test_verify_evidence_reports_an_altered_byte_and_a_missing_file(short_lived, archive_dir):
    call_command("verify_evidence", stdout=io.StringIO())  # all good: no exit
    first, second = Evidence.objects.filter(status=EvidenceStatus.ARCHIVED).order_by("pk")[:2]
    path = archive_dir / evidence_name(first.sha256)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))

    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("verify_evidence", stdout=io.StringIO(), stderr=err)
    assert exit_.value.code == 1
    assert f"altered {first.sha256}" in err.getvalue()
    assert first.session.session_id in err.getvalue()

    (archive_dir / evidence_name(second.sha256)).unlink()
    err = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("verify_evidence", stdout=io.StringIO(), stderr=err)
    assert f"missing {second.sha256}" in err.getvalue()


def test_an_archived_session_no_longer_needs_fresh_urls(short_lived):
    session = VerificationSession.objects.select_related("document", "face").get(
        pk=sessions_with_media()[0].pk
    )
    wait_past_expiry()

    assert not media_expiring(session)


def test_a_403_from_the_media_host_counts_as_expired_whatever_the_url_looks_like(
    didit_sandbox_factory, settings, archive_dir
):
    server = didit_sandbox_factory(sessions=2, seed=3)
    point_settings_at(server, settings)
    sync_sessions(DiditClient.from_settings(), full=True)  # no commit: nothing archived
    session = next(
        s
        for s in VerificationSession.objects.select_related("document", "face")
        if getattr(s, "document", None) and s.document.front_image_url
    )
    assert not media_expiring(session)
    # The form of Didit's documented example: no expiry in the URL at all.
    for field in ("portrait_image_url", "front_image_url", "back_image_url"):
        url = getattr(session.document, field)
        if url:
            setattr(session.document, field, url.split("?")[0] + "?X-Amz-Signature=bad")

    assert media_expiring(session)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://s3.example/a.jpg?X-Amz-Date=20260101T000000Z&X-Amz-Expires=60&X-Amz-Signature=x",
            "2026-01-01T00:01:00+00:00",
        ),
        ("https://s3.example/a.jpg?Expires=1767225600&Signature=x", "2026-01-01T00:00:00+00:00"),
        (
            "https://storage.googleapis.com/b/a.jpg?X-Goog-Date=20260101T000000Z&X-Goog-Expires=600",
            "2026-01-01T00:10:00+00:00",
        ),
        (
            "https://acct.blob.core.windows.net/c/a.jpg?se=2026-01-01T00:00:00Z&sig=x",
            "2026-01-01T00:00:00+00:00",
        ),
        ("https://cdn.example/a.jpg?exp=1767225600&token=x", "2026-01-01T00:00:00+00:00"),
        ("https://example.com/portrait.jpg", None),
    ],
)
def test_expiry_is_read_from_every_signed_url_form(url, expected):
    found = expires_at(url)
    assert (found.isoformat() if found else None) == expected


def test_a_lifetime_without_its_start_counts_from_when_the_url_was_stored():
    from datetime import UTC, datetime

    stored = datetime(2026, 1, 1, tzinfo=UTC)
    url = "https://s3.example/a.jpg?X-Amz-Expires=40&X-Amz-Signature=x"

    assert expires_at(url, issued_at=stored).isoformat() == "2026-01-01T00:00:40+00:00"
    assert expires_at(url) is None


@pytest.mark.slow
def test_expired_urls_before_archiving_are_refetched_and_then_archived(
    didit_sandbox_factory, settings, archive_dir
):
    server = didit_sandbox_factory(sessions=2, seed=5, media_ttl=1)
    point_settings_at(server, settings)
    sync_sessions(DiditClient.from_settings(), full=True)  # archive not run (no commit)
    session = sessions_with_media()[0]
    time.sleep(2.5)  # the stored URLs are dead now
    decisions = server.calls["decision"]

    progress = archive_session(session.pk, client=DiditClient.from_settings())

    assert server.calls["decision"] == decisions + 1  # one re-fetch for fresh URLs
    assert progress.complete and progress.total == len(media_references(session.decision))


# --- Bad input ------------------------------------------------------------------------------


class _Host(BaseHTTPRequestHandler):
    """A media host answering with whatever the test sets."""

    body = b"<html>hi</html>"
    content_type = "text/html"
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        type(self).hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def media_host():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Host)
    Thread(target=server.serve_forever, daemon=True).start()
    _Host.hits = []
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def one_session(decision_media: dict) -> VerificationSession:
    from tests.sandbox import session_row

    session = session_row("bad-input-session", decision={"id_verifications": [decision_media]})
    session.save()
    return session


def test_media_on_another_host_is_never_fetched(media_host, settings, archive_dir):
    settings.DIDIT_MEDIA_HOSTS = []
    settings.DIDIT_VERIFICATION_URL = "https://verification.didit.me"
    session = one_session({"front_image": f"http://{media_host}/front.jpg?sig=1"})

    progress = archive_session(session.pk)

    assert _Host.hits == []
    row = Evidence.objects.get(session=session)
    assert row.status == EvidenceStatus.REFUSED and "not an allowed media host" in row.error
    assert str(progress) == "0 of 1 files archived, 1 refused"


def test_a_file_of_an_unexpected_type_or_too_large_is_refused(media_host, settings, archive_dir):
    settings.DIDIT_MEDIA_HOSTS = [media_host]
    session = one_session(
        {
            "front_image": f"http://{media_host}/front.jpg",
            "back_image": f"http://{media_host}/back.jpg",
        }
    )
    _Host.content_type, _Host.body = "text/html", b"<script>alert(1)</script>"
    archive_session(session.pk)
    rows = {row.kind: row for row in Evidence.objects.filter(session=session)}
    assert {row.status for row in rows.values()} == {EvidenceStatus.REFUSED}
    assert "unexpected content type text/html" in rows["id_verifications[0].front_image"].error

    _Host.content_type, _Host.body = "image/svg+xml", b"<svg onload='alert(1)'/>"
    Evidence.objects.filter(session=session).delete()
    archive_session(session.pk)
    assert {row.status for row in Evidence.objects.filter(session=session)} == {
        EvidenceStatus.REFUSED
    }

    settings.EVIDENCE_MAX_BYTES = 100
    _Host.content_type, _Host.body = "image/jpeg", b"\xff\xd8" + b"x" * 200
    Evidence.objects.filter(session=session).delete()
    archive_session(session.pk)
    errors = set(Evidence.objects.filter(session=session).values_list("error", flat=True))
    assert errors == {"file of 202 bytes is over the 100-byte limit"}
    assert not list(archive_dir.rglob("*")) or all(p.is_dir() for p in archive_dir.rglob("*"))


def test_a_media_host_that_is_down_leaves_the_file_failed_for_a_retry(settings, archive_dir):
    settings.DIDIT_MEDIA_HOSTS = ["127.0.0.1:9"]  # discard port: nothing listens
    session = one_session({"front_image": "http://127.0.0.1:9/front.jpg"})

    progress = archive_session(session.pk, refetch_expired=False)

    row = Evidence.objects.get(session=session)
    assert row.status == EvidenceStatus.FAILED and row.attempts == 1
    assert progress.failed == 1 and not progress.complete
    assert archived_sha256(session, "http://127.0.0.1:9/front.jpg") is None


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_database_backend_queues_the_archive_and_db_worker_runs_it(
    didit_sandbox_factory, settings
):
    """What production runs: the ORM backend stores the task, ``db_worker`` archives."""
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    server = didit_sandbox_factory(sessions=2, seed=9)
    point_settings_at(server, settings)

    sync_sessions(DiditClient.from_settings(), full=True)

    queued = DBTaskResult.objects.filter(task_path="verifications.tasks.archive_evidence")
    assert queued.count() == 2
    assert not Evidence.objects.exists()  # nothing done inline
    call_command("db_worker", "--batch", "--no-startup-delay", stdout=io.StringIO())
    assert Evidence.objects.exists()
    assert not Evidence.objects.exclude(status=EvidenceStatus.ARCHIVED).exists()
    statuses = set(DBTaskResult.objects.values_list("status", flat=True))
    assert statuses == {"SUCCESSFUL"}


@pytest.mark.slow
def test_a_webhook_s_re_fetch_archives_the_new_media(
    client, didit_sandbox_factory, settings, django_capture_on_commit_callbacks
):
    from tests.verifications.test_webhook_endpoint import URL, delivery

    server = didit_sandbox_factory(sessions=3, seed=4)
    point_settings_at(server, settings)
    sync_sessions(DiditClient.from_settings(), full=True)  # not committed: nothing archived
    session = sessions_with_media()[0]
    server.change_status(session.session_id, "Declined")
    body, headers = delivery(session.session_id, "Declined")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, data=body, content_type="application/json", headers=headers)

    assert response.status_code == 200
    rows = Evidence.objects.filter(session=session)
    assert rows.count() == len(media_references(session.decision))
    assert {row.status for row in rows} == {EvidenceStatus.ARCHIVED}
