"""Logging in and out in a real browser, through the real forms."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import screenshot

pytestmark = pytest.mark.browser


def test_reviewer_logs_in_through_the_form_sees_their_name_and_logs_out(
    page: Page, reviewer, persona_password, console_errors
):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    screenshot(page, "login-form")

    page.get_by_label("Username").fill("reviewer")
    page.get_by_label("Password").fill(persona_password)
    page.get_by_role("button", name="Log in").click()

    # The root sends a logged-in reviewer on to the queue.
    expect(page).to_have_url(re.compile(r"/sessions/$"))
    expect(page.locator(".topbar__user")).to_have_text("reviewer")

    # A page that exists today, to look at the whole layout while logged in.
    page.goto("/accounts/password_change/")
    expect(page.locator(".topbar__user")).to_have_text("reviewer")
    expect(page.get_by_role("link", name="Queue")).to_have_attribute("href", "/sessions/")
    expect(page.get_by_role("link", name="Admin", exact=True)).to_have_count(0)
    assert page.evaluate("window.htmx.version").startswith("2.")
    screenshot(page, "login")

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.locator(".topbar__user")).to_have_count(0)
    page.goto("/accounts/password_change/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))

    # No failed loads and no CSP violations.
    assert console_errors == []


def test_wrong_password_in_the_browser_shows_an_error_and_stays_on_login(
    page: Page, reviewer, console_errors
):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("reviewer")
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("alert")).to_contain_text(
        "Please enter a correct username and password"
    )
    expect(page.get_by_label("Username")).to_have_value("reviewer")
    expect(page.locator(".topbar__user")).to_have_count(0)
    assert console_errors == []


def test_admin_persona_sees_the_admin_link(logged_in_page):
    page = logged_in_page("admin", next_path="/accounts/password_change/")

    expect(page.locator(".topbar__user")).to_have_text("admin")
    expect(page.get_by_role("link", name="Admin", exact=True)).to_have_attribute("href", "/admin/")
