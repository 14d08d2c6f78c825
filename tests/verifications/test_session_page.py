"""The session page at /sessions/<id>/: the whole decision, escaped, audited, fresh images."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from tests.sandbox import sync_all
from verifications.media import expires_at, session_media_urls
from verifications.models import (
    AmlHit,
    AuditAction,
    AuditEntry,
    Review,
    ReviewSource,
    SessionWarning,
    VerificationSession,
)

pytestmark = pytest.mark.django_db


def url(session: VerificationSession) -> str:
    return reverse("verifications:session-detail", args=[session.session_id])


def session_with_hits(shape: str | None = None) -> VerificationSession:
    sessions = VerificationSession.objects.filter(aml_total_hits__gt=0)
    if shape:
        sessions = sessions.filter(api_shape=shape)
    session = sessions.select_related("document", "ip_analysis").first()
    assert session is not None, f"the sandbox should hold a {shape or ''} session with AML hits"
    return session


def test_anonymous_is_sent_to_login(sandbox, client):
    response = client.get(url(session_with_hits()))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_session_page_rejects_post(sandbox, reviewer_client):
    assert reviewer_client.post(url(session_with_hits())).status_code == 405


def test_someone_without_a_role_gets_403(sandbox, outsider_client):
    assert outsider_client.get(url(session_with_hits())).status_code == 403


def test_unknown_session_is_404(viewer_client):
    assert viewer_client.get("/sessions/no-such-session/").status_code == 404


@pytest.mark.parametrize("shape", ["v1", "v2", "v3"])
def test_the_page_shows_the_whole_decision(sandbox, viewer_client, shape):
    sessions = VerificationSession.objects.filter(api_shape=shape).exclude(document_number="")
    session = sessions.select_related("document", "face", "ip_analysis").first()
    assert session is not None
    response = viewer_client.get(url(session))
    assert response.status_code == 200
    content = response.content.decode()
    assert session.full_name in content or not session.full_name
    assert session.document_number in content
    assert f"badge--{session.status.lower().replace(' ', '-')}" in content
    assert session.document.portrait_image_url.split("?")[0] in content
    if hasattr(session, "face"):
        assert "Face match" in content and "Liveness" in content
    if hasattr(session, "ip_analysis"):
        assert session.ip_analysis.ip_address in content
        assert "Distance to document" in content
    for hit in session.aml_hits.all():
        assert str(hit.caption) in content
    for warning in session.warnings.all():
        assert warning.risk in content
    assert "Raw decision" in content
    assert 'class="raw-json"' in content


def test_aml_hits_show_datasets_topics_aliases_and_positions(sandbox, viewer_client):
    session = session_with_hits("v3")
    content = viewer_client.get(url(session)).content.decode()
    for hit in session.aml_hits.all():
        for dataset in hit.datasets:
            assert dataset in content
        for alias in hit.properties.get("alias") or []:
            assert alias in content


def test_a_viewer_sees_no_review_forms_and_a_reviewer_does(sandbox, viewer_client, reviewer_client):
    session = session_with_hits()
    for_viewer = viewer_client.get(url(session)).content.decode()
    assert 'value="Approved"' not in for_viewer
    assert 'name="disposition"' not in for_viewer
    for_reviewer = reviewer_client.get(url(session)).content.decode()
    assert 'name="new_status" value="Approved"' in for_reviewer
    assert 'name="new_status" value="Declined"' in for_reviewer
    assert 'name="disposition" value="False Positive"' in for_reviewer


def test_the_timeline_tells_didits_reviews_from_ours(sandbox, reviewer_client, reviewer):
    session = Review.objects.filter(source=ReviewSource.DIDIT).first().session
    Review.objects.create(
        session=session,
        source=ReviewSource.CONSOLE,
        new_status="Declined",
        comment="Ours",
        created_at=timezone.now(),
        staff_user=reviewer,
    )
    content = reviewer_client.get(url(session)).content.decode()
    assert "timeline__item--didit" in content
    assert "timeline__item--console" in content
    assert "last reviewed by <strong>reviewer</strong>" in content


def test_viewing_the_page_is_audited(sandbox, viewer_client, viewer):
    session = session_with_hits()
    viewer_client.get(url(session))
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor, entry.object_id) == (
        AuditAction.PII_VIEW,
        viewer,
        session.session_id,
    )
    assert entry.ip_address == "127.0.0.1"


def test_all_text_from_didit_is_escaped(sandbox, viewer_client):
    session = session_with_hits()
    script = "<script>alert(1)</script>"
    VerificationSession.objects.filter(pk=session.pk).update(full_name=script)
    session.document.full_name = script
    session.document.save()
    AmlHit.objects.filter(session=session).update(caption=script, url="javascript:alert(1)")
    SessionWarning.objects.create(
        session=session, risk=script, short_description=script, fingerprint="x"
    )
    content = viewer_client.get(url(session)).content.decode()
    assert script not in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content
    assert "javascript:" not in content


def test_a_non_web_image_url_is_not_rendered(sandbox, viewer_client):
    session = session_with_hits()
    session.document.front_image_url = "javascript:alert(1)"
    session.document.save()
    content = viewer_client.get(url(session)).content.decode()
    assert "javascript:" not in content
    assert "No front" in content


def test_the_page_runs_the_same_queries_whatever_the_number_of_hits_reviews_and_warnings(
    sandbox, viewer_client, reviewer, django_assert_max_num_queries
):
    session = session_with_hits()
    # Session, user, permissions (2), page data (1 + hits + reviews + warnings + archived
    # evidence), the person's AML whitelist entries, audit, save, linked identities (2); the
    # claim: its activity, its owner and any decision pending a second review (3).
    with django_assert_max_num_queries(19) as before:
        viewer_client.get(url(session))
    for index in range(20):
        AmlHit.objects.create(session=session, hit_id=f"extra-{index}", caption=f"Extra {index}")
        SessionWarning.objects.create(
            session=session, risk=f"RISK_{index}", fingerprint=f"f{index}"
        )
        Review.objects.create(
            session=session,
            source=ReviewSource.CONSOLE,
            new_status="Declined",
            staff_user=reviewer,
            created_at=timezone.now(),
        )
    with django_assert_max_num_queries(len(before)):
        response = viewer_client.get(url(session))
    assert response.content.decode().count('class="aml__hit') >= 20


def test_expired_image_urls_are_refreshed_from_didit_before_rendering(
    didit_sandbox_factory, settings, viewer_client
):
    server = didit_sandbox_factory(sessions=12, seed=3, media_ttl=300)
    sync_all(server, settings)
    session = VerificationSession.objects.exclude(document_number="").first()
    stale = session_media_urls(_reload(session))
    assert stale
    calls_before = server.calls["decision"]

    viewer_client.get(url(session))
    assert server.calls["decision"] == calls_before  # Still valid: no refresh.

    with time_machine.travel(timezone.now() + timedelta(minutes=10), tick=True):
        response = viewer_client.get(url(session))
        fresh = session_media_urls(_reload(session))
        assert server.calls["decision"] == calls_before + 1
        assert fresh != stale
        assert all(expires_at(link) > timezone.now() for link in fresh if expires_at(link))
    assert fresh[0] in response.content.decode().replace("&amp;", "&")


def test_expired_images_with_didit_down_render_anyway_with_a_notice(
    didit_sandbox_factory, settings, viewer_client
):
    server = didit_sandbox_factory(sessions=12, seed=3, media_ttl=300)
    sync_all(server, settings)
    session = VerificationSession.objects.exclude(document_number="").first()
    settings.DIDIT_VERIFICATION_URL = "http://127.0.0.1:9"  # Nothing listens there.
    with time_machine.travel(timezone.now() + timedelta(minutes=10), tick=True):
        response = viewer_client.get(url(session))
    assert response.status_code == 200
    assert "could not be reached to refresh" in response.content.decode()


def _reload(session: VerificationSession) -> VerificationSession:
    return VerificationSession.objects.select_related("document", "face").get(pk=session.pk)
