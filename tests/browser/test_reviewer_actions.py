"""Reviewer actions, counted in a real browser: queue -> Decline with a comment -> the next
session, with the mouse and with the keyboard only (issue 14's target: at most 3 actions
plus the comment's text). The figures are printed; benchmarks/RESULTS.md records them
under "Reviewer actions"."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.sandbox import sync_all
from verifications.models import SessionClaim, VerificationSession

pytestmark = pytest.mark.browser

QUEUE = "/sessions/?status=In+Review"
COMMENT = "Document photo is a screen capture"
TARGET_ACTIONS = 3


@pytest.fixture
def sandbox(didit_sandbox, settings, live_url):
    sync_all(didit_sandbox, settings)
    return didit_sandbox


def oldest_in_review() -> list[str]:
    return list(
        VerificationSession.objects.filter(status="In Review")
        .order_by("created_at", "id")
        .values_list("session_id", flat=True)[:2]
    )


def session_path(session_id: str) -> re.Pattern:
    return re.compile(rf"/sessions/{re.escape(session_id)}/\?queue=")


def assert_on_next_session(page: Page, sandbox, decided: str, following: str) -> None:
    expect(page).to_have_url(session_path(following))
    expect(page.locator("#claim-bar")).to_contain_text("You are working on this session")
    focused = page.evaluate("document.activeElement && document.activeElement.name")
    assert focused == "comment", "the next session opens with the comment box focused"
    decision = sandbox.decision(decided)
    assert decision["status"] == "Declined"
    assert decision["reviews"][-1]["comment"] == COMMENT
    assert SessionClaim.objects.get().session.session_id == following


def test_queue_decline_next_with_the_mouse_takes_two_actions(
    sandbox, logged_in_page, console_errors
):
    first, following = oldest_in_review()
    page = logged_in_page("reviewer", next_path=QUEUE)
    actions = 0

    page.get_by_role("link", name=re.compile("Start reviewing")).click()
    actions += 1
    expect(page).to_have_url(session_path(first))
    expect(page.get_by_label("Comment")).to_be_focused()  # Focused on arrival: type at once.
    page.keyboard.type(COMMENT)  # The comment box has the focus: no click needed.
    page.get_by_role("button", name="Decline", exact=True).click()
    actions += 1

    assert_on_next_session(page, sandbox, first, following)
    assert sandbox.calls["update_status"] == 1
    print(
        f"\nReviewer actions (mouse): queue -> Decline with comment -> next: {actions} actions "
        f"+ {len(COMMENT)} typed characters (target <= {TARGET_ACTIONS} + the comment)"
    )
    assert actions <= TARGET_ACTIONS
    assert console_errors == []


def test_queue_decline_next_with_the_keyboard_only(sandbox, logged_in_page, console_errors):
    first, following = oldest_in_review()
    page = logged_in_page("reviewer", next_path=QUEUE)
    keys = 0

    def press(key: str) -> None:
        nonlocal keys
        page.keyboard.press(key)
        keys += 1

    press("n")  # Start reviewing.
    expect(page).to_have_url(session_path(first))
    expect(page.get_by_label("Comment")).to_be_focused()  # Focused on arrival: type at once.
    page.keyboard.type(COMMENT)
    expect(page.get_by_label("Comment")).to_have_value(COMMENT)  # "d" in the text: no shortcut.
    press("Tab")  # Decline follows the comment box: focused, nothing sent yet,
    expect(page.get_by_role("button", name="Decline", exact=True)).to_be_focused()
    assert sandbox.calls["update_status"] == 0
    press("Enter")  # and confirmed.

    assert_on_next_session(page, sandbox, first, following)
    assert sandbox.calls["update_status"] == 1
    print(
        f"\nReviewer actions (keyboard only): queue -> Decline with comment -> next: {keys} "
        f"keys + {len(COMMENT)} typed characters (target <= {TARGET_ACTIONS} + the comment)"
    )
    assert keys <= TARGET_ACTIONS
    assert console_errors == []


def test_decline_by_shortcut_still_needs_an_explicit_enter(sandbox, logged_in_page, console_errors):
    first, following = oldest_in_review()
    page = logged_in_page("reviewer", next_path=QUEUE)
    page.keyboard.press("n")
    expect(page).to_have_url(session_path(first))
    expect(page.get_by_label("Comment")).to_be_focused()  # Focused on arrival: type at once.
    page.keyboard.type(COMMENT)
    page.keyboard.press("Escape")  # Leave the comment box,
    page.keyboard.press("d")  # select Decline (nothing is sent yet),
    expect(page.locator("#shortcut-hint")).to_contain_text("Press Enter to decline")
    assert sandbox.calls["update_status"] == 0
    page.keyboard.press("Enter")  # and confirm.
    assert_on_next_session(page, sandbox, first, following)
    assert sandbox.calls["update_status"] == 1
    assert console_errors == []


def test_queue_rows_help_and_search_from_the_keyboard(sandbox, logged_in_page, console_errors):
    page = logged_in_page("reviewer", next_path=QUEUE)
    first = oldest_in_review()[0]
    page.keyboard.press("?")
    expect(page.locator("#shortcuts-help")).to_be_visible()
    expect(page.locator("#shortcuts-help")).to_contain_text("select Decline")
    page.keyboard.press("Escape")
    expect(page.locator("#shortcuts-help")).to_be_hidden()

    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.name") == "q"
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    expect(page.locator("#session-rows tbody tr.is-selected")).to_have_count(1)
    page.keyboard.press("j")
    page.keyboard.press("k")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/sessions/{re.escape(first)}/$"))
    # Not opened through "next": the decision keys select, but never send.
    page.keyboard.press("a")
    assert sandbox.calls["update_status"] == 0
    assert console_errors == []
