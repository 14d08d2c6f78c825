"""The user page, the user's compliance report and starting a re-verification."""

from __future__ import annotations

import io

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader

from tests.users.browser_form import reverification_post
from users.models import DiditUser
from verifications.models import AuditAction, AuditEntry, VerificationSession

pytestmark = pytest.mark.django_db

UNFINISHED = ["Not Started", "In Progress", "Awaiting User", "Resubmitted"]


def user_with_most_sessions() -> DiditUser:
    return DiditUser.objects.annotate(n=Count("sessions")).order_by("-n", "id").first()


def user_with_one_session() -> DiditUser:
    return DiditUser.objects.annotate(n=Count("sessions")).filter(n=1).first()


def user_without_unfinished_sessions() -> DiditUser:
    """Didit hands back an unfinished session rather than creating a second one."""
    return (
        DiditUser.objects.exclude(sessions__status__in=UNFINISHED)
        .annotate(n=Count("sessions"))
        .filter(n__gt=0)
        .order_by("-n", "id")
        .first()
    )


def detail_url(didit_user) -> str:
    return reverse("users:user-detail", args=[didit_user.vendor_data])


def report_url(didit_user) -> str:
    return reverse("users:user-report", args=[didit_user.vendor_data])


def reverify_url(didit_user) -> str:
    return reverse("users:user-reverify", args=[didit_user.vendor_data])


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


# --- The user page ----------------------------------------------------------------------------


def test_user_page_shows_features_and_every_session_with_links(sandbox, viewer_client):
    didit_user = user_with_most_sessions()
    sessions = VerificationSession.objects.filter(user=didit_user).order_by("-created_at")

    response = viewer_client.get(detail_url(didit_user))

    assert response.status_code == 200
    html = response.content.decode()
    for feature in didit_user.features:
        assert feature in html
    positions = [html.index(f"/sessions/{session.session_id}/") for session in sessions]
    assert positions == sorted(positions), "sessions are listed newest first"
    for session in sessions:
        assert f"/sessions/{session.session_id}/pdf/" in html
        assert f"/sessions/{session.session_id}/report.pdf" in html
        assert f"badge--{session.status.lower().replace(' ', '-')}" in html
        if session.document_number:
            assert session.document_number in html
        for hit in session.aml_hits.all():
            assert hit.caption in html
    assert reverse("users:user-report", args=[didit_user.vendor_data]) in html


def test_viewing_the_user_page_is_audited(sandbox, viewer_client, viewer):
    didit_user = user_with_most_sessions()

    viewer_client.get(detail_url(didit_user))

    entry = AuditEntry.objects.get()
    assert (entry.action, entry.object_type, entry.object_id, entry.actor) == (
        AuditAction.PII_VIEW,
        "user",
        didit_user.vendor_data,
        viewer,
    )


def test_user_page_runs_the_same_queries_whatever_the_number_of_sessions(sandbox, viewer_client):
    counts = []
    for didit_user in [user_with_one_session(), user_with_most_sessions()]:
        with CaptureQueriesContext(connection) as queries:
            assert viewer_client.get(detail_url(didit_user)).status_code == 200
        counts.append(len(queries))

    assert counts[0] == counts[1]
    assert counts[1] <= 14  # + linked identities: two indexed queries


def test_user_page_escapes_text_from_didit(sandbox, viewer_client):
    didit_user = user_with_most_sessions()
    DiditUser.objects.filter(pk=didit_user.pk).update(full_name="<script>alert(1)</script>")

    html = viewer_client.get(detail_url(didit_user)).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_viewers_see_no_reverification_form(sandbox, viewer_client, reviewer_client):
    didit_user = user_with_most_sessions()

    as_viewer = viewer_client.get(detail_url(didit_user)).content.decode()
    as_reviewer = reviewer_client.get(detail_url(didit_user)).content.decode()

    assert reverify_url(didit_user) not in as_viewer
    assert reverify_url(didit_user) in as_reviewer


def test_user_page_offers_the_workflows_of_earlier_sessions(sandbox, reviewer_client):
    didit_user = user_with_most_sessions()
    workflows = {
        workflow
        for workflow in VerificationSession.objects.filter(user=didit_user).values_list(
            "workflow_id", flat=True
        )
        if workflow
    }

    html = reviewer_client.get(detail_url(didit_user)).content.decode()

    for workflow in workflows:
        assert f'<option value="{workflow}"' in html


def test_unknown_user_is_404(sandbox, viewer_client):
    response = viewer_client.get(reverse("users:user-detail", args=["nobody@example.com"]))

    assert response.status_code == 404
    assert not AuditEntry.objects.exists()


# --- The user's compliance report -------------------------------------------------------------


def test_user_report_holds_every_session(sandbox, viewer_client, viewer):
    didit_user = user_with_most_sessions()
    sessions = list(VerificationSession.objects.filter(user=didit_user))

    response = viewer_client.get(report_url(didit_user))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="didit-console-user-')
    text = pdf_text(response.content)
    assert len(sessions) > 1
    for session in sessions:
        assert session.session_id in text
        if session.document_number:
            assert session.document_number in text
        for hit in session.aml_hits.all():
            assert hit.caption in text
        for review in session.reviews.all():
            assert review.comment in text
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.object_type, entry.object_id, entry.actor) == (
        AuditAction.REPORT_PDF,
        "user",
        didit_user.vendor_data,
        viewer,
    )


def test_a_vendor_data_with_slashes_has_its_pages(sandbox, viewer_client):
    didit_user = user_with_most_sessions()
    DiditUser.objects.filter(pk=didit_user.pk).update(vendor_data="team/alice/")
    VerificationSession.objects.filter(user=didit_user).update(vendor_data="team/alice/")
    didit_user.refresh_from_db()

    assert detail_url(didit_user) == "/users/team/alice//"
    assert reverify_url(didit_user) == "/users/team/alice//reverify/"
    page = viewer_client.get(detail_url(didit_user))
    assert page.status_code == 200
    assert page.context["didit_user"] == didit_user
    report = viewer_client.get(report_url(didit_user))
    assert report.status_code == 200
    assert "team/alice/" in pdf_text(report.content)
    assert viewer_client.get("/users/team/").status_code == 404


def test_user_report_filename_keeps_only_safe_characters(sandbox, viewer_client):
    didit_user = user_with_most_sessions()

    response = viewer_client.get(report_url(didit_user))

    filename = response["Content-Disposition"].split("filename=", 1)[1].strip('"')
    assert set(filename) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


# --- Re-verification --------------------------------------------------------------------------


def test_reverification_creates_a_session_at_didit_and_shows_its_url(
    sandbox, reviewer_client, reviewer
):
    didit_user = user_without_unfinished_sessions()
    known = set(VerificationSession.objects.values_list("session_id", flat=True))
    workflow = next(iter(sandbox.workflows.values()))

    data = reverification_post(reviewer_client, didit_user, workflow_id=workflow)
    response = reviewer_client.post(reverify_url(didit_user), data, follow=True)

    assert response.redirect_chain == [(detail_url(didit_user) + "#reverification", 302)]
    assert sandbox.calls["create"] == 1
    entry = AuditEntry.objects.get(action=AuditAction.REVERIFICATION)
    new_id = entry.detail["session_id"]
    assert new_id not in known
    assert sandbox.decision(new_id)["vendor_data"] == didit_user.vendor_data
    assert (entry.object_type, entry.object_id, entry.actor) == (
        "user",
        didit_user.vendor_data,
        reviewer,
    )
    assert entry.detail["workflow_id"] == workflow
    html = response.content.decode()
    assert new_id in html
    assert 'id="verification-url"' in html
    assert "<html" in html  # the no-JS fallback: the whole page


def test_reverification_through_htmx_answers_with_the_fragment(sandbox, reviewer_client):
    didit_user = user_without_unfinished_sessions()
    workflow = next(iter(sandbox.workflows.values()))

    data = reverification_post(reviewer_client, didit_user, workflow_id=workflow)
    response = reviewer_client.post(reverify_url(didit_user), data, headers={"hx-request": "true"})

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section class="panel" id="reverification"')
    assert "<html" not in html
    assert 'id="verification-url"' in html


def test_reverification_with_didit_down_records_nothing(sandbox, reviewer_client):
    didit_user = user_without_unfinished_sessions()
    workflow = next(iter(sandbox.workflows.values()))
    data = reverification_post(reviewer_client, didit_user, workflow_id=workflow)
    sandbox.set_faults(1.0, kinds=["503"])

    response = reviewer_client.post(reverify_url(didit_user), data)

    assert response.status_code == 302
    assert response["Location"] == detail_url(didit_user)
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("no session was created" in m for m in messages)
    assert not AuditEntry.objects.filter(action=AuditAction.REVERIFICATION).exists()


def test_reverification_with_didit_down_through_htmx_shows_the_error_in_place(
    sandbox, reviewer_client
):
    didit_user = user_without_unfinished_sessions()
    workflow = next(iter(sandbox.workflows.values()))
    sandbox.set_faults(1.0, kinds=["503"])

    data = reverification_post(reviewer_client, didit_user, workflow_id=workflow)
    response = reviewer_client.post(reverify_url(didit_user), data, headers={"hx-request": "true"})

    assert response.status_code == 200
    assert "no session was created" in response.content.decode()
    assert not AuditEntry.objects.filter(action=AuditAction.REVERIFICATION).exists()


def test_reverification_needs_a_workflow(sandbox, reviewer_client):
    didit_user = user_without_unfinished_sessions()

    response = reviewer_client.post(reverify_url(didit_user), {"workflow_id": "  "})

    assert response.status_code == 400
    assert "Choose the workflow to run." in response.content.decode()
    assert sandbox.calls["create"] == 0
    assert not AuditEntry.objects.exists()


def test_reverification_on_api_v1_sends_features(sandbox, reviewer_client, settings):
    settings.DIDIT_API_VERSION = "v1"
    didit_user = user_without_unfinished_sessions()

    page = reviewer_client.get(detail_url(didit_user)).content.decode()
    data = reverification_post(reviewer_client, didit_user, features="OCR + FACE")
    response = reviewer_client.post(reverify_url(didit_user), data)

    assert 'name="features"' in page
    assert response.status_code == 302
    assert sandbox.calls["create"] == 1
    entry = AuditEntry.objects.get(action=AuditAction.REVERIFICATION)
    assert entry.detail["features"] == "OCR + FACE"


# --- Access rules -----------------------------------------------------------------------------


@pytest.mark.parametrize("url_of", [detail_url, report_url, reverify_url])
def test_user_views_send_anonymous_visitors_to_log_in(sandbox, client, url_of):
    url = url_of(user_with_most_sessions())

    for response in [client.get(url), client.post(url)]:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert sandbox.calls["create"] == 0


@pytest.mark.parametrize("url_of", [detail_url, report_url])
def test_user_read_views_reject_post(sandbox, reviewer_client, url_of):
    assert reviewer_client.post(url_of(user_with_most_sessions())).status_code == 405


def test_reverification_rejects_get(sandbox, reviewer_client):
    response = reviewer_client.get(reverify_url(user_with_most_sessions()))

    assert response.status_code == 405
    assert sandbox.calls["create"] == 0


@pytest.mark.parametrize("url_of", [detail_url, report_url])
def test_user_read_views_forbid_users_without_a_role(sandbox, outsider_client, url_of):
    assert outsider_client.get(url_of(user_with_most_sessions())).status_code == 403
    # Only the refusal itself is audited (tests/test_privacy.py).
    assert list(AuditEntry.objects.values_list("action", flat=True)) == [AuditAction.ACCESS_DENIED]


@pytest.mark.parametrize("persona_client", ["viewer_client", "outsider_client"])
def test_reverification_is_forbidden_without_the_permission(sandbox, request, persona_client):
    client = request.getfixturevalue(persona_client)
    workflow = next(iter(sandbox.workflows.values()))

    response = client.post(reverify_url(user_with_most_sessions()), {"workflow_id": workflow})

    assert response.status_code == 403
    assert sandbox.calls["create"] == 0
    # Only the refusal itself is audited (tests/test_privacy.py).
    assert list(AuditEntry.objects.values_list("action", flat=True)) == [AuditAction.ACCESS_DENIED]
