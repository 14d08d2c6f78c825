"""A reviewer's path to the person behind a session, in a real browser: queue -> session ->
person link -> attempt diff -> re-verification with its QR code."""

from __future__ import annotations

import pytest
from django.db.models import Count
from django.urls import reverse
from playwright.sync_api import expect

from tests.sandbox import sync_all
from users.models import DiditUser
from users.sync import sync_didit_users
from verifications.didit.client import DiditClient

from .conftest import screenshot
from .test_reports import roles  # noqa: F401 - the roles' permissions, as the migration grants

pytestmark = pytest.mark.browser

UNFINISHED = ["Not Started", "In Progress", "Awaiting User", "Resubmitted"]


@pytest.fixture
def person(didit_sandbox, settings, live_url) -> DiditUser:
    sync_all(didit_sandbox, settings)
    sync_didit_users(DiditClient.from_settings())  # Didit's own status, as sync_didit keeps it
    return (
        DiditUser.objects.exclude(sessions__status__in=UNFINISHED)
        .filter(sessions__workflow_id__gt="")
        .annotate(n=Count("sessions"))
        .filter(n__gte=2)
        .order_by("-n", "id")
        .first()
    )


def test_queue_to_session_to_person_diff_and_reverification_with_qr(
    logged_in_page, person, didit_sandbox, console_errors
):
    latest = person.sessions.order_by("-created_at", "-id").first()
    page = logged_in_page("reviewer", next_path="/sessions/?q=" + latest.session_id)

    # The queue: the row links to the session and to the person.
    row = page.locator("#session-rows tbody tr").first
    person_url = reverse("users:user-detail", args=[person.vendor_data])
    expect(row.locator(f'a[href="{person_url}"]')).to_be_visible()
    row.locator(f'a[title="{latest.session_id}"]').click()
    page.wait_for_url(f"**/sessions/{latest.session_id}/")
    expect(page.locator("#linked-identities")).to_be_visible()
    screenshot(page, "people-session-page")

    # The session page's vendor data is the person link.
    page.locator(f'main a[href="{person_url}"]').first.click()
    page.wait_for_url("**/users/**")
    expect(page.locator("#didit-record .didit-status")).to_have_text(person.didit_status)

    # The attempt diff: the latest two by default; compare another pair.
    diff = page.locator("#attempt-diff-table")
    expect(diff).to_be_visible()
    expect(diff.locator("tbody tr")).to_have_count(10)
    page.get_by_role("button", name="Compare").click()
    expect(page.locator("#attempt-diff-table")).to_be_visible()
    page.locator("#attempt-diff").scroll_into_view_if_needed()
    screenshot(page, "people-user-page-attempt-diff")

    # Re-verification: pre-filled form, one click, the link and its QR code.
    page.get_by_role("button", name="Create a verification session").click()
    url = page.locator("#verification-url")
    expect(url).to_be_visible()
    assert url.input_value().startswith("http")
    expect(page.locator("#verification-qr svg")).to_be_visible()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copy link").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert didit_sandbox.calls["create"] == 1
    page.locator("#reverification").scroll_into_view_if_needed()
    screenshot(page, "people-reverification-qr")

    # A reload after the redirect asks Didit for nothing more.
    page.reload()
    expect(page.locator("#verification-qr svg")).to_be_visible()
    assert didit_sandbox.calls["create"] == 1
    assert console_errors == []
