"""Thirty AML hits in a real browser: filter the unreviewed, select five, mark them False
Positive with one note, and see all five confirmed by Didit (the sandbox) in place."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.sandbox import sync_all
from tests.verifications.test_aml_review import screened_session_id
from verifications.models import AmlHit

from .conftest import screenshot

pytestmark = pytest.mark.browser

REVIEWED_AT_DIDIT = 4


@pytest.fixture
def thirty_hits(didit_sandbox, settings, live_url) -> str:
    session_id = screened_session_id(didit_sandbox)
    didit_sandbox.set_aml_hit_count(session_id, 30)
    for index, hit in enumerate(didit_sandbox.aml_hits(session_id)):
        status = "Inconclusive" if index < REVIEWED_AT_DIDIT else "Unreviewed"
        didit_sandbox.set_hit_review(session_id, hit["id"], status)
    sync_all(didit_sandbox, settings)
    return session_id


def test_reviewer_marks_five_unreviewed_hits_false_positive_in_one_go(
    didit_sandbox, thirty_hits, logged_in_page, console_errors
):
    session_id = thirty_hits
    page: Page = logged_in_page("reviewer", next_path=f"/sessions/{session_id}/")
    section = page.locator("#aml-hits")
    rows = section.locator("tbody.aml__hit")
    expect(rows).to_have_count(30)
    expect(section.locator("#aml-unreviewed-count")).to_have_text(str(30 - REVIEWED_AT_DIDIT))

    page.evaluate("window.notReloaded = true")
    section.get_by_role("link", name="Unreviewed only").click()
    expect(rows).to_have_count(30 - REVIEWED_AT_DIDIT)
    expect(section.locator('tbody.aml__hit[data-review-status="Inconclusive"]')).to_have_count(0)

    boxes = section.locator("input[name=hit]")
    chosen = [boxes.nth(index).get_attribute("value") for index in range(5)]
    for index in range(5):
        boxes.nth(index).check()
    section.get_by_label("Note").fill("Namesakes: other birth dates and nationality")
    actions = section.locator("fieldset.aml__actions")
    actions.get_by_role("button", name="False Positive", exact=True).click()

    expect(section.locator(".aml__notice--success")).to_have_text(
        "5 hits marked False Positive at Didit."
    )
    # Still filtered on the unreviewed: the five are gone from the list, the count follows.
    expect(rows).to_have_count(30 - REVIEWED_AT_DIDIT - 5)
    expect(section.locator("#aml-unreviewed-count")).to_have_text(str(30 - REVIEWED_AT_DIDIT - 5))
    assert page.evaluate("window.notReloaded") is True

    section.get_by_role("link", name="All hits").click()
    expect(rows).to_have_count(30)
    for pk in chosen:
        row = section.locator(f"#aml-hit-{pk}")
        expect(row.locator(".badge")).to_have_text("False Positive")
    screenshot(page, "aml-hits-30")

    stored = AmlHit.objects.filter(pk__in=chosen)
    assert {hit.review_status for hit in stored} == {"False Positive"}
    at_didit = {hit["id"]: hit["review_status"] for hit in didit_sandbox.aml_hits(session_id)}
    assert {at_didit[hit.hit_id] for hit in stored} == {"False Positive"}
    assert len(didit_sandbox.aml_hit_requests) == 1
    path, body = didit_sandbox.aml_hit_requests[0]
    assert path.endswith("/bulk-update-aml-hit-status/") and len(body["hits"]) == 5
    assert console_errors == []
