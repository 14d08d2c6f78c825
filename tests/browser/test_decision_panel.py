"""The decision panel at 1440x900 on a session with 30 AML hits: it stays in view wherever
the reviewer has scrolled, and the outcome (Didit's success or its failure) appears inside
it, focused, without scrolling. Screenshots of each decision shape's page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.sandbox import sync_all
from verifications.models import AmlHit, VerificationSession

from .conftest import SCREENSHOT_DIR, TIMEOUT_MS

pytestmark = pytest.mark.browser

WIDE = {"width": 1440, "height": 900}


@pytest.fixture
def sandbox(didit_sandbox, settings, live_url):
    sync_all(didit_sandbox, settings)
    return didit_sandbox


@pytest.fixture
def wide_page(browser, live_url, reviewer, persona_password, console_errors):
    context = browser.new_context(base_url=live_url, viewport=WIDE, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.on("pageerror", lambda error: console_errors.append(str(error)))
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(reviewer.get_username())
    page.get_by_label("Password").fill(persona_password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    yield page
    context.close()


def with_30_hits() -> VerificationSession:
    session = (
        VerificationSession.objects.filter(status="In Review", aml_total_hits__gt=0).first()
        or VerificationSession.objects.filter(status="In Review").first()
    )
    have = session.aml_hits.count()
    AmlHit.objects.bulk_create(
        AmlHit(
            session=session,
            hit_id=f"extra-{i}",
            caption=f"Extra listed person {i}",
            score=0.5,
            position=100 + i,
            datasets=["Sanctions"],
        )
        for i in range(30 - have)
    )
    assert session.aml_hits.count() == 30
    return session


def visible_without_scrolling(page: Page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    return (
        box is not None and box["y"] >= 0 and box["y"] + min(box["height"], 120) <= WIDE["height"]
    )


def test_decline_outcome_is_in_the_panel_in_view_after_success_and_after_didit_fails(
    sandbox, wide_page, console_errors
):
    page = wide_page
    session = with_30_hits()
    page.goto(f"/sessions/{session.session_id}/")
    expect(page.locator("tbody.aml__hit")).to_have_count(30)
    assert page.evaluate("document.documentElement.scrollHeight") > 2 * WIDE["height"]

    # Didit fails: the reviewer has scrolled down through the hits, then declines.
    page.mouse.wheel(0, 4000)
    sandbox.set_faults(1.0, kinds=("503",))
    page.get_by_label("Comment").fill("Matches a sanctions list (browser)")
    page.get_by_role("button", name="Decline").click()
    outcome = page.locator("#decision-outcome")
    expect(outcome).to_contain_text("could not be reached")
    expect(outcome).to_be_in_viewport()
    assert visible_without_scrolling(page, "#decision-outcome")
    assert page.evaluate("document.activeElement.id") == "decision-outcome"
    expect(page.get_by_label("Comment")).to_have_value("Matches a sanctions list (browser)")
    page.screenshot(path=str(SCREENSHOT_DIR / "decision-panel-didit-down.png"))

    # Didit answers again: the same click succeeds, told in the same place.
    sandbox.set_faults(0.0)
    page.get_by_role("button", name="Decline").click()
    expect(outcome).to_contain_text("Session declined at Didit.")
    expect(outcome).to_be_in_viewport()
    expect(page.locator("#decision-panel")).to_be_in_viewport()
    assert visible_without_scrolling(page, "#decision-outcome")
    assert page.evaluate("document.activeElement.id") == "decision-outcome"
    expect(page.locator("#session-status .badge")).to_have_text("Declined")
    page.screenshot(path=str(SCREENSHOT_DIR / "decision-panel-declined.png"))
    assert sandbox.decision(session.session_id)["status"] == "Declined"
    # One PATCH per click, never retried: the first answered 503, the second applied.
    sent = [r["body"]["new_status"] for r in sandbox.requests("update_status")]
    assert sent == ["Declined", "Declined"]
    assert console_errors == []


@pytest.mark.parametrize("shape", ["v1", "v2", "v3"])
def test_a_screenshot_of_each_decision_shape(sandbox, wide_page, shape):
    session = (
        VerificationSession.objects.filter(api_shape=shape, status="In Review").first()
        or VerificationSession.objects.filter(api_shape=shape).first()
    )
    assert session is not None
    wide_page.goto(f"/sessions/{session.session_id}/")
    expect(wide_page.locator("#decision-panel")).to_be_in_viewport()
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    wide_page.screenshot(path=str(SCREENSHOT_DIR / f"session-{shape}.png"), full_page=True)
