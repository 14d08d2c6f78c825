"""Browser tests: Playwright's sync API driving Debian's chromium against a live server.

Run them with ``.venv/bin/python -m pytest -m browser``. They are skipped, with the reason,
when ``/usr/bin/chromium`` is missing (``./dev test`` installs it when it can).
Screenshots go to ``artifacts/screenshots/``; a failing test leaves one named after itself.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright

from users.roles import grant_role_permissions

# Playwright's sync API keeps an asyncio event loop running in this thread, and Django then
# refuses database access from it as "async-unsafe". The tests are synchronous, so the guard
# is a false alarm here; this is the documented workaround for pytest-django with Playwright.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOT_DIR = settings.BASE_DIR / "artifacts" / "screenshots"
# Long enough for a slow CI machine, short enough that a wrong selector fails quickly.
TIMEOUT_MS = 10_000
VIEWPORT = {"width": 1366, "height": 860}


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page PNG as ``artifacts/screenshots/<name>.png`` and return its path."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name.removesuffix('.png')}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the test item, so the page fixture can tell a failure.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(
            f"Chromium not found at {CHROMIUM}: install it with `apt-get install chromium` "
            "(./dev test does this when run as root)."
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def live_url(live_server, transactional_db) -> str:
    """The live server's base URL, e.g. ``http://localhost:41234`` (no trailing slash)."""
    # A transactional test empties every table afterwards, the roles included: make them
    # again, so personas have their permissions.
    grant_role_permissions()
    return live_server.url


@pytest.fixture
def console_errors() -> list[str]:
    """Errors the page logged (failed loads, CSP violations, uncaught exceptions)."""
    return []


@pytest.fixture
def page(request, browser, live_url, console_errors) -> Iterator[Page]:
    """A fresh browser context (no cookies) per test; relative URLs go to the live server."""
    context = browser.new_context(base_url=live_url, viewport=VIEWPORT, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    page = context.new_page()

    def record(message: ConsoleMessage) -> None:
        if message.type == "error":
            console_errors.append(message.text)

    page.on("console", record)
    page.on("pageerror", lambda error: console_errors.append(str(error)))
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        screenshot(page, "failed-" + re.sub(r"[^\w.-]+", "-", request.node.name))
    context.close()


@pytest.fixture
def logged_in_page(request, page, persona_password) -> Callable[..., Page]:
    """Log a persona in through the real login form: ``logged_in_page("reviewer")``.

    Lands on ``next_path`` afterwards (default: the console's root, as a person would).
    """

    def log_in(persona: str, *, next_path: str = "/") -> Page:
        user = request.getfixturevalue(persona)
        page.goto("/accounts/login/?" + urlencode({"next": next_path}))
        page.get_by_label("Username").fill(user.get_username())
        page.get_by_label("Password").fill(persona_password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        return page

    return log_in
