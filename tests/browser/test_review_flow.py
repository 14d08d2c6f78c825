"""A reviewer's day in a real browser: filter the queue, open a session with AML hits,
decline it with a comment and see the review appear without a reload; a viewer sees no
Approve/Decline buttons."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from verifications.models import Review, ReviewSource, VerificationSession

from .conftest import screenshot

pytestmark = pytest.mark.browser

REVIEWABLE = ["In Review", "Declined", "Approved", "Kyc Expired", "Abandoned", "Resubmitted"]


@pytest.fixture
def sandbox(live_url, synced_sandbox):
    """The synced sandbox, in a transactional database the live server sees."""
    return synced_sandbox


def session_with_hits() -> VerificationSession:
    session = (
        VerificationSession.objects.filter(aml_total_hits__gt=0, status__in=REVIEWABLE)
        .exclude(full_name="")
        .order_by("-aml_total_hits")
        .first()
    )
    assert session is not None, "the sandbox should hold a reviewable session with AML hits"
    return session


def test_reviewer_filters_the_queue_and_declines_a_session_with_aml_hits(
    sandbox, logged_in_page, console_errors
):
    page: Page = logged_in_page("reviewer")
    expect(page).to_have_url(re.compile(r"/sessions/$"))
    expect(page.get_by_role("heading", name="Verification queue")).to_be_visible()
    rows = page.locator("#session-rows tbody tr")
    expect(rows).to_have_count(VerificationSession.objects.count())

    # Filtering swaps the table in place and puts the filter in the URL.
    page.evaluate("window.notReloaded = true")
    page.get_by_label("AML hits").select_option("yes")
    expect(page).to_have_url(re.compile(r"[?&]aml=yes"))
    with_hits = VerificationSession.objects.filter(aml_total_hits__gt=0)
    expect(rows).to_have_count(with_hits.count())
    assert page.evaluate("window.notReloaded") is True
    screenshot(page, "queue")

    session = session_with_hits()
    page.locator(f'#session-rows a[href="/sessions/{session.session_id}/"]').first.click()
    expect(page).to_have_url(re.compile(rf"/sessions/{session.session_id}/$"))
    hits = page.locator("tbody.aml__hit")
    expect(hits).to_have_count(session.aml_hits.count())
    expect(page.get_by_role("heading", name="AML screening")).to_be_visible()

    page.evaluate("window.notReloaded = true")
    page.get_by_label("Comment").fill("Confirmed sanctions match (browser test)")
    page.get_by_role("button", name="Decline").click()
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Confirmed sanctions match (browser test)")
    expect(page.locator("#session-status .badge")).to_have_text("Declined")
    expect(page.locator("#decision-outcome")).to_contain_text("Session declined at Didit.")
    expect(page.get_by_label("Comment")).to_have_value("")
    assert page.evaluate("window.notReloaded") is True

    assert sandbox.decision(session.session_id)["status"] == "Declined"
    assert sandbox.calls["update_status"] == 1
    review = Review.objects.filter(session__session_id=session.session_id).last()
    assert (review.source, review.new_status) == (ReviewSource.CONSOLE, "Declined")
    assert console_errors == []
    # Last: Playwright's full-page screenshot leaves empty style attributes behind, which the
    # CSP then reports when htmx swaps content (a harness artefact, not the page's doing).
    screenshot(page, "session-aml")


def test_viewer_sees_the_session_but_no_approve_or_decline_buttons(
    sandbox, logged_in_page, console_errors
):
    session = session_with_hits()
    page = logged_in_page("viewer", next_path=f"/sessions/{session.session_id}/")
    expect(page.get_by_role("heading", name="AML screening")).to_be_visible()
    expect(page.locator("tbody.aml__hit")).to_have_count(session.aml_hits.count())
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    expect(page.get_by_role("button", name="Decline")).to_have_count(0)
    expect(page.get_by_role("button", name="False Positive")).to_have_count(0)
    assert console_errors == []
