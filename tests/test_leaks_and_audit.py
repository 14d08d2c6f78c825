"""No leaks (logs, error pages, server-side fetches) and an audit log nobody can rewrite."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from verifications.models import AuditAction, AuditEntry, VerificationSession
from verifications.pdf import RestrictedFetcher, render_session_report

from .trust import sandbox_world, world_of

pytestmark = pytest.mark.django_db

WEBHOOK_SECRET = "test-webhook-secret"


@pytest.fixture
def world(synced_sandbox):
    return world_of(synced_sandbox)


def personal_data(server, session_id: str) -> list[str]:
    """Names, document numbers and media URLs of one decision, as Didit serves them."""
    found: list[str] = []

    def walk(value, key=""):
        if isinstance(value, dict):
            for inner_key, inner in value.items():
                walk(inner, inner_key)
        elif isinstance(value, list):
            for inner in value:
                walk(inner, key)
        elif isinstance(value, str) and len(value) >= 6 and _is_personal(key, value):
            found.append(value)

    walk(server.decision(session_id))
    return found


def _is_personal(key: str, value: str) -> bool:
    if key.endswith(("_name", "document_number", "personal_number")):
        return True
    return key.endswith(("_url", "image", "video")) and value.startswith("http")


@pytest.mark.slow
def test_logs_of_a_full_run_hold_no_secret_and_no_personal_data(
    didit_sandbox_factory, settings, caplog, reviewer_client, viewer_client
):
    from tests.verifications.test_webhook_endpoint import delivery

    caplog.set_level(logging.DEBUG)  # root logger, every library included
    world = sandbox_world(didit_sandbox_factory, settings)  # the sync is part of the run
    server = world.server
    session_id = world.session_id
    page = reviewer_client.get(f"/sessions/{session_id}/")
    token = page.context["status_form"].initial["form_token"]
    reviewer_client.post(
        f"/sessions/{session_id}/status/",
        {"new_status": "Declined", "comment": "looks altered", "form_token": token},
    )
    server.change_status(session_id, "Approved", comment="second opinion")
    body, headers = delivery(session_id, "Approved")
    Client().post("/webhooks/didit/", data=body, content_type="application/json", headers=headers)
    viewer_client.get(f"/sessions/{session_id}/report.pdf")
    viewer_client.get(f"/sessions/{session_id}/pdf/")
    viewer_client.get(f"/users/{world.vendor_data}/report.pdf")
    viewer_client.get("/sessions/export.csv")

    logs = "\n".join(record.getMessage() for record in caplog.records)
    logs += "\n".join(str(record.args) for record in caplog.records)
    secrets = [settings.DIDIT_API_KEY, WEBHOOK_SECRET, "sandbox-client-secret", "Bearer "]
    for secret in secrets:
        assert secret not in logs, f"a secret reached the logs: {secret[:4]}..."
    personal = personal_data(server, session_id)
    assert len(personal) >= 3, personal
    for value in personal:
        assert value not in logs, f"personal data reached the logs: {value[:12]}..."
    assert caplog.records, "the run should have logged something"


def test_the_production_error_page_leaks_nothing(reviewer, settings, monkeypatch):
    from verifications.views import queue

    settings.DEBUG = False
    marker = "secret-marker-4242"

    def explode(*args, **kwargs):
        raise RuntimeError(f"database exploded near {marker} api key {settings.DIDIT_API_KEY}")

    monkeypatch.setattr(queue, "status_counts", explode)
    client = Client(raise_request_exception=False)
    client.force_login(reviewer)

    response = client.get("/sessions/")

    assert response.status_code == 500
    body = response.content.decode()
    assert marker not in body
    assert "Traceback" not in body
    assert "RuntimeError" not in body


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://127.0.0.1:1/portrait.jpg",
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost/admin/",
        "ftp://example.com/x.jpg",
        "/etc/passwd",
        "https://didit-console.invalid/static/../../settings.py",
    ],
)
def test_the_pdf_fetcher_refuses_what_is_not_ours_or_didits(url, world):
    fetcher = RestrictedFetcher.from_settings()

    with pytest.raises(ValueError):
        fetcher.fetch(url)


def test_a_decision_pointing_images_elsewhere_is_not_fetched(world, monkeypatch):
    """Rewrite the stored images to hostile URLs and render: nothing but Didit is asked."""
    import urllib.request

    session = VerificationSession.objects.select_related("document", "face").get(
        session_id=world.session_id
    )
    hostile = ["file:///etc/passwd", "http://127.0.0.1:9/x.jpg", "http://10.0.0.1/x.png"]
    document = session.document
    document.portrait_image_url, document.front_image_url, document.back_image_url = hostile
    document.save()
    asked: list[str] = []
    original = RestrictedFetcher._image

    def spy(self, url, headers=None):
        asked.append(url)
        return original(self, url, headers)

    monkeypatch.setattr(RestrictedFetcher, "_image", spy)
    monkeypatch.setattr(
        urllib.request, "urlopen", lambda *a, **k: pytest.fail("urllib opened a URL")
    )
    from verifications.pdf import report_sessions

    pdf = render_session_report(
        report_sessions().get(session_id=world.session_id), generated_by=None
    )

    assert pdf.startswith(b"%PDF")
    assert not [url for url in asked if url in hostile]


def test_image_refresh_only_puts_web_urls_in_pages(world, viewer_client):
    from verifications.media import is_web_url

    for url in ("javascript:alert(1)", "data:text/html,x", "file:///etc/passwd", "//evil"):
        assert not is_web_url(url)
    session = VerificationSession.objects.select_related("document").get(
        session_id=world.session_id
    )
    session.document.portrait_image_url = "javascript:alert(1)"
    session.document.save()

    html = viewer_client.get(f"/sessions/{world.session_id}/").content.decode()

    assert "javascript:alert(1)" not in html


# --- Audit log integrity ---------------------------------------------------------------------


@pytest.fixture
def entry(reviewer):
    from verifications import audit

    return audit.record(
        None, actor=reviewer, action=AuditAction.PII_VIEW, object_type="session", object_id="x"
    )


def test_audit_entries_cannot_be_changed_or_deleted_through_the_admin(admin_client, entry):
    base = f"/admin/verifications/auditentry/{entry.pk}"

    change = admin_client.post(f"{base}/change/", {"action": "csv_export", "object_id": "y"})
    delete = admin_client.post(f"{base}/delete/", {"post": "yes"})
    bulk = admin_client.post(
        "/admin/verifications/auditentry/",
        {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
    )

    assert change.status_code == 403
    assert delete.status_code == 403
    assert bulk.status_code in (200, 302)
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert (stored.action, stored.object_id) == (entry.action, entry.object_id)


def test_the_admin_grants_no_change_or_delete_on_audit_entries_even_to_superusers(admin, rf, entry):
    from django.contrib.admin import site

    model_admin = site._registry[AuditEntry]
    request = rf.get("/")
    request.user = admin

    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, entry)
    assert not model_admin.has_delete_permission(request, entry)


def test_audit_entries_refuse_updates_and_deletes_in_code(entry):
    entry.object_id = "changed"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().update(object_id="changed")
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().delete()


def hit_form(client, world):
    page = client.get(f"/sessions/{world.session_id}/")
    return page.context["aml_form"].initial["form_token"]


WRITE_PATHS = {
    AuditAction.STATUS_UPDATE: lambda client, world: client.post(
        f"/sessions/{world.session_id}/status/",
        {
            "new_status": "Declined",
            "comment": "audited",
            "form_token": client.get(f"/sessions/{world.session_id}/")
            .context["status_form"]
            .initial["form_token"],
        },
    ),
    AuditAction.AML_DISPOSITION: lambda client, world: client.post(
        f"/sessions/{world.session_id}/aml-hits/{world.hit_pk}/disposition/",
        {
            "disposition": "False Positive",
            "note": "different birth date",
            "form_token": hit_form(client, world),
        },
    ),
    AuditAction.REVERIFICATION: lambda client, world: client.post(
        f"/users/{world.vendor_data}/reverify/",
        {
            "workflow_id": "11111111-2222-3333-4444-555555555555",
            "features": "OCR + FACE",
            "form_token": client.get(f"/users/{world.vendor_data}/")
            .context["form"]
            .initial["form_token"],
        },
    ),
    AuditAction.DIDIT_PDF: lambda client, world: client.get(f"/sessions/{world.session_id}/pdf/"),
    AuditAction.REPORT_PDF: lambda client, world: client.get(
        f"/sessions/{world.session_id}/report.pdf"
    ),
    AuditAction.CSV_EXPORT: lambda client, world: client.get("/sessions/export.csv"),
    AuditAction.PII_VIEW: lambda client, world: client.get(f"/sessions/{world.session_id}/"),
}


@pytest.mark.slow
@pytest.mark.parametrize("action", list(WRITE_PATHS), ids=str)
def test_every_write_path_creates_exactly_one_audit_entry(action, world, reviewer_client):
    before = set(AuditEntry.objects.values_list("pk", flat=True))

    response = WRITE_PATHS[action](reviewer_client, world)
    if response.streaming:
        b"".join(response.streaming_content)

    assert response.status_code in (200, 302), response.content[:300]
    new = AuditEntry.objects.exclude(pk__in=before).exclude(
        # Loading the page to get a form token is itself a PII view.
        action=AuditAction.PII_VIEW if action != AuditAction.PII_VIEW else "-"
    )
    # A decision records the reviewer's intent before Didit is asked, then its completion.
    intent = [AuditAction.STATUS_REQUEST] if action == AuditAction.STATUS_UPDATE else []
    assert sorted(entry.action for entry in new) == sorted([*intent, str(action)])
    entry = new.get(action=action)
    assert entry.actor_username == "reviewer"
    assert entry.ip_address == "127.0.0.1"
