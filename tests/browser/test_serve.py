"""`./dev serve` end to end: gunicorn + WhiteNoise with DEBUG off, driven by a real browser.

The stack runs as an operator would run it (deploy/serve.py: migrate, collectstatic,
gunicorn) in its own database, synced from a sandbox Didit with `manage.py sync_didit`. The
browser signs in with two factors (enrolling on the way), works the queue, declines a
session through the sandbox, and checks what production adds: hashed static names with
far-future cache headers, no caching of personal data, no search terms in the access log.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from base64 import b32decode
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import urlopen

import psycopg
import pytest
from django.conf import settings
from django_otp.oath import totp
from playwright.sync_api import Browser, expect

from tests.sandbox import API_KEY, WEBHOOK_SECRET

from .conftest import TIMEOUT_MS, VIEWPORT, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(settings.BASE_DIR)
PASSWORD = "served-" + secrets.token_urlsafe(12)
SEARCH_TERM = "zz-private-term@example.com"
CREATE_REVIEWER = f"""
from django.contrib.auth.models import Group, User
user = User.objects.create_user("reviewer", password="{PASSWORD}")
user.groups.add(Group.objects.get(name="reviewer"))
"""


@pytest.fixture
def database_url(tmp_path) -> Iterator[str]:
    """A database of its own: a SQLite file, or a fresh PostgreSQL database when the run is
    on PostgreSQL (dropped afterwards)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        yield f"sqlite:///{tmp_path / 'served.sqlite3'}"
        return
    parts = urlsplit(url)
    name = f"served_{os.getpid()}_{secrets.token_hex(3)}"
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield parts._replace(path=f"/{name}").geturl()
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def served(didit_sandbox, database_url, tmp_path) -> Iterator[tuple[str, Path]]:
    """``./dev serve`` on a free port against ``database_url``: (base URL, its log file)."""
    env = {
        name: value
        for name, value in os.environ.items()
        # The test run's own conveniences must not leak into the production stack.
        if name not in ("STATICFILES_BACKEND", "TASKS_BACKEND", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY=secrets.token_urlsafe(50),
        REQUIRE_2FA="True",
        DIDIT_VERIFICATION_URL=didit_sandbox.base_url,
        DIDIT_AUTH_URL=didit_sandbox.base_url,
        DIDIT_API_KEY=API_KEY,
        DIDIT_WEBHOOK_SECRET=WEBHOOK_SECRET,
        DIDIT_RATE_LIMITS="",
        DEBUG="False",
    )
    manage = [sys.executable, str(ROOT / "manage.py")]
    for command in (
        ["migrate", "--noinput", "-v", "0"],
        ["sync_didit", "--full"],
        ["shell", "-c", CREATE_REVIEWER],
    ):
        subprocess.run([*manage, *command], env=env, check=True, capture_output=True)  # noqa: S603
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, str(ROOT / "deploy" / "serve.py"), "--port", str(port)]
            + ["--workers", "2"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_port(port, process, log)
        yield f"http://127.0.0.1:{port}", log
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def test_the_served_console_signs_in_with_two_factors_and_declines_through_didit(
    served, browser: Browser, didit_sandbox
):
    base_url, log = served
    context = browser.new_context(base_url=base_url, viewport=VIEWPORT, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        # Password, then enrolment in the second factor (first login), then the queue.
        page.goto("/accounts/login/?next=/sessions/")
        page.get_by_label("Username").fill("reviewer")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page).to_have_url(re.compile(r"/accounts/2fa/setup/\?next=%2Fsessions%2F$"))
        expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
        secret = page.locator("#two-factor-secret").inner_text().replace(" ", "")
        page.get_by_label("Code").fill(f"{totp(b32decode(secret)):06d}")
        page.get_by_role("button", name="Confirm").click()
        expect(page.locator("#recovery-codes li")).to_have_count(10)
        page.get_by_role("link", name="Continue").click()

        expect(page).to_have_url(re.compile(r"/sessions/$"))
        expect(page.get_by_role("heading", name="Verification queue")).to_be_visible()
        expect(page.locator("#session-rows tbody tr").first).to_be_visible()

        # Static files: hashed names, compressed, cached for a year and never revalidated.
        stylesheet = page.locator('link[rel="stylesheet"]').get_attribute("href")
        assert re.fullmatch(r"/static/css/console\.[0-9a-f]{12}\.css", stylesheet)
        static = context.request.get(stylesheet, headers={"Accept-Encoding": "gzip, br"})
        assert static.status == 200
        assert "max-age=315360000" in static.headers["cache-control"]
        assert "immutable" in static.headers["cache-control"]
        assert static.headers.get("content-encoding") in ("gzip", "br")

        # A search term in the URL works, and stays out of the access log.
        searched = page.goto("/sessions/?" + f"q={SEARCH_TERM}")
        assert searched.status == 200
        assert "no-store" in searched.headers["cache-control"]

        # A session In Review, declined through the sandbox Didit.
        page.goto("/sessions/?status=In+Review")
        link = page.locator('#session-rows a[href^="/sessions/"]').first
        session_id = link.get_attribute("href").strip("/").split("/")[-1]
        link.click()
        expect(page).to_have_url(re.compile(rf"/sessions/{session_id}/$"))
        page.get_by_label("Comment").fill("Declined on the served stack (browser test)")
        page.get_by_role("button", name="Decline").click()
        expect(page.locator("#session-status .badge")).to_have_text("Declined")
        assert didit_sandbox.decision(session_id)["status"] == "Declined"
        assert didit_sandbox.calls["update_status"] == 1
        assert errors == []
    except Exception:
        screenshot(page, "failed-served-console")
        raise
    finally:
        context.close()

    access_log = log.read_text()
    assert '"GET /sessions/ HTTP/1.1" 200' in access_log
    assert SEARCH_TERM not in access_log
    assert "zz-private-term" not in access_log


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    """Until the login page answers: the workers have booted and imported the app."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"./dev serve exited early:\n{log.read_text()}")
        try:
            with urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=30) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"./dev serve did not answer on {port}:\n{log.read_text()}")
