"""Downloading both PDF reports in a real browser, from the session page and the user page."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from users.roles import grant_role_permissions
from verifications.models import AuditAction, AuditEntry, VerificationSession

from .conftest import screenshot

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def roles(transactional_db):
    """The roles, as ``migrate`` makes them. The live server needs a transactional database,
    whose flush between tests empties the groups; the personas would then log in without
    permissions."""
    grant_role_permissions()


@pytest.fixture
def session_with_hits(live_url, synced_sandbox) -> VerificationSession:
    session = (
        VerificationSession.objects.filter(
            status__in=["Approved", "Declined", "In Review"], aml_total_hits__gt=0
        )
        .exclude(document_number="")
        .first()
    )
    assert session is not None
    return session


def download(page: Page, link_name: str) -> tuple[str, bytes]:
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name, exact=True).first.click()
    result = info.value
    return result.suggested_filename, Path(result.path()).read_bytes()


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def test_reviewer_downloads_both_pdfs_from_the_session_page(
    logged_in_page, session_with_hits, console_errors
):
    session = session_with_hits
    page = logged_in_page("reviewer", next_path=f"/sessions/{session.session_id}/")
    expect(page.get_by_role("link", name="Didit's PDF")).to_be_visible()
    screenshot(page, "session-page-report-links")

    didit_name, didit_pdf = download(page, "Didit's PDF")
    our_name, our_pdf = download(page, "Compliance report")

    assert didit_name == f"session_{session.session_id}.pdf"
    assert our_name == f"didit-console-session-{session.session_id}.pdf"
    for data in (didit_pdf, our_pdf):
        assert data.startswith(b"%PDF-")
        assert session.document_number in pdf_text(data)
    assert session.full_name in pdf_text(our_pdf)
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {AuditAction.DIDIT_PDF, AuditAction.REPORT_PDF} <= actions
    assert console_errors == []


def test_viewer_downloads_the_reports_from_the_user_page(
    logged_in_page, session_with_hits, console_errors
):
    session = session_with_hits
    page = logged_in_page("viewer", next_path=f"/users/{session.vendor_data}/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    screenshot(page, "user-page")

    user_name, user_pdf = download(page, "Compliance report (all sessions)")
    row = page.locator("#user-sessions tr", has_text=str(session.session_number))
    with page.expect_download() as info:
        row.get_by_role("link", name="Didit's PDF").click()

    assert re.fullmatch(r"didit-console-user-[\w.-]+\.pdf", user_name)
    assert session.session_id in pdf_text(user_pdf)
    assert Path(info.value.path()).read_bytes().startswith(b"%PDF-")
    assert console_errors == []


def test_reviewer_starts_a_reverification_and_sees_the_link(
    logged_in_page, session_with_hits, synced_sandbox, console_errors
):
    session = session_with_hits
    page = logged_in_page("reviewer", next_path=f"/users/{session.vendor_data}/")
    workflow = next(iter(synced_sandbox.workflows.values()))

    # The workflows of earlier sessions are a choice; without any, a text field.
    field = page.get_by_label("Workflow")
    if field.evaluate("element => element.tagName") == "SELECT":
        field.select_option(index=0)
    else:
        field.fill(workflow)
    page.get_by_role("button", name="Create a verification session").click()

    url = page.locator("#verification-url")
    expect(url).to_be_visible()
    assert url.input_value().startswith("http")
    assert synced_sandbox.calls["create"] == 1
    screenshot(page, "user-page-reverification")
    assert console_errors == []
